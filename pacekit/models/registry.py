"""The backbone registry: ``register_backbone`` adds a builder by name, ``build_backbone`` builds one.

Built-in backbones register themselves the way a user's would, with the decorator beside their
builder (``@register_backbone("r3d")`` in :mod:`.r3d`); importing :mod:`pacekit.models` imports them
all. A builder is ``fn(width=1.0, **kwargs) -> nn.Module`` and returns a backbone that follows the
interface described in :mod:`pacekit.models`. To add your own::

    from pacekit.models import build_backbone, register_backbone

    @register_backbone("tiny_wide")
    def build_tiny_wide(width=1.0):
        return build_backbone("tiny", width=2 * width)

This module imports no backbone, so every backbone module can import it.
"""

from __future__ import annotations

from typing import Callable

from torch import nn

Builder = Callable[..., nn.Module]

_BACKBONES: dict[str, Builder] = {}


def register_backbone(name: str) -> Callable[[Builder], Builder]:
    """Decorator adding a builder ``fn(width=1.0, **kw) -> nn.Module`` under ``name``; returns it unchanged."""

    def add(builder: Builder) -> Builder:
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
