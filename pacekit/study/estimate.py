"""How long a run takes on a GPU pacekit was never lent: counted FLOPs over a rate taken from a measured one.

A run's work is counted, not guessed: the clips it trains on and evaluates (from its config and the split's
video counts) times the FLOPs of one clip, counted by torch's ``FlopCounterMode`` on this network. The rate
is an assumption, stated with the estimate: the device's published peak times a fraction of peak that the
paper's R(2+1)D reached in a measured run on another GPU (:data:`REFERENCE_FRACTION_OF_PEAK`). Data loading
is left out: pacekit's workers decode prepared frame packs faster than such a GPU trains (docs/performance.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch.utils.flop_counter import FlopCounterMode

from ..config import Config
from ..pace import PaceSet
from ..training.loading import build_pace_model

#: Published dense tensor-core peaks, TFLOP/s: NVIDIA T4 fp16 (its datasheet: 65), H200 bf16 (989).
PEAK_TFLOPS = {"t4-fp16": 65.0, "h200-bf16": 989.0}

#: The authors' R(2+1)D trained at 747 clips/s in bf16 with channels_last_3d (eager, batch 30, 16x112x112, no
#: data loading) on one H200, at 127 GFLOPs a clip forward and backward: 94.9 TFLOP/s, 9.6% of the bf16 peak
#: (a reference measurement made with torch 2.11 on 2026-11-26, not by pacekit).
REFERENCE_FRACTION_OF_PEAK = 747 * 127e9 / (PEAK_TFLOPS["h200-bf16"] * 1e12)


def clip_flops(cfg: Config, train: bool = True) -> float:
    """FLOPs of one clip of ``cfg``'s pretraining network: forward and backward when ``train``, else forward."""
    model = build_pace_model(cfg.replace(device="cpu"), len(PaceSet.from_spec(cfg.pace_set)))
    clip = torch.zeros(1, 3, cfg.clip_len, cfg.crop, cfg.crop)
    with FlopCounterMode(display=False) as counter:
        out = model(clip)
        if train:
            out.float().sum().backward()
    return float(counter.get_total_flops())


@dataclass(frozen=True)
class RunEstimate:
    """Clips and minutes of one pretraining, one fine-tuning and one 10-clip evaluation of a config."""

    device: str
    pretrain_clips: int
    finetune_clips: int
    eval_clips: int
    train_gflops_per_clip: float
    eval_gflops_per_clip: float
    clips_per_s: float
    fraction_of_peak: float
    minutes: dict

    def to_dict(self) -> dict:
        return asdict(self)


def estimate_run(cfg: Config, train_videos: int, test_videos: int, device: str = "t4-fp16",
                 fraction_of_peak: float = REFERENCE_FRACTION_OF_PEAK, finetunes: int = 1) -> RunEstimate:
    """Minutes of pretraining, ``finetunes`` fine-tunings and as many evaluations of ``cfg`` on ``device``
    (a key of :data:`PEAK_TFLOPS`), for a split of ``train_videos`` / ``test_videos`` videos."""
    if device not in PEAK_TFLOPS:
        raise ValueError(f"unknown device {device!r}; choose one of {', '.join(PEAK_TFLOPS)}")
    rate = PEAK_TFLOPS[device] * 1e12 * fraction_of_peak
    train_flops, eval_flops = clip_flops(cfg, train=True), clip_flops(cfg, train=False)
    pretrain_clips = cfg.epochs * cfg.epoch_repeat * train_videos
    finetune_clips = finetunes * cfg.ft_epochs * cfg.ft_epoch_repeat * train_videos
    eval_clips = finetunes * cfg.num_clips * test_videos
    seconds = {"pretrain": pretrain_clips * train_flops / rate, "finetune": finetune_clips * train_flops / rate,
               "evaluate": eval_clips * eval_flops / rate}
    seconds["total"] = sum(seconds.values())
    return RunEstimate(device, pretrain_clips, finetune_clips, eval_clips, train_flops / 1e9, eval_flops / 1e9,
                       rate / train_flops, fraction_of_peak, {k: v / 60 for k, v in seconds.items()})


__all__ = ["PEAK_TFLOPS", "REFERENCE_FRACTION_OF_PEAK", "RunEstimate", "clip_flops", "estimate_run"]
