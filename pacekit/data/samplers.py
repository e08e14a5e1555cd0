"""Clip samplers: what one dataset item is made of, given an open video and a random generator.

A :class:`~pacekit.data.VideoDataset` opens the video, seeds the generator and handles unreadable files;
the sampler it is given decides which frames to read and which labels go with them. Each sampler is a
thin wrapper over the pure functions of :mod:`pacekit.pace`:

- :class:`PaceClipSampler` -- a clip at a random pace and its pace label (pretraining, Sec. 3.1);
- :class:`ActionClipSampler` -- one clip at natural pace (fine-tuning; the action label comes from
  the video's record);
- :class:`EvalClipSampler` -- ``num_clips`` clips spaced uniformly over the video (paper 4.1,
  "Evaluation").

A new pretext task is a new sampler: subclass :class:`ClipSampler`, return a NamedTuple of tensors from
``__call__``, and hand it to the dataset; the dataset is not edited. The NamedTuple's fields become the
item's keys (fields set to ``None`` are left out).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import NamedTuple, Optional, Sequence, Union

import numpy as np
import torch

from .. import pace as pacelib

#: The names :func:`make_clip_sampler` knows, for callers that still choose sampling by a string.
MODES = ("pace", "clip", "eval")
SLOW_FILLS = ("repeat", "interpolate")


class ClipSample(NamedTuple):
    """A sampler's result: uint8 clips ``(T, H, W, C)`` (or ``(K, T, H, W, C)`` for K clips) and, for
    pretext samplers, the pace label (a scalar, or ``(K,)``)."""

    video: torch.Tensor
    pace_label: Optional[torch.Tensor] = None


class ClipSampler(ABC):
    """What one item holds, read from an open video.

    Attributes:
        substitutes: True for training samplers: an unreadable video is replaced by another and the
            item counts the replacements. False for evaluation: the item is flagged unusable instead,
            with :meth:`placeholder` as its clips.
    """

    substitutes: bool = True

    @abstractmethod
    def __call__(self, reader, rng: np.random.Generator) -> NamedTuple:
        """Read the item's clips from ``reader`` (a :class:`~pacekit.data.VideoReader`), drawing any
        random choice from ``rng``; return a NamedTuple of tensors."""

    def placeholder(self, frame_size: Optional[tuple[int, int]]) -> NamedTuple:
        """The result given for an unreadable video when :attr:`substitutes` is False."""
        raise NotImplementedError(f"{type(self).__name__} substitutes unreadable videos; it has no placeholder")


def read_clip(reader, clip_len: int, pace, start: int, wrap: str = "modulo", slow_fill: str = "repeat") -> torch.Tensor:
    """One ``(T, H, W, C)`` uint8 clip at ``pace`` from ``start``: slow paces repeat the preceding frame
    (the paper), or blend the two neighbouring frames when ``slow_fill="interpolate"``."""
    n = reader.num_frames
    if slow_fill == "interpolate" and pacelib.as_pace(pace).denominator != 1:
        lo, hi, w = pacelib.interpolation_plan(n, clip_len, pace, start)
        frames = reader.get_frames(np.concatenate([lo, hi])).float()
        a, b = frames[:clip_len], frames[clip_len:]
        weight = torch.from_numpy(w).view(-1, 1, 1, 1)
        return (a * (1 - weight) + b * weight).round_().to(torch.uint8)
    return reader.get_frames(pacelib.sample_indices(n, clip_len, pace, start, wrap))


def _check_start_policy(start_policy: str) -> None:
    if start_policy not in pacelib.START_POLICIES:
        raise ValueError(f"start_policy must be one of {pacelib.START_POLICIES}, got {start_policy!r}")


class PaceClipSampler(ClipSampler):
    """``clips_per_video`` clips of one video at distinct random paces, with their pace labels (Sec. 3.1).

    Args:
        clip_len: frames per clip (16 in the paper).
        pace_set: a :class:`pacekit.pace.PaceSet` or its spec (``"relative"``, ``"absolute"``, a list).
        start_policy: ``"fit"`` or ``"any"`` (the authors'); see :func:`pacekit.pace.sample_start`.
        wrap: ``"modulo"`` or ``"restart"`` (the authors' loop); see :func:`pacekit.pace.sample_indices`.
        clips_per_video: 1, or 2 for two clips at two different paces (the same-context variant, Eq. 2);
            with 2 the result is stacked: ``(2, T, H, W, C)`` and labels ``(2,)``.
        slow_fill: ``"repeat"`` (the paper: the preceding frame) or ``"interpolate"`` (linear blend).
    """

    def __init__(self, clip_len: int = 16, pace_set: Union[str, pacelib.PaceSet, Sequence] = "relative",
                 start_policy: str = "fit", wrap: str = "modulo", clips_per_video: int = 1,
                 slow_fill: str = "repeat"):
        _check_start_policy(start_policy)
        if slow_fill not in SLOW_FILLS:
            raise ValueError(f"slow_fill must be 'repeat' or 'interpolate', got {slow_fill!r}")
        self.pace_set = pacelib.PaceSet.from_spec(pace_set)
        if clips_per_video not in (1, 2):
            raise ValueError("clips_per_video must be 1, or 2 in pace mode")
        if clips_per_video == 2 and len(self.pace_set) < 2:
            raise ValueError("two clips at different paces need a pace set of at least two paces")
        self.clip_len, self.start_policy, self.wrap = clip_len, start_policy, wrap
        self.clips_per_video, self.slow_fill = clips_per_video, slow_fill

    def __call__(self, reader, rng: np.random.Generator) -> ClipSample:
        labels = rng.choice(len(self.pace_set), size=self.clips_per_video, replace=False)
        clips = []
        for label in labels:
            pace = self.pace_set.pace_of(int(label))
            start = pacelib.sample_start(reader.num_frames, self.clip_len, pace, self.start_policy, rng)
            clips.append(read_clip(reader, self.clip_len, pace, start, self.wrap, self.slow_fill))
        if self.clips_per_video == 1:
            return ClipSample(clips[0], torch.tensor(int(labels[0]), dtype=torch.int64))
        return ClipSample(torch.stack(clips), torch.as_tensor(labels, dtype=torch.int64))


class ActionClipSampler(ClipSampler):
    """One clip at natural pace from a random start (fine-tuning); its label is the video's action."""

    def __init__(self, clip_len: int = 16, start_policy: str = "fit"):
        _check_start_policy(start_policy)
        self.clip_len, self.start_policy = clip_len, start_policy

    def __call__(self, reader, rng: np.random.Generator) -> ClipSample:
        start = pacelib.sample_start(reader.num_frames, self.clip_len, 1, self.start_policy, rng)
        return ClipSample(read_clip(reader, self.clip_len, 1, start))


class EvalClipSampler(ClipSampler):
    """``num_clips`` clips at natural pace, spaced uniformly over the video (paper 4.1: 10 clips whose
    predictions are averaged): ``(num_clips, T, H, W, C)``. Draws nothing from ``rng``.

    An unreadable video is never replaced (scoring another video would change the evaluated set); the
    dataset flags its item unusable, with a zero :meth:`placeholder` so batches still stack."""

    substitutes = False

    def __init__(self, clip_len: int = 16, num_clips: int = 10):
        self.clip_len, self.num_clips = clip_len, num_clips

    def starts(self, num_frames: int) -> np.ndarray:
        """Start frames of the clips: uniformly spaced from the first frame to the last start where a
        whole clip fits. A video shorter than one clip gives ``num_clips`` clips that all start at
        frame 0 and loop (the same clip repeated)."""
        last = max(num_frames - self.clip_len, 0)
        return np.round(np.linspace(0, last, self.num_clips)).astype(np.int64)

    def __call__(self, reader, rng: Optional[np.random.Generator] = None) -> ClipSample:
        n = reader.num_frames
        indices = np.concatenate([pacelib.sample_indices(n, self.clip_len, 1, s) for s in self.starts(n)])
        frames = reader.get_frames(indices)
        return ClipSample(frames.view(self.num_clips, self.clip_len, *frames.shape[1:]))  # (K, T, H, W, C)

    def placeholder(self, frame_size: Optional[tuple[int, int]]) -> ClipSample:
        # A zero clip of the batch's shape lets default collation stack it; with native frame sizes
        # there is no shape to match, and an empty clip cannot be scored by mistake.
        height, width = frame_size if frame_size is not None else (0, 0)
        return ClipSample(torch.zeros((self.num_clips, self.clip_len, height, width, 3), dtype=torch.uint8))


def make_clip_sampler(mode: str, clip_len: int = 16, pace_set: Union[str, pacelib.PaceSet, Sequence] = "relative",
                      start_policy: str = "fit", wrap: str = "modulo", clips_per_video: int = 1,
                      slow_fill: str = "repeat", num_clips: int = 10) -> ClipSampler:
    """The sampler named by ``mode`` (``"pace"``, ``"clip"`` or ``"eval"``), built from the arguments
    that mode uses; the others are ignored, except that ``clips_per_video=2`` needs pace mode."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if slow_fill not in SLOW_FILLS:
        raise ValueError(f"slow_fill must be 'repeat' or 'interpolate', got {slow_fill!r}")
    if mode == "pace":
        return PaceClipSampler(clip_len, pace_set, start_policy, wrap, clips_per_video, slow_fill)
    if clips_per_video != 1:
        raise ValueError("clips_per_video must be 1, or 2 in pace mode")
    if mode == "clip":
        return ActionClipSampler(clip_len, start_policy)
    _check_start_policy(start_policy)
    return EvalClipSampler(clip_len, num_clips)
