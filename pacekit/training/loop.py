"""The training loop shared by pretraining and fine-tuning: SGD + step decay, fast path, DDP, checkpoints.

One step (what differs between the stages is the ``step_fn``)::

    uint8 batch --pinned, non_blocking--> device --step_fn: augment + forward + loss--> loss
    loss.backward(); SGD step          (bf16 autocast on CUDA, or fp16 + GradScaler where the GPU has no bf16;
                                        fp32 on the CPU)

The augmentation generator lives on the device and is re-seeded every step from ``(seed, epoch, step,
rank)``, the sampler is seeded, and the dataset draws from ``(seed, epoch, index)``: with the checkpoint's
model, optimiser, scheduler and RNG states, a run resumed after epoch k continues exactly as if it had
never stopped (on the CPU the final weights are bit-identical; ``tests/test_train.py`` checks it).

Checkpoints (rank 0): ``epoch_<k>.pt`` after every epoch (the two newest are kept) and ``last.pt`` at the
end, written atomically by :func:`pacekit.training.checkpoint.save_checkpoint`.

Runs never lie: a run folder holds one run (reusing it needs ``resume`` or ``overwrite``), in a folder pacekit
made (:data:`RUN_FOLDER`: a folder of the user's is never written into); a resumed run
refuses a config that changes what it learns (:func:`check_resume_config`); a non-finite loss or gradient
stops the run before the update it would poison (:class:`pacekit.training.checkpoint.NonFiniteError`, naming the
step and the last good checkpoint), and a NaN model is never saved. A damaged ``last.pt`` on resume falls
back to the newest intact ``epoch_*.pt``, logged on the ``pacekit.training`` logger.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np
import torch
from torch import nn

from ..config import config_default, run_differences
from ..errors import PacekitError, one_line
from ..machine import usable_cores
from ..owned import Kind, check_folder, mark_folder
from .checkpoint import (
    DAMAGED_ENTRY_ERRORS,
    CheckpointError,
    NonFiniteError,
    capture_rng_state,
    load_checkpoint,
    require_entries,
    restore_rng_state,
    run_checkpoints,
    save_checkpoint,
)
from .data import make_train_loader, move_batch, train_workers
from .distributed import DistContext, all_reduce_sum, barrier
from .logging import DeviceMeter, MetricsLog, progress_bar

#: ``step_fn(model, batch, generator) -> (loss, correct, clips)``: batch tensors are on the device; loss is
#: the mean over the batch's clips, correct a device tensor counting right predictions, clips an int.
StepFn = Callable[[nn.Module, dict, torch.Generator], tuple[torch.Tensor, torch.Tensor, int]]

KEEP_EPOCH_CHECKPOINTS = 2

logger = logging.getLogger("pacekit.training")

#: Entries a checkpoint needs to resume a run from it.
RESUME_ENTRIES = ("model", "optimizer", "scheduler", "rng", "config", "epoch", "step", "metrics")


class RunFolderError(PacekitError, ValueError):
    """A run folder that holds another run, or a resume that would change what the run learns."""


#: A run folder: what :func:`claim_run_folder` marks, and the files a run and the commands run on it write there
#: (checkpoints and their temp files, metrics, the fine-tuning's and the linear probe's scores, the folders
#: ``pacekit evaluate`` and ``pacekit retrieve`` write beside a checkpoint by default), which recognise a run folder
#: written before the mark existed: one holding its ``metrics.jsonl`` (a run writes it first) and nothing else.
RUN_FOLDER = Kind("pacekit-run", "a training run (its checkpoints and metrics)", files=(
    r"epoch_\d+\.pt", r"last\.pt", r"metrics\.jsonl", r"eval\.json", r"linear_probe\.json",
    r"\.(epoch_\d+\.pt|last\.pt|metrics\.jsonl|eval\.json|linear_probe\.json)\..+\.tmp",
    r"(eval|retrieval)_[^/]+/\.?[^/]+\.(json|png)(\..+\.tmp)?",
), required=r"metrics\.jsonl")

#: What to do about a run folder pacekit did not write.
RUN_FOLDER_FIX = "Choose another --name or --out-dir for the run."


def _run_files(run_dir: Path) -> list[Path]:
    """The files a pacekit run writes into its folder (checkpoints, their temp files, logs, eval)."""
    if not run_dir.is_dir():
        return []
    names = re.compile(r"(epoch_\d+\.pt|last\.pt|metrics\.jsonl|eval\.json|\.(epoch_\d+|last)\.pt\..*\.tmp)")
    return sorted(p for p in run_dir.iterdir() if p.is_file() and names.fullmatch(p.name))


def claim_run_folder(run_dir, resume: bool, overwrite: bool) -> None:
    """Make sure ``run_dir`` belongs to this run, and mark it as a run folder (:data:`RUN_FOLDER`).

    A folder pacekit did not write (one holding other files and no mark) is refused whatever the flags, so
    ``overwrite`` never deletes a file of the user's (:func:`pacekit.owned.check_folder`). A run folder holding
    another run's files is refused unless ``resume`` (continue it) or ``overwrite`` (delete those files first;
    nothing else in it is touched)."""
    run_dir = Path(run_dir)
    check_folder(run_dir, RUN_FOLDER, RUN_FOLDER_FIX)
    files = _run_files(run_dir)
    if files and not resume:
        if not overwrite:
            shown = ", ".join(p.name for p in files[:5]) + (" ..." if len(files) > 5 else "")
            raise RunFolderError(f"the run folder {run_dir} already holds a run ({shown}); pass --resume to continue "
                                 "it, or --overwrite to delete it and start again (or pick another --name)")
        for path in files:
            path.unlink(missing_ok=True)
        logger.warning("--overwrite: removed %d files of the previous run in %s", len(files), run_dir)
    mark_folder(run_dir, RUN_FOLDER)


def check_resume_config(stored: dict, cfg, stage: str, done_epochs: int, source) -> None:
    """Refuse to resume when the new config changes a field that changes what the run learns.

    The rule is pacekit's one "same run" rule (:func:`pacekit.config.run_differences`), with one field more
    that may change: the number of epochs, to extend the run (not below the epochs done).
    """
    after = cfg.to_dict()
    epochs_field = "epochs" if stage == "pretrain" else "ft_epochs"
    changed = [k for k in run_differences(stored, cfg, stage) if k != epochs_field]
    if changed:
        diffs = "; ".join(f"{k}: {stored[k]!r} -> {after[k]!r}" for k in changed)
        raise RunFolderError(f"--resume: the run in {Path(source).parent} was started with another config ({diffs}); "
                             "resuming would mix two runs. Drop those flags to continue it, or start a new run "
                             "with another --name (or --overwrite)")
    if after[epochs_field] < done_epochs:
        raise RunFolderError(f"--resume: {source} has already trained {done_epochs} epochs but --"
                             f"{epochs_field.replace('_', '-')} is {after[epochs_field]}; it may only be raised")


def load_resume_state(run_dir, stage: str) -> tuple[Optional[Path], Optional[dict]]:
    """The newest intact checkpoint of ``run_dir`` and its state; damaged ones are skipped, named with their
    damage in one warning on the ``pacekit.training`` logger. ``(None, None)`` when the folder holds no checkpoint."""
    candidates = run_checkpoints(run_dir)
    damaged = []
    for path in candidates:
        try:
            state = load_checkpoint(path, map_location="cpu")
        except CheckpointError as err:
            damaged.append((path, err))
            continue
        if damaged:  # one warning, naming each damaged file and why (no warning when the error below says it)
            logger.warning("--resume: falling back to %s because %s could not be read", path,
                           "; ".join(f"{p.name} ({err})" for p, err in damaged))
        require_entries(state, RESUME_ENTRIES, str(path), "resuming a run")
        return path, state
    if damaged:
        raise CheckpointError(f"--resume: no checkpoint in {run_dir} can be read ({', '.join(p.name for p, _ in damaged)} "
                              "are damaged); start again with --overwrite")
    return None, None


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


#: Autocast dtype of each explicit ``precision`` value (fp32: no autocast).
_AUTOCAST = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": None}


def resolve_precision(precision: str, device: torch.device) -> str:
    """``"bf16"``, ``"fp16"`` or ``"fp32"`` for ``precision`` on ``device``.

    ``"auto"``: bf16 autocast on a CUDA GPU that supports it (Ampere and newer), else fp16 autocast (with a
    gradient scaler: a T4 on Colab), fp32 on the CPU. An explicit value is honoured as given.
    """
    if precision != "auto":
        if precision not in _AUTOCAST:
            raise ValueError(f"precision must be 'auto' or one of {sorted(_AUTOCAST)}, not {precision!r}")
        return precision
    if device.type != "cuda":
        return "fp32"
    return "bf16" if torch.cuda.is_bf16_supported() else "fp16"


@dataclass
class FastPath:
    """Per-device speed settings resolved from the config."""

    autocast_dtype: Optional[torch.dtype]  # None = fp32
    channels_last: bool
    compile: bool

    @classmethod
    def from_config(cls, cfg, device: torch.device) -> "FastPath":
        cuda = device.type == "cuda"
        precision = resolve_precision(cfg.precision, device)
        channels_last = cfg.channels_last if cfg.channels_last is not None else cuda
        return cls(_AUTOCAST[precision], bool(channels_last), bool(cfg.compile))

    @property
    def needs_scaler(self) -> bool:
        """fp16 gradients underflow without loss scaling; bf16 and fp32 need none."""
        return self.autocast_dtype == torch.float16

    def make_scaler(self, device: torch.device):
        """A gradient scaler for fp16 autocast, else None."""
        return make_grad_scaler(device) if self.needs_scaler else None

    def autocast(self, device: torch.device):
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device.type, dtype=self.autocast_dtype)


def make_grad_scaler(device: torch.device):
    """A GradScaler for ``device``: ``torch.amp.GradScaler`` (torch >= 2.3), else CUDA's own (torch 2.2).

    torch 2.2, the oldest release pacekit supports, has a scaler for CUDA only: fp16 training elsewhere is
    refused there with the fix named.
    """
    if hasattr(torch.amp, "GradScaler"):
        return torch.amp.GradScaler(device.type)
    if device.type == "cuda":
        return torch.cuda.amp.GradScaler()
    raise PacekitError(f"precision='fp16' on {device.type} needs a gradient scaler for that device, which torch "
                       f"{torch.__version__} lacks (torch >= 2.3 has one); use precision='bf16' or 'fp32', or "
                       "upgrade torch")


def apply_update(loss: torch.Tensor, optimizer: torch.optim.Optimizer, scaler, check: Callable[[bool], None]) -> None:
    """Backward pass and optimiser step, with fp16 loss scaling when ``scaler`` is given.

    ``check(grads)`` runs between the backward pass and the step (the non-finite check): with a scaler the
    gradients are unscaled first and only the loss is checked, since an inf gradient under fp16 is the
    scaler's business (it skips that step and lowers the scale), not a diverged run.
    """
    optimizer.zero_grad(set_to_none=True)
    if scaler is None:
        loss.backward()
        check(True)
        optimizer.step()
        return
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    check(False)
    scaler.step(optimizer)
    scaler.update()


class OutOfMemory(PacekitError, RuntimeError):
    """The GPU ran out of memory during a training step; the message names the flag that lowers the batch."""


#: The command-line flag of each stage's batch size.
BATCH_FLAGS = {"pretrain": "--batch-size", "finetune": "--ft-batch-size"}


def out_of_memory_error(stage: str, batch_size: int, device: torch.device, ctx: DistContext) -> OutOfMemory:
    """The :class:`OutOfMemory` error of a step of ``stage`` at ``batch_size`` clips per process."""
    flag = BATCH_FLAGS.get(stage, "--batch-size")
    field = "ft_batch_size" if flag == "--ft-batch-size" else "batch_size"
    per = f" per process ({ctx.world_size} processes)" if ctx.distributed else ""
    return OutOfMemory(f"{stage}: {device} ran out of memory in a training step at batch size {batch_size}{per}; "
                       f"lower it with {flag} (config field {field}), e.g. {flag} {max(1, batch_size // 2)}, or "
                       "use --precision bf16/fp16 or a smaller --clip-len / --crop")


def step_seed(seed: int, epoch: int, step: int, rank: int) -> int:
    """A 63-bit seed for the augmentation of one step, a pure function of its position in the run."""
    return int(np.random.SeedSequence((seed, epoch, step, rank)).generate_state(2, np.uint64)[0] >> 1)


def configure_backends(device: torch.device, cfg, ctx: DistContext, num_workers: Optional[int] = None) -> None:
    """CUDA: cuDNN autotuning (fixed input sizes) and TF32 matmuls for the parts outside bf16 autocast.

    CPU: torch's threads are set to the cores this process can use without its loader workers
    (``cfg.threads`` overrides). More threads than free cores make every convolution wait on spinning
    threads, many times slower (measured: docs/performance.md, "Further CPU timings").
    """
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        return
    threads = cfg.threads
    if threads is None:
        workers = cfg.num_workers if num_workers is None else num_workers
        threads = max(1, usable_cores() // ctx.world_size - workers)
    torch.set_num_threads(threads)


@dataclass
class _Steps:
    """What :func:`fit` steps through its epochs with, and the counters that run across them."""

    net: nn.Module
    step_fn: StepFn
    params: list
    optimizer: torch.optim.Optimizer
    scheduler: Any
    scaler: Any
    fast: FastPath
    loader: Any
    bar: Any
    log: MetricsLog
    cfg: Any
    stage: str
    ctx: DistContext
    batch_size: int
    step: int = 0
    checkpoint: Optional[Path] = None
    t0: float = field(default_factory=time.perf_counter)

    def __post_init__(self):
        self.generator = torch.Generator(device=self.ctx.device)
        self.window, self.whole = DeviceMeter(self.ctx.device), DeviceMeter(self.ctx.device)

    def epoch(self, epoch: int) -> dict:
        """One epoch of steps; returns its metric row (logged), before the scheduler's step."""
        device, cfg, stage = self.ctx.device, self.cfg, self.stage
        self.whole.reset()
        self.window.reset()
        substituted = torch.zeros(1, dtype=torch.int64)  # summed on the host, reduced on the device
        t_window = t_epoch = time.perf_counter()
        for i, batch in enumerate(self.loader):
            if "substituted" in batch:  # a CPU tensor: summing it costs no device sync
                substituted += batch.pop("substituted").sum()
            self.generator.manual_seed(step_seed(cfg.seed, epoch, i, self.ctx.rank))
            batch = move_batch(batch, device)
            try:
                with self.fast.autocast(device):
                    loss, correct, clips = self.step_fn(self.net, batch, self.generator)
                apply_update(loss, self.optimizer, self.scaler,
                             lambda grads: _check_finite(loss, self.params, stage, epoch, i, self.step, self.scheduler,
                                                         self.checkpoint, self.ctx, grads))
            except torch.cuda.OutOfMemoryError:  # the same class as torch.OutOfMemoryError
                raise out_of_memory_error(stage, self.batch_size, device, self.ctx) from None
            self.window.add(loss, correct, clips)
            self.whole.add(loss, correct, clips)
            self.step += 1
            if self.bar is not None:
                self.bar.update(1)
            if self.step % cfg.log_every == 0:
                now = time.perf_counter()
                row = _metrics_row(stage, "step", epoch, self.step, self.window.read(self.ctx), self.scheduler,
                                   now - t_window, now - self.t0)
                self.log.append(row)
                _show(self.bar, row)
                self.window.reset()
                t_window = now
        now = time.perf_counter()
        row = _metrics_row(stage, "epoch", epoch, self.step, self.whole.read(self.ctx), self.scheduler, now - t_epoch,
                           now - self.t0)
        # NCCL reduces device tensors only; this once-per-epoch copy is the only sync it costs.
        row["substituted"] = int(all_reduce_sum(substituted.to(device), self.ctx).item())
        return row


def fit(
    model: nn.Module,
    dataset,
    step_fn: StepFn,
    schedule: Schedule,
    cfg,
    stage: str,
    ctx: DistContext,
    train_mode: Optional[Callable[[nn.Module], None]] = None,
    on_epoch_end: Optional[Callable[[dict], None]] = None,
    checkpoint_extra: Optional[dict] = None,
    overwrite: bool = False,
) -> FitResult:
    """Train ``model`` on ``dataset`` for ``schedule.epochs`` epochs and checkpoint every epoch in ``cfg.run_dir``.

    Args:
        model: the (unwrapped) model; moved to ``ctx.device`` here and wrapped in DDP / compiled as the
            config asks. Parameters with ``requires_grad=False`` are not optimised.
        dataset: a dataset with ``set_epoch`` whose items are dicts of uint8 clips and labels.
        step_fn: see :data:`StepFn`.
        cfg: the :class:`pacekit.config.Config` (seed, device, precision, workers, logging, resume, and
            ``run_dir``, the folder of the checkpoints and ``metrics.jsonl``).
        stage: ``"pretrain"`` or ``"finetune"``; stored in checkpoints and metric rows, checked on resume.
        train_mode: called after ``model.train()`` each epoch (e.g. to keep a frozen backbone in eval mode).
        on_epoch_end: called with each epoch's metric row after its checkpoint is written (a notebook's live
            plot, or a test that interrupts the run).
        checkpoint_extra: plain values added to every checkpoint (e.g. the class names).
        overwrite: delete a previous run's files in ``cfg.run_dir`` first (without it, and without
            ``cfg.resume``, a folder holding a run is refused: :func:`claim_run_folder`).

    Raises:
        NonFiniteError: a loss or gradient became NaN/inf; the message names the step and the last good
            checkpoint (the update is not applied, nothing non-finite is saved).
        RunFolderError: the folder holds another run, or ``resume`` would change what the run learns.
    """
    run_dir = Path(cfg.run_dir)
    device = ctx.device
    fast = FastPath.from_config(cfg, device)
    num_workers = train_workers(cfg, ctx)
    configure_backends(device, cfg, ctx, num_workers)
    model.to(device)
    if fast.channels_last:
        model.to(memory_format=torch.channels_last_3d)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("the model has no trainable parameter; check freeze_backbone and the model's head")
    optimizer = schedule.make_optimizer(params)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=schedule.lr_step, gamma=schedule.lr_gamma)

    if ctx.is_main:
        claim_run_folder(run_dir, bool(cfg.resume), overwrite)
    barrier(ctx)
    start_epoch, step, rows, resumed_from = (_restore_run(run_dir, stage, cfg, ctx, model, optimizer, scheduler)
                                             if cfg.resume else (0, 0, [], None))
    log = MetricsLog(run_dir, enabled=ctx.is_main, rows=rows)
    net = _wrap_for_training(model, ctx, fast)
    scaler = fast.make_scaler(device)
    loader, sampler = make_train_loader(dataset, schedule.batch_size, ctx, cfg.seed, num_workers,
                                        pin_memory=device.type == "cuda")
    bar = progress_bar(len(loader) * (schedule.epochs - start_epoch), stage, ctx.is_main and cfg.progress)
    steps = _Steps(net, step_fn, params, optimizer, scheduler, scaler, fast, loader, bar, log, cfg, stage, ctx,
                   schedule.batch_size, step=step,
                   checkpoint=resumed_from if ctx.is_main else None)  # only rank 0 reports a checkpoint
    try:
        for epoch in range(start_epoch, schedule.epochs):
            sampler.set_epoch(epoch)
            model.train()
            if train_mode is not None:
                train_mode(model)
            row = steps.epoch(epoch)
            scheduler.step()
            log.append(row)
            _show(bar, row)
            if ctx.is_main and row["substituted"]:
                logger.warning("epoch %d: %d undecodable videos were replaced by others", epoch + 1, row["substituted"])
            state = dict(model=model.state_dict(), optimizer=optimizer.state_dict(),
                         scheduler=scheduler.state_dict(), rng=capture_rng_state(), config=cfg.to_dict(),
                         epoch=epoch + 1, step=steps.step, metrics=list(log.rows), stage=stage,
                         **(checkpoint_extra or {}))
            if ctx.is_main:
                steps.checkpoint = _save_epoch(run_dir, state, last=epoch + 1 == schedule.epochs)
            barrier(ctx)
            if on_epoch_end is not None:
                on_epoch_end(row)
    finally:
        if bar is not None:
            bar.close()
    checkpoint = steps.checkpoint
    if ctx.is_main and start_epoch >= schedule.epochs and resumed_from is not None:
        checkpoint = resumed_from  # nothing left to train
    return FitResult(model=model, metrics=list(log.rows), checkpoint=checkpoint, resumed_from=resumed_from)


def _restore_run(run_dir: Path, stage: str, cfg, ctx: DistContext, model: nn.Module, optimizer, scheduler
                 ) -> tuple[int, int, list, Optional[Path]]:
    """Load the newest intact checkpoint of ``run_dir`` into the model, optimiser, scheduler and random
    states for ``--resume``: ``(epochs done, steps done, metric rows, the checkpoint)``, zeros and None when
    the folder holds none. Raises :class:`RunFolderError` for another stage's run or a config that would
    change what the run learns (:func:`check_resume_config`)."""
    resumed_from, state = load_resume_state(run_dir, stage)
    if resumed_from is None:
        if ctx.is_main:
            logger.info("--resume: no checkpoint in %s yet; starting from scratch", run_dir)
        return 0, 0, [], None
    if state.get("stage", stage) != stage:
        raise RunFolderError(f"--resume: {resumed_from} is a {state.get('stage')} checkpoint, not {stage}; "
                             "pick another --name")
    try:
        check_resume_config(state["config"], cfg, stage, int(state["epoch"]), resumed_from)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        restore_rng_state(state["rng"])
        epoch, step, rows = int(state["epoch"]), int(state["step"]), list(state["metrics"])
    except PacekitError:
        raise
    except DAMAGED_ENTRY_ERRORS as exc:  # entries of another shape than pacekit writes
        raise CheckpointError(f"--resume: {resumed_from} does not resume this run ({one_line(exc)}): "
                              "it was edited or damaged; delete it to resume from the epoch checkpoint before it, "
                              "or start again with --overwrite") from None
    if ctx.is_main:
        logger.info("resuming %s from %s (epoch %d, step %d)", stage, resumed_from, epoch, step)
    return epoch, step, rows, resumed_from


def _wrap_for_training(model: nn.Module, ctx: DistContext, fast: FastPath) -> nn.Module:
    """The module the steps call: ``model`` in DDP when distributed, compiled when the config asks."""
    net: nn.Module = model
    if ctx.distributed:
        from torch.nn.parallel import DistributedDataParallel

        device = ctx.device
        net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    if fast.compile:
        net = torch.compile(net)
    return net


def _save_epoch(run_dir: Path, state: dict, last: bool) -> Path:
    """Write ``epoch_<n>.pt`` (keeping :data:`KEEP_EPOCH_CHECKPOINTS` of them) and, after the last epoch,
    ``last.pt``; returns the checkpoint that now stands for the run."""
    epoch = state["epoch"]
    checkpoint = save_checkpoint(run_dir / f"epoch_{epoch}.pt", state)
    _prune_epoch_checkpoints(run_dir, keep=KEEP_EPOCH_CHECKPOINTS, upto=epoch)
    return save_checkpoint(run_dir / "last.pt", state) if last else checkpoint


def _metrics_row(stage: str, kind: str, epoch: int, step: int, read: tuple, scheduler, seconds: float,
                 elapsed: float) -> dict:
    """One metrics.jsonl row from a :meth:`DeviceMeter.read` result (see :mod:`pacekit.training.logging`)."""
    loss, acc, clips = read
    return dict(stage=stage, kind=kind, epoch=epoch + 1, step=step, loss=loss, acc=acc,
                lr=scheduler.get_last_lr()[0], clips=clips, clips_per_s=clips / max(seconds, 1e-9), time_s=elapsed)


def _show(bar, row: dict) -> None:
    if bar is not None:
        bar.set_postfix(loss=f"{row['loss']:.3f}", acc=f"{row['acc']:.3f}", clips_s=f"{row['clips_per_s']:.0f}")


def _check_finite(loss: torch.Tensor, params, stage: str, epoch: int, batch: int, step: int, scheduler,
                  last_good: Optional[Path], ctx: DistContext, grads: bool = True) -> None:
    """Stop the run before ``optimizer.step()`` when the loss or a gradient is NaN/inf (one host sync per
    step; in DDP the flags are summed over ranks, so every rank stops at the same step)."""
    present = [p.grad for p in params if p.grad is not None] if grads else []
    grad_norm = torch.nn.utils.get_total_norm(present) if present else loss.new_zeros(())
    bad = torch.stack([~torch.isfinite(loss.detach().float()).all(), ~torch.isfinite(grad_norm.float())]).float()
    loss_bad, grad_bad = all_reduce_sum(bad, ctx).tolist()
    if not (loss_bad or grad_bad):
        return
    what = (f"the loss became {float(loss.detach().float())}" if loss_bad
            else f"the gradient norm became {float(grad_norm)}")
    if ctx.distributed and not bool((~torch.isfinite(loss.detach().float())).any() or
                                    not torch.isfinite(grad_norm.float())):
        what = "another rank's loss or gradient became non-finite"
    kept = (f"the last good checkpoint is {last_good}" if last_good is not None
            else "no checkpoint was written (the first epoch had not finished)")
    raise NonFiniteError(f"{stage} stopped: {what} at step {step + 1} (epoch {epoch + 1}, batch {batch + 1}, lr "
                         f"{scheduler.get_last_lr()[0]:g}); the update was not applied and {kept}. The learning "
                         "rate is probably too high: lower --lr / --ft-lr and run again (--overwrite).")


def _prune_epoch_checkpoints(run_dir: Path, keep: int, upto: int) -> None:
    """Delete this run's ``epoch_<k>.pt`` older than the ``keep`` newest up to epoch ``upto``; files of
    higher epochs (not written by this run) are left alone."""
    epochs = sorted((int(p.stem.split("_")[1]), p) for p in run_dir.glob("epoch_*.pt")
                    if p.stem.split("_")[1].isdigit() and int(p.stem.split("_")[1]) <= upto)
    for _, path in epochs[:-keep]:
        path.unlink(missing_ok=True)
