"""Load checkpoints written by the authors' code (github.com/laura-wang/video-pace) into a ClipModel.

Their training script saves ``{'epoch': int, 'state_dict': ..., 'opt_dict': ...}``; the state dict's
keys may start with ``module.`` (``nn.DataParallel``). pacekit's backbones use the authors' module
names (``conv1.spatial_conv.weight``, ``conv2.block1.bn1.weight``, ``conv3a.weight``,
``mixed_3b.conv_b0.conv1.weight``, ...), so the conversion is prefix handling only:

=========================  ==================================
authors' key               pacekit ClipModel key
=========================  ==================================
``module.`` + key          (the prefix is dropped first)
``linear.*`` (``fc.*``)    ``head.*`` (``fc`` for s3d_g)
anything else ``k``        ``backbone.k``
=========================  ==================================

Architectures: ``r21d``, ``r3d``, ``c3d`` and ``s3d_g``, told apart by one key only each has (see
:func:`detect_arch`). The blocks per stage (``convN.blocks.i``) and the R(2+1)D stem width are read
from the checkpoint, so variants with more blocks or a 45-channel stem load too.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import torch

from .heads import ClipModel
from .registry import build_backbone

AUTHORS_ARCHS = ("r21d", "r3d", "c3d", "s3d_g")
HEAD_NAMES = {"r21d": "linear", "r3d": "linear", "c3d": "linear", "s3d_g": "fc"}
# one key that only this architecture's layout has
SIGNATURE_KEYS = {
    "r21d": "conv1.spatial_conv.weight",
    "r3d": "conv1.temporal_spatial_conv.weight",
    "c3d": "conv3a.weight",
    "s3d_g": "mixed_3b.conv_b0.conv1.weight",
}


@dataclass
class KeyReport:
    """What a conversion did with each key.

    ``mapped``: authors' key -> pacekit key, loaded. ``skipped``: authors' key -> why it was not
    loaded (a head of another size). ``unexpected``: authors' keys with no place in the model.
    ``missing``: model keys the checkpoint did not provide (they keep their fresh values).
    """

    arch: str
    mapped: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def missing_weights(self) -> list[str]:
        """``missing`` without BN's ``num_batches_tracked`` counters (absent from old checkpoints)."""
        return [k for k in self.missing if not k.endswith("num_batches_tracked")]

    def __str__(self) -> str:
        lines = [f"authors' {self.arch} checkpoint: {len(self.mapped)} keys loaded"]
        for title, keys in (("skipped", [f"{k} ({why})" for k, why in self.skipped.items()]),
                            ("unexpected", self.unexpected), ("missing", self.missing)):
            if keys:
                shown = ", ".join(keys[:8]) + (f", ... ({len(keys) - 8} more)" if len(keys) > 8 else "")
                lines.append(f"  {len(keys)} {title}: {shown}")
        return "\n".join(lines)


def extract_state_dict(checkpoint: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """The state dict of an authors' checkpoint (``{'state_dict': ...}`` or a bare one), ``module.`` dropped."""
    if "state_dict" in checkpoint and isinstance(checkpoint["state_dict"], Mapping):
        checkpoint = checkpoint["state_dict"]
    state = {}
    for key, value in checkpoint.items():
        if not isinstance(value, torch.Tensor):
            raise ValueError(
                f"expected a state dict (name -> tensor) or the authors' {{'epoch', 'state_dict', 'opt_dict'}} "
                f"file, but entry {key!r} is a {type(value).__name__}; top-level keys: {sorted(checkpoint)[:10]}"
            )
        state[key[len("module."):] if key.startswith("module.") else key] = value
    return state


def is_authors_checkpoint(checkpoint: Mapping[str, Any]) -> bool:
    """Whether a loaded file is in the authors' layout (not a pacekit checkpoint with ``config``/``stage``)."""
    if not isinstance(checkpoint, Mapping) or "config" in checkpoint or "stage" in checkpoint:
        return False
    try:
        detect_arch(extract_state_dict(checkpoint))
    except ValueError:
        return False
    return True


def authors_backbone_state(checkpoint: Mapping[str, Any]) -> tuple[str, dict[str, torch.Tensor]]:
    """``(arch, state)``: an authors' checkpoint's tensors under pacekit's ClipModel names (``backbone.*``,
    ``head.*``), ready for :func:`pacekit.training.checkpoint.load_backbone_weights`."""
    state = extract_state_dict(checkpoint)
    arch = detect_arch(state)
    return arch, {authors_key_to_pacekit(k, arch): v for k, v in state.items()}


def detect_arch(state_dict: Mapping[str, torch.Tensor]) -> str:
    """Which of :data:`AUTHORS_ARCHS` a state dict (``module.`` already dropped) was saved from."""
    found = [arch for arch, key in SIGNATURE_KEYS.items() if key in state_dict]
    if len(found) == 1:
        return found[0]
    expected = ", ".join(f"{key} ({arch})" for arch, key in SIGNATURE_KEYS.items())
    hint = ""
    if any(k.startswith("backbone.") for k in state_dict):
        hint = " The keys start with 'backbone.': this is a pacekit ClipModel state dict; use model.load_state_dict."
    raise ValueError(
        f"not a checkpoint in the authors' layout: expected exactly one of the keys {expected}, "
        f"found {found or 'none'}. First keys: {list(state_dict)[:6]}.{hint}"
    )


def authors_key_to_pacekit(key: str, arch: str) -> str:
    """``linear.weight`` -> ``head.weight`` (``fc.*`` for s3d_g), any other key ``k`` -> ``backbone.k``."""
    head = HEAD_NAMES[_check_arch(arch)] + "."
    return "head." + key[len(head):] if key.startswith(head) else "backbone." + key


def pacekit_key_to_authors(key: str, arch: str) -> str | None:
    """Inverse of :func:`authors_key_to_pacekit`; ``projector.*`` (absent from their code) -> None."""
    head = HEAD_NAMES[_check_arch(arch)]
    if key.startswith("head."):
        return f"{head}.{key[len('head.'):]}"
    if key.startswith("backbone."):
        return key[len("backbone."):]
    return None


def _check_arch(arch: str) -> str:
    if arch not in AUTHORS_ARCHS:
        raise ValueError(f"unknown authors' architecture {arch!r}; choose one of: {', '.join(AUTHORS_ARCHS)}")
    return arch


def _backbone_kwargs(state_dict: Mapping[str, torch.Tensor], arch: str) -> dict[str, Any]:
    """Builder keywords read off the checkpoint: blocks per stage (R3D/R(2+1)D), R(2+1)D stem width."""
    kwargs: dict[str, Any] = {}
    if arch in ("r3d", "r21d"):
        sizes = []
        for stage in ("conv2", "conv3", "conv4", "conv5"):
            extra = {k.split(".")[2] for k in state_dict if k.startswith(f"{stage}.blocks.")}
            sizes.append(1 + len(extra))
        kwargs["layer_sizes"] = tuple(sizes)
    if arch == "r21d":
        kwargs["stem_mid"] = int(state_dict["conv1.spatial_conv.weight"].shape[0])
    return kwargs


def convert_authors_state_dict(
    state_dict: Mapping[str, Any],
    arch: str | None = None,
    *,
    num_classes: int | None = None,
    strict: bool = True,
    **backbone_kwargs,
) -> tuple[ClipModel, KeyReport]:
    """Build a ClipModel from an authors' state dict and load it; returns ``(model, report)``.

    Args:
        state_dict: their state dict, or the whole ``{'epoch', 'state_dict', 'opt_dict'}`` dict.
        arch: "r21d", "r3d", "c3d" or "s3d_g"; None detects it from the keys.
        num_classes: head size; None takes the checkpoint's (e.g. 4 paces). A different size keeps a
            fresh head and lists the checkpoint's head under ``report.skipped``.
        strict: raise if a checkpoint key has no place in the model or a model weight is not in the
            checkpoint (``num_batches_tracked`` counters excepted). Shape mismatches always raise.
        backbone_kwargs: passed to ``build_backbone`` (override what is read off the checkpoint).
    """
    state = extract_state_dict(state_dict)
    detected = detect_arch(state)
    if arch is None:
        arch = detected
    elif _check_arch(arch) != detected:
        raise ValueError(
            f"arch={arch!r} but the state dict has the layout of {detected!r} "
            f"(it holds {SIGNATURE_KEYS[detected]}); pass arch={detected!r} or arch=None"
        )
    head_key = f"{HEAD_NAMES[arch]}.weight"
    saved_classes = int(state[head_key].shape[0]) if head_key in state else None
    if num_classes is None:
        if saved_classes is None:
            raise ValueError(f"the checkpoint has no {head_key!r} to size the head; pass num_classes=")
        num_classes = saved_classes
    kwargs = {**_backbone_kwargs(state, arch), **backbone_kwargs}
    model = ClipModel(build_backbone(arch, **kwargs), num_classes)

    report = KeyReport(arch)
    target = model.state_dict()
    converted, mismatched = {}, []
    for key, value in state.items():
        new_key = authors_key_to_pacekit(key, arch)
        if new_key not in target:
            report.unexpected.append(key)
        elif new_key.startswith("head.") and num_classes != saved_classes:
            report.skipped[key] = f"checkpoint head has {saved_classes} classes, model {num_classes}"
        elif value.shape != target[new_key].shape:
            mismatched.append(f"{key}: checkpoint {tuple(value.shape)}, model {tuple(target[new_key].shape)}")
        else:
            converted[new_key] = value
            report.mapped[key] = new_key
    if mismatched:
        raise ValueError(
            f"{len(mismatched)} tensors of the {arch} checkpoint do not fit pacekit's {arch} built with "
            f"{kwargs}: " + "; ".join(mismatched[:5]) + (" ..." if len(mismatched) > 5 else "")
        )
    report.missing = [k for k in target if k not in converted]
    fresh_head = num_classes != saved_classes  # asked for: the head starts fresh, strict or not
    missing_weights = [k for k in report.missing_weights if not (fresh_head and k.startswith("head."))]
    if strict and (report.unexpected or missing_weights):
        raise ValueError(f"{report}\nthe checkpoint and the model disagree; pass strict=False to load "
                         "the keys that fit and inspect the report")
    model.load_state_dict(converted, strict=False)
    return model, report


def to_authors_state_dict(model: ClipModel, arch: str) -> dict[str, torch.Tensor]:
    """A ClipModel's state dict in the authors' key layout (``projector.*`` is left out)."""
    _check_arch(arch)
    out = {}
    for key, value in model.state_dict().items():
        new_key = pacekit_key_to_authors(key, arch)
        if new_key is not None:
            out[new_key] = value
    if SIGNATURE_KEYS[arch] not in out:
        raise ValueError(
            f"this ClipModel's backbone is not pacekit's {arch} (no {SIGNATURE_KEYS[arch]!r} among its keys)"
        )
    return out


def load_authors_checkpoint(
    path_or_state_dict: str | os.PathLike | Mapping[str, Any],
    arch: str | None = None,
    *,
    num_classes: int | None = None,
    strict: bool = True,
    **backbone_kwargs,
) -> ClipModel:
    """A ClipModel (in eval mode) from an authors' ``.pth``/``.pth.tar`` file or an in-memory state dict.

    Files are read with ``torch.load(weights_only=True, map_location="cpu")``. Keywords as in
    :func:`convert_authors_state_dict`; with ``strict=False`` the key report is issued as a warning
    when checkpoint keys found no place or backbone weights were missing.
    """
    if isinstance(path_or_state_dict, (str, os.PathLike)):
        path = Path(path_or_state_dict)
        if not path.is_file():
            raise FileNotFoundError(f"no checkpoint file at {path}")
        try:
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:  # torch raises UnpicklingError, RuntimeError, ... depending on the file
            raise ValueError(
                f"could not read {path} as a PyTorch checkpoint with weights_only=True ({err}); "
                "is it a .pth file saved by torch.save?"
            ) from err
    else:
        checkpoint = path_or_state_dict
    if not isinstance(checkpoint, Mapping):
        raise ValueError(f"expected a dict in the checkpoint, got {type(checkpoint).__name__}")
    model, report = convert_authors_state_dict(
        checkpoint, arch, num_classes=num_classes, strict=strict, **backbone_kwargs
    )
    if report.unexpected or [k for k in report.missing_weights if not k.startswith("head.")]:
        warnings.warn(str(report), stacklevel=2)
    return model.eval()
