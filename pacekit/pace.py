"""Pace sampling: which source frames make a clip played at pace p (paper Sec. 3.1, Fig. 2).

A clip of ``clip_len`` frames at pace ``p`` starting at frame ``start`` shows source frame

    index(i) = start + floor(i * p)        for i = 0 .. clip_len - 1,

wrapped around the video (modulo ``num_frames``) when the clip runs past its end. Paces are exact
rationals (:class:`fractions.Fraction`), so ``p = 1/3`` never drifts.

- ``p = 1``: consecutive frames (normal pace).
- ``p > 1``: every p-th frame (fast). ``p = 3`` from 0-based frame 10 gives 10, 13, 16, 19, 22 -- the
  paper's "frames 11, 14, 17, 20 and 23", counted from 1.
- ``p < 1``: each source frame is shown ``1/p`` times (slow). The paper fills the blank frames with the
  preceding frame, which ``floor`` does: ``p = 1/2`` from 0 gives 0, 0, 1, 1, 2. Linear interpolation
  between neighbouring frames, the alternative the paper mentions, is :func:`interpolation_plan`.

Everything here is a pure function of integers, so a notebook can call it one line at a time; the
datasets in :mod:`pacekit.data` wrap it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterable, Sequence, Union

import numpy as np

PaceLike = Union[int, float, str, Fraction]

#: Named pace sets. ``relative`` is the paper's default (p = [1, 4], 4 classes, Table 1);
#: ``absolute`` is the five-pace design of Fig. 2 (super slow ... super fast).
PACE_PRESETS: dict[str, tuple[Fraction, ...]] = {
    "relative": tuple(Fraction(p) for p in (1, 2, 3, 4)),
    "absolute": (Fraction(1, 3), Fraction(1, 2), Fraction(1), Fraction(2), Fraction(3)),
}

#: The names the paper gives the five paces of Fig. 2.
PACE_NAMES: dict[Fraction, str] = {
    Fraction(1, 3): "super slow",
    Fraction(1, 2): "slow",
    Fraction(1): "normal",
    Fraction(2): "fast",
    Fraction(3): "super fast",
}

START_POLICIES = ("fit", "any")
WRAP_MODES = ("modulo", "restart")


def as_pace(value: PaceLike) -> Fraction:
    """Turn ``2``, ``"1/3"``, ``Fraction(1, 3)`` or ``0.5`` into an exact positive :class:`Fraction`.

    Floats are snapped to the nearest fraction with a denominator of at most 100, so ``1/3`` typed as
    ``0.3333333`` becomes exactly one third.
    """
    if isinstance(value, Fraction):
        pace = value
    elif isinstance(value, (int, np.integer)):
        pace = Fraction(int(value))
    elif isinstance(value, str):
        try:
            pace = Fraction(value.strip())
        except (ValueError, ZeroDivisionError):  # "x", "1/0"
            raise ValueError(f"pace {value!r} is not a number; write it as '2', '1/3' or '0.5'") from None
    elif isinstance(value, (float, np.floating)):
        pace = Fraction(float(value)).limit_denominator(100)
    else:
        raise TypeError(f"pace must be a number, a fraction or a string like '1/3', got {type(value).__name__}")
    if pace <= 0:
        raise ValueError(f"pace must be positive, got {value!r}")
    return pace


def pace_name(pace: PaceLike) -> str:
    """A human name: the paper's words for the Fig. 2 paces, else ``"x2.5"``-style."""
    p = as_pace(pace)
    return PACE_NAMES.get(p, f"x{p}")


@dataclass(frozen=True)
class PaceSet:
    """An ordered set of paces; a clip's pace label is the pace's index in the set.

    >>> PaceSet.from_spec("relative").label_of(3)
    2
    """

    paces: tuple[Fraction, ...]
    name: str = "custom"

    def __post_init__(self) -> None:
        if not self.paces:
            raise ValueError("a pace set needs at least one pace")
        if len(set(self.paces)) != len(self.paces):
            raise ValueError(f"paces must be distinct, got {[str(p) for p in self.paces]}")

    @classmethod
    def from_spec(cls, spec: Union[str, "PaceSet", Iterable[PaceLike]]) -> "PaceSet":
        """Build from a preset name (``relative``, ``absolute``), a ``"1,2,3"`` string or a list."""
        if isinstance(spec, PaceSet):
            return spec
        if isinstance(spec, str):
            if spec in PACE_PRESETS:
                return cls(PACE_PRESETS[spec], spec)
            if "," not in spec and not any(c.isdigit() for c in spec):
                raise ValueError(
                    f"unknown pace set {spec!r}; use one of {sorted(PACE_PRESETS)} or a list like '1,2,3'"
                )
            spec = [s for s in spec.split(",") if s.strip()]
        return cls(tuple(as_pace(p) for p in spec))

    def __len__(self) -> int:
        return len(self.paces)

    def __iter__(self):
        return iter(self.paces)

    def label_of(self, pace: PaceLike) -> int:
        p = as_pace(pace)
        try:
            return self.paces.index(p)
        except ValueError:
            raise ValueError(f"pace {p} is not in the set {[str(x) for x in self.paces]}") from None

    def pace_of(self, label: int) -> Fraction:
        if not 0 <= int(label) < len(self.paces):
            raise IndexError(f"pace label {label} out of range for a set of {len(self.paces)} paces")
        return self.paces[int(label)]

    @property
    def labels(self) -> list[str]:
        """Display names, in label order."""
        return [pace_name(p) for p in self.paces]

    @property
    def max_pace(self) -> Fraction:
        return max(self.paces)


def clip_span(clip_len: int, pace: PaceLike) -> int:
    """How many consecutive source frames a clip covers: ``floor((clip_len - 1) * p) + 1``.

    16 frames at p = 4 span 61 source frames; at p = 1/2 they span 8.
    """
    if clip_len < 1:
        raise ValueError(f"clip_len must be at least 1, got {clip_len}")
    p = as_pace(pace)
    return (clip_len - 1) * p.numerator // p.denominator + 1


def sample_indices(
    num_frames: int, clip_len: int, pace: PaceLike, start: int = 0, wrap: str = "modulo"
) -> np.ndarray:
    """0-based source-frame indices of a clip: frame i is ``start + floor(i * p)``, wrapped.

    Args:
        num_frames: frames in the video (>= 1).
        clip_len: frames in the clip.
        pace: the pace p, any :func:`as_pace` value.
        start: 0-based first frame; taken modulo ``num_frames``.
        wrap: ``"modulo"`` (default, the paper's "loop over the video") continues from frame 0 as if the
            video repeated. ``"restart"`` is what the authors' code does: when the next frame would run
            past the end, the clip starts again from frame 0 at the same pace.

    Returns:
        int64 array of shape ``(clip_len,)``, every value in ``[0, num_frames)``.

    >>> sample_indices(25, 5, 3, start=10).tolist()
    [10, 13, 16, 19, 22]
    >>> sample_indices(25, 5, "1/2", start=0).tolist()
    [0, 0, 1, 1, 2]
    """
    return _sample(num_frames, clip_len, pace, start, wrap)[0]


def _sample(num_frames: int, clip_len: int, pace: PaceLike, start: int, wrap: str) -> tuple[np.ndarray, np.ndarray]:
    """The clip's indices and its loop points, computed together so they cannot disagree."""
    if num_frames < 1:
        raise ValueError(f"a video needs at least one frame, got num_frames={num_frames}")
    if wrap not in WRAP_MODES:
        raise ValueError(f"wrap must be one of {WRAP_MODES}, got {wrap!r}")
    p = as_pace(pace)
    start = int(start) % num_frames
    steps = np.arange(clip_len, dtype=np.int64) * p.numerator // p.denominator  # floor(i * p), exact
    if wrap == "modulo":
        # Position on the video played over and over; a loop is where it enters the next repetition.
        # The wrapped frame numbers cannot tell: a step of num_frames or more lands on or past the
        # frame it left (3 frames at p = 5/2 give [0, 2, 2]).
        position = start + steps
        return position % num_frames, np.flatnonzero(np.diff(position // num_frames) > 0) + 1
    # The authors' loop: restart from the first frame whenever the next frame would overflow.
    out = np.empty(clip_len, dtype=np.int64)
    loops = []
    origin, k = start, 0
    for i in range(clip_len):
        out[i] = origin + k * p.numerator // p.denominator
        if origin + (k + 1) * p.numerator // p.denominator > num_frames - 1:
            origin, k = 0, 0
            if i + 1 < clip_len:
                loops.append(i + 1)
        else:
            k += 1
    return out, np.asarray(loops, dtype=np.int64)


def sample_start(
    num_frames: int, clip_len: int, pace: PaceLike, policy: str = "fit", rng: np.random.Generator | None = None
) -> int:
    """Draw a clip's 0-based start frame.

    - ``"fit"`` (default): uniform over the starts where the whole span fits, so the clip never loops;
      a video shorter than the span has no such start, and the clip starts at frame 0 (the start with
      the fewest loop points).
    - ``"any"``: uniform over every frame, looping past the end -- the authors' code
      (``random.randint(1, num_frames)``). It puts a jump cut into the clip whenever the span runs past
      the end: see :func:`jump_cut_probability`. A network can learn that shortcut.
    """
    if policy not in START_POLICIES:
        raise ValueError(f"start policy must be one of {START_POLICIES}, got {policy!r}")
    rng = rng if rng is not None else np.random.default_rng()
    if policy == "any":
        return int(rng.integers(0, num_frames))
    span = clip_span(clip_len, pace)
    if span > num_frames:
        return 0
    return int(rng.integers(0, num_frames - span + 1))


def loop_points(
    indices: Sequence[int], num_frames: int | None = None, pace: PaceLike | None = None, wrap: str = "modulo"
) -> np.ndarray:
    """Positions i where the clip ran past the video's end between frames i - 1 and i (a jump cut).

    Give the ``num_frames``, ``pace`` and ``wrap`` the indices were sampled with: the loops are then
    where the index sequence wraps, which frame numbers alone cannot always show (3 frames at p = 5/2
    give ``[0, 2, 2]``, looped at 2). Without them, only a step backwards counts, which misses the wraps
    of a video no longer than one step of the pace.

    >>> loop_points([0, 2, 2], num_frames=3, pace="5/2").tolist()
    [2]
    """
    idx = np.asarray(indices, dtype=np.int64)
    if (num_frames is None) != (pace is None):
        raise TypeError("give both num_frames and pace, or neither")
    if num_frames is None:
        return np.flatnonzero(np.diff(idx) < 0) + 1
    if idx.ndim != 1:
        raise ValueError(f"indices must be one clip's 1-D frame indices, got shape {idx.shape}")
    if len(idx) == 0:
        return np.empty(0, dtype=np.int64)
    # A clip's first index is its start (modulo the video), so the indices fix the whole sampling.
    expected, loops = _sample(num_frames, len(idx), pace, int(idx[0]), wrap)
    if not np.array_equal(expected, idx):
        raise ValueError(
            f"these indices are not a clip at pace {as_pace(pace)} of a {num_frames}-frame video with "
            f"wrap={wrap!r}; expected {expected.tolist()}"
        )
    return loops


def jump_cut_probability(num_frames: int, clip_len: int, pace: PaceLike, policy: str) -> float:
    """Exact chance that a clip drawn with ``policy`` loops (has a jump cut), over the start frames.

    With ``"any"`` a start s loops when ``s + span - 1 >= num_frames``: ``(span - 1) / num_frames`` of
    the starts (all of them for a video shorter than the span). With ``"fit"`` only videos shorter than
    the span loop.
    """
    span = clip_span(clip_len, pace)
    if span > num_frames:
        return 1.0
    if policy == "fit":
        return 0.0
    if policy == "any":
        return (span - 1) / num_frames
    raise ValueError(f"start policy must be one of {START_POLICIES}, got {policy!r}")


@dataclass(frozen=True)
class PaceClip:
    """One sampled clip: its indices, pace, label, start and loop points (see :func:`loop_points`)."""

    indices: np.ndarray
    pace: Fraction
    label: int
    start: int
    loops: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))


def sample_pace_clip(
    num_frames: int,
    clip_len: int,
    pace_set: PaceSet,
    rng: np.random.Generator,
    policy: str = "fit",
    wrap: str = "modulo",
    label: int | None = None,
) -> PaceClip:
    """Draw a pace uniformly from ``pace_set`` (or use ``label``), a start, and the clip's indices."""
    if label is None:
        label = int(rng.integers(0, len(pace_set)))
    pace = pace_set.pace_of(label)
    start = sample_start(num_frames, clip_len, pace, policy, rng)
    indices, loops = _sample(num_frames, clip_len, pace, start, wrap)
    return PaceClip(indices, pace, int(label), start, loops)


def interpolation_plan(
    num_frames: int, clip_len: int, pace: PaceLike, start: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Slow-motion fill by linear interpolation instead of repeating the preceding frame.

    Frame i sits at the exact source position ``start + i * p``. With ``lo = floor`` of it and
    ``w`` its fractional part, the frame is ``(1 - w) * frame[lo] + w * frame[lo + 1]`` (indices wrapped).
    For integer paces ``w`` is 0 and this equals :func:`sample_indices`. The last frame of the video
    is held rather than blended with frame 0, so a clip that fits never shows a jump cut.

    Returns:
        ``(lo, hi, w)``: int64 ``(clip_len,)``, int64 ``(clip_len,)`` and float32 ``(clip_len,)``.
    """
    p = as_pace(pace)
    i = np.arange(clip_len, dtype=np.int64)
    whole = i * p.numerator // p.denominator
    remainder = i * p.numerator % p.denominator
    lo = (int(start) + whole) % num_frames
    hi = np.minimum(lo + 1, num_frames - 1)  # past the last frame there is nothing to blend towards
    w = (remainder / p.denominator).astype(np.float32)
    return lo, hi, w
