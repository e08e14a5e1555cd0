"""R(2+1)D: R3D with every 3D convolution split into a spatial and a temporal one (Sec. 3.3, 14.4M).

Tran et al. (CVPR 2018) factorise a t x d x d convolution from N_in to N_out channels into

    spatial  (1, d, d) conv  N_in -> M,  then BN and ReLU,
    temporal (t, 1, 1) conv  M -> N_out,

with M = floor(t d^2 N_in N_out / (d^2 N_in + t N_out)), which keeps the parameter count of the full
3D convolution. Here *every* convolution is factorised, as in the authors' code: the stem
(kernel (3,7,7), stride (1,2,2), pad (1,3,3), so M = 83 at width 1), both convs of each block, and the
1x1x1 stride-2 shortcut convs (t = d = 1, e.g. M = 42 for 64 -> 128). Strides and paddings are split
the same way: the spatial conv takes the H, W parts, the temporal conv the T part.

Macro layout, module names, stage shapes and the p4/p5 definitions are those of
:class:`pacekit.models.r3d.ResNet3d`. Parameter count at width 1: 14,365,303 without the final fc
(the paper's 14.4M).
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from .r3d import ResNet3d, Triple, _triple, scale_channels


def r21d_mid_channels(in_channels: int, out_channels: int, kernel_size) -> int:
    """M = floor(t d^2 N_in N_out / (d^2 N_in + t N_out)) for a (t, d, d) kernel (Tran et al. 2018)."""
    t, kh, kw = _triple(kernel_size)
    return (t * kh * kw * in_channels * out_channels) // (kh * kw * in_channels + t * out_channels)


class SpatioTemporalConv(nn.Module):
    """(2+1)D convolution: (B, C_in, T, H, W) -> spatial (1,d,d) conv -> BN -> ReLU -> temporal (t,1,1).

    Like a plain Conv3d it ends without normalisation; the caller adds BN. Submodule names
    (``spatial_conv``, ``bn``, ``temporal_conv``) match the authors' checkpoints.

    Args:
        mid_channels: M; ``None`` uses :func:`r21d_mid_channels`.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 mid_channels: int | None = None):
        super().__init__()
        (kt, kh, kw), (st, sh, sw), (pt, ph, pw) = _triple(kernel_size), _triple(stride), _triple(padding)
        mid = r21d_mid_channels(in_channels, out_channels, (kt, kh, kw)) if mid_channels is None else mid_channels
        if mid < 1:
            raise ValueError(
                f"(2+1)D conv {in_channels}->{out_channels} got {mid} mid channels; widen the network "
                "(a larger width multiplier) or pass mid_channels >= 1"
            )
        self.spatial_conv = nn.Conv3d(in_channels, mid, (1, kh, kw), (1, sh, sw), (0, ph, pw), bias=False)
        self.bn = nn.BatchNorm3d(mid)
        self.relu = nn.ReLU(inplace=False)
        self.temporal_conv = nn.Conv3d(mid, out_channels, (kt, 1, 1), (st, 1, 1), (pt, 0, 0), bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.temporal_conv(self.relu(self.bn(self.spatial_conv(x))))


def _factorised(in_channels: int, out_channels: int, kernel: Triple, stride: Triple, padding: Triple) -> nn.Module:
    return SpatioTemporalConv(in_channels, out_channels, kernel, stride, padding)


def build_r21d(width: float = 1.0, layer_sizes: Sequence[int] = (1, 1, 1, 1),
               stem_mid: int | None = None) -> ResNet3d:
    """The paper's R(2+1)D, channels x ``width``.

    ``stem_mid`` overrides the stem's M (83 by the formula at width 1); some R(2+1)D code uses 45,
    and :mod:`pacekit.models.authors` reads it from a checkpoint's shapes.
    """
    channels = [scale_channels(c, width) for c in (64, 64, 128, 256, 512)]
    stem = SpatioTemporalConv(3, channels[0], (3, 7, 7), (1, 2, 2), (1, 3, 3), mid_channels=stem_mid)
    return ResNet3d(_factorised, channels, layer_sizes, stem_conv=stem)
