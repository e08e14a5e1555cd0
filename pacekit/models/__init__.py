"""Backbones by name: ``build_backbone('r21d')``, ``list_backbones()``, and the models built on them.

Every backbone takes a float clip batch (B, 3, T, H, W) and follows one interface:

- ``backbone(x)`` -> the pooled p5 embedding (B, ``backbone.embed_dim``);
- ``backbone.forward_stages(x)`` -> ``{'conv1': ..., 'conv5': (B, C, T', H', W'), 'p4': (B, C4), 'p5': (B, C5)}``,
  where p4 is the global average of the conv4 map (the paper's "second last pooling layer", Sec. 4.4)
  and p5 that of conv5;
- ``backbone.stage_module(name)`` -> the module whose output is stage ``name`` (for captum's LayerGradCam).

Every backbone takes ``width`` (a channel multiplier, e.g. 0.25). Names and sizes at width 1:

========  ======================================================  ==============================
name      network                                                 params (no fc) / paper Table 3
========  ======================================================  ==============================
c3d       C3D with BN (:mod:`.c3d`)                                27.66M / 27.7M
r3d       3D-ResNet, one block per stage (:mod:`.r3d`)             14.36M / 14.4M
r21d      R(2+1)D, one block per stage (:mod:`.r21d`)              14.37M / 14.4M
r3d_18    torchvision's R3D-18, two blocks per stage               33.17M / 33.4M with a 400-way fc
s3d_g     S3D-G, separable Inception with gating (:mod:`.s3d_g`)   9.13M / 9.6M with a 512-d fc
tiny      narrow R3D for CPU tests (:mod:`.tiny`)                  0.09M / -
========  ======================================================  ==============================
"""

from __future__ import annotations

from typing import Callable

from torch import nn

from .c3d import build_c3d
from .r21d import build_r21d
from .r3d import build_r3d, build_r3d_18
from .s3d_g import build_s3d_g
from .tiny import build_tiny

_BACKBONES: dict[str, Callable[..., nn.Module]] = {
    "c3d": build_c3d,
    "r3d": build_r3d,
    "r21d": build_r21d,
    "r3d_18": build_r3d_18,
    "s3d_g": build_s3d_g,
    "tiny": build_tiny,
}


def register_backbone(name: str) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Decorator adding a builder ``fn(width=1.0, **kw) -> nn.Module`` under ``name``."""

    def add(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _BACKBONES:
            raise ValueError(f"a backbone named {name!r} is already registered; pick another name")
        _BACKBONES[name] = builder
        return builder

    return add


def list_backbones() -> list[str]:
    """Registered backbone names, sorted."""
    return sorted(_BACKBONES)


def build_backbone(name: str, width: float = 1.0, **kwargs) -> nn.Module:
    """Build backbone ``name`` with channels x ``width``; extra keywords go to its builder."""
    try:
        builder = _BACKBONES[name]
    except KeyError:
        raise ValueError(
            f"unknown backbone {name!r}; choose one of: {', '.join(list_backbones())}"
        ) from None
    return builder(width=width, **kwargs)


from .heads import ClipModel, backbone_of, build_model  # noqa: E402  (heads uses build_backbone)

__all__ = ["build_backbone", "list_backbones", "register_backbone", "ClipModel", "backbone_of", "build_model"]
