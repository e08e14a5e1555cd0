"""Training throughput in clips per second, per backbone, precision mode and pipeline; one JSON line each.

Pipelines:

- ``model-only``: a fixed float batch already on the device -> forward, pace loss, backward, SGD step.
  This is what the reference figures for the authors' model code (fp32 401 clips/s ...) measure.
- ``with-data``: the real training path of :mod:`pacekit.recipes.train` -- loader workers (none with the ``memory``
  backend: :func:`pacekit.training.data.train_workers`) decode uint8 pace clips
  (pinned memory, ``non_blocking`` copies), the batch is augmented on the device, then the same step.
- ``data-only``: the loader and the on-device augmentation without the model (the data path's ceiling).

Modes: ``fp32-eager``; ``bf16+cl`` (bf16 autocast and channels_last_3d); ``bf16+cl+compile`` (plus
``torch.compile``). The paper's setting is batch 30 of 16x112x112 clips; S3D-G runs at 64x224x224 with
batch 8 (the batch of the S3D-G reference figure).

Examples::

    # seconds on a laptop CPU: the tiny backbone on a small synthetic set written to a temp folder
    python benchmarks/bench_train.py --device cpu --tiny

    # the quickstart's own pretraining step (the cpu-tiny preset: its batch, clips, input, jitter, memory
    # backend, one worker) on the quickstart's synthetic set: model-only against with-data, in alternating
    # rounds (a shared machine's drift slows both alike)
    python benchmarks/bench_train.py --device cpu --preset cpu-tiny --data data/synthetic --backbones tiny \
        --steps 30 --rounds 10

    # one GPU, the paper's setting, data from a prepared (frame-pack) UCF101-layout folder
    python benchmarks/bench_train.py --device cuda --data data/bench_prepared --workers 16

The first line printed describes the machine (CPU model, cores, GPU, torch version).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from _machine import describe_machine  # benchmarks/ is on sys.path when run as a script

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run from a checkout without installing pacekit
    sys.path.insert(0, str(REPO))

from pacekit.config import get_config  # noqa: E402
from pacekit.recipes.train import PaceStep, build_pace_model, make_augment  # noqa: E402
from pacekit.training.data import make_train_loader, move_batch, pretrain_dataset, train_workers  # noqa: E402
from pacekit.training.distributed import DistContext  # noqa: E402
from pacekit.training.loop import FastPath, configure_backends  # noqa: E402

MODES = {
    "fp32-eager": dict(precision="fp32", channels_last=False, compile=False),
    "fp32+cl": dict(precision="fp32", channels_last=True, compile=False),
    "bf16+cl": dict(precision="bf16", channels_last=True, compile=False),
    "bf16+cl+compile": dict(precision="bf16", channels_last=True, compile=True),
}
PIPELINES = ("model-only", "with-data", "data-only")
PAPER_BACKBONES = ("r21d", "r3d", "c3d", "r3d_18", "s3d_g")


def bench_config(args, backbone: str, mode: str):
    """The training config of one measurement (the paper's, or small with --tiny)."""
    s3d = backbone == "s3d_g"
    given = {k: v for k, v in (("width", args.width), ("clip_len", args.clip_len)) if v is not None}  # flags set
    if args.preset is not None:  # the preset as it trains, only the measurement's own fields replaced
        return get_config(args.preset, backbone=backbone, device=args.device, seed=0, progress=False,
                          dataset=args.dataset, root=str(args.data), epoch_repeat=100, **given, **MODES[mode])
    values = dict(backbone=backbone, device=args.device, num_workers=args.workers, seed=0, progress=False,
                  dataset=args.dataset, root=str(args.data), epoch_repeat=100, **MODES[mode])
    if args.tiny:
        values.update(frame_size=(64, 85), clip_len=8, crop=56, batch_size=args.batch_size or 8)
    else:
        values.update(frame_size=(256, 341) if s3d else (128, 171), clip_len=64 if s3d else 16,
                      crop=224 if s3d else 112, batch_size=args.batch_size or (8 if s3d else 30))
    values.update(given)
    if args.jitter is not None:
        values.update(jitter=None if args.jitter == "none" else args.jitter)
    return get_config("paper", **values)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(run_step, steps: int, device: torch.device) -> float:
    """Seconds per step over ``steps`` steps."""
    _sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        run_step()
    _sync(device)
    return (time.perf_counter() - start) / steps


def prepare(args, backbone: str, mode: str, pipeline: str):
    """The step function of one measurement, warmed up, and its row's description (no timing yet)."""
    cfg = bench_config(args, backbone, mode)
    device = torch.device(args.device)
    ctx = DistContext(device=device)
    workers = train_workers(cfg, ctx)  # as a training run resolves them (none with the memory backend)
    configure_backends(device, cfg, ctx, workers)
    fast = FastPath.from_config(cfg, device)
    torch.manual_seed(0)
    model = build_pace_model(cfg, 4).to(device)
    if fast.channels_last:
        model.to(memory_format=torch.channels_last_3d)
    net = torch.compile(model) if fast.compile else model
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    step_fn = PaceStep(cfg, make_augment(cfg, fast.channels_last))
    generator = torch.Generator(device=device).manual_seed(0)
    b = cfg.batch_size

    def optimise(loss):
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    if pipeline == "model-only":
        memory = torch.channels_last_3d if fast.channels_last else torch.contiguous_format
        x = torch.randn(b, 3, cfg.clip_len, cfg.crop, cfg.crop, device=device).contiguous(memory_format=memory)
        y = torch.randint(0, 4, (b,), device=device)

        def run_step():
            with fast.autocast(device):
                loss = F.cross_entropy(net(x).float(), y)
            optimise(loss)
    else:
        dataset = pretrain_dataset(cfg)
        loader, sampler = make_train_loader(dataset, b, ctx, cfg.seed, workers,
                                            pin_memory=device.type == "cuda")
        state = {"epoch": 0, "it": None}

        def next_batch():
            while True:
                if state["it"] is None:
                    sampler.set_epoch(state["epoch"])
                    state["it"] = iter(loader)
                try:
                    batch = next(state["it"])
                    break
                except StopIteration:
                    state["epoch"] += 1
                    state["it"] = None
            batch.pop("substituted", None)
            return move_batch(batch, device)

        if pipeline == "data-only":
            def run_step():
                step_fn.augment(next_batch()["video"], generator=generator)
        else:
            def run_step():
                with fast.autocast(device):
                    loss, _, _ = step_fn(net, next_batch(), generator)
                optimise(loss)

    warmup = args.warmup
    if warmup is None:
        warmup = 2 if args.tiny else 10
        if pipeline != "model-only" and cfg.backend == "memory":
            # The memory backend decodes each video once per loader worker, in a run's first epoch; what the
            # rest of the run sees is the steady state after it. Warm up until every video has been drawn
            # (8 draws per video on average: a video left cold has odds e^-8).
            warmup = max(warmup, -(-8 * len(dataset.records) // b))
    for _ in range(warmup):
        run_step()
    _sync(device)
    row = {"backbone": backbone, "mode": mode, "pipeline": pipeline, "batch_size": b,
           "clip": [cfg.clip_len, cfg.crop, cfg.crop], "warmup_steps": warmup,
           "workers": workers if pipeline != "model-only" else 0, "threads": torch.get_num_threads(),
           "device": str(device), "width": cfg.width, "params_M": round(sum(p.numel() for p in model.parameters()) / 1e6, 2)}
    return run_step, row


def measure_rounds(args, backbone: str, mode: str, pipelines: list[str]) -> list[dict]:
    """Time the pipelines in ``args.rounds`` alternating rounds of ``args.steps`` steps each (model-only,
    with-data, data-only, model-only, ...), so that a machine whose speed drifts -- a shared CPU -- slows
    every pipeline alike and their ratio stays fair. Each row gives the median round and the spread; the
    with-data row adds its ratio to model-only, per round (the two rounds next to each other)."""
    device = torch.device(args.device)
    prepared, rows = {}, []
    for pipeline in pipelines:
        try:
            prepared[pipeline] = prepare(args, backbone, mode, pipeline)
        except Exception as exc:  # one failing combination must not hide the others
            rows.append({"backbone": backbone, "mode": mode, "pipeline": pipeline,
                         "error": f"{type(exc).__name__}: {exc}"[:500]})
    seconds = {pipeline: [] for pipeline in prepared}
    for _ in range(args.rounds):
        for pipeline, (run_step, _) in prepared.items():
            seconds[pipeline].append(_timed(run_step, args.steps, device))
    for pipeline, (_, row) in prepared.items():
        per_round, b = seconds[pipeline], row["batch_size"]
        rates = sorted(b / s for s in per_round)
        row = dict(row, clips_per_s=round(statistics.median(rates), 1),
                   step_ms=round(1000 * statistics.median(per_round), 2), rounds=args.rounds,
                   steps_per_round=args.steps, clips_per_s_min=round(rates[0], 1), clips_per_s_max=round(rates[-1], 1))
        if pipeline == "with-data" and "model-only" in seconds:
            ratios = [m / w for m, w in zip(seconds["model-only"], per_round)]
            row.update(of_model_only=round(statistics.median(ratios), 3),
                       of_model_only_per_round=[round(r, 3) for r in ratios])
        rows.append(row)
    return rows


def tiny_dataset(folder: Path) -> Path:
    """A small synthetic set for --tiny runs (3 classes x 4 videos)."""
    from pacekit.data.synthetic import ensure_synthetic

    return ensure_synthetic(folder, num_classes=3, videos_per_class=4, progress=False)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--tiny", action="store_true", help="tiny backbone, 8x56x56 clips, a few steps (CPU smoke)")
    parser.add_argument("--preset", default=None, help="measure this preset's own step (batch, clips, input, jitter, "
                        "backend, workers), e.g. cpu-tiny; default: the paper's setting")
    parser.add_argument("--backbones", default=None, help=f"comma list (default: {','.join(PAPER_BACKBONES)})")
    parser.add_argument("--modes", default=None, help=f"comma list of {', '.join(MODES)} (default: all on CUDA, "
                        "fp32-eager on the CPU)")
    parser.add_argument("--pipelines", default=",".join(PIPELINES), help=f"comma list of {', '.join(PIPELINES)}")
    parser.add_argument("--data", default=None, help="dataset root for with-data (default: a synthetic set in a "
                        "temp folder, only with --tiny)")
    parser.add_argument("--dataset", default="synthetic", help="its layout name for build_dataset (default: synthetic)")
    parser.add_argument("--workers", type=int, default=min(16, os.cpu_count() or 1))
    parser.add_argument("--width", type=float, default=None, help="the backbone's width multiplier (default: "
                        "the preset's or the config default)")
    parser.add_argument("--clip-len", type=int, default=None, help="frames per clip (default: the preset's, 16 for "
                        "the paper's setting (S3D-G 64), 8 with --tiny)")
    parser.add_argument("--batch-size", type=int, default=None, help="default: 30 (S3D-G 8), 8 with --tiny")
    parser.add_argument("--jitter", default=None, choices=("frame", "clip", "none"),
                        help="colour jitter of the with-data path (default: the paper's per-frame)")
    parser.add_argument("--steps", type=int, default=None, help="timed steps (default 30, 5 with --tiny)")
    parser.add_argument("--rounds", type=int, default=1, help="alternate the pipelines in this many rounds of "
                        "--steps each and report the median round (default 1; use 5 or more on a shared machine)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed steps first (default 10, 2 with --tiny; "
                        "with the memory backend until every video has been decoded once)")
    args = parser.parse_args(argv)
    args.steps = args.steps or (5 if args.tiny else 30)
    device = torch.device(args.device)
    backbones = args.backbones.split(",") if args.backbones else (["tiny"] if args.tiny else list(PAPER_BACKBONES))
    modes = args.modes.split(",") if args.modes else (list(MODES) if device.type == "cuda" else ["fp32-eager"])
    pipelines = args.pipelines.split(",")
    for name in modes:
        if name not in MODES:
            parser.error(f"unknown mode {name!r}; choose from {', '.join(MODES)}")
    for name in pipelines:
        if name not in PIPELINES:
            parser.error(f"unknown pipeline {name!r}; choose from {', '.join(PIPELINES)}")

    print(json.dumps({"machine": describe_machine(device)}), flush=True)
    with tempfile.TemporaryDirectory(prefix="pacekit-bench-") as tmp:
        if args.data is None and any(p != "model-only" for p in pipelines):
            if not args.tiny:
                parser.error("--data DIR is needed for the with-data pipelines at the paper's setting "
                             "(a UCF101-layout folder, ideally `pacekit prepare`d)")
            args.data = tiny_dataset(Path(tmp) / "synthetic")
        for backbone in backbones:
            for mode in modes:
                # the data path does not depend on the model's mode: measured with the first one only
                chosen = [p for p in pipelines if p != "data-only" or mode == modes[0]]
                for row in measure_rounds(args, backbone, mode, chosen):
                    print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
