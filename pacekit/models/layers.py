"""Building blocks the backbones share: 3D convolutions, conv-BN-ReLU units, residual blocks, the stage interface.

Nothing here knows a whole network; each backbone module (:mod:`.r3d`, :mod:`.r21d`, :mod:`.c3d`,
:mod:`.s3d_g`, :mod:`.tiny`) assembles these parts. Submodule names (``temporal_spatial_conv``,
``spatial_conv``, ``downsampleconv``, ``conv1``/``bn1``, ...) are those of the authors' code, so their
checkpoints load by name (:mod:`pacekit.models.authors`). Every block maps (B, C_in, T, H, W) to
(B, C_out, T', H', W'); convolutions carry no bias.

- sizes: :func:`to_triple`, :func:`scale_channels` (the width multiplier);
- convolutions: :class:`FullConv3d` (t x d x d), :class:`SpatioTemporalConv` (the (2+1)D split, with
  :func:`r21d_mid_channels`), :class:`STConv3d` (conv-BN-ReLU, optionally S3D's separable split);
- S3D-G parts: :class:`SelfGating`, :class:`SamePadMaxPool3d`;
- residual blocks: :class:`ResBlock`, :class:`ResLayer`;
- the stage interface every backbone follows: :data:`STAGES`, :func:`find_stage_module`,
  :class:`PooledStages`.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

Triple = tuple[int, int, int]
# conv_factory(in_channels, out_channels, kernel, stride, padding) -> module acting like one Conv3d
ConvFactory = Callable[[int, int, Triple, Triple, Triple], nn.Module]

#: The stage maps of ``forward_stages`` that ``stage_module`` can hook (p4, p5 are pooled vectors).
STAGES = ("conv1", "conv2", "conv3", "conv4", "conv5")


# --------------------------------------------------------------------------------------------
# Sizes
# --------------------------------------------------------------------------------------------


def to_triple(value: int | Sequence[int]) -> Triple:
    """``3`` -> ``(3, 3, 3)``; a (T, H, W) sequence -> that tuple of ints."""
    if isinstance(value, int):
        return (value, value, value)
    t = tuple(int(v) for v in value)
    if len(t) != 3:
        raise ValueError(f"expected an int or 3 ints (T, H, W), got {value!r}")
    return t  # type: ignore[return-value]


def scale_channels(channels: int, width: float) -> int:
    """``channels`` times the width multiplier, rounded, never below 1 (shared by every backbone)."""
    if not width > 0:
        raise ValueError(f"width must be a positive multiplier such as 1.0 or 0.25, got {width!r}")
    return max(1, int(round(channels * width)))


# --------------------------------------------------------------------------------------------
# Convolutions
# --------------------------------------------------------------------------------------------


class FullConv3d(nn.Module):
    """One full (spatio-temporal) Conv3d without bias; input (B, C_in, T, H, W) -> (B, C_out, T', H', W').

    The wrapper exists only for the parameter name: ``temporal_spatial_conv.weight`` is how the
    authors' R3D names it, so their checkpoints load without renaming.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0):
        super().__init__()
        self.temporal_spatial_conv = nn.Conv3d(
            in_channels, out_channels, to_triple(kernel_size), to_triple(stride), to_triple(padding), bias=False
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.temporal_spatial_conv(x)


def r21d_mid_channels(in_channels: int, out_channels: int, kernel_size) -> int:
    """M = floor(t d^2 N_in N_out / (d^2 N_in + t N_out)) for a (t, d, d) kernel (Tran et al. 2018)."""
    t, kh, kw = to_triple(kernel_size)
    return (t * kh * kw * in_channels * out_channels) // (kh * kw * in_channels + t * out_channels)


class SpatioTemporalConv(nn.Module):
    """(2+1)D convolution: (B, C_in, T, H, W) -> spatial (1,d,d) conv -> BN -> ReLU -> temporal (t,1,1).

    Like a plain Conv3d it ends without normalisation; the caller adds BN. Strides and paddings are
    split the same way as the kernel: the spatial conv takes the H, W parts, the temporal conv the T
    part. Submodule names (``spatial_conv``, ``bn``, ``temporal_conv``) match the authors' checkpoints.

    Args:
        mid_channels: M; ``None`` uses :func:`r21d_mid_channels`, which keeps the parameter count of
            the full t x d x d convolution.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 mid_channels: int | None = None):
        super().__init__()
        (kt, kh, kw), (st, sh, sw), (pt, ph, pw) = to_triple(kernel_size), to_triple(stride), to_triple(padding)
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


class STConv3d(nn.Module):
    """Conv3d + BN + ReLU, or with ``separable=True`` its S3D split: (1,k,k) conv-BN-ReLU, (k,1,1) conv-BN-ReLU.

    (B, C_in, T, H, W) -> (B, C_out, T', H', W'); convs carry no bias. Names ``conv1``/``bn1`` (and
    ``conv2``/``bn2`` when separable) match the authors' S3D-G checkpoints. A kernel of temporal size 1
    is never split.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 separable: bool = False):
        super().__init__()
        (kt, kh, kw), (st, sh, sw), (pt, ph, pw) = to_triple(kernel_size), to_triple(stride), to_triple(padding)
        self.separable = separable and kt != 1
        if self.separable:
            self.conv1 = nn.Conv3d(in_channels, out_channels, (1, kh, kw), (1, sh, sw), (0, ph, pw), bias=False)
            self.bn1 = nn.BatchNorm3d(out_channels)
            self.conv2 = nn.Conv3d(out_channels, out_channels, (kt, 1, 1), (st, 1, 1), (pt, 0, 0), bias=False)
            self.bn2 = nn.BatchNorm3d(out_channels)
        else:
            self.conv1 = nn.Conv3d(in_channels, out_channels, (kt, kh, kw), (st, sh, sw), (pt, ph, pw), bias=False)
            self.bn1 = nn.BatchNorm3d(out_channels)
        self.relu = nn.ReLU(inplace=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        if self.separable:
            x = self.relu(self.bn2(self.conv2(x)))
        return x


# --------------------------------------------------------------------------------------------
# S3D-G parts: gating and TensorFlow-style pooling
# --------------------------------------------------------------------------------------------


class SelfGating(nn.Module):
    """S3D-G feature gating: x (B, C, T, H, W) -> x * sigmoid(fc(mean_THW(x)))[:, :, None, None, None]."""

    def __init__(self, channels: int):
        super().__init__()
        self.fc = nn.Linear(channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = torch.sigmoid(self.fc(x.mean(dim=(2, 3, 4))))  # (B, C)
        return x * gate[:, :, None, None, None]


class SamePadMaxPool3d(nn.Module):
    """Max pool with TensorFlow-style "SAME" padding, as in the authors' S3D-G.

    Pads max(k - s, 0) per axis (the smaller half in front) with zeros, then pools with ceil_mode.
    The inputs are post-ReLU (>= 0), so zero padding never changes a maximum.
    """

    def __init__(self, kernel_size, stride):
        super().__init__()
        self.kernel_size, self.stride = to_triple(kernel_size), to_triple(stride)
        pads = []
        for k, s in zip(reversed(self.kernel_size), reversed(self.stride)):  # F.pad wants W, H, T
            total = max(k - s, 0)
            pads += [total // 2, total - total // 2]
        self.padding = tuple(pads)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool3d(F.pad(x, self.padding), self.kernel_size, self.stride, ceil_mode=True)


# --------------------------------------------------------------------------------------------
# Residual blocks
# --------------------------------------------------------------------------------------------


class ResBlock(nn.Module):
    """Basic residual block: conv-BN-ReLU-conv-BN (+ shortcut) -ReLU, on (B, C, T, H, W).

    With ``downsample=True`` the first conv has ``stride`` (default 2 in T, H and W) and the shortcut is a
    1x1x1 conv of that stride (``downsampleconv``) + BN (``downsamplebn``); otherwise the shortcut is x.
    ``conv_factory`` builds every conv (:class:`FullConv3d` for R3D, :class:`SpatioTemporalConv` for
    R(2+1)D).
    """

    def __init__(self, in_channels: int, out_channels: int, conv_factory: ConvFactory, downsample: bool,
                 stride: tuple[int, int, int] = (2, 2, 2)):
        super().__init__()
        stride = tuple(stride) if downsample else (1, 1, 1)
        self.downsample = downsample
        if downsample:
            self.downsampleconv = conv_factory(in_channels, out_channels, (1, 1, 1), stride, (0, 0, 0))
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
    """One stage: ``block1`` (downsampling by ``stride`` if asked) then ``blocks`` (``num_blocks - 1`` more)."""

    def __init__(self, in_channels: int, out_channels: int, num_blocks: int, conv_factory: ConvFactory,
                 downsample: bool, stride: tuple[int, int, int] = (2, 2, 2)):
        super().__init__()
        if num_blocks < 1:
            raise ValueError(f"a stage needs at least one block, got num_blocks={num_blocks}")
        self.block1 = ResBlock(in_channels, out_channels, conv_factory, downsample, stride)
        self.blocks = nn.ModuleList(
            ResBlock(out_channels, out_channels, conv_factory, False) for _ in range(num_blocks - 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block1(x)
        for block in self.blocks:
            x = block(x)
        return x


# --------------------------------------------------------------------------------------------
# The stage interface
# --------------------------------------------------------------------------------------------


def find_stage_module(model: nn.Module, name: str, renames: dict[str, str]) -> nn.Module:
    """``model.stage_module(name)`` for any backbone: the submodule ``renames.get(name, name)``.

    ``renames`` maps a stage name (conv1 ... conv5) to the path of the module whose output is that
    stage's map, where the two differ (e.g. C3D's conv4 map is the output of ``relu4b``).
    """
    if name not in STAGES:
        raise KeyError(
            f"unknown stage {name!r}; stage_module knows {', '.join(STAGES)} "
            "(p4 and p5 are pooled vectors computed in forward_stages, not module outputs)"
        )
    return model.get_submodule(renames.get(name, name))


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
