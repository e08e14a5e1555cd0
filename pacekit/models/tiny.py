"""``tiny``: a ~90k-parameter R3D for CPU tests, the CPU quickstart and notebooks that must run in seconds.

It is :class:`pacekit.models.r3d.ResNet3d` (one basic block per stage, the R3D layout) with narrow
stages, 8-8-16-24-32 channels, and a cheaper stem: a (3,5,5) conv with stride (1,4,4), so the maps are
a quarter of the input's height and width from conv1 on and time is kept at full length until conv3.
At 16x112x112 the stage maps are conv1/conv2 (B, 8, 16, 28, 28) ... conv5 (B, 32, 2, 4, 4);
``embed_dim`` is 32. Parameter count at width 1: 91,688. It learns pace prediction on the synthetic
dataset; it is not meant to match any figure of the paper.

``tiny-fine``: the same network (the same parameters, drawn in the same order) whose conv4 and conv5
halve time only, so conv5 keeps conv3's grid: 7x7 on 56-pixel crops, the size of Fig. 5's conv5 map
(R(2+1)D on 112-pixel crops). Fig. 5 draws the last stage, where the pace is decided; on ``tiny`` that
stage is a 2x2 map on the quickstart's crops and cannot show where the network looks.
"""

from __future__ import annotations

from .layers import FullConv3d, scale_channels
from .r3d import ResNet3d
from .registry import register_backbone

TINY_CHANNELS = (8, 8, 16, 24, 32)
#: ``tiny-fine``'s (T, H, W) strides of conv3, conv4 and conv5: only conv3 halves height and width.
TINY_FINE_STRIDES = ((2, 2, 2), (2, 1, 1), (2, 1, 1))


def _tiny(width: float, **stages) -> ResNet3d:
    channels = [scale_channels(c, width) for c in TINY_CHANNELS]
    return ResNet3d(FullConv3d, channels, (1, 1, 1, 1), stem_kernel=(3, 5, 5), stem_stride=(1, 4, 4),
                    stem_padding=(1, 2, 2), **stages)


@register_backbone("tiny")
def build_tiny(width: float = 1.0) -> ResNet3d:
    """The ``tiny`` backbone, channels x ``width`` (stem kernel (3,5,5), stride (1,4,4))."""
    return _tiny(width)


@register_backbone("tiny-fine")
def build_tiny_fine(width: float = 1.0) -> ResNet3d:
    """``tiny`` with conv4 and conv5 striding time only (``TINY_FINE_STRIDES``): conv5 is 7x7 on 56-pixel crops."""
    return _tiny(width, stage_strides=TINY_FINE_STRIDES)
