"""Clip transforms as batched torch operations, on the CPU or the GPU.

Loader workers only decode; a batch of raw uint8 clips goes to the device, and the transforms here turn
it into network input there:

    uint8 (B, T, H, W, C)  ->  float (B, C, T, h, w)

Each step is a plain function over tensors; :class:`ClipAugment` (training) and :class:`ClipEval`
(evaluation) chain them. Every clip gets its own crop and flip, shared by all its frames (paper 4.1:
"randomly crop the video clip to 112x112 and flip the whole video clip horizontally"). Colour jitter is
drawn per frame by default -- the paper's finding (Sec. 3.1, "Avoid Shortcuts"; Table 1) -- or per
clip as an option.

Tensors with an extra clip axis, ``(B, n, T, H, W, C)`` (two clips per video, or ten eval clips), are
flattened to ``(B * n, ...)`` and restored.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

#: Normalisation statistics of Kinetics-400 frames, the common choice for 3D CNNs (pytorchvideo's).
KINETICS_MEAN = (0.45, 0.45, 0.45)
KINETICS_STD = (0.225, 0.225, 0.225)

_GRAY = (0.299, 0.587, 0.114)


def _draw_device(x: torch.Tensor, generator: Optional[torch.Generator]) -> torch.device:
    """Random parameters are drawn where the generator lives (else beside the data): on the GPU this
    keeps the step free of host syncs; a CPU generator gives bit-identical draws on any device."""
    return generator.device if generator is not None else x.device


def to_float_clips(x: torch.Tensor) -> torch.Tensor:
    """uint8 ``(B, T, H, W, C)`` -> float32 ``(B, C, T, H, W)`` in [0, 1]."""
    if x.dim() != 5:
        raise ValueError(f"expected clips of shape (B, T, H, W, C), got {tuple(x.shape)}")
    return x.permute(0, 4, 1, 2, 3).float().div_(255.0)


def resize_clips(x: torch.Tensor, size: Sequence[int] | int) -> torch.Tensor:
    """Resize float ``(B, C, T, H, W)`` frames to ``size=(h, w)``, or the short side to ``size`` (int)."""
    b, c, t, h, w = x.shape
    if isinstance(size, int):
        scale = size / min(h, w)
        size = (round(h * scale), round(w * scale))
    if (h, w) == tuple(size):
        return x
    frames = x.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)
    frames = F.interpolate(frames, size=tuple(size), mode="bilinear", align_corners=False, antialias=True)
    return frames.reshape(b, t, c, *size).permute(0, 2, 1, 3, 4)


def _empty_in_layout_of(x: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
    """An empty tensor of ``shape`` whose memory runs over the axes in ``x``'s order: a crop of a
    channels-last view stays channels-last, so copying each clip into it moves whole rows."""
    order = sorted(range(x.dim()), key=lambda d: x.stride(d), reverse=True)
    inverse = sorted(range(x.dim()), key=order.__getitem__)
    return x.new_empty([shape[d] for d in order]).permute(*inverse)


def crop_clips(x: torch.Tensor, tops: torch.Tensor, lefts: torch.Tensor, size: int) -> torch.Tensor:
    """Crop a ``size`` square from each clip of ``(B, C, T, H, W)`` at its own (top, left).

    On the CPU each clip's slice is copied into one tensor laid out as ``x`` is (several times faster than
    a gather there); on other devices one gather does it, so the offsets never travel to the host (no
    sync). Same values either way.
    """
    if x.device.type == "cpu":
        out = _empty_in_layout_of(x, (*x.shape[:-2], size, size))
        for i, (top, left) in enumerate(zip(tops.tolist(), lefts.tolist())):
            out[i].copy_(x[i, ..., top:top + size, left:left + size])
        return out
    b, c, t, h, w = x.shape
    offsets = torch.arange(size, device=x.device)
    rows = (tops.to(x.device)[:, None] + offsets)[:, :, None]  # (B, size, 1)
    cols = (lefts.to(x.device)[:, None] + offsets)[:, None, :]  # (B, 1, size)
    batch = torch.arange(b, device=x.device)[:, None, None]
    out = x.permute(0, 3, 4, 1, 2)[batch, rows, cols]  # (B, size, size, C, T)
    return out.permute(0, 3, 4, 1, 2)


def random_crop_clips(x: torch.Tensor, size: int, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """A random ``size`` square per clip, the same for all of its frames."""
    b, _, _, h, w = x.shape
    if h < size or w < size:
        raise ValueError(f"cannot crop {size}x{size} from frames of {h}x{w}; resize first")
    device = _draw_device(x, generator)
    tops = torch.randint(0, h - size + 1, (b,), generator=generator, device=device)
    lefts = torch.randint(0, w - size + 1, (b,), generator=generator, device=device)
    return crop_clips(x, tops, lefts, size)


def center_crop_clips(x: torch.Tensor, size: int) -> torch.Tensor:
    h, w = x.shape[-2:]
    if h < size or w < size:
        raise ValueError(f"cannot crop {size}x{size} from frames of {h}x{w}; resize first")
    top, left = (h - size) // 2, (w - size) // 2
    return x[..., top : top + size, left : left + size]


def random_flip_clips(x: torch.Tensor, p: float = 0.5, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Flip whole clips horizontally with probability ``p`` each."""
    flip = (torch.rand(x.shape[0], generator=generator, device=_draw_device(x, generator)) < p).to(x.device)
    if x.device.type == "cpu":  # flip only the clips drawn, instead of all of them and a select
        out = x.clone()
        for i in flip.nonzero().flatten().tolist():
            out[i].copy_(x[i].flip(-1))
        return out
    return torch.where(flip[:, None, None, None, None], x.flip(-1), x)


@lru_cache(maxsize=None)
def _constant(values: tuple, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """A small constant tensor, copied to each device once: a fresh ``torch.tensor(..., device=cuda)``
    in every step would be a host-to-device copy, and a sync, per call."""
    return torch.tensor(values, dtype=dtype).to(device)


def _grayscale(x: torch.Tensor) -> torch.Tensor:
    """Luma of ``(B, C, T, H, W)`` -> ``(B, 1, T, H, W)``."""
    weights = _constant(_GRAY, x.device, x.dtype).view(1, 3, 1, 1, 1)
    return (x * weights).sum(1, keepdim=True)


_RGB_TO_YIQ = ((0.299, 0.587, 0.114), (0.596, -0.274, -0.322), (0.211, -0.523, 0.312))
_YIQ_TO_RGB = tuple(map(tuple, torch.linalg.inv(torch.tensor(_RGB_TO_YIQ, dtype=torch.float64)).tolist()))


def hue_rotation_matrices(turns: torch.Tensor) -> torch.Tensor:
    """3x3 RGB matrices that rotate hue by ``turns`` (fractions of a full turn), shape ``(..., 3, 3)``.

    The rotation turns the chroma plane (I, Q) of YIQ and keeps luma Y; positive turns go the way HSV
    hue grows (red towards yellow and green). It is one matrix product per frame, far cheaper than a
    round trip through HSV (torchvision's ``adjust_hue``). It is not the same map: HSV hue shifts change
    luma, this one keeps it, which suits a jitter meant to hide colour statistics, not brightness.
    """
    to_yiq = _constant(_RGB_TO_YIQ, turns.device, turns.dtype)
    to_rgb = _constant(_YIQ_TO_RGB, turns.device, turns.dtype)
    angle = -turns * (2 * torch.pi)  # YIQ's I-to-Q direction runs against HSV hue
    cos, sin = torch.cos(angle), torch.sin(angle)
    one, zero = torch.ones_like(angle), torch.zeros_like(angle)
    rotate = torch.stack([one, zero, zero, zero, cos, -sin, zero, sin, cos], -1).unflatten(-1, (3, 3))
    return to_rgb @ rotate @ to_yiq


def rotate_hue(x: torch.Tensor, turns: torch.Tensor) -> torch.Tensor:
    """Rotate the hue of float ``(B, C, T, H, W)`` by ``turns`` of shape ``(B, T)`` (or broadcastable)."""
    b, _, t = x.shape[:3]
    matrices = hue_rotation_matrices(turns.expand(b, t).to(x.dtype))  # (B, T, 3, 3)
    return torch.einsum("btck,bkthw->bcthw", matrices, x)


@dataclass
class JitterStrength:
    """ColorJitter ranges: factors drawn from [1 - s, 1 + s] (hue: a shift in [-hue, hue] turns).

    The defaults are the authors' code: ``ColorJitter(0.8, 0.8, 0.8, 0.2)`` applied with probability 0.8.
    """

    brightness: float = 0.8
    contrast: float = 0.8
    saturation: float = 0.8
    hue: float = 0.2
    p: float = 0.8


def color_jitter_clips(
    x: torch.Tensor,
    strength: JitterStrength = JitterStrength(),
    per_frame: bool = True,
    generator: Optional[torch.Generator] = None,
) -> torch.Tensor:
    """Brightness, contrast, saturation and hue jitter on float ``(B, C, T, H, W)`` in [0, 1].

    ``per_frame=True`` draws new factors (and a new "apply or not" coin) for every frame, as the paper
    recommends; ``per_frame=False`` draws once per clip. The four adjustments follow torchvision's
    definitions (contrast around the frame's mean luma, saturation by blending with grayscale, hue by
    rotating the chroma plane, see :func:`rotate_hue`) and are applied in that fixed order.
    """
    b, c, t, h, w = x.shape
    n = t if per_frame else 1
    device = _draw_device(x, generator)

    def uniform() -> torch.Tensor:  # (B, 1, n, 1, 1) in [-1, 1)
        return torch.rand(b, 1, n, 1, 1, generator=generator, device=device) * 2 - 1

    def draw(spread: float) -> torch.Tensor:
        return (1 + uniform() * spread).to(x.device, x.dtype)

    apply = (torch.rand(b, 1, n, 1, 1, generator=generator, device=device) < strength.p).to(x.device)
    # Each step in place on the one new tensor (same operations in the same order as written out: same values)
    out = (x * draw(strength.brightness)).clamp_(0, 1)
    mean = _grayscale(out).mean(dim=(3, 4), keepdim=True)
    out.sub_(mean).mul_(draw(strength.contrast)).add_(mean).clamp_(0, 1)
    gray = _grayscale(out)
    out.sub_(gray).mul_(draw(strength.saturation)).add_(gray).clamp_(0, 1)
    if strength.hue > 0:
        turns = (uniform() * strength.hue).to(x.device, x.dtype).view(b, n)
        out = rotate_hue(out, turns).clamp_(0, 1)
    if x.device.type != "cpu":
        return torch.where(apply, out, x)
    # On the CPU a broadcast ``where`` is about 4x slower than copying back the frames the coin left as they
    # were (the same values); elsewhere the where keeps the step free of the host sync of ``nonzero``.
    out = out.to(torch.promote_types(out.dtype, x.dtype))  # as where promotes (autocast: half hue, float x)
    clip, frame = (~apply.view(b, n)).nonzero(as_tuple=True)
    if n == 1:
        out[clip] = x[clip]
    else:
        out.transpose(1, 2)[clip, frame] = x.transpose(1, 2)[clip, frame]
    return out


def normalize_clips(x: torch.Tensor, mean=KINETICS_MEAN, std=KINETICS_STD) -> torch.Tensor:
    return _normalize_(x.clone(), mean, std)


def _normalize_(x: torch.Tensor, mean, std) -> torch.Tensor:
    """:func:`normalize_clips` in place, for the transforms' own intermediate tensors (same values)."""
    m = _constant(tuple(mean), x.device, x.dtype).view(1, -1, 1, 1, 1)
    s = _constant(tuple(std), x.device, x.dtype).view(1, -1, 1, 1, 1)
    return x.sub_(m).div_(s)


INPUT_MODES = ("rgb", "residual", "standardized")


def temporal_residual(x: torch.Tensor) -> torch.Tensor:
    """Float clips ``(..., C, T, H, W)`` minus their mean frame: what moves stays, the static scene goes.

    Used with ``input_mode="residual"`` (a "residual frames" input, Tao et al. 2020), not by the paper. On
    the first version of pacekit's synthetic set, whose small objects changed a frame far less than the
    static scene's colours varied, a small RGB network stayed at chance on pace prediction for thousands of
    steps and learned it in hundreds on residual clips. It also highlights motion before any learning, so
    attention maps of a residual-input network say little (the ``cpu-tiny`` preset now uses
    ``"standardized"``; see pacekit/config.py).
    """
    return x - x.mean(dim=-3, keepdim=True)  # T is the third axis from the end


_STANDARDIZE_EPS = 1e-3


def standardize_frames(x: torch.Tensor, eps: float = _STANDARDIZE_EPS) -> torch.Tensor:
    """Float clips ``(..., C, T, H, W)`` with every frame's every channel scaled to mean 0, std 1.

    Used with ``input_mode="standardized"``, not by the paper: still RGB (the scene stays, unlike
    :func:`temporal_residual`), but a per-frame brightness or contrast change -- per-frame colour jitter
    included -- no longer shifts a frame's values as a whole, so a small network is not left to separate
    the scene's overall level from the mover's local change. On pacekit's synthetic set a small network
    learns pace from standardized RGB in minutes where plain RGB stays near chance much longer.
    """
    mean, scale = _frame_stats(x, eps)
    return (x - mean).div_(scale)


def _frame_stats(x: torch.Tensor, eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Each frame's mean and std + ``eps``, per channel: what :func:`standardize_frames` divides by."""
    return x.mean(dim=(-2, -1), keepdim=True), frame_std(x).add_(eps)


#: Bytes of float64 rows :func:`frame_std` works on at a time (they stay in the CPU's cache).
_STD_CHUNK_BYTES = 512 << 10


def frame_std(x: torch.Tensor) -> torch.Tensor:
    """``x.std(dim=(-2, -1), keepdim=True)`` -- each frame's sample standard deviation -- computed faster on
    the CPU, with the same values.

    On the CPU torch accumulates a float tensor's variance in float64 with Welford's update, one element at a
    time (measured in docs/performance.md, "Further CPU timings"). Here each block of frames
    that fits the cache is taken to float64, centred on its mean and squared-and-summed with a vectorised
    dot product: the two-pass variance in float64 differs from Welford's by about 1e-16 of its value, far
    less than a float32 rounding step, so the float32 results are the same unless the exact value lies that
    close to a rounding boundary, where it is one float32 step off (rare: the property test comparing it with
    ``torch.std`` on random, constant, offset and real frames found one such frame, now kept as its example). On other devices, and for a tensor that
    needs gradients, this is ``torch.std`` itself.
    """
    if x.device.type != "cpu" or x.dtype != torch.float32 or x.dim() < 2 or x.requires_grad:
        return x.std(dim=(-2, -1), keepdim=True)
    n = x.shape[-2] * x.shape[-1]
    rows = x.reshape(-1, n)
    sums = torch.empty(rows.shape[0], dtype=torch.float64)
    step = max(1, _STD_CHUNK_BYTES // (8 * n))
    for i in range(0, rows.shape[0], step):
        block = rows[i:i + step].double()
        block.sub_(block.mean(dim=1, keepdim=True))
        torch.linalg.vecdot(block, block, out=sums[i:i + step])
    return sums.div_(n - 1).sqrt_().to(x.dtype).view(*x.shape[:-2], 1, 1)


def _apply_input_mode_(x: torch.Tensor, input_mode: str) -> torch.Tensor:
    """The input mode in place on one of the transforms' own tensors: the values of
    :func:`temporal_residual` and :func:`standardize_frames`, without a new tensor."""
    if input_mode == "residual":
        return x.sub_(x.mean(dim=-3, keepdim=True))
    if input_mode == "standardized":
        mean, scale = _frame_stats(x, _STANDARDIZE_EPS)  # both before x changes
        return x.sub_(mean).div_(scale)
    return x


def _check_input_mode(input_mode: str) -> None:
    if input_mode not in INPUT_MODES:
        raise ValueError(f"input_mode must be one of {INPUT_MODES}, got {input_mode!r}")


def _flatten_clip_axis(x: torch.Tensor) -> tuple[torch.Tensor, Optional[int]]:
    if x.dim() == 6:  # (B, n, T, H, W, C)
        return x.flatten(0, 1), x.shape[1]
    return x, None


def _restore_clip_axis(x: torch.Tensor, n: Optional[int]) -> torch.Tensor:
    return x if n is None else x.unflatten(0, (-1, n))


class ClipAugment(nn.Module):
    """Training transform: resize, random crop, flip, colour jitter, normalise.

    Args:
        size: frame size ``(h, w)`` to resize to first (paper: 128x171), or None if frames already are.
        crop: square crop side (112).
        flip: random horizontal flip of whole clips.
        jitter: ``"frame"`` (default, the paper's), ``"clip"`` or None.
        strength: jitter ranges and probability.
        channels_last: return a ``torch.channels_last_3d`` tensor (faster convolutions on the GPU).
        input_mode: ``"rgb"`` (the paper) or ``"residual"`` (each clip minus its mean frame, applied last;
            see :func:`temporal_residual`).
    """

    def __init__(
        self,
        size: Optional[Sequence[int]] = (128, 171),
        crop: int = 112,
        flip: bool = True,
        jitter: Optional[str] = "frame",
        strength: JitterStrength = JitterStrength(),
        mean=KINETICS_MEAN,
        std=KINETICS_STD,
        channels_last: bool = False,
        input_mode: str = "rgb",
    ):
        super().__init__()
        if jitter not in ("frame", "clip", None):
            raise ValueError(f"jitter must be 'frame', 'clip' or None, got {jitter!r}")
        _check_input_mode(input_mode)
        self.size, self.crop, self.flip, self.jitter = size, crop, flip, jitter
        self.strength, self.mean, self.std, self.channels_last = strength, mean, std, channels_last
        self.input_mode = input_mode

    def _crop_and_flip(self, x: torch.Tensor, generator: Optional[torch.Generator]) -> torch.Tensor:
        x = random_crop_clips(x, self.crop, generator)
        return random_flip_clips(x, 0.5, generator) if self.flip else x

    def forward(self, clips: torch.Tensor, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        x, n = _flatten_clip_axis(clips)
        if self.size is not None:
            x = resize_clips(to_float_clips(x), self.size)  # (B, C, T, H, W)
            x = self._crop_and_flip(x, generator)
        else:  # crop and flip the uint8 frames, then convert: the same draws and values, fewer bytes moved
            if x.dim() != 5:
                raise ValueError(f"expected clips of shape (B, T, H, W, C), got {tuple(x.shape)}")
            # (made contiguous as uint8: the jitter and the standardisation then run over whole rows)
            x = self._crop_and_flip(x.permute(0, 4, 1, 2, 3), generator).contiguous().float().div_(255.0)
        if self.jitter is not None:
            x = color_jitter_clips(x, self.strength, per_frame=self.jitter == "frame", generator=generator)
        x = _apply_input_mode_(_normalize_(x, self.mean, self.std), self.input_mode)  # x is this call's own
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last_3d)
        return _restore_clip_axis(x, n)


class ClipEval(nn.Module):
    """Evaluation transform: resize, centre crop, normalise (paper 4.1, "Evaluation")."""

    def __init__(self, size: Optional[Sequence[int]] = (128, 171), crop: int = 112, mean=KINETICS_MEAN,
                 std=KINETICS_STD, channels_last: bool = False, input_mode: str = "rgb"):
        super().__init__()
        _check_input_mode(input_mode)
        self.size, self.crop, self.mean, self.std, self.channels_last = size, crop, mean, std, channels_last
        self.input_mode = input_mode

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        x, n = _flatten_clip_axis(clips)
        x = to_float_clips(x)
        if self.size is not None:
            x = resize_clips(x, self.size)
        x = _apply_input_mode_(normalize_clips(center_crop_clips(x, self.crop), self.mean, self.std), self.input_mode)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last_3d)
        return _restore_clip_axis(x, n)


def unnormalize_clips(x: torch.Tensor, mean=KINETICS_MEAN, std=KINETICS_STD) -> torch.Tensor:
    """Undo :func:`normalize_clips` for display: float ``(B, C, T, H, W)`` back to [0, 1]."""
    m = _constant(tuple(mean), x.device, x.dtype).view(1, -1, 1, 1, 1)
    s = _constant(tuple(std), x.device, x.dtype).view(1, -1, 1, 1, 1)
    return (x * s + m).clamp(0, 1)
