"""ClipModel: a backbone, a classification head (pace classes or action classes), an optional projector.

The pace-prediction objective (Eq. 1) reads the logits of ``head``; the contrastive objectives
(Eq. 2 same context, Eq. 3 same pace) read a vector z per clip. Where z comes from:

- ``projection=None``: no projector, z is None; a loss may use the embedding itself.
- ``projection="linear"``: z = Linear(embed_dim, proj_dim)(embedding).
- ``projection="mlp"``: the paper's "+ fc" variant (Table 2, last row): "a nonlinear layer between the
  embedding space and the final contrastive learning space", z = Linear(embed_dim, proj_dim)(ReLU(
  Linear(embed_dim, embed_dim)(embedding))).

A note on Table 2's "parameters when adding an fc layer only increase ~4k": an extra fc from a
512-d embedding to 512 dims holds 512*512 + 512 = 262,656 parameters (1.8% of R(2+1)D's 14.4M), not
~4k. About 4k fits only a very narrow layer (e.g. 512 -> 8 is 4,104 parameters). The paper does not
give the contrastive dimension, so ``proj_dim`` (128, the default of the Config field) is our choice,
and the "mlp" projector costs ``embed_dim * (embed_dim + 1)`` parameters more than the "linear" one.

z is returned as computed (not L2-normalised); normalising is the loss's business.
"""

from __future__ import annotations

import torch
from torch import nn

from .registry import build_backbone

#: The projection heads of Sec. 3.3: none, one linear layer, or the MLP of the "+ fc" variant (Table 2).
PROJECTIONS = (None, "linear", "mlp")
#: Size of z when not given (the default of the ``proj_dim`` field of :class:`pacekit.config.Config`); the
#: paper does not give it.
DEFAULT_PROJ_DIM: int = 128


def backbone_of(model: nn.Module) -> nn.Module:
    """A ClipModel's backbone, or the model itself if it already is a backbone (has ``forward_stages``)."""
    backbone = getattr(model, "backbone", model)
    if not hasattr(backbone, "forward_stages"):
        raise TypeError(f"{type(model).__name__} has no forward_stages(); pass a pacekit backbone or a ClipModel")
    return backbone


@torch.inference_mode()
def stage_shapes(model: nn.Module, clip_shape) -> dict[str, tuple[int, ...]]:
    """``{stage: shape}`` of ``forward_stages`` for one clip of ``clip_shape`` ``(C, T, H, W)`` (conv1..conv5
    maps, the pooled p4/p5), from one forward pass of zeros in eval mode; the backbone's mode is restored."""
    backbone = backbone_of(model)
    device = next(backbone.parameters()).device
    training = backbone.training
    backbone.eval()
    try:
        stages = backbone.forward_stages(torch.zeros(1, *[int(d) for d in clip_shape], device=device))
    finally:
        backbone.train(training)
    return {name: tuple(value.shape) for name, value in stages.items()}


def build_projector(kind: str | None, embed_dim: int, proj_dim: int = DEFAULT_PROJ_DIM) -> nn.Module | None:
    """The contrastive projector for ``kind`` in (None, "linear", "mlp"); (B, embed_dim) -> (B, proj_dim)."""
    if kind not in PROJECTIONS:
        raise ValueError(f"unknown projection {kind!r}; use None, 'linear' or 'mlp' (the paper's '+ fc')")
    if kind is None:
        return None
    if kind == "linear":
        return nn.Linear(embed_dim, proj_dim)
    return nn.Sequential(nn.Linear(embed_dim, embed_dim), nn.ReLU(inplace=False), nn.Linear(embed_dim, proj_dim))


class ClipModel(nn.Module):
    """backbone -> embedding (B, D) -> ``head`` logits (B, num_classes), plus an optional ``projector``.

    Parameters are named ``backbone.*``, ``head.*`` and ``projector.*`` (the last only with a projector).

    Args:
        backbone: any pacekit backbone (has ``embed_dim``; maps (B, 3, T, H, W) to (B, D)).
        num_classes: outputs of the head (e.g. 4 paces in pre-training, 101 actions in fine-tuning).
        projection: None, "linear" or "mlp", see the module docstring.
        proj_dim: size of z.
        dropout: dropout on the embedding before the head only (0 disables it).
    """

    def __init__(self, backbone: nn.Module, num_classes: int, projection: str | None = None,
                 proj_dim: int = DEFAULT_PROJ_DIM, dropout: float = 0.0):
        super().__init__()
        embed_dim = getattr(backbone, "embed_dim", None)
        if not isinstance(embed_dim, int):
            raise TypeError(
                f"{type(backbone).__name__} has no integer `embed_dim`; ClipModel needs a backbone from "
                "pacekit.models.build_backbone (or one that sets embed_dim)"
            )
        if num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout is a probability in [0, 1), got {dropout}")
        self.backbone = backbone
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.head = nn.Linear(embed_dim, num_classes)
        self.projector = build_projector(projection, embed_dim, proj_dim)
        self.projection = projection
        self.embed_dim = embed_dim
        self.num_classes = num_classes

    def forward(self, x: torch.Tensor, return_all: bool = False):
        """x (B, 3, T, H, W) -> logits (B, num_classes); with ``return_all``: (logits, embedding (B, D), z).

        z is (B, proj_dim), or None without a projector.
        """
        embedding = self.backbone(x)  # (B, D)
        logits = self.head(self.dropout(embedding))
        if not return_all:
            return logits
        z = self.projector(embedding) if self.projector is not None else None
        return logits, embedding, z


def build_model(backbone_name: str, num_classes: int, projection: str | None = None, width: float = 1.0,
                proj_dim: int = DEFAULT_PROJ_DIM, dropout: float = 0.0, **backbone_kwargs) -> ClipModel:
    """``ClipModel(build_backbone(backbone_name, width, **backbone_kwargs), num_classes, ...)``."""
    backbone = build_backbone(backbone_name, width=width, **backbone_kwargs)
    return ClipModel(backbone, num_classes, projection=projection, proj_dim=proj_dim, dropout=dropout)
