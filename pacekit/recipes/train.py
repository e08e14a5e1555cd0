"""Pace pretraining (Sec. 3, Eq. 1-4) and supervised fine-tuning (Sec. 4.1), in Python and as CLI commands.

    >>> from pacekit.config import get_config
    >>> from pacekit.recipes.train import pretrain, finetune
    >>> pre = pretrain(get_config("cpu-tiny", name="demo/pretrain"))            # doctest: +SKIP
    >>> ft = finetune(get_config("cpu-tiny", name="demo/finetune",
    ...                          pretrained=str(pre.checkpoint)))               # doctest: +SKIP

The same functions run under ``torchrun --nproc_per_node N -m pacekit.cli pretrain ...`` (DDP); see
:mod:`pacekit.training.loop` for the step, the fast path and exact resumption.

Pretraining: every clip's pace is predicted by a linear head on the backbone's embedding (Eq. 1); with
``contrastive="context"`` each video gives two clips at different paces and their embeddings (or their
projections, ``projection="linear"/"mlp"``) are pulled together against the other videos' (Eq. 2); with
``contrastive="pace"`` clips of equal pace are (Eq. 3). The loss is Eq. 4.

Fine-tuning: the backbone's weights come from a pretraining checkpoint (its pace head and projector are
left behind), a new action fc is initialised, and the whole network is trained with cross-entropy
(paper 4.1) -- or only the fc, on a frozen backbone in eval mode (``freeze_backbone``, the linear probe).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import torch
import torch.nn.functional as F
from torch import nn

from ..config import Config, ConfigError
from ..data import ClipAugment
from ..evaluation.recognition import evaluate_on_test
from ..losses import pace_classification_loss, same_context_loss, same_pace_loss, total_loss
from ..models.authors import authors_backbone_state, is_authors_checkpoint
from ..pace import PaceSet
from ..training.checkpoint import TransferError, load_backbone_weights, load_checkpoint
from ..training.data import finetune_dataset, pretrain_dataset
from ..training.distributed import DistContext, cleanup_distributed, init_distributed
from ..training.loading import (
    build_action_model,
    build_pace_model,
    eval_transform,
    model_from_checkpoint,
)
from ..training.loop import FastPath, Schedule, fit

logger = logging.getLogger("pacekit.recipes.train")


@dataclass
class TrainResult:
    """A finished stage: the trained model (on its device), its run folder, last checkpoint and metric rows.

    ``transfer`` is the fine-tuning's :class:`pacekit.training.checkpoint.TransferReport` (None from scratch);
    ``evaluation`` the test-split :class:`pacekit.evaluation.recognition.EvalResult` when one was run.
    """

    model: nn.Module
    config: Config
    run_dir: Path
    checkpoint: Optional[Path]
    metrics: list[dict]
    transfer: Any = None
    evaluation: Any = None

    def final(self, key: str = "acc") -> float:
        """``key`` of the last epoch row, e.g. the final training accuracy."""
        epochs = [r for r in self.metrics if r["kind"] == "epoch"]
        return float(epochs[-1][key]) if epochs else float("nan")


# --------------------------------------------------------------------------------------------- models
# Building models from a config, rebuilding them from checkpoints and their test-time transform live in
# pacekit.training.loading (build_pace_model, build_action_model, model_from_checkpoint, eval_transform are
# re-exported here); the 10-clip test evaluation in pacekit.evaluation.recognition (evaluate_on_test, re-exported).


def make_augment(cfg: Config, channels_last: bool = False) -> ClipAugment:
    """The training transform of both stages (paper 4.1: random 112 crop, clip flip; per-frame jitter),
    then the config's input mode."""
    return ClipAugment(size=None, crop=cfg.crop, flip=True, jitter=cfg.jitter, channels_last=channels_last,
                       input_mode=cfg.input_mode)


# ------------------------------------------------------------------------------------------ the steps


class PaceStep:
    """One pretraining step: augment, predict paces (Eq. 1), add the contrastive term (Eq. 2 / 3), Eq. 4."""

    def __init__(self, cfg: Config, augment: nn.Module):
        self.cfg, self.augment = cfg, augment

    def __call__(self, net: nn.Module, batch: dict, generator: torch.Generator):
        cfg = self.cfg
        video, labels = batch["video"], batch["pace_label"]
        n = 1
        if video.dim() == 6:  # (B, n, T, H, W, C) -> clip-major (n*B, T, H, W, C), pacekit.losses' order
            n = video.shape[1]
            video = video.transpose(0, 1).flatten(0, 1)
            labels = labels.t().reshape(-1)  # (n*B,)
        x = self.augment(video, generator=generator)  # (n*B, C, T, h, w)
        logits, embedding, z = net(x, return_all=True)
        l_cls = pace_classification_loss(logits, labels)  # Eq. 1
        l_ctr = None
        if cfg.contrastive != "none":
            feats = z if z is not None else embedding  # no projector: contrast the embeddings themselves
            if cfg.contrastive == "context":
                l_ctr = same_context_loss(feats, cfg.temperature, cfg.normalize, clips_per_video=n)  # Eq. 2
            else:
                l_ctr = same_pace_loss(feats, labels, cfg.temperature, cfg.normalize)  # Eq. 3
        loss = total_loss(l_cls, l_ctr, cfg.lambda_cls, cfg.lambda_ctr)  # Eq. 4
        correct = (logits.detach().argmax(1) == labels).sum()
        return loss, correct, labels.shape[0]


class ActionStep:
    """One fine-tuning step: augment, classify the action, cross-entropy."""

    def __init__(self, augment: nn.Module):
        self.augment = augment

    def __call__(self, net: nn.Module, batch: dict, generator: torch.Generator):
        x = self.augment(batch["video"], generator=generator)  # (B, C, T, h, w)
        logits = net(x)
        loss = F.cross_entropy(logits.float(), batch["label"])
        correct = (logits.detach().argmax(1) == batch["label"]).sum()
        return loss, correct, batch["label"].shape[0]


# ----------------------------------------------------------------------------------------- the stages


def pretrain(cfg: Config, on_epoch_end: Optional[Callable[[dict], None]] = None, *,
             overwrite: bool = False) -> TrainResult:
    """Pace-pretrain ``cfg.backbone`` on ``cfg.dataset``'s train split; checkpoints go to ``cfg.run_dir``.

    A run folder holding another run is refused unless ``cfg.resume`` or ``overwrite`` (see
    :func:`pacekit.training.loop.claim_run_folder`); a non-finite loss stops the run with a
    :class:`pacekit.training.checkpoint.NonFiniteError`."""
    if len(PaceSet.from_spec(cfg.pace_set)) < 2:  # one pace: a pretext task with one answer teaches nothing
        raise ConfigError(f"--pace-set {cfg.pace_set}: pace prediction needs at least two paces to tell apart, "
                          "e.g. 1,2,3,4 (the paper's best, 'relative')", field="pace_set")
    ctx = init_distributed(cfg.device)
    try:
        dataset = pretrain_dataset(cfg)
        torch.manual_seed(cfg.seed)
        model = build_pace_model(cfg, len(dataset.pace_set))
        fast = FastPath.from_config(cfg, ctx.device)
        schedule = Schedule(cfg.epochs, cfg.batch_size, cfg.lr, cfg.momentum, cfg.weight_decay, cfg.lr_step,
                            cfg.lr_gamma, cfg.optimizer)
        _announce(ctx, cfg, "pretrain", len(dataset), model)
        out = fit(model, dataset, PaceStep(cfg, make_augment(cfg, fast.channels_last)), schedule, cfg, "pretrain",
                  ctx, on_epoch_end=on_epoch_end,
                  checkpoint_extra={"paces": [str(p) for p in dataset.pace_set]}, overwrite=overwrite)
    finally:
        cleanup_distributed(ctx)
    return TrainResult(out.model, cfg, Path(cfg.run_dir), out.checkpoint, out.metrics)


def transfer_model(cfg: Config, num_classes: int, allow_partial_load: bool = False):
    """The model a transfer run starts from: a fresh action fc on ``cfg.pretrained``'s backbone, or on a
    random backbone seeded with ``cfg.seed``. Returns ``(model, transfer report or None, authors_input)``;
    ``authors_input`` is True for the authors' checkpoints, whose networks expect BGR 0..255 frames."""
    torch.manual_seed(cfg.seed)
    model = build_action_model(cfg, num_classes)
    transfer, authors_input = None, False
    if cfg.pretrained:
        source = load_checkpoint(cfg.pretrained)
        if is_authors_checkpoint(source):
            source = _authors_source(cfg, source)
            authors_input = True
        _check_same_backbone(cfg, source)
        transfer = load_backbone_weights(model, source, strict=not allow_partial_load,
                                         source_name=str(cfg.pretrained))
        if transfer.partial:
            logger.warning("partial backbone transfer from %s (allowed): %s", cfg.pretrained, transfer)
    model.authors_input = authors_input
    return model, transfer, authors_input


def finetune(cfg: Config, on_epoch_end: Optional[Callable[[dict], None]] = None, *, overwrite: bool = False,
             allow_partial_load: bool = False) -> TrainResult:
    """Fine-tune on ``cfg.labels_per_class`` labelled videos per class (all with None), from
    ``cfg.pretrained``'s backbone or from random init; ``cfg.freeze_backbone`` trains only the fc.

    The transfer is strict: a backbone that only partly fits raises :class:`pacekit.training.checkpoint.TransferError`
    unless ``allow_partial_load`` (the report is still logged and returned as ``result.transfer``)."""
    ctx = init_distributed(cfg.device)
    try:
        dataset = finetune_dataset(cfg)
        model, transfer, authors_input = transfer_model(cfg, dataset.num_classes, allow_partial_load)
        if transfer is not None and ctx.is_main:
            logger.info("backbone from %s: %s", cfg.pretrained, transfer)
        train_mode = None
        if cfg.freeze_backbone:
            model.backbone.requires_grad_(False)
            train_mode = _freeze_backbone_mode
        fast = FastPath.from_config(cfg, ctx.device)
        schedule = Schedule(cfg.ft_epochs, cfg.ft_batch_size, cfg.finetune_lr, cfg.momentum, cfg.weight_decay,
                            cfg.ft_lr_step, cfg.lr_gamma, cfg.optimizer)
        _announce(ctx, cfg, "finetune", len(dataset), model)
        extra = {"classes": list(dataset.classes), "pretrained": cfg.pretrained,
                 "transfer_loaded": list(transfer.loaded) if transfer else [], "authors_input": authors_input}
        augment = make_augment(cfg, fast.channels_last)
        if authors_input:
            augment = AuthorsInput(augment)
        model.authors_input = authors_input
        out = fit(model, dataset, ActionStep(augment), schedule, cfg, "finetune",
                  ctx, train_mode=train_mode, on_epoch_end=on_epoch_end, checkpoint_extra=extra,
                  overwrite=overwrite)
    finally:
        cleanup_distributed(ctx)
    return TrainResult(out.model, cfg, Path(cfg.run_dir), out.checkpoint, out.metrics, transfer=transfer)


class AuthorsInput(nn.Module):
    """The training transform for a backbone from the authors' checkpoints: their networks were trained on
    BGR frames with values 0..255, unnormalised (as :class:`pacekit.training.loading.AuthorsClipEval` feeds them)."""

    def __init__(self, augment: ClipAugment):
        super().__init__()
        augment.mean, augment.std = (0.0, 0.0, 0.0), (1 / 255,) * 3  # [0, 1] -> 0..255, no normalisation
        self.augment = augment

    def forward(self, clips: torch.Tensor, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        return self.augment(clips, generator=generator).flip(-4)  # channel axis of (..., C, T, h, w): RGB -> BGR


def _authors_source(cfg: Config, checkpoint: dict) -> dict:
    """An authors' checkpoint as a pacekit-named state dict, after checking this run can take its backbone."""
    arch, state = authors_backbone_state(checkpoint)
    if cfg.backbone != arch:
        raise TransferError(f"--pretrained {cfg.pretrained} is the authors' {arch} checkpoint but this run builds "
                            f"{cfg.backbone!r}; pass --backbone {arch}")
    if cfg.input_mode != "rgb":
        raise TransferError(f"--pretrained {cfg.pretrained} is the authors' {arch} checkpoint, trained on plain "
                            f"frames; this run has input_mode={cfg.input_mode!r}: pass --input-mode rgb")
    return {"model": state}


def _freeze_backbone_mode(model: nn.Module) -> None:
    model.backbone.eval()  # frozen BatchNorm statistics: a linear probe sees fixed features


def _check_same_backbone(cfg: Config, source: dict) -> None:
    pre = source.get("config") or {}
    for key in ("backbone", "width", "input_mode"):
        if key in pre and pre[key] != getattr(cfg, key):
            raise ValueError(f"the pretrained checkpoint {cfg.pretrained} has {key}={pre[key]!r} but this run has "
                             f"{key}={getattr(cfg, key)!r}; pass --{key.replace('_', '-')} {pre[key]}")


def _announce(ctx: DistContext, cfg: Config, stage: str, clips: int, model: nn.Module) -> None:
    if ctx.is_main:
        params = sum(p.numel() for p in model.parameters())
        logger.info("%s: %s (%.2fM parameters) on %s (%d clips per epoch) on %s x%d; run folder %s", stage, cfg.backbone,
                    params / 1e6, cfg.dataset, clips, ctx.device, ctx.world_size, cfg.run_dir)


__all__ = ["ActionStep", "PaceStep", "TrainResult", "build_action_model",
           "build_pace_model", "eval_transform", "evaluate_on_test", "finetune", "make_augment",
           "model_from_checkpoint", "pretrain", "transfer_model"]
