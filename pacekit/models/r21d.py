"""R(2+1)D: R3D with every 3D convolution split into a spatial and a temporal one (Sec. 3.3; 14.4M in Tables 2 and 3).

Tran et al. (CVPR 2018) factorise a t x d x d convolution from N_in to N_out channels into

    spatial  (1, d, d) conv  N_in -> M,  then BN and ReLU,
    temporal (t, 1, 1) conv  M -> N_out,

with M = floor(t d^2 N_in N_out / (d^2 N_in + t N_out)), which keeps the parameter count of the full
3D convolution. Here *every* convolution is factorised, as in the authors' code: the stem
(kernel (3,7,7), stride (1,2,2), pad (1,3,3), so M = 83 at width 1), both convs of each block, and the
1x1x1 stride-2 shortcut convs (t = d = 1, e.g. M = 42 for 64 -> 128). Strides and paddings are split
the same way: the spatial conv takes the H, W parts, the temporal conv the T part. The factorised
convolution is :class:`pacekit.models.layers.SpatioTemporalConv`, M is
:func:`pacekit.models.layers.r21d_mid_channels`.

Macro layout, module names, stage shapes and the p4/p5 definitions are those of
:class:`pacekit.models.r3d.ResNet3d`. Parameter count at width 1: 14,365,303 without the final fc
(the paper's 14.4M, Tables 2 and 3).
"""

from __future__ import annotations

from typing import Sequence

from .layers import SpatioTemporalConv, scale_channels
from .r3d import ResNet3d
from .registry import register_backbone


@register_backbone("r21d")
def build_r21d(width: float = 1.0, layer_sizes: Sequence[int] = (1, 1, 1, 1),
               stem_mid: int | None = None) -> ResNet3d:
    """The paper's R(2+1)D, channels x ``width``.

    ``stem_mid`` overrides the stem's M (83 by the formula at width 1); some R(2+1)D code uses 45,
    and :mod:`pacekit.models.authors` reads it from a checkpoint's shapes.
    """
    channels = [scale_channels(c, width) for c in (64, 64, 128, 256, 512)]
    stem = SpatioTemporalConv(3, channels[0], (3, 7, 7), (1, 2, 2), (1, 3, 3), mid_channels=stem_mid)
    return ResNet3d(SpatioTemporalConv, channels, layer_sizes, stem_conv=stem)
