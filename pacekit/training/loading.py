"""Models from configs and checkpoints, and how each must be fed: the one home of model loading.

Everything that runs a trained model -- training's test evaluation, ``pacekit evaluate``, retrieval,
attention maps, the widgets and notebooks -- builds or loads it here and asks it for its evaluation
transform, so a model trained with ``input_mode="residual"`` (or one of the authors' checkpoints, which
expect BGR 0..255) is never fed plain normalised RGB by mistake. (The idea is timm's ``pretrained_cfg``
and ``resolve_data_config``: the loaded model carries how its inputs must look.)

    >>> from pacekit.training.loading import load_model
    >>> loaded = load_model("runs/demo/finetune/last.pt")                      # doctest: +SKIP
    >>> logits = loaded.model(loaded.transform()(clips))                         # doctest: +SKIP

Import order (no cycles): models -> loading -> evaluate -> train; retrieval and attention read from here.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from fractions import Fraction
from typing import Optional, Union

import torch
from torch import nn

from ..config import Config
from ..data import build_dataset
from ..data.transforms import ClipEval
from ..errors import one_line
from ..models import ClipModel, build_backbone
from ..models.authors import load_authors_checkpoint
from ..pace import PaceSet, as_pace
from .checkpoint import (
    DAMAGED_ENTRY_ERRORS,
    CheckpointError,
    NonFiniteError,
    load_checkpoint,
    require_entries,
    require_finite,
)
from .distributed import resolve_device

# ------------------------------------------------------------------------------------ models from a config


def build_pace_model(cfg: Config, num_paces: int) -> nn.Module:
    """The pretraining model: backbone -> pace head (Eq. 1), plus the projector the contrastive loss reads."""
    projection = cfg.projection
    if cfg.contrastive == "none" and projection is not None:
        warnings.warn(f"projection={projection!r} has no use without a contrastive loss; it is not built",
                      stacklevel=2)
        projection = None
    return ClipModel(build_backbone(cfg.backbone, width=cfg.width), num_paces, projection=projection,
                     proj_dim=cfg.proj_dim)


def build_action_model(cfg: Config, num_classes: int) -> nn.Module:
    """The fine-tuning model: backbone -> a freshly initialised action fc."""
    return ClipModel(build_backbone(cfg.backbone, width=cfg.width), num_classes)


def model_from_checkpoint(path_or_state, device="cpu", source: Optional[str] = None) -> tuple[nn.Module, Config]:
    """Rebuild the model a pacekit checkpoint was trained as (pace or action head), in eval mode.

    Raises :class:`pacekit.training.checkpoint.CheckpointError` naming the entries a checkpoint lacks (``config``,
    ``stage``, ``model``, and ``classes`` after fine-tuning) and :class:`pacekit.training.checkpoint.NonFiniteError`
    when its weights hold NaN or infinity (a diverged run)."""
    if source is None:
        source = "this checkpoint" if isinstance(path_or_state, dict) else str(path_or_state)
    state = load_checkpoint(path_or_state) if not isinstance(path_or_state, dict) else path_or_state
    if "config" not in state or "stage" not in state:
        raise CheckpointError(f"{source} was not written by pacekit pretrain/finetune (no config/stage); "
                              "build the model yourself and use pacekit.training.checkpoint.load_backbone_weights")
    if state["stage"] not in ("pretrain", "finetune"):
        raise damaged_checkpoint(source, f"its stage {state['stage']!r} is neither 'pretrain' nor 'finetune'")
    require_entries(state, ("model",) if state["stage"] == "pretrain" else ("model", "classes"), source,
                    "rebuilding its model")
    try:
        require_finite(state["model"], source)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cfg = Config.from_dict(state["config"])
        if state["stage"] == "pretrain":
            model = build_pace_model(cfg, len(PaceSet.from_spec(cfg.pace_set)))
        else:
            model = build_action_model(cfg, len(state["classes"]))
        model.load_state_dict(state["model"])
    except (CheckpointError, NonFiniteError):
        raise
    except DAMAGED_ENTRY_ERRORS as exc:  # entries of another shape: the weights do not fit their own config
        raise damaged_checkpoint(source, exc) from None
    model.authors_input = bool(state.get("authors_input", False))  # fine-tuned from the authors' weights
    return model.to(device).eval(), cfg


def damaged_checkpoint(source, problem) -> CheckpointError:
    """The one-line error for checkpoint ``source`` whose entries do not rebuild its model (``problem``: what
    is wrong, or the exception that said so)."""
    if isinstance(problem, BaseException):
        problem = one_line(problem)
    return CheckpointError(f"{source} does not rebuild into the model it describes ({problem}): it was edited or "
                           "damaged, or written by other pacekit code; train it again with pacekit pretrain / "
                           "finetune, or load it with the code that wrote it")


# ------------------------------------------------------------------------------- how a model is fed


class AuthorsClipEval(ClipEval):
    """Centre-cropped clips as the authors' code feeds its networks: BGR (OpenCV's ``imread``) with values
    0..255, no normalisation. Checkpoints in their layout expect exactly this; pacekit's ``ClipEval``
    (RGB in [0, 1], normalised) would hand them inputs some 60 times too small with red and blue swapped."""

    def __init__(self, size=None, crop: int = 112):
        super().__init__(size=size, crop=crop, mean=(0.0, 0.0, 0.0), std=(1 / 255,) * 3)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        return super().forward(clips).flip(-4)  # the channel axis of (..., C, T, h, w): RGB -> BGR


def model_transform(crop: int = 112, input_mode: str = "rgb", authors_input: bool = False) -> ClipEval:
    """The test-time transform of a model: frames arrive decoded at its frame size; centre crop (paper
    4.1), normalise, then its input mode (``standardized`` for the cpu-tiny preset). Checkpoints in the
    authors' layout get the authors' input instead (:class:`AuthorsClipEval`)."""
    if authors_input:
        return AuthorsClipEval(size=None, crop=crop)
    return ClipEval(size=None, crop=crop, input_mode=input_mode)


def eval_transform(cfg: Config) -> ClipEval:
    """The test-time transform of a model trained with ``cfg``: centre crop (paper 4.1), then the config's
    input mode. A model trained with ``input_mode="residual"`` must be fed through this (retrieval,
    attention maps, evaluation)."""
    return model_transform(cfg.crop, cfg.input_mode)


# --------------------------------------------------------------------------- loading for the commands


@dataclass
class LoadedModel:
    """A model ready for evaluation, and how its clips must look.

    Attributes:
        model: a ClipModel in eval mode on ``device``.
        stage: ``"pretrain"`` (the head predicts paces) or ``"finetune"`` (it predicts actions).
        frame_size, crop, clip_len: the decoding size ``(H, W)``, the centre crop and the frames per clip
            the model was trained with (the paper's 128x171, 112 and 16 for the authors' checkpoints).
        paces: the pace of each pace logit (pretraining models), e.g. ``[1, 2, 3, 4]``.
        classes: action class names of a fine-tuned pacekit model.
        source: where it came from, for messages.
        input_mode, authors_input: what :meth:`transform` turns decoded frames into.
    """

    model: nn.Module
    stage: str
    frame_size: Optional[tuple]
    crop: int
    clip_len: int
    paces: Optional[list] = None
    classes: Optional[list[str]] = None
    source: str = ""
    input_mode: str = "rgb"
    authors_input: bool = False

    def transform(self) -> ClipEval:
        """The evaluation transform this model must be fed through (:func:`model_transform`)."""
        return model_transform(self.crop, self.input_mode, self.authors_input)


def load_model(checkpoint=None, authors_checkpoint=None, arch: Optional[str] = None,
               device: Union[str, torch.device] = "cpu", **backbone_kwargs) -> LoadedModel:
    """Load a pacekit checkpoint (pretraining or fine-tuning, rebuilt from its stored config) or one
    in the authors' layout (``arch`` = ``r21d``, ``r3d``, ``c3d``, ``s3d_g``; None detects it).

    ``backbone_kwargs`` go to :func:`pacekit.models.authors.load_authors_checkpoint` (e.g. ``width``
    for a narrowed network; the authors' own checkpoints need none).
    """
    if (checkpoint is None) == (authors_checkpoint is None):
        raise ValueError("give exactly one of --checkpoint (a pacekit checkpoint) and --authors-checkpoint")
    if checkpoint is not None:
        state = load_checkpoint(checkpoint)
        model, cfg = model_from_checkpoint(state, device, source=str(checkpoint))
        try:
            paces = [as_pace(p) for p in state.get("paces", [])] or list(PaceSet.from_spec(cfg.pace_set))
        except DAMAGED_ENTRY_ERRORS as exc:
            raise damaged_checkpoint(checkpoint, exc) from None
        stage = state["stage"]
        return LoadedModel(model, stage, cfg.frame_size, cfg.crop, cfg.clip_len,
                           paces if stage == "pretrain" else None, state.get("classes"), str(checkpoint),
                           input_mode=cfg.input_mode, authors_input=bool(state.get("authors_input", False)))
    model = load_authors_checkpoint(authors_checkpoint, arch, **backbone_kwargs).to(device).eval()
    # The authors pretrain with paces 1..max_sr (max_sr 2..5 in their scripts, 4 in the paper): a head of at
    # most AUTHORS_MAX_PACES outputs predicts paces; a fine-tuned one has an action per output (101, 51, ...).
    stage = "pretrain" if model.num_classes <= AUTHORS_MAX_PACES else "finetune"
    paces = [Fraction(p) for p in range(1, model.num_classes + 1)] if stage == "pretrain" else None
    return LoadedModel(model, stage, (128, 171), 112, 16, paces, None, str(authors_checkpoint), authors_input=True)


#: The largest pace head of the authors' pretraining (their ``max_sr``); larger heads are action heads.
AUTHORS_MAX_PACES = 5


def eval_split(loaded: LoadedModel, dataset: str, root, subset: str = "test", split: int = 1,
               max_videos: Optional[int] = None, num_clips: int = 10):
    """The ``eval``-mode dataset of a split, decoded at the model's frame size and clip length."""
    return build_dataset(dataset, root, subset, split=split, mode="eval", max_videos=max_videos,
                         num_clips=num_clips, clip_len=loaded.clip_len, frame_size=loaded.frame_size)


__all__ = ["AuthorsClipEval", "LoadedModel", "build_action_model", "build_pace_model", "damaged_checkpoint",
           "eval_split",
           "eval_transform", "load_model", "model_from_checkpoint", "model_transform", "resolve_device"]
