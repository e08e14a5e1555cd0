"""Training data: each stage's sampler and dataset from a :class:`~pacekit.config.Config`, a labelled
subset, and seeded loaders.

Determinism. A :class:`~pacekit.data.VideoDataset` draws item ``i`` of epoch ``e`` from a generator
seeded with ``(seed, e, i)``. Loader workers that live across epochs (``persistent_workers``) hold their
own copy of the dataset, so calling ``set_epoch`` in the main process would not reach them; here the
sampler hands out ``(epoch, index)`` pairs instead (:class:`EpochSampler`), and :class:`EpochIndexed`
sets the epoch inside whichever process reads the item. The order comes from a
:class:`~torch.utils.data.DistributedSampler` seeded with the config's seed (one replica without DDP),
so a resumed run, or a run with a different number of workers, reads the same clips in the same order.
"""

from __future__ import annotations

import logging
import warnings
from typing import Iterator, Optional, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Sampler

from ..data import VideoDataset, build_dataset
from ..data.samplers import ActionClipSampler, EvalClipSampler, PaceClipSampler
from ..data.splits import VideoRecord
from ..machine import usable_cores
from .distributed import DistContext

logger = logging.getLogger("pacekit.training")


class EpochIndexed(Dataset):
    """Wrap a dataset with ``set_epoch`` so that items are fetched by ``(epoch, index)`` keys."""

    def __init__(self, dataset: Dataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key):
        epoch, index = key
        if getattr(self.dataset, "epoch", None) != epoch:
            self.dataset.set_epoch(epoch)
        return self.dataset[index]


class EpochSampler(Sampler):
    """Yield ``(epoch, index)`` from a seeded :class:`DistributedSampler` (``set_epoch`` sets both)."""

    def __init__(self, dataset: Dataset, ctx: DistContext, seed: int, shuffle: bool = True):
        self.inner = DistributedSampler(dataset, num_replicas=ctx.world_size, rank=ctx.rank, shuffle=shuffle,
                                        seed=seed, drop_last=False)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)
        self.inner.set_epoch(self.epoch)

    def __len__(self) -> int:
        return len(self.inner)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        epoch = self.epoch
        return ((epoch, int(i)) for i in self.inner)


def cap_workers(requested: int, ctx: DistContext, cpus: Optional[int] = None) -> int:
    """``requested`` loader workers, at most this process's share of the CPUs (a Colab VM has 2); logged
    on the ``pacekit.training`` logger when capped."""
    cpus = usable_cores() if cpus is None else int(cpus)
    limit = max(1, cpus // max(1, ctx.world_size))
    if requested <= limit:
        return requested
    if ctx.is_main:
        logger.warning("num_workers %d capped to %d: %d CPUs for %d process(es)", requested, limit, cpus,
                       ctx.world_size)
    return limit


def make_train_loader(dataset: Dataset, batch_size: int, ctx: DistContext, seed: int, num_workers: int,
                      pin_memory: bool) -> tuple[DataLoader, EpochSampler]:
    """A training loader of uint8 batches and its sampler (call ``sampler.set_epoch(e)`` each epoch).

    Each process gets ``len(dataset) / world_size`` items; incomplete last batches are dropped (a
    BatchNorm batch of one clip is noise) unless that would leave no batch at all.
    """
    sampler = EpochSampler(dataset, ctx, seed)
    drop_last = len(sampler) >= batch_size
    if not drop_last:
        warnings.warn(f"only {len(sampler)} clips per process for batch size {batch_size}: every epoch is one "
                      "smaller batch; lower the batch size or use more videos", stacklevel=2)
    extra = dict(persistent_workers=True, prefetch_factor=4) if num_workers > 0 else {}
    loader = DataLoader(EpochIndexed(dataset), batch_size=batch_size, sampler=sampler, num_workers=num_workers,
                        pin_memory=pin_memory, drop_last=drop_last, **extra)
    return loader, sampler


def select_per_class(records: Sequence[VideoRecord], per_class: int) -> list[VideoRecord]:
    """``per_class`` videos of each class, evenly spread over the class's videos in list order.

    Deterministic: the same split always gives the same subset (in UCF101's lists, a class's videos are
    ordered by group, so the choice spans the groups). A class with fewer videos keeps all of them.
    """
    by_class: dict[int, list[VideoRecord]] = {}
    for record in records:
        by_class.setdefault(record.label, []).append(record)
    chosen = []
    for label in sorted(by_class):
        videos = by_class[label]
        keep = np.unique(np.round(np.linspace(0, len(videos) - 1, min(per_class, len(videos)))).astype(int))
        chosen.extend(videos[i] for i in keep)
    return chosen


def pretrain_sampler(cfg) -> PaceClipSampler:
    """Pretraining's sampler (Sec. 3.1): one clip per video at a random pace of ``cfg.pace_set``, or two
    at different paces for the same-context loss (Eq. 2)."""
    return PaceClipSampler(cfg.clip_len, cfg.pace_set, cfg.start_policy, cfg.wrap, cfg.clips_per_video,
                           cfg.slow_fill)


def finetune_sampler(cfg) -> ActionClipSampler:
    """Fine-tuning's sampler: one clip at natural pace from a random start."""
    return ActionClipSampler(cfg.clip_len, cfg.start_policy)


def eval_sampler(cfg) -> EvalClipSampler:
    """Evaluation's sampler: ``cfg.num_clips`` clips spaced uniformly over each video (paper 4.1)."""
    return EvalClipSampler(cfg.clip_len, cfg.num_clips)


def _backend(cfg, backend: Optional[str]) -> str:
    """The video reader backend: the argument, else the config's ``backend`` if it has one, else auto."""
    return backend if backend is not None else getattr(cfg, "backend", "auto")


def eval_workers(cfg) -> int:
    """Loader workers of a pass that reads each video once (an evaluation, retrieval, the probe's feature
    pass): ``cfg.num_workers`` (at most 4), or none with the ``"memory"`` backend, whose frames live in the
    process that decoded them: the pass then reads them in this process, so every later pass over the same
    videos (the next seed's evaluation, retrieval, the probe's features) finds them decoded."""
    return 0 if getattr(cfg, "backend", "auto") == "memory" else min(cfg.num_workers, 4)


def train_workers(cfg, ctx: DistContext) -> int:
    """Loader workers of a training run: ``cfg.num_workers`` capped to this process's share of the CPUs
    (:func:`cap_workers`), or none with the ``"memory"`` backend. Its clips are slices of frames decoded
    once and kept in memory; a worker process would decode and hold its own copy of every video and take a
    core from the training step, which then runs on one thread (``benchmarks/bench_train.py --preset
    cpu-tiny``; measured in docs/performance.md, "Step rate"). Loading in this process also
    leaves the decoded videos where the evaluation passes after training read them. The clips and their
    order do not depend on the workers (see the module docstring)."""
    if getattr(cfg, "backend", "auto") == "memory":
        return 0
    return cap_workers(cfg.num_workers, ctx)


def pretrain_dataset(cfg, subset: str = "train", backend: Optional[str] = None) -> VideoDataset:
    """The dataset of the pretraining stage: :func:`pretrain_sampler` over ``subset``, the list repeated
    ``epoch_repeat`` times."""
    return build_dataset(cfg.dataset, cfg.root, subset, split=cfg.split, max_videos=cfg.max_videos,
                         sampler=pretrain_sampler(cfg), frame_size=cfg.frame_size, repeat=cfg.epoch_repeat,
                         seed=cfg.seed, backend=_backend(cfg, backend))


def finetune_dataset(cfg, labels_per_class: Optional[int] = None, backend: Optional[str] = None) -> VideoDataset:
    """The training set of fine-tuning (:func:`finetune_sampler`), restricted to ``labels_per_class``
    videos per class (default ``cfg.labels_per_class``; None keeps all)."""
    full = build_dataset(cfg.dataset, cfg.root, "train", split=cfg.split, max_videos=cfg.max_videos,
                         sampler=finetune_sampler(cfg), frame_size=cfg.frame_size, repeat=cfg.ft_epoch_repeat,
                         seed=cfg.seed, backend=_backend(cfg, backend))
    per_class = labels_per_class if labels_per_class is not None else cfg.labels_per_class
    if per_class is None:
        return full
    return VideoDataset(select_per_class(full.records, per_class), full.classes, full.sampler,
                        frame_size=full.frame_size, repeat=full.repeat, seed=full.seed, backend=full.backend)


def eval_dataset(cfg, subset: str = "test", backend: Optional[str] = None) -> VideoDataset:
    """The evaluation set (:func:`eval_sampler`) of ``subset``."""
    return build_dataset(cfg.dataset, cfg.root, subset, split=cfg.split, max_videos=cfg.max_videos,
                         sampler=eval_sampler(cfg), frame_size=cfg.frame_size, seed=cfg.seed,
                         backend=_backend(cfg, backend))


def move_batch(batch: dict, device: torch.device) -> dict:
    """Tensors of a batch onto ``device`` asynchronously (from pinned memory on CUDA)."""
    return {k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
