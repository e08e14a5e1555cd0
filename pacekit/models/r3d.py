"""R3D: the 3D-ResNet with one basic block per stage, as the authors' code trains it (14.36M params).

The paper's Sec. 3.3 says R3D-18 ("we use 3D-ResNet18"), which has two blocks per stage (``r3d_18``
below, 33.2M); the authors' released code builds its R3D with one block per stage, and this module
follows the code, whose checkpoints it loads. Table 3 gives no figure for the paper's own R3D.

The network follows the authors' code layout, module for module, so that their checkpoints load by
name (see :mod:`pacekit.models.authors`)::

    conv1   FullConv3d 3->64, kernel (3,7,7), stride (1,2,2), pad (1,3,3)   (B, 64, T,   H/2,  W/2)
    bn1, relu1
    conv2   ResLayer 64->64                                                  (B, 64, T,   H/2,  W/2)
    conv3   ResLayer 64->128, stride 2 in T, H, W in its first block         (B, 128, T/2, H/4,  W/4)
    conv4   ResLayer 128->256, stride 2                                      (B, 256, T/4, H/8,  W/8)
    conv5   ResLayer 256->512, stride 2                                      (B, 512, T/8, H/16, W/16)
    pool    global average -> p5 embedding                                   (B, 512)

Sizes above are ceil-divided (e.g. T=16, H=W=112 gives conv5 of (B, 512, 2, 7, 7)).
A block (:class:`pacekit.models.layers.ResBlock`) is conv(3x3x3)-BN-ReLU-conv(3x3x3)-BN, plus the
shortcut, then ReLU; the shortcut of a downsampling block is a 1x1x1 stride-2 conv + BN. Convolutions
carry no bias. Weights start from PyTorch's default initialisation, as in the authors' code.

The same skeleton, :class:`ResNet3d`, also builds R(2+1)D (:mod:`pacekit.models.r21d`, which swaps the
convolution) and the ``tiny`` test network (:mod:`pacekit.models.tiny`, small channels and stem).
Parameter count of ``r3d`` at width 1: 14,361,792 without the final fc (a 4-way pace fc adds 2,052).
It is close to R(2+1)D's 14.4M (Table 3) by construction: R(2+1)D keeps each 3D conv's parameter count.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from .layers import STAGES, ConvFactory, FullConv3d, ResLayer, find_stage_module, scale_channels, to_triple
from .registry import register_backbone


class ResNet3d(nn.Module):
    """3D ResNet skeleton shared by R3D, R(2+1)D and ``tiny``; input (B, 3, T, H, W) float.

    ``forward(x)`` returns the p5 embedding (B, embed_dim); ``forward_stages(x)`` returns a dict with
    ``conv1`` ... ``conv5`` maps (B, C, T', H', W') and the pooled vectors ``p4`` (global average of
    conv4, (B, channels[3])) and ``p5`` (global average of conv5, (B, embed_dim)).

    Args:
        conv_factory: builds every convolution (stem, block convs and shortcut convs).
        channels: widths of conv1 ... conv5 (already scaled by any width multiplier).
        layer_sizes: blocks per stage conv2 ... conv5; the paper's networks use (1, 1, 1, 1).
        stem_kernel, stem_stride, stem_padding: the conv1 geometry, (T, H, W) each.
        stem_conv: a prebuilt conv1 replacing ``conv_factory``'s (used by R(2+1)D for its stem width).
        stage_strides: the (T, H, W) stride of conv3, conv4 and conv5's first block (default 2 in each).
    """

    def __init__(
        self,
        conv_factory: ConvFactory,
        channels: Sequence[int] = (64, 64, 128, 256, 512),
        layer_sizes: Sequence[int] = (1, 1, 1, 1),
        stem_kernel=(3, 7, 7),
        stem_stride=(1, 2, 2),
        stem_padding=(1, 3, 3),
        stem_conv: nn.Module | None = None,
        stage_strides: Sequence = ((2, 2, 2), (2, 2, 2), (2, 2, 2)),
    ):
        super().__init__()
        if len(channels) != 5 or len(layer_sizes) != 4:
            raise ValueError(
                f"expected 5 channel widths (conv1..conv5) and 4 layer sizes (conv2..conv5), "
                f"got channels={tuple(channels)}, layer_sizes={tuple(layer_sizes)}"
            )
        c1, c2, c3, c4, c5 = (int(c) for c in channels)
        self.channels = (c1, c2, c3, c4, c5)
        self.layer_sizes = tuple(int(n) for n in layer_sizes)
        self.embed_dim = c5
        self.conv1 = stem_conv if stem_conv is not None else conv_factory(
            3, c1, to_triple(stem_kernel), to_triple(stem_stride), to_triple(stem_padding)
        )
        self.bn1 = nn.BatchNorm3d(c1)
        self.relu1 = nn.ReLU(inplace=False)
        self.conv2 = ResLayer(c1, c2, self.layer_sizes[0], conv_factory, downsample=False)
        if len(stage_strides) != 3:
            raise ValueError(f"expected the strides of conv3, conv4 and conv5, got {tuple(stage_strides)}")
        s3, s4, s5 = (to_triple(s) for s in stage_strides)
        self.conv3 = ResLayer(c2, c3, self.layer_sizes[1], conv_factory, downsample=True, stride=s3)
        self.conv4 = ResLayer(c3, c4, self.layer_sizes[2], conv_factory, downsample=True, stride=s4)
        self.conv5 = ResLayer(c4, c5, self.layer_sizes[3], conv_factory, downsample=True, stride=s5)
        self.pool = nn.AdaptiveAvgPool3d(1)

    def forward_stages(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """All stage maps for x (B, 3, T, H, W): conv1..conv5 (B, C, T', H', W'), p4, p5 (B, C)."""
        out = {"conv1": self.relu1(self.bn1(self.conv1(x)))}
        out["conv2"] = self.conv2(out["conv1"])
        out["conv3"] = self.conv3(out["conv2"])
        out["conv4"] = self.conv4(out["conv3"])
        out["conv5"] = self.conv5(out["conv4"])
        out["p4"] = out["conv4"].mean(dim=(2, 3, 4))  # (B, C4): global average of conv4
        out["p5"] = self.pool(out["conv5"]).flatten(1)  # (B, C5)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """p5 embedding (B, embed_dim) of x (B, 3, T, H, W)."""
        x = self.relu1(self.bn1(self.conv1(x)))
        x = self.conv5(self.conv4(self.conv3(self.conv2(x))))
        return self.pool(x).flatten(1)  # (B, C5)

    def stage_module(self, name: str) -> nn.Module:
        """The module whose output is stage ``name`` (conv1 -> ``relu1``, convN -> layer ``convN``)."""
        return find_stage_module(self, name, {"conv1": "relu1"})


@register_backbone("r3d")
def build_r3d(width: float = 1.0, layer_sizes: Sequence[int] = (1, 1, 1, 1)) -> ResNet3d:
    """The paper's R3D (one block per stage at the default ``layer_sizes``), channels x ``width``."""
    channels = [scale_channels(c, width) for c in (64, 64, 128, 256, 512)]
    return ResNet3d(FullConv3d, channels, layer_sizes)


class R3D18(nn.Module):
    """torchvision's R3D-18 (``torchvision.models.video.r3d_18``) as a backbone, at any width.

    Two basic blocks per stage, built from torchvision's own ``BasicBlock`` and ``Conv3DSimple`` and
    initialised as torchvision does. Module names are torchvision's (``stem``, ``layer1`` ... ``layer4``,
    no ``fc``), so at width 1 a torchvision R3D-18 state dict loads directly once its ``fc.*`` keys are
    dropped. ReLUs are switched to ``inplace=False`` (captum hooks); torchvision's block still adds its
    shortcut in place, so hook whole stages (``stage_module``), not a block's ``conv2``.
    Stage maps: conv1 = ``stem``, conv2 ... conv5 = ``layer1`` ... ``layer4``, shapes as in :class:`ResNet3d`.

    Parameter count at width 1: 33,166,272 without the fc; torchvision's 400-way fc brings it to
    33,371,472 (33.4M). Table 3 of the paper lists R3D-18 (RotNet3D, ST-puzzle) at 33.6M, 0.7% more.
    """

    def __init__(self, width: float = 1.0, layer_sizes: Sequence[int] = (2, 2, 2, 2)):
        super().__init__()
        # Deferred: importing torchvision takes seconds, and only this backbone needs it.
        from torchvision.models.video.resnet import BasicBlock, Conv3DSimple

        c1, c2, c3, c4, c5 = (scale_channels(c, width) for c in (64, 64, 128, 256, 512))
        self.stem = nn.Sequential(
            nn.Conv3d(3, c1, kernel_size=(3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3), bias=False),
            nn.BatchNorm3d(c1),
            nn.ReLU(inplace=False),
        )

        def stage(cin: int, cout: int, num_blocks: int, stride: int) -> nn.Sequential:
            shortcut = None
            if stride != 1 or cin != cout:
                shortcut = nn.Sequential(
                    nn.Conv3d(cin, cout, kernel_size=1, stride=Conv3DSimple.get_downsample_stride(stride),
                              bias=False),
                    nn.BatchNorm3d(cout),
                )
            blocks = [BasicBlock(cin, cout, Conv3DSimple, stride, shortcut)]
            blocks += [BasicBlock(cout, cout, Conv3DSimple) for _ in range(num_blocks - 1)]
            return nn.Sequential(*blocks)

        n1, n2, n3, n4 = layer_sizes
        self.layer1 = stage(c1, c2, n1, 1)
        self.layer2 = stage(c2, c3, n2, 2)
        self.layer3 = stage(c3, c4, n3, 2)
        self.layer4 = stage(c4, c5, n4, 2)
        self.avgpool = nn.AdaptiveAvgPool3d(1)
        self.embed_dim = c5
        for m in self.modules():
            if isinstance(m, nn.Conv3d):  # torchvision VideoResNet's initialisation
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm3d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.ReLU):
                m.inplace = False

    def forward_stages(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """conv1..conv5 maps (B, C, T', H', W') of x (B, 3, T, H, W), plus p4 and p5 (B, C)."""
        out = {"conv1": self.stem(x)}
        for stage_name, layer in zip(STAGES[1:], (self.layer1, self.layer2, self.layer3, self.layer4)):
            out[stage_name] = layer(out[f"conv{int(stage_name[-1]) - 1}"])
        out["p4"] = out["conv4"].mean(dim=(2, 3, 4))  # (B, C4)
        out["p5"] = self.avgpool(out["conv5"]).flatten(1)  # (B, C5)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """p5 embedding (B, embed_dim) of x (B, 3, T, H, W)."""
        x = self.layer4(self.layer3(self.layer2(self.layer1(self.stem(x)))))
        return self.avgpool(x).flatten(1)  # (B, C5)

    def stage_module(self, name: str) -> nn.Module:
        """The module whose output is stage ``name`` (conv1 -> ``stem``, conv2 -> ``layer1``, ...)."""
        return find_stage_module(self, name, {"conv1": "stem", "conv2": "layer1", "conv3": "layer2",
                                          "conv4": "layer3", "conv5": "layer4"})


@register_backbone("r3d_18")
def build_r3d_18(width: float = 1.0) -> R3D18:
    """torchvision's R3D-18 (two blocks per stage, 33.2M without fc), channels x ``width``."""
    return R3D18(width)
