"""C3D with batch norm, the classic 3x3x3 conv stack (Tran et al. 2015) as the paper trains it (27.7M).

Layout and module names follow the authors' code, so their checkpoints load by name::

    conv1  3->64    + bn1 + relu1,  pool1 max (1,2,2)     conv1 map (B, 64,  T,    H,    W)
    conv2  64->128  + bn2 + relu2,  pool2 max (2,2,2)     conv2 map (B, 128, T,    H/2,  W/2)
    conv3a 128->256, conv3b 256->256, pool3 max (2,2,2)   conv3 map (B, 256, T/2,  H/4,  W/4)
    conv4a 256->512, conv4b 512->512, pool4 max (2,2,2)   conv4 map (B, 512, T/4,  H/8,  W/8)
    conv5a 512->512, conv5b 512->512                      conv5 map (B, 512, T/8,  H/16, W/16)
    pool5  global average -> p5 embedding                 (B, 512)

Every conv is 3x3x3, padding 1, *with* bias, followed by BN and ReLU. A stage's map is taken after
its last ReLU and before its max pool (pool sizes floor-divide). ``p4`` is the global average of the
conv4 map (the authors' pool4 is a 2x2x2 max pool; a global average gives one vector per clip for
retrieval at any input size).

Parameter count at width 1: 27,661,440 without the final fc (convs 27,655,936 + BN 5,504);
with a 4-way pace fc 27,663,492, with a 101-way fc 27,713,253. All round to the paper's 27.7M.
"""

from __future__ import annotations

import torch
from torch import nn

from .layers import PooledStages, find_stage_module, scale_channels
from .registry import register_backbone

# (name, in, out) of every conv; the stage a conv closes is the digit in its name.
_CONVS = (
    ("1", 3, 64), ("2", 64, 128),
    ("3a", 128, 256), ("3b", 256, 256),
    ("4a", 256, 512), ("4b", 512, 512),
    ("5a", 512, 512), ("5b", 512, 512),
)
_POOLS = {"1": (1, 2, 2), "2": (2, 2, 2), "3b": (2, 2, 2), "4b": (2, 2, 2)}  # after conv<name>
_STAGE_END = {"conv1": "1", "conv2": "2", "conv3": "3b", "conv4": "4b", "conv5": "5b"}


class C3D(PooledStages):
    """C3D-BN backbone; input (B, 3, T, H, W) float, ``forward`` -> p5 (B, embed_dim).

    ``forward_stages`` gives conv1..conv5 maps and the pooled p4 (B, C4), p5 (B, C5) vectors;
    ``stage_module('conv3')`` is ``relu3b`` (the module producing that map), and so on.
    """

    def __init__(self, width: float = 1.0):
        super().__init__()
        for name, cin, cout in _CONVS:
            cin = 3 if name == "1" else scale_channels(cin, width)
            cout = scale_channels(cout, width)
            setattr(self, f"conv{name}", nn.Conv3d(cin, cout, kernel_size=3, padding=1, bias=True))
            setattr(self, f"bn{name}", nn.BatchNorm3d(cout))
            setattr(self, f"relu{name}", nn.ReLU(inplace=False))
            if name in _POOLS:
                pool_index = name[0]
                setattr(self, f"pool{pool_index}", nn.MaxPool3d(_POOLS[name], stride=_POOLS[name]))
        self.pool5 = nn.AdaptiveAvgPool3d(1)
        self.embed_dim = scale_channels(512, width)

    def _run(self, x: torch.Tensor, keep: bool) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        maps: dict[str, torch.Tensor] = {}
        for name, _, _ in _CONVS:
            x = getattr(self, f"relu{name}")(getattr(self, f"bn{name}")(getattr(self, f"conv{name}")(x)))
            if keep and name in _STAGE_END.values():
                maps[f"conv{name[0]}"] = x  # (B, C, T', H', W'), before the pool
            if name in _POOLS:
                x = getattr(self, f"pool{name[0]}")(x)
        return self.pool5(x).flatten(1), maps  # (B, C5)

    def stage_module(self, name: str) -> nn.Module:
        """The ReLU module whose output is stage ``name`` (e.g. conv4 -> ``relu4b``)."""
        return find_stage_module(self, name, {k: f"relu{v}" for k, v in _STAGE_END.items()})


@register_backbone("c3d")
def build_c3d(width: float = 1.0) -> C3D:
    """C3D with BN, channels x ``width``."""
    return C3D(width)
