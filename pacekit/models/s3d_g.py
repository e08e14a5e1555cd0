"""S3D-G: separable 3D Inception with feature gating (Xie et al., ECCV 2018), the paper's 9.6M model.

S3D replaces the 3x3x3 convolutions of I3D's Inception blocks by a (1,3,3) spatial conv followed by
a (3,1,1) temporal conv (each with BN + ReLU). S3D-G adds *self-gating*: a feature map x
(B, C, T, H, W) is rescaled per channel by sigmoid(W mean_THW(x) + b), W a C x C matrix. Gating is
applied after conv_2c and to each of the four branch outputs of every Inception block. The parts
(:class:`~pacekit.models.layers.STConv3d`, :class:`~pacekit.models.layers.SelfGating`,
:class:`~pacekit.models.layers.SamePadMaxPool3d`) are in :mod:`pacekit.models.layers`.

Layout and module names follow the authors' S3D-G (the TensorFlow s3dg layout: a full, non-separable
(3,7,7) stride-2 stem, TF "SAME" max pools), so their checkpoints load by name::

    conv1          3->64, (3,7,7), stride 2         conv1 map (B, 64,   T/2, H/2,  W/2)
    maxpool_2a     (1,3,3) / (1,2,2)
    conv_2b, conv_2c, gating   64->64->192          conv2 map (B, 192,  T/2, H/4,  W/4)
    maxpool_3a     (1,3,3) / (1,2,2)
    mixed_3b, mixed_3c                              conv3 map (B, 480,  T/2, H/8,  W/8)
    maxpool_4a     (3,3,3) / (2,2,2)
    mixed_4b ... mixed_4f                           conv4 map (B, 832,  T/4, H/16, W/16)
    maxpool_5a     (2,2,2) / (2,2,2)
    mixed_5b, mixed_5c                              conv5 map (B, 1024, T/8, H/32, W/32)
    global average -> p5 embedding                  (B, 1024)

(sizes rounded up). ``p4`` is the global average of the conv4 map (B, 832).

Parameter count at width 1: 9,125,072 without a final fc (of which 1,225,008 in the gates). The
paper's 9.6M (Table 3, taken with SpeedNet's figure) matches this backbone plus the authors' default
fc to 512 dims (1024*512 + 512 = 524,800), 9,649,872 in all; with a 400-way Kinetics fc (410,000) it is
9,535,072. Both are within 1% of 9.6M.
"""

from __future__ import annotations

import torch
from torch import nn

from .layers import PooledStages, SamePadMaxPool3d, SelfGating, STConv3d, find_stage_module, scale_channels
from .registry import register_backbone

# Inception v1 widths per block: (b0, b1_reduce, b1, b2_reduce, b2, b3), inputs chain from the previous.
_INCEPTION = {
    "mixed_3b": (64, 96, 128, 16, 32, 32),
    "mixed_3c": (128, 128, 192, 32, 96, 64),
    "mixed_4b": (192, 96, 208, 16, 48, 64),
    "mixed_4c": (160, 112, 224, 24, 64, 64),
    "mixed_4d": (128, 128, 256, 24, 64, 64),
    "mixed_4e": (112, 144, 288, 32, 64, 64),
    "mixed_4f": (256, 160, 320, 32, 128, 128),
    "mixed_5b": (256, 160, 320, 32, 128, 128),
    "mixed_5c": (384, 192, 384, 48, 128, 128),
}
_STAGE_MODULES = {"conv1": "conv1", "conv2": "gating", "conv3": "mixed_3c", "conv4": "mixed_4f",
                  "conv5": "mixed_5c"}


class InceptionBlock(nn.Module):
    """Separable Inception block with a gate on each branch; (B, C_in, T, H, W) -> (B, out_channels, T, H, W).

    Branches: 1x1x1 | 1x1x1 -> sep 3x3x3 | 1x1x1 -> sep 3x3x3 | 3x3x3 max pool -> 1x1x1, concatenated.
    """

    def __init__(self, in_channels: int, b0: int, b1_reduce: int, b1: int, b2_reduce: int, b2: int, b3: int,
                 gating: bool = True):
        super().__init__()
        self.conv_b0 = STConv3d(in_channels, b0, 1)
        self.conv_b1_a = STConv3d(in_channels, b1_reduce, 1)
        self.conv_b1_b = STConv3d(b1_reduce, b1, 3, padding=1, separable=True)
        self.conv_b2_a = STConv3d(in_channels, b2_reduce, 1)
        self.conv_b2_b = STConv3d(b2_reduce, b2, 3, padding=1, separable=True)
        self.maxpool_b3 = nn.MaxPool3d(3, stride=1, padding=1)
        self.conv_b3_b = STConv3d(in_channels, b3, 1)
        self.gating = gating
        if gating:
            self.gating_b0, self.gating_b1 = SelfGating(b0), SelfGating(b1)
            self.gating_b2, self.gating_b3 = SelfGating(b2), SelfGating(b3)
        self.out_channels = b0 + b1 + b2 + b3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = [
            self.conv_b0(x),
            self.conv_b1_b(self.conv_b1_a(x)),
            self.conv_b2_b(self.conv_b2_a(x)),
            self.conv_b3_b(self.maxpool_b3(x)),
        ]
        if self.gating:
            gates = (self.gating_b0, self.gating_b1, self.gating_b2, self.gating_b3)
            branches = [gate(b) for gate, b in zip(gates, branches)]
        return torch.cat(branches, dim=1)


class S3DG(PooledStages):
    """S3D-G backbone; input (B, 3, T, H, W) float (the paper: 64 x 224 x 224), ``forward`` -> p5 (B, 1024).

    ``gating=False`` gives plain S3D with the same stem. ``forward_stages`` and ``stage_module`` as for
    the other backbones (conv2 -> ``gating``, conv3 -> ``mixed_3c``, conv4 -> ``mixed_4f``,
    conv5 -> ``mixed_5c``).
    """

    def __init__(self, width: float = 1.0, gating: bool = True):
        super().__init__()
        c = lambda n: scale_channels(n, width)  # noqa: E731
        self.conv1 = STConv3d(3, c(64), (3, 7, 7), stride=2, padding=(1, 3, 3))
        self.maxpool_2a = SamePadMaxPool3d((1, 3, 3), (1, 2, 2))
        self.conv_2b = STConv3d(c(64), c(64), 1)
        self.conv_2c = STConv3d(c(64), c(192), 3, padding=1, separable=True)
        self.use_gating = gating
        self.gating = SelfGating(c(192)) if gating else nn.Identity()
        self.maxpool_3a = SamePadMaxPool3d((1, 3, 3), (1, 2, 2))
        self.maxpool_4a = SamePadMaxPool3d((3, 3, 3), (2, 2, 2))
        self.maxpool_5a = SamePadMaxPool3d((2, 2, 2), (2, 2, 2))
        in_channels = c(192)
        for name, widths in _INCEPTION.items():
            block = InceptionBlock(in_channels, *(c(w) for w in widths), gating=gating)
            setattr(self, name, block)
            in_channels = block.out_channels
        self.embed_dim = in_channels

    def _run(self, x: torch.Tensor, keep: bool) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        maps: dict[str, torch.Tensor] = {}
        x = self.conv1(x)
        if keep:
            maps["conv1"] = x
        x = self.gating(self.conv_2c(self.conv_2b(self.maxpool_2a(x))))
        if keep:
            maps["conv2"] = x
        x = self.mixed_3c(self.mixed_3b(self.maxpool_3a(x)))
        if keep:
            maps["conv3"] = x
        x = self.maxpool_4a(x)
        for name in ("mixed_4b", "mixed_4c", "mixed_4d", "mixed_4e", "mixed_4f"):
            x = getattr(self, name)(x)
        if keep:
            maps["conv4"] = x
        x = self.mixed_5c(self.mixed_5b(self.maxpool_5a(x)))
        if keep:
            maps["conv5"] = x
        return x.mean(dim=(2, 3, 4)), maps  # (B, C5)

    def stage_module(self, name: str) -> nn.Module:
        """The module whose output is stage ``name`` (conv2 -> ``gating``, conv5 -> ``mixed_5c``, ...)."""
        return find_stage_module(self, name, _STAGE_MODULES)


@register_backbone("s3d_g")
def build_s3d_g(width: float = 1.0, gating: bool = True) -> S3DG:
    """S3D-G (``gating=False``: S3D), channels x ``width``."""
    return S3DG(width, gating)
