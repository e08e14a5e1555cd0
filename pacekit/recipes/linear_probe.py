"""The linear probe on a frozen backbone, computed once: clip features, then a linear classifier on them.

A linear probe never changes the backbone, so every clip's feature (the pooled conv5 vector the fc reads,
``model.backbone(x)``) is the same whichever step of the classifier's training sees it. pacekit therefore
computes the features once and fits the classifier on them, instead of decoding and running the backbone
for every epoch of a probe (what :func:`pacekit.recipes.train.finetune` with ``freeze_backbone`` would do):

1. **Training features** (:func:`labelled_clip_features`): ``cfg.ft_epoch_repeat`` clips of each labelled
   video (``cfg.labels_per_class`` per class), drawn by the fine-tuning sampler and the training
   augmentation (crop, flip, colour jitter) with the run's seed -- the clips a fine-tuning run of the
   same seed would see in its first epochs. The backbone is in eval mode (its BatchNorm statistics are
   the pretrained ones, as in any linear probe).
2. **Classifier** (:func:`fit_linear_classifier`): the features are standardised with the training
   features' mean and standard deviation, and a linear layer is fitted on them, full batch, by AdamW at
   ``cfg.probe_lr`` with ``cfg.weight_decay`` for ``cfg.probe_steps`` steps, from an init seeded with the
   run's seed.
   The standardisation is folded into the layer, so the result is an ordinary fc on the raw features.
3. **Test** (:func:`test_clip_features` and :func:`probe_evaluation`): the 10-clip evaluation of
   :mod:`pacekit.evaluation.recognition` (paper 4.1) -- each test video's probabilities are the softmax of every clip's
   logits averaged over its clips -- computed from the clips' features, which are the same for every
   classifier fitted on one backbone (so they are computed once per backbone).

The paper has no linear probe (it fine-tunes the whole network, Sec. 4.1); this is pacekit's addition,
the usual measure of what a frozen representation holds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..atomic import write_text_atomic
from ..config import Config, run_differences
from ..data.datasets import LeftOutVideo
from ..evaluation.recognition import (
    EvalResult,
    over_eval_videos,
    results_from_probs,
)
from ..models.modes import evaluating
from ..training.checkpoint import load_checkpoint, save_checkpoint
from ..training.data import eval_dataset, eval_workers, finetune_dataset
from ..training.loading import AuthorsClipEval, eval_transform, model_from_checkpoint
from ..training.loop import RunFolderError, claim_run_folder
from .train import AuthorsInput, TrainResult, make_augment, transfer_model


@dataclass
class ClipFeatures:
    """Features of clips of labelled videos: ``x`` ``(N, D)`` (or ``(N, n, D)``, ``n`` clips per video),
    ``labels`` ``(N,)``; for test features also the dataset ``indices`` of the videos and the listed videos
    that could not be read (``left_out``) out of ``num_listed``."""

    x: torch.Tensor
    labels: torch.Tensor
    indices: Optional[torch.Tensor] = None
    classes: Optional[list] = None
    num_listed: Optional[int] = None
    left_out: list[LeftOutVideo] = field(default_factory=list)


def _backbone(model: nn.Module) -> nn.Module:
    return model.backbone if hasattr(model, "backbone") else model


@torch.no_grad()
def labelled_clip_features(model: nn.Module, cfg: Config, device="cpu", dataset=None) -> ClipFeatures:
    """Backbone features of ``cfg.ft_epoch_repeat`` augmented clips of each labelled training video.

    The clips are those of the fine-tuning sampler (``dataset``, default :func:`finetune_dataset` of
    ``cfg``), augmented by the training transform, both seeded with ``cfg.seed``; the backbone runs in
    eval mode and is put back in its previous mode.
    """
    dataset = dataset if dataset is not None else finetune_dataset(cfg)
    dataset.set_epoch(0)
    augment = make_augment(cfg)
    if getattr(model, "authors_input", False):
        augment = AuthorsInput(augment)
    generator = torch.Generator().manual_seed(int(cfg.seed))
    backbone = _backbone(model)
    xs, ys = [], []
    loader = torch.utils.data.DataLoader(dataset, batch_size=cfg.eval_batch_size * 2, shuffle=False,
                                         num_workers=eval_workers(cfg))
    with evaluating(backbone):
        for batch in loader:
            clips = augment(batch["video"].to(device), generator=generator)
            xs.append(backbone(clips).float().cpu())
            ys.append(batch["label"])
    return ClipFeatures(torch.cat(xs), torch.cat(ys), classes=list(dataset.classes))


@torch.no_grad()
def test_clip_features(model: nn.Module, cfg: Config, device="cpu", subset: str = "test") -> ClipFeatures:
    """Backbone features ``(N, n, D)`` of the 10-clip evaluation clips (paper 4.1) of every readable video
    of ``subset``; unreadable videos are left out and listed, never substituted."""
    dataset = eval_dataset(cfg, subset)
    backbone = _backbone(model)
    transform = AuthorsClipEval(size=None, crop=cfg.crop) if getattr(model, "authors_input", False) else eval_transform(cfg)

    def features(clips: torch.Tensor) -> torch.Tensor:  # (B, n, C, T, h, w) -> (B, n, D)
        b, n = clips.shape[:2]
        return backbone(clips.flatten(0, 1)).float().cpu().unflatten(0, (b, n))

    with evaluating(backbone):
        seen = over_eval_videos(dataset, features, f"{subset} set", device, cfg.eval_batch_size, eval_workers(cfg),
                                transform)
    return ClipFeatures(torch.cat(seen.outputs), seen.labels, seen.indices, list(dataset.classes), seen.num_listed,
                        seen.left_out)


@dataclass
class LinearFit:
    """A fitted probe: ``fc`` (an ``nn.Linear`` on the raw features) and its accuracy on its training clips."""

    fc: nn.Linear
    train_accuracy: float
    final_loss: float


def fit_linear_classifier(x: torch.Tensor, labels: torch.Tensor, num_classes: int, lr: float,
                          weight_decay: float = 0.0, *, steps: int, seed: int = 0) -> LinearFit:
    """Fit ``fc`` on standardised features ``x`` ``(N, D)`` by full-batch AdamW (see the module docstring).

    Returns the classifier on the raw features: ``fc(x) == fc_std((x - mean) / std)``.
    """
    if x.dim() != 2 or x.shape[0] != labels.shape[0]:
        raise ValueError(f"expected features (N, D) and labels (N,), got {tuple(x.shape)} and {tuple(labels.shape)}")
    x = x.float()
    mean, std = x.mean(0), x.std(0, unbiased=False).clamp_min(1e-6)
    z = (x - mean) / std
    generator = torch.Generator().manual_seed(int(seed))
    fc = nn.Linear(x.shape[1], num_classes)
    with torch.no_grad():
        bound = 1 / x.shape[1] ** 0.5
        fc.weight.uniform_(-bound, bound, generator=generator)
        fc.bias.uniform_(-bound, bound, generator=generator)
    optimizer = torch.optim.AdamW(fc.parameters(), lr=lr, weight_decay=weight_decay)
    labels = labels.long()
    with torch.enable_grad():
        for _ in range(steps):
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(fc(z), labels)
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        logits = fc(z)
        final_loss = float(F.cross_entropy(logits, labels))
        accuracy = float((logits.argmax(1) == labels).float().mean())
        raw = nn.Linear(x.shape[1], num_classes)
        raw.weight.copy_(fc.weight / std)
        raw.bias.copy_(fc.bias - (fc.weight * (mean / std)).sum(1))
    if not np.isfinite(final_loss):
        raise FloatingPointError(f"the linear probe's loss is {final_loss}; lower probe_lr (now {lr})")
    return LinearFit(raw, accuracy, final_loss)


@torch.no_grad()
def probe_evaluation(fc: nn.Linear, test: ClipFeatures) -> EvalResult:
    """The 10-clip evaluation (:func:`pacekit.evaluation.recognition.video_probabilities`' rule) of ``fc`` on test features
    ``(N, n, D)``: each video's probabilities are its clips' softmax averaged."""
    probs = fc(test.x.float()).softmax(-1).mean(1)
    return results_from_probs(probs, test.labels, test.indices, test.classes, test.num_listed, test.left_out)


def _finished_probe(path: Path, cfg: Config) -> Optional[dict]:
    """The checkpoint of a finished probe of this very config at ``path``, or None when there is none; a
    probe of other settings there (pacekit's one same-run rule, :func:`pacekit.config.run_differences`) is
    refused, as a resumed training run of other settings is."""
    if not path.is_file():
        return None
    state = load_checkpoint(path)
    if "probe" not in state:
        raise RunFolderError(f"{path} is not a linear probe's checkpoint; pass --overwrite or another --name")
    stored = state.get("config") or {}
    if not isinstance(stored, Mapping):
        raise RunFolderError(f"{path} records no readable config; pass --overwrite to replace it")
    changed = run_differences(stored, cfg, "finetune")
    # A probe from before probe_steps was a config field records its steps only beside the config (300 then).
    if "probe_steps" not in stored and (state.get("probe") or {}).get("steps") != cfg.probe_steps:
        changed = sorted(changed + ["probe_steps"])
    if changed:
        raise RunFolderError(f"{path} holds a linear probe of other settings ({', '.join(changed)} differ); "
                             "pass --overwrite to replace it")
    return state


def run_linear_probe(cfg: Config, device="cpu", test: Optional[ClipFeatures] = None,
                     overwrite: bool = False) -> tuple[TrainResult, EvalResult, ClipFeatures]:
    """One linear probe: ``cfg.pretrained``'s backbone (a random one seeded with ``cfg.seed`` without it),
    frozen; a classifier fitted on its labelled clips' features at ``cfg.probe_lr`` for ``cfg.probe_steps``
    steps; the 10-clip test.

    ``test`` reuses test features already computed with this very backbone (the pretrained backbone's
    are the same for every seed). The probe's model (backbone + fitted fc) is saved as a fine-tuning
    checkpoint, ``<cfg.run_dir>/last.pt``, with ``probe`` describing the fit (and its one metrics row in
    ``metrics.jsonl``), so it loads and evaluates
    like any fine-tuned model. A folder that holds another run is refused unless ``cfg.resume`` or
    ``overwrite``. Returns ``(run, test evaluation, test features)``.
    """
    run_dir = Path(cfg.run_dir)
    claim_run_folder(run_dir, cfg.resume, overwrite)
    done = _finished_probe(run_dir / "last.pt", cfg) if cfg.resume else None
    if done is not None:  # --resume of a finished probe: load it, evaluate it again
        model, _ = model_from_checkpoint(done, device=device)
        if test is None:
            test = test_clip_features(model, cfg, device)
        evaluation = probe_evaluation(model.head, test)
        return (TrainResult(model, cfg, run_dir, run_dir / "last.pt", done["metrics"], evaluation=evaluation),
                evaluation, test)
    labelled = finetune_dataset(cfg)
    classes = labelled.classes
    model, transfer, authors_input = transfer_model(cfg, len(classes))
    model = model.to(device).eval()
    train = labelled_clip_features(model, cfg, device, labelled)
    steps = cfg.probe_steps
    fit = fit_linear_classifier(train.x, train.labels, len(classes), cfg.probe_lr, cfg.weight_decay, steps=steps,
                                seed=cfg.seed)
    with torch.no_grad():
        model.head.weight.copy_(fit.fc.weight)
        model.head.bias.copy_(fit.fc.bias)
    if test is None:
        test = test_clip_features(model, cfg, device)
    evaluation = probe_evaluation(fit.fc, test)
    row = {"stage": "linear probe", "kind": "epoch", "epoch": 1, "step": steps, "loss": fit.final_loss,
           "acc": fit.train_accuracy, "clips": int(train.x.shape[0])}
    run_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = save_checkpoint(run_dir / "last.pt", dict(
        model=model.state_dict(), config=cfg.to_dict(), stage="finetune", epoch=1, step=steps, metrics=[row],
        classes=list(classes), pretrained=cfg.pretrained, authors_input=authors_input,
        transfer_loaded=list(transfer.loaded) if transfer else [],
        probe=dict(steps=steps, lr=cfg.probe_lr, weight_decay=cfg.weight_decay, train_clips=int(train.x.shape[0]),
                   train_accuracy=fit.train_accuracy, final_loss=fit.final_loss)))
    write_text_atomic(run_dir / "metrics.jsonl", json.dumps(row) + "\n")
    return TrainResult(model, cfg, run_dir, checkpoint, [row], transfer=transfer, evaluation=evaluation), evaluation, test


__all__ = ["ClipFeatures", "LinearFit", "fit_linear_classifier", "labelled_clip_features",
           "probe_evaluation", "run_linear_probe", "test_clip_features"]
