"""The training loop shared by pretraining and fine-tuning: SGD + step decay, fast path, DDP, checkpoints.

One step (what differs between the stages is the ``step_fn``)::

    uint8 batch --pinned, non_blocking--> device --step_fn: augment + forward + loss--> loss
    loss.backward(); SGD step          (bf16 autocast on CUDA, fp32 on the CPU)

The augmentation generator lives on the device and is re-seeded every step from ``(seed, epoch, step,
rank)``, the sampler is seeded, and the dataset draws from ``(seed, epoch, index)``: with the checkpoint's
model, optimiser, scheduler and RNG states, a run resumed after epoch k continues exactly as if it had
never stopped (on the CPU the final weights are bit-identical; ``tests/test_train.py`` checks it).

Checkpoints (rank 0): ``epoch_<k>.pt`` after every epoch (the two newest are kept) and ``last.pt`` at the
end, written atomically by :func:`pacekit.checkpoint.save_checkpoint`.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch
from torch import nn

from ..checkpoint import capture_rng_state, latest_checkpoint, load_checkpoint, restore_rng_state, save_checkpoint
from ..config import config_default
from .data import make_train_loader, move_batch
from .distributed import DistContext, all_reduce_sum, barrier
from .logging import DeviceMeter, MetricsLog, progress_bar

#: ``step_fn(model, batch, generator) -> (loss, correct, clips)``: batch tensors are on the device; loss is
#: the mean over the batch's clips, correct a device tensor counting right predictions, clips an int.
StepFn = Callable[[nn.Module, dict, torch.Generator], tuple[torch.Tensor, torch.Tensor, int]]

KEEP_EPOCH_CHECKPOINTS = 2


@dataclass
class Schedule:
    """Optimiser and schedule of one stage (paper 4.1: SGD, lr /10 every 6 epochs).

    The defaults are those of the :class:`pacekit.config.Config` fields of the same names.
    """

    epochs: int
    batch_size: int
    lr: float
    momentum: float = config_default("momentum")
    weight_decay: float = config_default("weight_decay")
    lr_step: int = config_default("lr_step")
    lr_gamma: float = config_default("lr_gamma")
    optimizer: str = config_default("optimizer")  # or "adamw"

    def make_optimizer(self, params) -> torch.optim.Optimizer:
        if self.optimizer == "sgd":
            return torch.optim.SGD(params, lr=self.lr, momentum=self.momentum, weight_decay=self.weight_decay)
        if self.optimizer == "adamw":
            return torch.optim.AdamW(params, lr=self.lr, weight_decay=self.weight_decay)
        raise ValueError(f"optimizer must be 'sgd' or 'adamw', got {self.optimizer!r}")


@dataclass
class FitResult:
    """What :func:`fit` leaves: the trained (unwrapped) model, the metric rows and the last checkpoint."""

    model: nn.Module
    metrics: list[dict]
    checkpoint: Optional[Path]
    resumed_from: Optional[Path] = None
    extra: dict = field(default_factory=dict)


@dataclass
class FastPath:
    """Per-device speed settings resolved from the config."""

    autocast_dtype: Optional[torch.dtype]  # None = fp32
    channels_last: bool
    compile: bool

    @classmethod
    def from_config(cls, cfg, device: torch.device) -> "FastPath":
        cuda = device.type == "cuda"
        precision = cfg.precision if cfg.precision != "auto" else ("bf16" if cuda else "fp32")
        channels_last = cfg.channels_last if cfg.channels_last is not None else cuda
        return cls(torch.bfloat16 if precision == "bf16" else None, bool(channels_last), bool(cfg.compile))

    def autocast(self, device: torch.device):
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device.type, dtype=self.autocast_dtype)


def step_seed(seed: int, epoch: int, step: int, rank: int) -> int:
    """A 63-bit seed for the augmentation of one step, a pure function of its position in the run."""
    return int(np.random.SeedSequence((seed, epoch, step, rank)).generate_state(2, np.uint64)[0] >> 1)


def configure_backends(device: torch.device, cfg, ctx: DistContext) -> None:
    """CUDA: cuDNN autotuning (fixed input sizes) and TF32 matmuls for the parts outside bf16 autocast.

    CPU: torch's threads are set to the cores this process can use without its loader workers
    (``cfg.threads`` overrides). More threads than free cores make every convolution wait on spinning
    threads: on a 2-core machine with one busy worker, a tiny model's step went from 12 ms to 2.5 s.
    """
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        return
    threads = cfg.threads
    if threads is None:
        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:  # not Linux
            cores = os.cpu_count() or 1
        threads = max(1, cores // ctx.world_size - cfg.num_workers)
    torch.set_num_threads(threads)


def fit(
    model: nn.Module,
    dataset,
    step_fn: StepFn,
    schedule: Schedule,
    cfg,
    stage: str,
    run_dir,
    ctx: DistContext,
    train_mode: Optional[Callable[[nn.Module], None]] = None,
    on_epoch_end: Optional[Callable[[dict], None]] = None,
    checkpoint_extra: Optional[dict] = None,
) -> FitResult:
    """Train ``model`` on ``dataset`` for ``schedule.epochs`` epochs and checkpoint every epoch.

    Args:
        model: the (unwrapped) model; moved to ``ctx.device`` here and wrapped in DDP / compiled as the
            config asks. Parameters with ``requires_grad=False`` are not optimised.
        dataset: a dataset with ``set_epoch`` whose items are dicts of uint8 clips and labels.
        step_fn: see :data:`StepFn`.
        cfg: the :class:`pacekit.config.Config` (seed, device, precision, workers, logging, resume).
        stage: ``"pretrain"`` or ``"finetune"``; stored in checkpoints and metric rows, checked on resume.
        run_dir: folder for checkpoints and ``metrics.jsonl``.
        train_mode: called after ``model.train()`` each epoch (e.g. to keep a frozen backbone in eval mode).
        on_epoch_end: called with each epoch's metric row after its checkpoint is written (a notebook's live
            plot, or a test that interrupts the run).
        checkpoint_extra: plain values added to every checkpoint (e.g. the class names).
    """
    run_dir = Path(run_dir)
    device = ctx.device
    fast = FastPath.from_config(cfg, device)
    configure_backends(device, cfg, ctx)
    model.to(device)
    if fast.channels_last:
        model.to(memory_format=torch.channels_last_3d)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("the model has no trainable parameter; check freeze_backbone and the model's head")
    optimizer = schedule.make_optimizer(params)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=schedule.lr_step, gamma=schedule.lr_gamma)

    start_epoch, step, rows, resumed_from = 0, 0, [], None
    if cfg.resume:
        resumed_from = latest_checkpoint(run_dir)
        if resumed_from is not None:
            state = load_checkpoint(resumed_from, map_location="cpu")
            if state.get("stage", stage) != stage:
                raise ValueError(f"--resume: {resumed_from} is a {state.get('stage')} checkpoint, not {stage}; "
                                 "pick another --name")
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            restore_rng_state(state["rng"])
            start_epoch, step, rows = int(state["epoch"]), int(state["step"]), list(state["metrics"])
            if ctx.is_main:
                print(f"resuming {stage} from {resumed_from} (epoch {start_epoch}, step {step})")
        elif ctx.is_main:
            print(f"--resume: no checkpoint in {run_dir} yet; starting from scratch")

    log = MetricsLog(run_dir, enabled=ctx.is_main, rows=rows)
    net: nn.Module = model
    if ctx.distributed:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    if fast.compile:
        net = torch.compile(net)

    loader, sampler = make_train_loader(dataset, schedule.batch_size, ctx, cfg.seed, cfg.num_workers,
                                        pin_memory=device.type == "cuda")
    generator = torch.Generator(device=device)
    bar = progress_bar(len(loader) * (schedule.epochs - start_epoch), stage, ctx.is_main and cfg.progress)
    window, whole = DeviceMeter(device), DeviceMeter(device)
    t0 = time.perf_counter()
    checkpoint = resumed_from if ctx.is_main else None  # only rank 0 reports a checkpoint
    try:
        for epoch in range(start_epoch, schedule.epochs):
            sampler.set_epoch(epoch)
            model.train()
            if train_mode is not None:
                train_mode(model)
            whole.reset()
            window.reset()
            substituted = torch.zeros(1, dtype=torch.int64)  # summed on the host, reduced on the device
            t_window = t_epoch = time.perf_counter()
            for i, batch in enumerate(loader):
                if "substituted" in batch:  # a CPU tensor: summing it costs no device sync
                    substituted += batch.pop("substituted").sum()
                generator.manual_seed(step_seed(cfg.seed, epoch, i, ctx.rank))
                batch = move_batch(batch, device)
                with fast.autocast(device):
                    loss, correct, clips = step_fn(net, batch, generator)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                window.add(loss, correct, clips)
                whole.add(loss, correct, clips)
                step += 1
                if bar is not None:
                    bar.update(1)
                if step % cfg.log_every == 0:
                    now = time.perf_counter()
                    row = _metrics_row(stage, "step", epoch, step, window.read(ctx), scheduler, now - t_window,
                                       now - t0)
                    log.append(row)
                    _show(bar, row)
                    window.reset()
                    t_window = now
            now = time.perf_counter()
            row = _metrics_row(stage, "epoch", epoch, step, whole.read(ctx), scheduler, now - t_epoch, now - t0)
            # NCCL reduces device tensors only; this once-per-epoch copy is the only sync it costs.
            row["substituted"] = int(all_reduce_sum(substituted.to(device), ctx).item())
            scheduler.step()
            log.append(row)
            _show(bar, row)
            if ctx.is_main and row["substituted"]:
                print(f"epoch {epoch + 1}: {row['substituted']} undecodable videos were replaced by others")
            state = dict(model=model.state_dict(), optimizer=optimizer.state_dict(),
                         scheduler=scheduler.state_dict(), rng=capture_rng_state(), config=cfg.to_dict(),
                         epoch=epoch + 1, step=step, metrics=list(log.rows), stage=stage,
                         **(checkpoint_extra or {}))
            if ctx.is_main:
                checkpoint = save_checkpoint(run_dir / f"epoch_{epoch + 1}.pt", state)
                _prune_epoch_checkpoints(run_dir, keep=KEEP_EPOCH_CHECKPOINTS)
                if epoch + 1 == schedule.epochs:
                    checkpoint = save_checkpoint(run_dir / "last.pt", state)
            barrier(ctx)
            if on_epoch_end is not None:
                on_epoch_end(row)
    finally:
        if bar is not None:
            bar.close()
    if ctx.is_main and start_epoch >= schedule.epochs and resumed_from is not None:
        checkpoint = resumed_from  # nothing left to train
    return FitResult(model=model, metrics=list(log.rows), checkpoint=checkpoint, resumed_from=resumed_from)


def _metrics_row(stage: str, kind: str, epoch: int, step: int, read: tuple, scheduler, seconds: float,
                 elapsed: float) -> dict:
    """One metrics.jsonl row from a :meth:`DeviceMeter.read` result (see :mod:`pacekit.training.logging`)."""
    loss, acc, clips = read
    return dict(stage=stage, kind=kind, epoch=epoch + 1, step=step, loss=loss, acc=acc,
                lr=scheduler.get_last_lr()[0], clips=clips, clips_per_s=clips / max(seconds, 1e-9), time_s=elapsed)


def _show(bar, row: dict) -> None:
    if bar is not None:
        bar.set_postfix(loss=f"{row['loss']:.3f}", acc=f"{row['acc']:.3f}", clips_s=f"{row['clips_per_s']:.0f}")


def _prune_epoch_checkpoints(run_dir: Path, keep: int) -> None:
    epochs = sorted((int(p.stem.split("_")[1]), p) for p in run_dir.glob("epoch_*.pt")
                    if p.stem.split("_")[1].isdigit())
    for _, path in epochs[:-keep]:
        path.unlink(missing_ok=True)
