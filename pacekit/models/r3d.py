"""R3D: the 3D-ResNet with one basic block per stage that the paper trains (Sec. 3.3, 14.4M params).

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
A block is conv(3x3x3)-BN-ReLU-conv(3x3x3)-BN, plus the shortcut, then ReLU; the shortcut of a
downsampling block is a 1x1x1 stride-2 conv + BN. Convolutions carry no bias. Weights start from
PyTorch's default initialisation, as in the authors' code.

The same skeleton, :class:`ResNet3d`, also builds R(2+1)D (:mod:`pacekit.models.r21d`, which swaps the
convolution) and the ``tiny`` test network (:mod:`pacekit.models.tiny`, small channels and stem).
Parameter count of ``r3d`` at width 1: 14,361,792 without the final fc (the paper's 14.4M; a 4-way
pace fc adds 2,052).
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import nn

Triple = tuple[int, int, int]
# conv_factory(in_channels, out_channels, kernel, stride, padding) -> module acting like one Conv3d
ConvFactory = Callable[[int, int, Triple, Triple, Triple], nn.Module]

STAGES = ("conv1", "conv2", "conv3", "conv4", "conv5")


def scale_channels(channels: int, width: float) -> int:
    """``channels`` times the width multiplier, rounded, never below 1 (shared by every backbone)."""
    if not width > 0:
        raise ValueError(f"width must be a positive multiplier such as 1.0 or 0.25, got {width!r}")
    return max(1, int(round(channels * width)))


def _triple(value: int | Sequence[int]) -> Triple:
    if isinstance(value, int):
        return (value, value, value)
    t = tuple(int(v) for v in value)
    if len(t) != 3:
        raise ValueError(f"expected an int or 3 ints (T, H, W), got {value!r}")
    return t  # type: ignore[return-value]


class FullConv3d(nn.Module):
    """One full (spatio-temporal) Conv3d without bias; input (B, C_in, T, H, W) -> (B, C_out, T', H', W').

    The wrapper exists only for the parameter name: ``temporal_spatial_conv.weight`` is how the
    authors' R3D names it, so their checkpoints load without renaming.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0):
        super().__init__()
        self.temporal_spatial_conv = nn.Conv3d(
            in_channels, out_channels, _triple(kernel_size), _triple(stride), _triple(padding), bias=False
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.temporal_spatial_conv(x)


class ResBlock(nn.Module):
    """Basic residual block: conv-BN-ReLU-conv-BN (+ shortcut) -ReLU, on (B, C, T, H, W).

    With ``downsample=True`` the first conv has stride 2 in T, H and W and the shortcut is a
    1x1x1 stride-2 conv (``downsampleconv``) + BN (``downsamplebn``); otherwise the shortcut is x.
    """

    def __init__(self, in_channels: int, out_channels: int, conv_factory: ConvFactory, downsample: bool):
        super().__init__()
        stride = (2, 2, 2) if downsample else (1, 1, 1)
        self.downsample = downsample
        if downsample:
            self.downsampleconv = conv_factory(in_channels, out_channels, (1, 1, 1), (2, 2, 2), (0, 0, 0))
            self.downsamplebn = nn.BatchNorm3d(out_channels)
        elif in_channels != out_channels:
            raise ValueError(
                f"a block without downsampling keeps its width, got {in_channels} -> {out_channels}; "
                "pass downsample=True to add the projection shortcut"
            )
        self.conv1 = conv_factory(in_channels, out_channels, (3, 3, 3), stride, (1, 1, 1))
        self.bn1 = nn.BatchNorm3d(out_channels)
        self.relu1 = nn.ReLU(inplace=False)
        self.conv2 = conv_factory(out_channels, out_channels, (3, 3, 3), (1, 1, 1), (1, 1, 1))
        self.bn2 = nn.BatchNorm3d(out_channels)
        self.outrelu = nn.ReLU(inplace=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = self.relu1(self.bn1(self.conv1(x)))
        residual = self.bn2(self.conv2(residual))
        shortcut = self.downsamplebn(self.downsampleconv(x)) if self.downsample else x
        return self.outrelu(shortcut + residual)


class ResLayer(nn.Module):
    """One stage: ``block1`` (downsampling if asked) then ``blocks`` (``num_blocks - 1`` more)."""

    def __init__(self, in_channels: int, out_channels: int, num_blocks: int, conv_factory: ConvFactory,
                 downsample: bool):
        super().__init__()
        if num_blocks < 1:
            raise ValueError(f"a stage needs at least one block, got num_blocks={num_blocks}")
        self.block1 = ResBlock(in_channels, out_channels, conv_factory, downsample)
        self.blocks = nn.ModuleList(
            ResBlock(out_channels, out_channels, conv_factory, False) for _ in range(num_blocks - 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block1(x)
        for block in self.blocks:
            x = block(x)
        return x


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
            3, c1, _triple(stem_kernel), _triple(stem_stride), _triple(stem_padding)
        )
        self.bn1 = nn.BatchNorm3d(c1)
        self.relu1 = nn.ReLU(inplace=False)
        self.conv2 = ResLayer(c1, c2, self.layer_sizes[0], conv_factory, downsample=False)
        self.conv3 = ResLayer(c2, c3, self.layer_sizes[1], conv_factory, downsample=True)
        self.conv4 = ResLayer(c3, c4, self.layer_sizes[2], conv_factory, downsample=True)
        self.conv5 = ResLayer(c4, c5, self.layer_sizes[3], conv_factory, downsample=True)
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
        return _stage_module(self, name, {"conv1": "relu1"})


class PooledStages(nn.Module):
    """``forward`` and ``forward_stages`` for a backbone whose ``_run(x, keep)`` returns the pooled p5
    embedding and, with ``keep``, its conv1..conv5 maps (C3D and S3D-G)."""

    def forward_stages(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """conv1..conv5 maps (B, C, T', H', W') of x (B, 3, T, H, W), plus p4 and p5 (B, C)."""
        p5, maps = self._run(x, keep=True)
        maps["p4"] = maps["conv4"].mean(dim=(2, 3, 4))  # (B, C4): global average of conv4
        maps["p5"] = p5
        return maps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """p5 embedding (B, embed_dim) of x (B, 3, T, H, W)."""
        return self._run(x, keep=False)[0]


def _stage_module(model: nn.Module, name: str, renames: dict[str, str]) -> nn.Module:
    """Shared lookup for ``stage_module``: stage name -> submodule, with a helpful error."""
    if name not in STAGES:
        raise KeyError(
            f"unknown stage {name!r}; stage_module knows {', '.join(STAGES)} "
            "(p4 and p5 are pooled vectors computed in forward_stages, not module outputs)"
        )
    return model.get_submodule(renames.get(name, name))


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
    33,371,472, the "33.4M" quoted for R3D-18.
    """

    def __init__(self, width: float = 1.0, layer_sizes: Sequence[int] = (2, 2, 2, 2)):
        super().__init__()
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
        return _stage_module(self, name, {"conv1": "stem", "conv2": "layer1", "conv3": "layer2",
                                          "conv4": "layer3", "conv5": "layer4"})


def build_r3d_18(width: float = 1.0) -> R3D18:
    """torchvision's R3D-18 (two blocks per stage, 33.2M without fc), channels x ``width``."""
    return R3D18(width)
