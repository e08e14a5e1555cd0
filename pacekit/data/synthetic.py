"""The built-in procedural action dataset, written as real videos in the UCF101 layout.

Nothing in a fresh clone can download UCF101, so pacekit draws its own: about ten action classes,
each a distinct motion of one object (a bounce, a pendulum swing, an orbit, ...) over random
backgrounds, shapes, colours and sizes, encoded like UCF101 (MPEG-4 Part 2 in AVI, 25 fps, yuv420p)
and listed in UCF101's split files, so the same reading code serves both (paper Sec. 3.1, Fig. 2).

Why it suits pace prediction. The pace of a clip (Sec. 3.1) must not be readable from the global
amount of motion alone, or a network could solve the pretext task without looking at what moves:

* every class has its own natural speed band, and the bands are spread so that a slow class sped up
  (Zoom at pace 4) moves as fast as a fast class at its natural pace (Bounce at pace 1);
* within a class the band is narrow (max / min < 4/3), so once the motion is recognised, paces 1-4
  are told apart; the speed also varies from video to video inside the band;
* every motion is periodic and smooth at its natural pace, and each elementary cycle (one bounce, one
  swing, one wiggle) lasts at least ``MIN_CYCLE_FRAMES`` frames, so that sampling every 4th frame
  still shows at least 7 frames per cycle and nothing aliases.

A class is a motion, not a look: shape, colour, texture and background are random per group of
videos (a UCF101 "group" is clips cut from one long video, so here a group shares its scene), and
the train/test split keeps whole groups apart.

Units: the class table's speeds are "pixels per frame in a 120-pixel-high frame" (the default
160x120); a video of another height scales them by ``height / 120``. The speed of a video is the
mean displacement per frame of the object's *tip* (the end of its long axis), which is the centre's
displacement for moving objects, the radius change for Zoom and the rim speed for Spin.

Pure functions first (``sample_spec`` -> ``trajectory`` -> ``draw_video``; ``render_video`` does the
three), then the writer (``make_synthetic``, ``ensure_synthetic``).

Format versions. The above is version 1, the first set: one small object (about 1 % of the frame).
Version 2, the default since, is made for the lesson (see the "version 2" section below): large
textured and articulated movers (4-11 % of the frame) at ten log-spaced class speeds spanning 4x,
static textured distractors, low-contrast backgrounds, per-frame brightness / contrast / saturation
changes, and each video's ground-truth mover masks in ``<video stem>.masks.npz`` beside it
(``load_mover_masks``). Version 3, the default now, is version 2 with every class twice as fast (its
periods halved, so the paths are the same): at the quickstart's 64-pixel frames version 2's slowest
class moves 0.3 pixel per frame at pace 1, and a small network sat at pace chance for hundreds of steps
before it found the motion. ``version=1`` and ``version=2`` stay selectable everywhere.

``speed_spread`` (versions 2 and 3, a parameter rather than a version): the same videos with the classes'
natural speeds pulled together, so the fastest is ``speed_spread`` times the slowest (1: one speed for all).
With one speed the pace can be told from the speed alone; pacekit can pretrain on such a set as a
companion of the default one (``pacekit quickstart --pretrain-speed-spread``, claim C9 of ``pacekit claims``).
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

import numpy as np

from ..atomic import write_bytes_atomic

__all__ = [
    "FIGURE_CLASSES", "NATIVE_SPEED_SPREAD", "V3_SPEED_FACTOR", "check_speed_spread", "companion_folder",
    "ensure_companion", "figure_classes", "FORMAT_NAME", "FORMAT_VERSION", "FORMAT_VERSIONS", "MASK_SCALE", "MIN_CYCLE_FRAMES",
    "MOTION_CLASSES", "REFERENCE_HEIGHT",
    "SYNTHETIC_CLASSES", "MotionClass", "SyntheticSummary", "VideoSpec", "build_synthetic",
    "FigureClass", "FigureSpec", "draw_figure_video", "figure_trajectory", "load_mover_masks", "mask_path",
    "render_figure_video", "sample_figure_spec", "synthetic_classes", "write_mover_masks",
    "draw_video", "ensure_synthetic", "make_synthetic", "natural_speeds", "plan_synthetic", "read_synthetic_metadata",
    "render_video", "sample_spec", "tip_speed", "trajectory", "video_filename", "write_video",
]

REFERENCE_HEIGHT = 120   # the class table's speeds and sizes are in pixels of a 120-px-high frame
MIN_CYCLE_FRAMES = 28    # shortest elementary cycle at natural pace: >= 7 samples at pace 4
FORMAT_NAME = "pacekit-synthetic"
FORMAT_VERSION = 3       # the default format; bump whenever a change to this file changes the frames it draws
FORMAT_VERSIONS = (1, 2, 3)  # 1: small single objects (the first set); 2: made for the lesson (see "version 2");
#                              3: version 2 at twice the speed (V3_SPEED_FACTOR)
VIDEOS_DIR = "UCF-101"
SPLITS_DIR = "ucfTrainTestlist"
METADATA_FILE = "synthetic.json"
CLIPS_PER_GROUP = 4      # UCF101 cuts 4-7 clips from each long video ("group")
QUANTIZER = 3            # MPEG-4 constant quantiser: 2 is near-lossless, 31 the worst; 3 keeps textures
GOP_SIZE = 12

RngLike = Union[int, np.random.Generator, np.random.SeedSequence, Sequence[int]]


# ------------------------------------------------------------------------------------ unit paths
# A path maps the phase u (cycles, float array) to (x, y, r, a): the centre offset (x, y) and the tip
# radius change r, all in units of the motion's amplitude, and the object's extra rotation a (rad).
# Image axes: x to the right, y downwards.


def _tri(u):
    """Triangle wave: -1 at u = 0, +1 at u = 0.5, period 1, constant speed between the corners."""
    return 1.0 - 4.0 * np.abs(np.mod(u, 1.0) - 0.5)


def _soft_tri(u, k: float = 0.985):
    """Triangle wave with rounded turning points: 0 at u = 0, +1 at u = 0.25, period 1."""
    return np.arcsin(k * np.sin(2 * np.pi * u)) / np.arcsin(k)


def _zeros(u):
    return np.zeros_like(u, dtype=np.float64)


def _path_bounce(u, p):
    s = np.mod(2 * u, 1.0)                      # two bounces per cycle; s = 0 is the floor contact
    y = -4.0 * s * (1.0 - s)                    # free fall: a parabola between floor contacts
    x = p["dir"] * p["drift"] * _soft_tri(u)    # slow sideways drift, back and forth
    return x, y, _zeros(u), _zeros(u)


def _path_pendulum(u, p):
    theta = p["theta0"] * np.sin(2 * np.pi * u)  # small-angle swing; amplitude = string length
    return np.sin(theta), np.cos(theta) - 1.0, _zeros(u), _zeros(u)


def _path_orbit(u, p):
    w = 2 * np.pi * u
    return np.cos(w), p["dir"] * p["ellipticity"] * np.sin(w), _zeros(u), _zeros(u)


def _path_zoom(u, p):
    return _zeros(u), _zeros(u), np.sin(2 * np.pi * u), _zeros(u)


def _path_slide(u, p):
    s = _soft_tri(u)
    return math.cos(p["direction"]) * s, math.sin(p["direction"]) * s, _zeros(u), _zeros(u)


def _path_wave(u, p):
    x = p["dir"] * _soft_tri(u - 0.25)                 # across and back
    y = p["height"] * np.cos(2 * np.pi * 4 * u)        # two wavelengths each way, retraced
    return x, y, _zeros(u), _zeros(u)


def _path_jump(u, p):
    hop = np.floor(np.mod(u, 1.0) * 4)                 # 4 hops per cycle: 2 forwards, 2 back
    s = np.mod(4 * u, 1.0)
    f = np.clip((s - p["rest"]) / (1.0 - p["rest"]), 0.0, 1.0)   # rest on the ground, then fly
    x = np.where(hop < 2, -1.0 + hop + f, 1.0 - (hop - 2) - f)
    y = -4.0 * p["height"] * f * (1.0 - f)
    return p["dir"] * x, y, _zeros(u), _zeros(u)


def _path_spin(u, p):
    return _zeros(u), _zeros(u), np.ones_like(u, dtype=np.float64), p["dir"] * 2 * np.pi * u


def _path_zigzag(u, p):
    y = _soft_tri(u - 0.25)                             # down and back up
    x = p["width"] * _tri(4 * u)                        # sharp zigs, two each way
    return x, y, _zeros(u), _zeros(u)


def _path_shake(u, p):
    burst = np.sin(np.pi * np.mod(u, 1.0)) ** 2         # shake in bursts, still in between
    s = burst * np.sin(2 * np.pi * 3 * u)
    return math.cos(p["direction"]) * s, math.sin(p["direction"]) * s, _zeros(u), _zeros(u)


def _path_figure_eight(u, p):
    w = 2 * np.pi * u
    return np.sin(w), p["dir"] * p["height"] * np.sin(2 * w), _zeros(u), _zeros(u)


def _path_spiral(u, p):
    rho = 1.0 - p["depth"] * (0.5 - 0.5 * np.cos(2 * np.pi * u))   # in and back out
    w = p["dir"] * 2 * np.pi * 2 * u                                # two turns per cycle
    return rho * np.cos(w), rho * np.sin(w), _zeros(u), _zeros(u)


def _sign(rng):
    return float(rng.choice([-1.0, 1.0]))


@dataclass(frozen=True)
class MotionClass:
    """One action class: a periodic motion with its natural speed band.

    ``speed_range``: natural mean tip speed, px/frame at ``REFERENCE_HEIGHT`` (Sec. 3.1: pace 1).
    ``period_range``: frames per motion cycle at natural pace; ``cycles`` elementary cycles (bounces,
    swings, wiggles) make one motion cycle, each at least ``MIN_CYCLE_FRAMES`` long.
    """

    name: str
    speed_range: tuple[float, float]
    period_range: tuple[float, float]
    cycles: int
    path: Callable = field(repr=False, compare=False)
    sample_params: Callable = field(repr=False, compare=False)
    description: str = ""


MOTION_CLASSES: tuple[MotionClass, ...] = (
    MotionClass("Bounce", (2.0, 2.5), (68, 92), 2, _path_bounce,
                lambda r: {"dir": _sign(r), "drift": r.uniform(0.15, 0.4)},
                "a ball dropping and bouncing off the floor under gravity, drifting sideways"),
    MotionClass("PendulumSwing", (0.8, 1.0), (70, 100), 1, _path_pendulum,
                lambda r: {"theta0": r.uniform(0.6, 0.9)},
                "swinging on an arc below an unseen pivot, slowing at both ends"),
    MotionClass("Orbit", (1.2, 1.5), (56, 90), 1, _path_orbit,
                lambda r: {"dir": _sign(r), "ellipticity": r.uniform(0.7, 1.0)},
                "circling at constant speed"),
    MotionClass("Zoom", (0.45, 0.5625), (40, 64), 1, _path_zoom,
                lambda r: {},
                "staying in place while growing and shrinking"),
    MotionClass("Slide", (1.0, 1.25), (60, 100), 2, _path_slide,
                lambda r: {"direction": r.uniform(0, math.pi)},
                "sliding back and forth along a straight line at constant speed"),
    MotionClass("Wave", (1.4, 1.75), (128, 160), 4, _path_wave,
                lambda r: {"dir": _sign(r), "height": r.uniform(0.15, 0.25)},
                "travelling across and back along a wavy line"),
    MotionClass("Jump", (1.6, 2.0), (128, 160), 4, _path_jump,
                lambda r: {"dir": _sign(r), "height": r.uniform(0.45, 0.75), "rest": r.uniform(0.25, 0.35)},
                "hopping sideways, resting on the ground between hops"),
    MotionClass("Spin", (0.9, 1.125), (64, 100), 2, _path_spin,
                lambda r: {"dir": _sign(r)},
                "turning in place about its centre"),
    MotionClass("ZigZag", (1.8, 2.25), (128, 140), 4, _path_zigzag,
                lambda r: {"width": r.uniform(0.35, 0.5)},
                "zigzagging down and back up with sharp turns"),
    MotionClass("Shake", (0.6, 0.75), (84, 102), 3, _path_shake,
                lambda r: {"direction": r.uniform(0, math.pi)},
                "shaking in bursts, still in between"),
    MotionClass("FigureEight", (1.1, 1.375), (70, 100), 2, _path_figure_eight,
                lambda r: {"dir": _sign(r), "height": r.uniform(0.5, 0.7)},
                "tracing a figure eight"),
    MotionClass("Spiral", (1.5, 1.875), (72, 96), 2, _path_spiral,
                lambda r: {"dir": _sign(r), "depth": r.uniform(0.45, 0.65)},
                "circling while spiralling in and back out"),
)

SYNTHETIC_CLASSES: tuple[str, ...] = tuple(m.name for m in MOTION_CLASSES)

SHAPES = ("disc", "square", "triangle", "ring", "diamond", "cross")
FILLS = ("solid", "stripes", "two-tone")
BACKGROUNDS = ("gradient", "stripes", "checker", "noise")


# ------------------------------------------------------------------------------------ video specs


@dataclass
class VideoSpec:
    """Everything needed to draw one video; ``draw_video(spec)`` is a pure function of it.

    Motion (per video): ``speed`` is the natural mean tip speed in px/frame at ``REFERENCE_HEIGHT``
    (this video's pixels: ``speed * height / REFERENCE_HEIGHT``), ``period`` frames per motion cycle,
    ``amplitude`` in pixels, ``phase`` in cycles, ``anchor`` (x, y) in pixels, ``params`` the path's
    own parameters. Scene (shared by a group): object ``shape``, ``half_length`` (px, long half-axis),
    ``aspect`` (long / short axis), ``angle`` (rad), ``fill``, ``colors`` (two RGB triples),
    ``background`` and ``distractors`` (dicts of drawing parameters).
    """

    class_index: int
    width: int
    height: int
    num_frames: int
    speed: float
    period: float
    amplitude: float
    phase: float
    anchor: tuple[float, float]
    params: dict
    shape: str
    half_length: float
    aspect: float
    angle: float
    fill: str
    colors: tuple
    background: dict
    distractors: tuple = ()

    @property
    def motion(self) -> MotionClass:
        return MOTION_CLASSES[self.class_index]

    @property
    def scale(self) -> float:
        """Pixels of this video per pixel of the 120-px-high reference frame."""
        return self.height / REFERENCE_HEIGHT


def _rng(rng_or_seed: RngLike) -> np.random.Generator:
    if isinstance(rng_or_seed, np.random.Generator):
        return rng_or_seed
    return np.random.default_rng(rng_or_seed)


def _check_class_index(class_index: int) -> None:
    if not 0 <= int(class_index) < len(MOTION_CLASSES):
        raise ValueError(
            f"class_index={class_index} is out of range: pacekit's synthetic set has "
            f"{len(MOTION_CLASSES)} built-in motions (indices 0..{len(MOTION_CLASSES) - 1}: "
            f"{', '.join(SYNTHETIC_CLASSES)})"
        )


def _check_frame_size(width: int, height: int) -> None:
    if width < 16 or height < 16 or width % 2 or height % 2:
        raise ValueError(
            f"frame size {width}x{height} is not usable: width and height must be even (yuv420p "
            "halves the colour planes) and at least 16; e.g. 160x120 or 64x48"
        )


def _unit_path_length(motion: MotionClass, params: dict, samples: int = 4096) -> float:
    """Length of the tip's path over one cycle, in amplitude units (the tip of a rotating object
    sits at radius r; for every other motion it moves with the centre)."""
    u = np.linspace(0.0, 1.0, samples + 1)
    x, y, r, a = motion.path(u, params)
    tip = np.stack([x + r * np.cos(a), y + r * np.sin(a)], axis=-1)
    return float(np.linalg.norm(np.diff(tip, axis=0), axis=-1).sum())


def _random_color(rng, avoid: Sequence, min_distance: float = 110.0) -> tuple[int, int, int]:
    """A saturated colour at least ``min_distance`` (RGB Euclidean) from every colour in ``avoid``."""
    best, best_d = None, -1.0
    for _ in range(24):
        hue, sat, val = rng.uniform(0, 1), rng.uniform(0.55, 1.0), rng.uniform(0.35, 1.0)
        c = np.array(_hsv_to_rgb(hue, sat, val))
        d = min((float(np.linalg.norm(c - np.asarray(o, float))) for o in avoid), default=1e9)
        if d >= min_distance:
            return tuple(int(v) for v in c)
        if d > best_d:
            best, best_d = c, d
    return tuple(int(v) for v in best)


def _hsv_to_rgb(h: float, s: float, v: float) -> tuple[float, float, float]:
    i = int(h * 6) % 6
    f = h * 6 - math.floor(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    r, g, b = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return 255 * r, 255 * g, 255 * b


def _sample_background(rng, scale: float) -> dict:
    kind = str(rng.choice(BACKGROUNDS))
    base = rng.uniform(40, 215, size=3)
    other = np.clip(base + rng.uniform(-70, 70, size=3), 0, 255)   # moderate contrast
    bg = {"kind": kind, "colors": [base.round().tolist(), other.round().tolist()],
          "angle": float(rng.uniform(0, math.pi))}
    if kind == "stripes":
        bg["wavelength"] = float(rng.uniform(8, 30) * scale)
        bg["sharpness"] = float(rng.uniform(1, 6))
    elif kind == "checker":
        bg["cell"] = float(rng.uniform(6, 20) * scale)
    elif kind == "noise":
        bg["cell"] = float(rng.uniform(8, 24) * scale)
        bg["seed"] = int(rng.integers(2**31))
    return bg


def _sample_scene(class_index: int, rng, width: int, height: int, max_distractors: int) -> dict:
    """The look of a video, shared by all clips of a group: background, object, distractors."""
    scale = height / REFERENCE_HEIGHT
    background = _sample_background(rng, scale)
    # Spin needs a clearly elongated object to show its rotation; the others overlap that range.
    aspect = rng.uniform(1.8, 2.5) if MOTION_CLASSES[class_index].name == "Spin" else rng.uniform(1.0, 2.5)
    colors = (_random_color(rng, background["colors"]),)
    colors += (_random_color(rng, [colors[0]], min_distance=90.0),)
    distractors = []
    for _ in range(int(rng.integers(0, max_distractors + 1))):
        distractors.append({
            "shape": str(rng.choice(SHAPES)),
            "x": float(rng.uniform(0, width)), "y": float(rng.uniform(0, height)),
            "half_length": float(rng.uniform(5, 11) * scale), "aspect": float(rng.uniform(1.0, 2.0)),
            "angle": float(rng.uniform(0, math.pi)),
            "color": list(_random_color(rng, background["colors"] + [list(colors[0])], 60.0)),
        })
    return {
        "shape": str(rng.choice(SHAPES)), "half_length": float(rng.uniform(8, 14) * scale),
        "aspect": float(aspect), "angle": float(rng.uniform(0, 2 * math.pi)),
        "fill": str(rng.choice(FILLS)), "colors": colors, "background": background,
        "distractors": tuple(distractors),
    }


def _fit_amplitude(motion, params, amplitude, base, width, height, margin):
    """Largest amplitude <= ``amplitude`` whose path (plus object) fits the frame; and the extent
    (xmin, xmax, ymin, ymax) of the centre's path at that amplitude, in pixels."""
    u = np.linspace(0.0, 1.0, 1025)
    x, y, r, _ = motion.path(u, params)

    def reach(amp):  # the object's largest half-length along the path
        return base + amp * float(np.max(r)) + margin

    for _ in range(40):
        ex = reach(amplitude)
        if (amplitude * np.ptp(x) + 2 * ex <= width) and (amplitude * np.ptp(y) + 2 * ex <= height):
            break
        amplitude *= 0.95
    return amplitude, (amplitude * x.min(), amplitude * x.max(), amplitude * y.min(), amplitude * y.max())


def sample_spec(class_index: int, rng_or_seed: RngLike, width: int = 160, height: int = 120,
                num_frames: int = 75, scene_seed: Optional[RngLike] = None,
                max_distractors: int = 2) -> VideoSpec:
    """Draw the random parameters of one video of class ``class_index`` (0-based).

    The motion (speed, period, phase, position) comes from ``rng_or_seed``; the look (background,
    object, distractors) from ``scene_seed`` when given (clips of one group share it), else from the
    same generator. The amplitude follows from speed x period (one cycle's path length), and is
    shrunk, keeping the speed, in the rare case that the path does not fit the frame.
    """
    _check_class_index(class_index)
    _check_frame_size(width, height)
    if num_frames < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}")
    rng = _rng(rng_or_seed)
    motion = MOTION_CLASSES[class_index]
    scene = _sample_scene(class_index, rng if scene_seed is None else _rng(scene_seed), width, height,
                          max_distractors)
    scale = height / REFERENCE_HEIGHT

    speed = float(rng.uniform(*motion.speed_range))        # px/frame at REFERENCE_HEIGHT
    period = float(rng.uniform(*motion.period_range))      # frames per cycle
    params = motion.sample_params(rng)
    amplitude = speed * scale * period / _unit_path_length(motion, params)   # px

    half_length = scene["half_length"]
    if motion.name == "Zoom":      # the pulse must not shrink the object below 40 % of its size
        half_length = max(half_length, amplitude / 0.6)
    base = 0.0 if motion.name == "Spin" else half_length   # Spin's length is its amplitude
    fitted, (x0, x1, y0, y1) = _fit_amplitude(motion, params, amplitude, base, width, height, 1.0)
    if fitted < amplitude:
        period *= fitted / amplitude
        amplitude = fitted
    if motion.name == "Spin":
        half_length = amplitude
    reach = half_length + (amplitude if motion.name == "Zoom" else 0.0) + 1.0
    anchor = (float(rng.uniform(reach - x0, max(reach - x0, width - reach - x1))),
              float(rng.uniform(reach - y0, max(reach - y0, height - reach - y1))))
    return VideoSpec(
        class_index=int(class_index), width=int(width), height=int(height), num_frames=int(num_frames),
        speed=speed, period=float(period), amplitude=float(amplitude), phase=float(rng.uniform(0, 1)),
        anchor=anchor, params=params, shape=scene["shape"], half_length=float(half_length),
        aspect=scene["aspect"], angle=scene["angle"], fill=scene["fill"], colors=scene["colors"],
        background=scene["background"], distractors=scene["distractors"],
    )


# ------------------------------------------------------------------------------------ trajectories


def trajectory(spec: VideoSpec, t=None) -> dict:
    """The object's pose at frame times ``t`` (default ``0 .. num_frames - 1``; floats allowed).

    Returns float64 arrays of shape (len(t),): ``x``, ``y`` (centre, px), ``half_length`` (px, long
    half-axis), ``angle`` (rad); and ``tip`` (len(t), 2), the end of the long axis, whose mean
    per-frame displacement is the video's speed.
    """
    t = np.arange(spec.num_frames, dtype=np.float64) if t is None else np.asarray(t, dtype=np.float64)
    u = spec.phase + t / spec.period
    x, y, r, a = spec.motion.path(u, spec.params)
    amp = spec.amplitude
    if spec.motion.name == "Spin":
        half = amp * r
    else:
        half = spec.half_length + amp * r
    angle = spec.angle + a
    cx, cy = spec.anchor[0] + amp * x, spec.anchor[1] + amp * y
    tip = np.stack([cx + half * np.cos(angle), cy + half * np.sin(angle)], axis=-1)
    return {"x": cx, "y": cy, "half_length": half, "angle": angle, "tip": tip}


def tip_speed(traj: dict) -> float:
    """Mean per-frame displacement of the tip, px/frame, of a ``trajectory`` at consecutive frames."""
    return float(np.linalg.norm(np.diff(traj["tip"], axis=0), axis=-1).mean())


# ------------------------------------------------------------------------------------ drawing


def _shape_distance(shape: str, p, q):
    """Approximate signed distance (negative inside) to a unit shape, in normalised coordinates
    (p along the long axis, q across it, both divided by the half-axes)."""
    ap, aq = np.abs(p), np.abs(q)
    if shape == "disc":
        return np.sqrt(p * p + q * q) - 1.0
    if shape == "square":
        return np.maximum(ap, aq) - 1.0
    if shape == "diamond":
        return (ap + aq - 1.0) / math.sqrt(2.0)
    if shape == "ring":
        return np.abs(np.sqrt(p * p + q * q) - 0.72) - 0.28
    if shape == "cross":
        return np.minimum(np.maximum(ap - 1.0, aq - 0.38), np.maximum(ap - 0.38, aq - 1.0))
    if shape == "triangle":   # pointing along +p, vertices (1, 0), (-0.5, +-0.866)
        return np.maximum(-p - 0.5, (0.866 * p + 1.5 * aq - 0.866) / 1.732)
    raise ValueError(f"unknown shape {shape!r}; expected one of {SHAPES}")


def _object_box(cx: float, cy: float, half_length: float, width: int, height: int):
    """(row slice, column slice) of the frame that can hold an object of that size, or None."""
    reach = half_length + 2.0
    x0, x1 = max(int(cx - reach), 0), min(int(cx + reach) + 2, width)
    y0, y1 = max(int(cy - reach), 0), min(int(cy + reach) + 2, height)
    if x0 >= x1 or y0 >= y1:
        return None
    return slice(y0, y1), slice(x0, x1)


def _stamp(region, gx, gy, shape, cx, cy, half_length, aspect, angle, fill, colors) -> None:
    """Blend one anti-aliased shape into ``region`` (h, w, 3) float32, in place.

    ``gx``, ``gy`` (h, w) are the frame coordinates of the region's pixel centres.
    """
    dx, dy = gx - cx, gy - cy
    c, s = math.cos(angle), math.sin(angle)
    minor = half_length / aspect
    p = (dx * c + dy * s) / half_length
    q = (-dx * s + dy * c) / minor
    # Distance in pixels (approximately), so edges stay one pixel soft at every size.
    alpha = np.clip(0.5 - _shape_distance(shape, p, q) * minor, 0.0, 1.0)[..., None]   # (h, w, 1)
    c0 = np.asarray(colors[0], np.float32)
    if fill == "solid":
        color = c0
    else:
        c1 = np.asarray(colors[1], np.float32)
        second = (np.sin(3 * np.pi * p) > 0) if fill == "stripes" else (q > 0)   # painted on the object
        color = np.where(second[..., None], c1, c0)
    region += alpha * (color - region)


def _background(spec_bg: dict, gx, gy) -> np.ndarray:
    """The static background (H, W, 3) float32."""
    c0, c1 = (np.asarray(c, np.float32) for c in spec_bg["colors"])
    h, w = gx.shape
    ca, sa = math.cos(spec_bg["angle"]), math.sin(spec_bg["angle"])
    along = gx * ca + gy * sa          # (H, W) coordinate along the pattern's direction
    across = -gx * sa + gy * ca
    kind = spec_bg["kind"]
    if kind == "gradient":
        m = (along - along.min()) / max(float(np.ptp(along)), 1e-6)
    elif kind == "stripes":
        m = 0.5 + 0.5 * np.tanh(spec_bg["sharpness"] * np.sin(2 * np.pi * along / spec_bg["wavelength"]))
    elif kind == "checker":
        cell = spec_bg["cell"]
        m = (np.floor(along / cell) + np.floor(across / cell)) % 2
    elif kind == "noise":     # smooth value noise: a coarse random grid, bilinearly upsampled
        cell = spec_bg["cell"]
        gh, gw = int(h / cell) + 2, int(w / cell) + 2
        grid = np.random.default_rng(spec_bg["seed"]).uniform(0, 1, size=(gh, gw)).astype(np.float32)
        fy, fx = np.arange(h) / cell, np.arange(w) / cell
        iy, ix = fy.astype(int), fx.astype(int)
        ty, tx = (fy - iy)[:, None], (fx - ix)[None, :]
        top = grid[iy][:, ix] * (1 - tx) + grid[iy][:, ix + 1] * tx
        bottom = grid[iy + 1][:, ix] * (1 - tx) + grid[iy + 1][:, ix + 1] * tx
        m = top * (1 - ty) + bottom * ty
    else:
        raise ValueError(f"unknown background kind {kind!r}; expected one of {BACKGROUNDS}")
    return (c0 + m[..., None].astype(np.float32) * (c1 - c0)).astype(np.float32)


def draw_video(spec: VideoSpec) -> np.ndarray:
    """Draw the frames of ``spec``: (T, H, W, 3) uint8, RGB, T = ``spec.num_frames``."""
    gy, gx = np.mgrid[0:spec.height, 0:spec.width].astype(np.float32) + 0.5   # (H, W) pixel centres
    canvas = _background(spec.background, gx, gy)                                 # (H, W, 3) float32
    for d in spec.distractors:
        box = _object_box(d["x"], d["y"], d["half_length"], spec.width, spec.height)
        if box is not None:
            _stamp(canvas[box], gx[box], gy[box], d["shape"], d["x"], d["y"], d["half_length"],
                   d["aspect"], d["angle"], "solid", (d["color"],))
    background = np.round(canvas).clip(0, 255).astype(np.uint8)
    traj = trajectory(spec)
    frames = np.empty((spec.num_frames, spec.height, spec.width, 3), np.uint8)   # (T, H, W, 3)
    for i in range(spec.num_frames):
        # Start from the uint8 background and redraw only the object's box: cheap per frame.
        frames[i] = background
        cx, cy, half = float(traj["x"][i]), float(traj["y"][i]), float(traj["half_length"][i])
        box = _object_box(cx, cy, half, spec.width, spec.height)
        if box is None:
            continue
        region = canvas[box].copy()
        _stamp(region, gx[box], gy[box], spec.shape, cx, cy, half, spec.aspect,
               float(traj["angle"][i]), spec.fill, spec.colors)
        frames[i][box] = np.round(region).clip(0, 255).astype(np.uint8)
    return frames


def render_video(class_index: int, rng_or_seed: RngLike, width: int = 160, height: int = 120,
                 num_frames: int = 75, scene_seed: Optional[RngLike] = None, version: int = 1) -> np.ndarray:
    """One random video of class ``class_index`` (0-based): (T, H, W, 3) uint8 RGB at natural pace.

    ``render_video(c, s)`` is ``draw_video(sample_spec(c, s))`` (format version 1, the default here);
    ``version=2`` or ``3`` draws ``draw_figure_video(sample_figure_spec(c, s, version=...))``'s frames (without the masks;
    ``render_figure_video`` gives both). The same seed gives the same frames.
    """
    if int(version) in (2, 3):
        return render_figure_video(class_index, rng_or_seed, width, height, num_frames, scene_seed, version)[0]
    _check_version(version)
    return draw_video(sample_spec(class_index, rng_or_seed, width, height, num_frames, scene_seed))


# ------------------------------------------------------------------------------------ version 2
# Format version 2, "made for the lesson": a small RGB network learns pace from it in minutes.
#
# * Movers are large and structured: textured bodies that roll or spin, a two-part articulated arm,
#   walkers with two-part legs, a caterpillar, a flapping flyer; each covers 4-11 % of the frame
#   (about 5-9 % on average), so they survive a 56/112-pixel crop.
# * Each class has one natural speed (mean displacement per frame of the mover's centre, px/frame at
#   a 120-px height); the ten speeds are log-spaced over 4x (0.6 .. 2.4), assigned to the classes in a
#   mixed order, and a video's speed is its class speed x U(0.94, 1.06), so neighbouring classes'
#   bands never overlap and a slow class at pace 4 moves like a fast one at pace 1: the pace is only
#   known once the motion (hence its natural speed) is recognised.
# * Distractors are textured shapes of the movers' sizes and textures that never move; backgrounds are
#   low-contrast; every frame gets its own small brightness / contrast / saturation change (the same
#   for the whole frame), so frame differences alone do not locate the mover.
# * Beside every video ``<name>.avi`` lies ``<name>.masks.npz``: the mover's ground-truth mask per frame
#   (see ``load_mover_masks``).

MASK_SCALE = 2          # masks are stored at 1/MASK_SCALE of the frame size (block coverage >= 1/2)
MASK_SUFFIX = ".masks.npz"
V2_SPEEDS = tuple(0.6 * 4.0 ** (k / 9) for k in range(10))   # log-spaced, 0.6 .. 2.4 (x4)
V2_SPEED_JITTER = (0.94, 1.06)                                # per video, around the class speed
V2_AREA_RANGE = (0.05, 0.085)                                  # target mean mask area / frame area
TEXTURES = ("stripes", "checker", "rings", "two-tone")


def _v2_path_bounce(u, p):
    s = np.mod(2 * u, 1.0)
    return p["dir"] * p["drift"] * _soft_tri(u), -4.0 * s * (1.0 - s)


def _v2_path_pendulum(u, p):
    th = p["theta0"] * np.sin(2 * np.pi * u)
    ph = p["bend"] * np.sin(2 * np.pi * u - 0.9)      # the lower arm lags behind the upper one
    return 0.5 * np.sin(th) + 0.5 * np.sin(th + ph), 0.5 * np.cos(th) + 0.5 * np.cos(th + ph) - 1.0


def _v2_path_orbit(u, p):
    w = 2 * np.pi * u
    return np.cos(w), p["dir"] * p["ellipticity"] * np.sin(w)


def _v2_path_line(u, p):
    s = _soft_tri(u)
    return math.cos(p["direction"]) * s, math.sin(p["direction"]) * s


def _v2_path_wave(u, p):
    return p["dir"] * _soft_tri(u - 0.25), p["height"] * np.cos(2 * np.pi * 2 * u)


def _v2_path_figure_eight(u, p):
    w = 2 * np.pi * u
    return np.sin(w), p["dir"] * p["height"] * np.sin(2 * w)


def _v2_path_zigzag(u, p):
    return p["width"] * _soft_tri(4 * u, 0.9), _soft_tri(u - 0.25)


def _v2_path_crawl(u, p):
    return p["dir"] * _soft_tri(u - 0.25), 0.08 * np.sin(2 * np.pi * 4 * u)


@dataclass(frozen=True)
class FigureClass:
    """One version-2 action class: a mover (``body``) following a periodic path at a natural speed.

    ``speed``: natural mean speed of the mover's centre, px/frame at ``REFERENCE_HEIGHT``;
    ``period_range``: frames per motion cycle at natural pace, ``cycles`` elementary cycles in each.
    """

    name: str
    speed: float
    period_range: tuple[float, float]
    cycles: int
    body: str
    path: Callable = field(repr=False, compare=False)
    sample_params: Callable = field(repr=False, compare=False)
    description: str = ""

    @property
    def speed_range(self) -> tuple[float, float]:
        return (self.speed * V2_SPEED_JITTER[0], self.speed * V2_SPEED_JITTER[1])


_S = V2_SPEEDS
FIGURE_CLASSES: tuple[FigureClass, ...] = (
    FigureClass("Bounce", _S[7], (70, 96), 2, "ball", _v2_path_bounce,
                lambda r: {"dir": _sign(r), "drift": r.uniform(0.3, 0.5)},
                "a textured ball hopping along, rolling as it goes"),
    FigureClass("PendulumSwing", _S[2], (130, 160), 1, "arm", _v2_path_pendulum,
                lambda r: {"theta0": r.uniform(0.55, 0.8), "bend": r.uniform(0.3, 0.5)},
                "a two-part arm with a weight, swinging from a pivot"),
    FigureClass("Orbit", _S[5], (70, 100), 1, "ball", _v2_path_orbit,
                lambda r: {"dir": _sign(r), "ellipticity": r.uniform(0.6, 0.8)},
                "a textured body circling while it spins"),
    FigureClass("Walk", _S[1], (120, 150), 4, "walker", _v2_path_line,
                lambda r: {"direction": r.uniform(-0.15, 0.15)},
                "a figure walking back and forth, two-part legs striding"),
    FigureClass("Roll", _S[9], (60, 72), 2, "wheel", _v2_path_line,
                lambda r: {"direction": r.uniform(-0.3, 0.3)},
                "a wheel rolling back and forth"),
    FigureClass("Wave", _S[3], (110, 140), 2, "waver", _v2_path_wave,
                lambda r: {"dir": _sign(r), "height": r.uniform(0.12, 0.2)},
                "a figure drifting across and back, waving a two-part arm"),
    FigureClass("Slide", _S[4], (80, 110), 2, "block", _v2_path_line,
                lambda r: {"direction": r.uniform(-0.5, 0.5)},
                "a textured block sliding back and forth without turning"),
    FigureClass("FigureEight", _S[6], (80, 110), 2, "flyer", _v2_path_figure_eight,
                lambda r: {"dir": _sign(r), "height": r.uniform(0.5, 0.7)},
                "a flyer flapping two-part wings along a figure eight"),
    FigureClass("ZigZag", _S[8], (112, 140), 4, "ball", _v2_path_zigzag,
                lambda r: {"width": r.uniform(0.3, 0.45)},
                "a spinning body zigzagging down and back up"),
    FigureClass("Crawl", _S[0], (112, 140), 4, "caterpillar", _v2_path_crawl,
                lambda r: {"dir": _sign(r)},
                "a caterpillar of three segments crawling back and forth, its body rippling"),
)


#: Version 3's speed factor over version 2: each class's natural speed x2 and its period range / 2, so
#: the mover follows the same path twice as fast (the elementary cycles of the fastest classes, 15-18
#: frames, then give 4 samples per cycle at pace 4).
V3_SPEED_FACTOR = 2.0


#: The ratio of the fastest to the slowest class speed of versions 2 and 3 (4x): the ``speed_spread`` a set
#: drawn without one has.
NATIVE_SPEED_SPREAD = max(V2_SPEEDS) / min(V2_SPEEDS)


def check_speed_spread(speed_spread) -> Optional[float]:
    """``speed_spread`` as a float >= 1 (None stays None: the classes' own speeds); a clear error otherwise."""
    if speed_spread is None:
        return None
    try:
        value = float(speed_spread)
    except (TypeError, ValueError):
        value = float("nan")
    if not (math.isfinite(value) and value >= 1.0):
        raise ValueError(f"speed_spread={speed_spread!r}: the ratio of the fastest to the slowest action's natural "
                         f"speed must be a number >= 1 (1: every action at one speed; {NATIVE_SPEED_SPREAD:g}: the "
                         "classes' own speeds, the same as leaving it unset)")
    return value


def figure_classes(version: int = FORMAT_VERSION, speed_spread: Optional[float] = None) -> tuple[FigureClass, ...]:
    """The action classes of format version 2 or 3 (version 3: :data:`V3_SPEED_FACTOR` times as fast).

    ``speed_spread`` (>= 1) pulls the classes' natural speeds toward their geometric mean ``g`` (or pushes them
    apart) so that the fastest is ``speed_spread`` times the slowest: ``s' = g (s / g) ** k`` with
    ``k = log(speed_spread) / log(NATIVE_SPEED_SPREAD)``, each period range scaled by ``s / s'`` so the mover
    follows the same path, only faster or slower. The order of the speeds, the paths, bodies and looks stay.
    ``speed_spread=1`` puts every action at one speed ``g``: the pace can then be read from the speed alone,
    without recognising the action (a companion set for pretraining; see ``pacekit.quickstart``). None: the
    classes' own speeds.
    """
    version = _check_version(version)
    if version == 1:
        raise ValueError("version 1 of the synthetic set has no figure classes (see MOTION_CLASSES)")
    classes = FIGURE_CLASSES
    if version == 3:
        f = V3_SPEED_FACTOR
        classes = tuple(dataclasses.replace(m, speed=m.speed * f,
                                            period_range=(m.period_range[0] / f, m.period_range[1] / f))
                        for m in classes)
    spread = check_speed_spread(speed_spread)
    if spread is None:
        return classes
    k = math.log(spread) / math.log(NATIVE_SPEED_SPREAD)
    g = math.exp(float(np.mean([math.log(m.speed) for m in classes])))
    pulled = []
    for m in classes:
        speed = g * (m.speed / g) ** k
        ratio = m.speed / speed
        pulled.append(dataclasses.replace(m, speed=speed,
                                          period_range=(m.period_range[0] * ratio, m.period_range[1] * ratio)))
    return tuple(pulled)


def _check_version(version) -> int:
    if version not in FORMAT_VERSIONS:
        raise ValueError(f"version={version!r}: pacekit's synthetic set has format versions "
                         f"{', '.join(map(str, FORMAT_VERSIONS))} ({FORMAT_VERSION}, the default, is made for the lesson)")
    return int(version)


def synthetic_classes(version: int = FORMAT_VERSION) -> tuple[str, ...]:
    """The class names of a format version, in label order (version 1: ``SYNTHETIC_CLASSES``)."""
    _check_version(version)
    return SYNTHETIC_CLASSES if version == 1 else tuple(m.name for m in FIGURE_CLASSES)


@dataclass
class FigureSpec:
    """Everything needed to draw one version-2 video; ``draw_figure_video(spec)`` is a pure function of it.

    ``speed`` (px/frame at ``REFERENCE_HEIGHT``), ``period`` (frames per cycle), ``amplitude`` (px),
    ``phase`` (cycles), ``anchor`` (px), ``params`` (the path's own); ``size`` is the mover's body radius
    in px, ``look`` its textures, ``background``, ``distractors`` (static parts), ``jitter`` the per-frame
    (brightness, contrast, saturation) factors, (T, 3).
    """

    class_index: int
    width: int
    height: int
    num_frames: int
    speed: float
    period: float
    amplitude: float
    phase: float
    anchor: tuple[float, float]
    params: dict
    size: float
    spin_dir: float
    look: dict
    background: dict
    distractors: tuple
    jitter: np.ndarray = field(repr=False)

    @property
    def motion(self) -> FigureClass:
        return FIGURE_CLASSES[self.class_index]

    @property
    def scale(self) -> float:
        return self.height / REFERENCE_HEIGHT


# A part is a dict: {"kind": "ellipse", "c": (x, y), "a": half-length, "b": half-width, "angle": rad,
# "tex": index into look["textures"]} or {"kind": "capsule", "p0": (x, y), "p1": (x, y), "r": radius, "tex"}.

def _ellipse(c, a, b, angle, tex):
    return {"kind": "ellipse", "c": (float(c[0]), float(c[1])), "a": float(a), "b": float(b),
            "angle": float(angle), "tex": tex}


def _capsule(p0, p1, r, tex):
    return {"kind": "capsule", "p0": (float(p0[0]), float(p0[1])), "p1": (float(p1[0]), float(p1[1])),
            "r": float(r), "tex": tex}


def _limb(root, angle1, angle2, length, r, tex):
    """A two-part limb from ``root``: upper part at ``angle1`` (rad, 0 = down), lower at ``angle1 + angle2``."""
    knee = (root[0] + length * math.sin(angle1), root[1] + length * math.cos(angle1))
    foot = (knee[0] + length * math.sin(angle1 + angle2), knee[1] + length * math.cos(angle1 + angle2))
    return [_capsule(root, knee, r, tex), _capsule(knee, foot, r * 0.85, tex)], foot


def _figure_parts(spec: FigureSpec, cx: float, cy: float, u: float, rot: float) -> list:
    """The mover's parts at centre (cx, cy), phase ``u`` (cycles) and rolling angle ``rot`` (rad)."""
    R, body, w = spec.size, spec.motion.body, 2 * math.pi * u
    if body == "ball":
        return [_ellipse((cx, cy), R, R * spec.look["aspect"], rot, 0)]
    if body == "wheel":
        return [_ellipse((cx, cy), R, R, rot, 0), _ellipse((cx, cy), 0.35 * R, 0.35 * R, rot, 1)]
    if body == "block":
        return [_ellipse((cx, cy), 1.25 * R, 0.8 * R, spec.look["angle"], 0)]
    if body == "arm":   # the centre is the weight; the arm hangs from the pivot, one amplitude above the anchor
        p, (px, py) = spec.params, (spec.anchor[0], spec.anchor[1] - spec.amplitude)
        th = p["theta0"] * math.sin(w)
        ph = p["bend"] * math.sin(w - 0.9)
        half = 0.5 * spec.amplitude
        parts, _ = _limb((px, py), th, ph, half, 0.28 * R, 1)
        return parts + [_ellipse((cx, cy), 0.7 * R, 0.7 * R, th + ph, 0)]
    if body in ("walker", "waver"):
        stride = 0.35 * math.sin(spec.look["steps"] * w)
        torso = _ellipse((cx, cy - 0.2 * R), 0.75 * R, 0.5 * R, math.pi / 2, 0)
        head = _ellipse((cx, cy - 1.25 * R), 0.38 * R, 0.38 * R, 0.0, 1)
        hip = (cx, cy + 0.35 * R)
        leg1, _ = _limb(hip, stride, 0.35 + 0.3 * max(0.0, math.sin(spec.look["steps"] * w)), 0.55 * R, 0.2 * R, 1)
        leg2, _ = _limb(hip, -stride, 0.35 + 0.3 * max(0.0, -math.sin(spec.look["steps"] * w)), 0.55 * R,
                        0.2 * R, 1)
        parts = leg1 + leg2 + [torso, head]
        if body == "waver":
            wave = math.sin(3 * w)
            arm, _ = _limb((cx + 0.3 * R, cy - 0.6 * R), math.pi * (0.75 + 0.15 * wave), 0.7 * wave, 0.6 * R,
                           0.17 * R, 1)
            parts += arm
        return parts
    if body == "flyer":
        flap = 0.6 * math.sin(spec.look["steps"] * w)
        parts = [_ellipse((cx, cy), 0.9 * R, 0.5 * R, 0.0, 0)]
        for side in (-1.0, 1.0):
            wing, _ = _limb((cx + side * 0.5 * R, cy), side * (math.pi / 2 + flap), side * 0.5 * flap, 0.6 * R,
                            0.2 * R, 1)
            parts += wing
        return parts
    if body == "caterpillar":
        parts = []
        for k in (-1, 0, 1):
            ripple = 0.25 * R * math.sin(spec.look["steps"] * w - 1.2 * k)
            parts.append(_ellipse((cx + k * 0.8 * R, cy + ripple), 0.55 * R, 0.5 * R, 0.0, k % 2))
        return parts
    raise ValueError(f"unknown body {body!r}")


def _part_box(part) -> tuple[float, float, float, float]:
    if part["kind"] == "ellipse":
        (x, y), a = part["c"], part["a"]
        return x - a, x + a, y - a, y + a
    (x0, y0), (x1, y1), r = part["p0"], part["p1"], part["r"]
    return min(x0, x1) - r, max(x0, x1) + r, min(y0, y1) - r, max(y0, y1) + r


def _part_sdf(part, gx, gy):
    """Signed distance in px (negative inside; approximate for ellipses) and local coordinates (p, q)."""
    if part["kind"] == "ellipse":
        (x, y), a, b, ang = part["c"], part["a"], part["b"], part["angle"]
        c, s = math.cos(ang), math.sin(ang)
        dx, dy = gx - x, gy - y
        p, q = (dx * c + dy * s), (-dx * s + dy * c)
        return (np.sqrt((p / a) ** 2 + (q / b) ** 2) - 1.0) * b, p, q
    (x0, y0), (x1, y1), r = part["p0"], part["p1"], part["r"]
    vx, vy = x1 - x0, y1 - y0
    ln = max(math.hypot(vx, vy), 1e-6)
    ux, uy = vx / ln, vy / ln
    dx, dy = gx - x0, gy - y0
    p = dx * ux + dy * uy
    q = -dx * uy + dy * ux
    t = np.clip(p, 0.0, ln)
    return np.sqrt((p - t) ** 2 + q * q) - r, p, q


def _texture_color(tex: dict, p, q):
    c0, c1 = np.asarray(tex["colors"][0], np.float32), np.asarray(tex["colors"][1], np.float32)
    f = tex["freq"]
    kind = tex["kind"]
    if kind == "stripes":
        second = np.sin(f * p) > 0
    elif kind == "checker":
        second = np.sin(f * p) * np.sin(f * q) > 0
    elif kind == "rings":
        second = np.sin(f * np.sqrt(p * p + q * q)) > 0
    else:   # two-tone: half and half
        second = q > 0
    return np.where(second[..., None], c1, c0)


def _draw_parts(canvas, gx, gy, parts, textures, mask=None) -> None:
    """Blend ``parts`` into ``canvas`` (H, W, 3) float32 in place; OR their coverage into ``mask``."""
    height, width = canvas.shape[:2]
    for part in parts:
        x0, x1, y0, y1 = _part_box(part)
        c0, c1 = max(int(x0) - 1, 0), min(int(x1) + 3, width)
        r0, r1 = max(int(y0) - 1, 0), min(int(y1) + 3, height)
        if c0 >= c1 or r0 >= r1:
            continue
        sub = (slice(r0, r1), slice(c0, c1))
        d, p, q = _part_sdf(part, gx[sub], gy[sub])
        alpha = np.clip(0.5 - d, 0.0, 1.0)
        color = _texture_color(textures[part["tex"]], p, q)
        region = canvas[sub]
        region += alpha[..., None] * (color - region)
        if mask is not None:
            mask[sub] |= alpha >= 0.5


def _v2_texture(rng, avoid, scale) -> dict:
    c0 = _random_color(rng, avoid, 90.0)
    c1 = _random_color(rng, [c0], 90.0)
    return {"kind": str(rng.choice(TEXTURES)), "colors": [list(c0), list(c1)],
            "freq": float(rng.uniform(0.5, 0.9) / scale)}


def _v2_background(rng, scale) -> dict:
    base = rng.uniform(70, 190, size=3)
    other = np.clip(base + rng.uniform(-28, 28, size=3), 0, 255)     # low contrast
    kind = str(rng.choice(("gradient", "stripes", "noise")))
    bg = {"kind": kind, "colors": [base.round().tolist(), other.round().tolist()],
          "angle": float(rng.uniform(0, math.pi))}
    if kind == "stripes":
        bg["wavelength"] = float(rng.uniform(10, 30) * scale)
        bg["sharpness"] = float(rng.uniform(1, 4))
    elif kind == "noise":
        bg["cell"] = float(rng.uniform(6, 20) * scale)
        bg["seed"] = int(rng.integers(2**31))
    return bg


def _v2_area_coefficient(body: str) -> float:
    """Mask area of the body at size R = 1 (px^2), roughly, to size it to a target area."""
    return {"ball": math.pi * 0.85, "wheel": math.pi, "block": math.pi * 1.0, "arm": 2.6,
            "walker": 2.16, "waver": 2.56, "flyer": 2.0, "caterpillar": 2.24}[body]


def _v2_reach(spec_like_body: str, R: float, amplitude: float) -> float:
    """How far (px) the mover's parts reach from its centre, at most."""
    return {"ball": R, "wheel": R, "block": 1.25 * R, "arm": 0.75 * R, "walker": 1.65 * R, "waver": 1.7 * R,
            "flyer": 1.75 * R, "caterpillar": 1.4 * R}[spec_like_body] + 1.0


def sample_figure_spec(class_index: int, rng_or_seed: RngLike, width: int = 160, height: int = 120,
                       num_frames: int = 75, scene_seed: Optional[RngLike] = None,
                       max_distractors: int = 3, version: int = FORMAT_VERSION,
                       speed_spread: Optional[float] = None) -> FigureSpec:
    """Draw the random parameters of one version-2 or -3 video of class ``class_index`` (0-based).

    The motion (speed, period, phase, position, brightness flicker) comes from ``rng_or_seed``; the
    look (mover size and textures, background, distractors) from ``scene_seed`` when given.
    ``speed_spread``: the class speeds of :func:`figure_classes`; the same seeds draw the same video
    with only its speed and period changed (the random draws are the same).
    """
    if not 0 <= int(class_index) < len(FIGURE_CLASSES):
        raise ValueError(f"class_index={class_index} is out of range: versions 2 and 3 of pacekit's synthetic set have "
                         f"{len(FIGURE_CLASSES)} motions (indices 0..{len(FIGURE_CLASSES) - 1})")
    _check_frame_size(width, height)
    if num_frames < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}")
    rng = _rng(rng_or_seed)
    srng = rng if scene_seed is None else _rng(scene_seed)
    motion = figure_classes(version, speed_spread)[class_index]
    scale = height / REFERENCE_HEIGHT

    # The look (shared by a group).
    background = _v2_background(srng, scale)
    textures = [_v2_texture(srng, background["colors"], scale) for _ in range(2)]
    area = srng.uniform(*V2_AREA_RANGE) * width * height
    size = math.sqrt(area / _v2_area_coefficient(motion.body))
    look = {"textures": textures, "aspect": float(srng.uniform(0.75, 0.95)), "angle": float(srng.uniform(-0.5, 0.5)),
            "steps": int(srng.integers(2, 4))}
    n_distract = int(srng.integers(1, max_distractors + 1))
    distract_draws = [(float(srng.uniform(0.5, 0.9)), float(srng.uniform(0.5, 1.0)), float(srng.uniform(0, math.pi)),
                       _v2_texture(srng, background["colors"], scale)) for _ in range(n_distract)]
    candidates = srng.uniform(0, 1, size=(24, 2))     # positions tried in turn, off the mover's path

    # The motion (per clip).
    speed = float(motion.speed * rng.uniform(*V2_SPEED_JITTER))
    period = float(rng.uniform(*motion.period_range))
    params = motion.sample_params(rng)
    u = np.linspace(0.0, 1.0, 4097)
    x, y = motion.path(u, params)
    unit_length = float(np.hypot(np.diff(x), np.diff(y)).sum())
    amplitude = speed * scale * period / unit_length
    reach = _v2_reach(motion.body, size, amplitude)
    for _ in range(60):   # shrink the path (and the period with it, keeping the speed) until it fits
        fits = amplitude * np.ptp(x) + 2 * reach <= width and amplitude * np.ptp(y) + 2 * reach <= height
        if motion.body == "arm":
            fits = fits and amplitude * np.ptp(x) + 2 * reach <= width and amplitude + 2 * reach <= height
        if fits:
            break
        amplitude *= 0.95
        period *= 0.95
    x0, x1, y0, y1 = amplitude * x.min(), amplitude * x.max(), amplitude * y.min(), amplitude * y.max()
    if motion.body == "arm":   # the pivot must be in the frame, above the weight
        y0 = min(y0, -amplitude)
    anchor = (float(rng.uniform(reach - x0, max(reach - x0, width - reach - x1))),
              float(rng.uniform(reach - y0, max(reach - y0, height - reach - y1))))
    phase = float(rng.uniform(0, 1))
    # Per-frame photometric change: smooth-ish random walk around 1, the same for the whole frame.
    jitter = np.stack([1.0 + 0.08 * np.tanh(np.cumsum(rng.normal(0, 0.35, num_frames)) / 3),
                       1.0 + 0.12 * np.tanh(np.cumsum(rng.normal(0, 0.35, num_frames)) / 3),
                       1.0 + 0.2 * np.tanh(np.cumsum(rng.normal(0, 0.35, num_frames)) / 3)], axis=1)
    spec = FigureSpec(class_index=int(class_index), width=int(width), height=int(height),
                      num_frames=int(num_frames), speed=speed, period=period, amplitude=float(amplitude),
                      phase=phase, anchor=anchor, params=params, size=float(size), spin_dir=_sign(rng),
                      look=look, background=background, distractors=(), jitter=jitter.astype(np.float32))

    # Distractors: static, sized and textured like movers, placed off the mover's swept box.
    traj = figure_trajectory(spec, np.linspace(0, period, 96))
    path = np.stack([traj["x"], traj["y"]], axis=1)              # (n, 2) centres over one cycle
    if motion.body == "arm":                                      # the arm reaches up to the pivot
        pivot = np.asarray((anchor[0], anchor[1] - amplitude))
        path = np.concatenate([pivot + (path - pivot) * k for k in np.linspace(0.0, 1.0, 6)])
    distractors, tried = [], iter(candidates)
    for fa, fb, ang, tex in distract_draws:
        a = fa * size
        b = fb * a
        for fx, fy in tried:
            cx, cy = a + 1 + fx * max(width - 2 * a - 2, 0), a + 1 + fy * max(height - 2 * a - 2, 0)
            if np.hypot(path[:, 0] - cx, path[:, 1] - cy).min() > reach + a + 2:
                distractors.append({"c": (float(cx), float(cy)), "a": a, "b": b, "angle": ang, "texture": tex})
                break
    spec.distractors = tuple(distractors)
    return spec


def figure_trajectory(spec: FigureSpec, t=None) -> dict:
    """The mover's centre at frame times ``t`` (default ``0 .. num_frames - 1``): ``x``, ``y`` (px),
    ``u`` (phase, cycles) and ``rot`` (rad, the rolling or spinning angle of round bodies)."""
    t = np.arange(spec.num_frames, dtype=np.float64) if t is None else np.asarray(t, dtype=np.float64)
    u = spec.phase + t / spec.period
    x, y = spec.motion.path(u, spec.params)
    cx, cy = spec.anchor[0] + spec.amplitude * x, spec.anchor[1] + spec.amplitude * y
    body = spec.motion.body
    if body == "wheel" or (body == "ball" and spec.motion.name == "Bounce"):
        # Rolling: the angle follows the horizontal distance travelled (both ways), over the radius.
        rot = spec.amplitude * x / max(spec.size, 1e-6)
    else:   # spinning at a rate tied to the motion's: two turns per cycle
        rot = spec.spin_dir * 2 * np.pi * 2 * u
    return {"x": cx, "y": cy, "u": u, "rot": rot}


def draw_figure_video(spec: FigureSpec) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``spec``: frames (T, H, W, 3) uint8 RGB and the mover's masks (T, H // MASK_SCALE,
    W // MASK_SCALE) bool (a mask pixel is set when the mover covers at least half of its block)."""
    H, W = spec.height, spec.width
    gy, gx = np.mgrid[0:H, 0:W].astype(np.float32) + 0.5
    canvas = _background(spec.background, gx, gy)
    textures = [d["texture"] for d in spec.distractors]
    _draw_parts(canvas, gx, gy, [_ellipse(d["c"], d["a"], d["b"], d["angle"], i)
                                 for i, d in enumerate(spec.distractors)], textures)
    traj = figure_trajectory(spec)
    frames = np.empty((spec.num_frames, H, W, 3), np.uint8)
    hm, wm = H // MASK_SCALE, W // MASK_SCALE
    masks = np.empty((spec.num_frames, hm, wm), bool)
    full = np.zeros((H, W), bool)
    full8 = full.view(np.uint8)
    buf = np.empty_like(canvas)
    half_block = (MASK_SCALE * MASK_SCALE + 1) // 2
    for i in range(spec.num_frames):
        buf[:] = canvas
        full[:] = False
        parts = _figure_parts(spec, float(traj["x"][i]), float(traj["y"][i]), float(traj["u"][i]),
                              float(traj["rot"][i]))
        _draw_parts(buf, gx, gy, parts, spec.look["textures"], full)
        cover = full8[0:hm * MASK_SCALE:MASK_SCALE, 0:wm * MASK_SCALE:MASK_SCALE].copy()
        for dy in range(MASK_SCALE):
            for dx in range(MASK_SCALE):
                if dy or dx:
                    cover += full8[dy:hm * MASK_SCALE:MASK_SCALE, dx:wm * MASK_SCALE:MASK_SCALE]
        masks[i] = cover >= half_block
        # Brightness b, contrast c, saturation s for the whole frame, as one affine colour map:
        # saturation mixes each pixel with its grey, contrast scales around the frame's mean.
        b, c, s = (float(v) for v in spec.jitter[i])
        mix = b * c * (s * np.eye(3, dtype=np.float32) + (1.0 - s) / 3.0)
        offset = b * (1.0 - c) * float(buf.mean()) + 0.5          # + 0.5: round when truncating
        out = buf.reshape(-1, 3) @ mix.T
        out += offset
        np.clip(out, 0.0, 255.0, out=out)
        frames[i] = out.reshape(H, W, 3)
    return frames, masks


def render_figure_video(class_index: int, rng_or_seed: RngLike, width: int = 160, height: int = 120,
                        num_frames: int = 75, scene_seed: Optional[RngLike] = None,
                        version: int = FORMAT_VERSION,
                        speed_spread: Optional[float] = None) -> tuple[np.ndarray, np.ndarray]:
    """One random version-2 or -3 video: ``(frames, masks)`` as ``draw_figure_video`` returns them."""
    return draw_figure_video(sample_figure_spec(class_index, rng_or_seed, width, height, num_frames, scene_seed,
                                                version=version, speed_spread=speed_spread))


def mask_path(video_path) -> Path:
    """Where a video's mover masks lie: ``v_X_g01_c01.avi`` -> ``v_X_g01_c01.masks.npz`` beside it."""
    video_path = Path(video_path)
    return video_path.with_name(video_path.stem + MASK_SUFFIX)


def write_mover_masks(video_path, masks: np.ndarray, frame_size: tuple[int, int]) -> Path:
    """Write ``masks`` (T, h, w) bool beside ``video_path`` (compressed npz; see ``load_mover_masks``)."""
    path = mask_path(video_path)
    masks = np.asarray(masks, bool)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
    try:
        np.savez_compressed(tmp, masks=np.packbits(masks, axis=-1), shape=np.asarray(masks.shape),
                            frame_size=np.asarray(frame_size), scale=np.asarray(MASK_SCALE))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def load_mover_masks(video_path, full_size: bool = False) -> np.ndarray:
    """The ground-truth mover masks of a version-2 or -3 synthetic video: (T, H, W) bool, one per frame.

    The file ``<video stem>.masks.npz`` beside the video holds ``masks`` (the (T, h, w) bool masks
    bit-packed along the last axis, ``np.packbits(m, axis=-1)``), ``shape`` (T, h, w), ``frame_size``
    (H, W) of the video, and ``scale`` (h = H // scale, w = W // scale; scale is 2). A mask pixel is set
    when the mover covers at least half of its scale x scale block of the frame. By default the masks
    come at that reduced size; ``full_size=True`` repeats each pixel to the video's size (padding an
    odd remainder with False).
    """
    path = mask_path(video_path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no mover masks beside {Path(video_path).name} (only versions 2 and 3 "
                                "of the synthetic set write them; regenerate with `pacekit make-synthetic`)")
    with np.load(path) as data:
        shape = tuple(int(v) for v in data["shape"])
        masks = np.unpackbits(data["masks"], axis=-1, count=shape[-1]).astype(bool).reshape(shape)
        frame_size = tuple(int(v) for v in data["frame_size"])
        scale = int(data["scale"])
    if full_size:
        up = masks.repeat(scale, axis=1).repeat(scale, axis=2)
        out = np.zeros((shape[0],) + frame_size, bool)
        out[:, :up.shape[1], :up.shape[2]] = up
        return out
    return masks


# ------------------------------------------------------------------------------------ video files


def write_video(path, frames: np.ndarray, fps: int = 25) -> Path:
    """Encode (T, H, W, 3) uint8 RGB frames as MPEG-4 Part 2 in AVI (yuv420p, like UCF101's XviD).

    The file is written under a temporary name beside ``path`` and renamed, so ``path`` is either
    absent or complete.
    """
    import av

    path = Path(path)
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8 or len(frames) == 0:
        raise ValueError(f"{path}: expected frames (T, H, W, 3) uint8 with T >= 1, got "
                         f"{frames.shape} {frames.dtype}")
    _check_frame_size(frames.shape[2], frames.shape[1])
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with av.open(str(tmp), "w", format="avi") as container:
            stream = container.add_stream("mpeg4", rate=int(fps))
            stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
            ctx = stream.codec_context
            ctx.codec_tag = "XVID"
            ctx.gop_size = GOP_SIZE
            ctx.qmin = ctx.qmax = QUANTIZER     # constant quality: textures survive any content
            ctx.bit_rate = 20_000_000            # a ceiling only; the quantiser decides
            ctx.thread_count = 1                 # parallelism is across videos; keeps output exact
            for frame in frames:
                for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def video_filename(class_name: str, group: int, clip: int) -> str:
    """UCF101's name for clip ``clip`` of group ``group``: ``v_<Class>_g<GG>_c<CC>.avi``."""
    return f"v_{class_name}_g{group:02d}_c{clip:02d}.avi"


# ------------------------------------------------------------------------------------ the dataset


def _params(num_classes, videos_per_class, seed, width, height, fps, duration, test_fraction,
            version=FORMAT_VERSION, speed_spread=None) -> dict:
    """Validated generation parameters, as stored in synthetic.json (``speed_spread`` only when set, so a set
    drawn with the classes' own speeds keeps the description it always had)."""
    names = synthetic_classes(version)
    if not 1 <= int(num_classes) <= len(names):
        raise ValueError(
            f"num_classes={num_classes}: version {version} of pacekit's synthetic set has {len(names)} built-in "
            f"motions ({', '.join(names)}); choose 1..{len(names)}"
        )
    if int(videos_per_class) < 1:
        raise ValueError(f"videos_per_class must be >= 1, got {videos_per_class}")
    _check_frame_size(int(width), int(height))
    if isinstance(duration, (int, float)):
        duration = (float(duration), float(duration))
    duration = tuple(float(d) for d in duration)
    if len(duration) != 2 or not 0 < duration[0] <= duration[1]:
        raise ValueError(f"duration must be seconds or (min, max) seconds with 0 < min <= max, got {duration}")
    if round(duration[0] * fps) < 1:
        raise ValueError(f"duration {duration[0]} s at {fps} fps is under one frame")
    if not 0.0 <= float(test_fraction) < 1.0:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}")
    if float(test_fraction) > 0 and int(videos_per_class) < 2:
        raise ValueError(f"test_fraction={test_fraction} needs videos_per_class >= 2 (one group for "
                         "train, one for test); pass test_fraction=0 for a train-only set")
    spread = check_speed_spread(speed_spread)
    if spread is not None and version == 1:
        raise ValueError("speed_spread needs format version 2 or 3: version 1's motions have no class speeds to pull "
                         "together")
    params = {"num_classes": int(num_classes), "videos_per_class": int(videos_per_class), "seed": int(seed),
              "width": int(width), "height": int(height), "fps": int(fps), "duration": list(duration),
              "test_fraction": float(test_fraction)}
    if spread is not None:
        params["speed_spread"] = spread
    return params


def _groups(videos_per_class: int) -> list[int]:
    """Clips per group: ~CLIPS_PER_GROUP each, at least two groups whenever there are 2+ videos."""
    n_groups = max(1, round(videos_per_class / CLIPS_PER_GROUP))
    if videos_per_class >= 2:
        n_groups = max(2, n_groups)
    sizes = [videos_per_class // n_groups] * n_groups
    for i in range(videos_per_class % n_groups):
        sizes[i] += 1
    return sizes


def _derived_seed(*entropy: int) -> int:
    return int(np.random.SeedSequence(list(entropy)).generate_state(1, dtype=np.uint32)[0])


def plan_synthetic(num_classes: int = 10, videos_per_class: int = 40, seed: int = 0, width: int = 160,
                   height: int = 120, fps: int = 25, duration=(2.0, 4.0), test_fraction: float = 0.3,
                   version: int = FORMAT_VERSION, speed_spread: Optional[float] = None) -> dict:
    """The full description of a synthetic set (the content of synthetic.json), without drawing.

    Videos of a class are cut into groups of ~4 clips sharing one scene; the first groups of every
    class (``round(test_fraction * groups)``, at least one) are the test split, as in UCF101's split 1.
    Each video's ``seed`` (motion) and ``scene_seed`` (look) reproduce it:
    ``draw_video(sample_spec(class_index, seed, width, height, num_frames, scene_seed))`` for version 1,
    ``draw_figure_video(sample_figure_spec(...))`` (same arguments, and ``version``) for versions 2 and 3, whose entries also
    name each video's ``masks`` file. ``speed_spread`` (versions 2 and 3): the classes' natural speeds pulled
    together (:func:`figure_classes`); the same seed then draws the same videos, scenes and split, each video
    with only its speed and period changed.
    """
    version = _check_version(version)
    params = _params(num_classes, videos_per_class, seed, width, height, fps, duration, test_fraction, version,
                     speed_spread)
    names = synthetic_classes(version)
    table = MOTION_CLASSES if version == 1 else figure_classes(version, params.get("speed_spread"))
    sizes = _groups(params["videos_per_class"])
    n_test = 0
    if params["test_fraction"] > 0:
        n_test = min(max(1, round(params["test_fraction"] * len(sizes))), len(sizes) - 1)
    videos = []
    for ci in range(params["num_classes"]):
        name = names[ci]
        for g, size in enumerate(sizes, start=1):
            scene_seed = _derived_seed(params["seed"], 2, ci, g)
            for c in range(1, size + 1):
                frames_rng = np.random.default_rng([params["seed"], 0, ci, g, c])
                num_frames = int(round(frames_rng.uniform(*params["duration"]) * params["fps"]))
                motion_seed = _derived_seed(params["seed"], 1, ci, g, c)
                if version == 1:
                    spec = sample_spec(ci, motion_seed, params["width"], params["height"], num_frames, scene_seed)
                else:
                    spec = sample_figure_spec(ci, motion_seed, params["width"], params["height"], num_frames,
                                              scene_seed, version=version, speed_spread=params.get("speed_spread"))
                videos.append({
                    "path": f"{name}/{video_filename(name, g, c)}", "class": name, "class_index": ci,
                    "group": g, "clip": c, "split": "test" if g <= n_test else "train",
                    "num_frames": num_frames, "seed": motion_seed, "scene_seed": scene_seed,
                    "natural_speed": round(spec.speed, 6), "period": round(spec.period, 4),
                })
                if version >= 2:
                    videos[-1]["masks"] = str(mask_path(videos[-1]["path"]))
    units = {"natural_speed": f"mean tip displacement, px/frame at {REFERENCE_HEIGHT} px height",
             "period": "frames per motion cycle at natural pace"}
    if version >= 2:
        units["natural_speed"] = f"mean displacement of the mover's centre, px/frame at {REFERENCE_HEIGHT} px height"
        units["masks"] = (f"<video stem>{MASK_SUFFIX} beside the video: per-frame mover masks at 1/{MASK_SCALE} of "
                          "the frame size (pacekit.data.synthetic.load_mover_masks)")
    return {
        "format": FORMAT_NAME, "version": version, "params": params, "units": units,
        "classes": [{"name": m.name, "description": m.description, "speed_range": list(m.speed_range),
                     "period_range": list(m.period_range)} for m in table[:params["num_classes"]]],
        "videos": videos,
    }


def _split_files(plan: dict) -> dict[str, bytes]:
    """classInd.txt, trainlist01.txt, testlist01.txt exactly as UCF101 writes them (CRLF lines)."""
    classes = [c["name"] for c in plan["classes"]]
    class_ind = "".join(f"{i} {name}\r\n" for i, name in enumerate(classes, start=1))
    train = "".join(f"{v['path']} {v['class_index'] + 1}\r\n" for v in plan["videos"] if v["split"] == "train")
    test = "".join(f"{v['path']}\r\n" for v in plan["videos"] if v["split"] == "test")
    return {"classInd.txt": class_ind.encode(), "trainlist01.txt": train.encode(),
            "testlist01.txt": test.encode()}


def _render_entry(task) -> str:
    """Worker: draw and encode one planned video (module level so that processes can pickle it)."""
    root, entry, params, version = task
    path = Path(root) / VIDEOS_DIR / entry["path"]
    if version == 1:
        spec = sample_spec(entry["class_index"], entry["seed"], params["width"], params["height"],
                           entry["num_frames"], entry["scene_seed"])
        write_video(path, draw_video(spec), params["fps"])
    else:   # masks first: a video on disk then always has its masks beside it
        spec = sample_figure_spec(entry["class_index"], entry["seed"], params["width"], params["height"],
                                  entry["num_frames"], entry["scene_seed"], version=version,
                                  speed_spread=params.get("speed_spread"))
        frames, masks = draw_figure_video(spec)
        write_mover_masks(path, masks, (params["height"], params["width"]))
        write_video(path, frames, params["fps"])
    return entry["path"]


def read_synthetic_metadata(out) -> Optional[dict]:
    """The parsed synthetic.json of ``out``, or None when there is none."""
    path = Path(out) / METADATA_FILE
    if not path.is_file():
        return None
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ValueError(f"{path} is unreadable ({e}); delete it and the folder {out} will be regenerated") from e
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise ValueError(f"{path} is not a pacekit synthetic set description; choose another output folder")
    return meta


def natural_speeds(root, classes: Sequence[str]) -> Optional[list[float]]:
    """Each of ``classes``' natural speed in the synthetic set at ``root``: the middle of the class's
    ``speed_range`` (mean tip speed at pace 1, px/frame at ``REFERENCE_HEIGHT``), in the order given; None
    when ``root`` holds no synthetic set or the set lacks one of the classes."""
    meta = read_synthetic_metadata(root)
    if meta is None:
        return None
    ranges = {c["name"]: c["speed_range"] for c in meta.get("classes", [])}
    if not set(classes) <= set(ranges):
        return None
    return [float(np.mean(ranges[name])) for name in classes]


@dataclass
class SyntheticSummary:
    """What ``build_synthetic`` did: ``root`` (the dataset root), ``num_videos`` in the set,
    ``num_written`` now, ``seconds`` taken, ``cached`` (True when nothing had to be written)."""

    root: Path
    num_videos: int
    num_written: int
    seconds: float

    @property
    def cached(self) -> bool:
        return self.num_written == 0

    def __str__(self) -> str:
        if self.cached:
            return f"synthetic set at {self.root}: {self.num_videos} videos, all present (cached)"
        return (f"synthetic set at {self.root}: wrote {self.num_written} of {self.num_videos} videos "
                f"in {self.seconds:.1f} s")


def _default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def build_synthetic(out, num_classes: int = 10, videos_per_class: int = 40, seed: int = 0,
                    width: int = 160, height: int = 120, fps: int = 25, duration=(2.0, 4.0),
                    test_fraction: float = 0.3, workers: Optional[int] = None, progress: bool = True,
                    force: bool = False, version: int = FORMAT_VERSION,
                    speed_spread: Optional[float] = None) -> SyntheticSummary:
    """Write (``force``) or complete (default) the synthetic set in ``out``; see ``make_synthetic``.

    Without ``force``, videos already present (non-empty) under the same parameters are kept and only
    the missing ones are drawn. A folder described by a different synthetic.json is rewritten (its
    old videos removed); a folder holding UCF-101/ without synthetic.json is refused, so a real
    UCF101 copy is never touched.
    """
    start = time.perf_counter()
    out = Path(out)
    plan = plan_synthetic(num_classes, videos_per_class, seed, width, height, fps, duration, test_fraction, version,
                          speed_spread)
    old = read_synthetic_metadata(out)
    if old is None and (out / VIDEOS_DIR).exists():
        raise FileExistsError(
            f"{out / VIDEOS_DIR} exists but {out / METADATA_FILE} does not: this folder was not written "
            "by pacekit (is it a real UCF101?). Choose an empty or new output folder."
        )
    same = old is not None and old.get("version") == plan["version"] and old.get("params") == plan["params"]
    if old is not None and not same:   # a different set of ours: drop its videos, keep nothing stale
        for v in old.get("videos", []):
            (out / VIDEOS_DIR / v["path"]).unlink(missing_ok=True)
            mask_path(out / VIDEOS_DIR / v["path"]).unlink(missing_ok=True)

    video_root = out / VIDEOS_DIR
    for name in (c["name"] for c in plan["classes"]):
        (video_root / name).mkdir(parents=True, exist_ok=True)
    (out / SPLITS_DIR).mkdir(parents=True, exist_ok=True)
    for name, data in _split_files(plan).items():
        path = out / SPLITS_DIR / name
        if force or not same or not path.is_file() or path.read_bytes() != data:
            write_bytes_atomic(path, data)
    if force or not same:   # the plan goes first: an interrupted run is then repaired, not redone
        write_bytes_atomic(out / METADATA_FILE, (json.dumps(plan, indent=1) + "\n").encode())

    def complete(v) -> bool:
        video = video_root / v["path"]
        if not video.is_file() or video.stat().st_size == 0:
            return False
        return plan["version"] == 1 or mask_path(video).is_file()

    todo = [v for v in plan["videos"] if force or not same or not complete(v)]
    tasks = [(str(out), v, plan["params"], plan["version"]) for v in todo]
    workers = _default_workers() if workers is None else max(1, int(workers))
    bar = None
    if progress and tasks:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(tasks), desc="synthetic videos", unit="video")
    if workers == 1 or len(tasks) <= 1:
        for task in tasks:
            _render_entry(task)
            if bar is not None:
                bar.update(1)
    elif tasks:
        # spawn, not fork: forking a process whose torch/FFmpeg threads hold locks can deadlock the children
        with ProcessPoolExecutor(min(workers, len(tasks)), mp_context=multiprocessing.get_context("spawn")) as ex:
            for fut in as_completed([ex.submit(_render_entry, t) for t in tasks]):
                fut.result()
                if bar is not None:
                    bar.update(1)
    if bar is not None:
        bar.close()
    return SyntheticSummary(out, len(plan["videos"]), len(tasks), time.perf_counter() - start)


def make_synthetic(out, num_classes: int = 10, videos_per_class: int = 40, seed: int = 0,
                   width: int = 160, height: int = 120, fps: int = 25, duration=(2.0, 4.0),
                   test_fraction: float = 0.3, workers: Optional[int] = None, progress: bool = True,
                   version: int = FORMAT_VERSION, speed_spread: Optional[float] = None) -> Path:
    """Write the synthetic action set into ``out`` (every video drawn anew) and return ``out``.

    Layout (UCF101's): ``out/UCF-101/<Class>/v_<Class>_g<GG>_c<CC>.avi``; ``out/ucfTrainTestlist/``
    with ``classInd.txt`` ("1 Bounce"), ``trainlist01.txt`` ("Bounce/v_Bounce_g04_c01.avi 1") and
    ``testlist01.txt`` (no label), CRLF line ends; ``out/synthetic.json`` with the parameters and
    each video's class, natural speed, period, frame count and seeds. ``duration`` is seconds, or a
    (min, max) range drawn per video. ``workers`` processes draw in parallel (default: all cores).
    ``version`` picks the format: 2 (default) is made for the lesson and writes each video's mover
    masks beside it (``load_mover_masks``); 1 is the first, small-object set. ``speed_spread`` (versions 2
    and 3) pulls the actions' natural speeds together (:func:`figure_classes`; 1: one speed for all).
    """
    return build_synthetic(out, num_classes, videos_per_class, seed, width, height, fps, duration,
                           test_fraction, workers, progress, force=True, version=version,
                           speed_spread=speed_spread).root


def ensure_synthetic(out, num_classes: int = 10, videos_per_class: int = 40, seed: int = 0,
                     width: int = 160, height: int = 120, fps: int = 25, duration=(2.0, 4.0),
                     test_fraction: float = 0.3, workers: Optional[int] = None, progress: bool = True,
                     version: int = FORMAT_VERSION, speed_spread: Optional[float] = None) -> Path:
    """Like ``make_synthetic``, but a complete set with the same parameters in ``out`` is reused as
    is, and a partial one (a video missing or empty) is repaired by writing only what is missing."""
    return build_synthetic(out, num_classes, videos_per_class, seed, width, height, fps, duration,
                           test_fraction, workers, progress, force=False, version=version,
                           speed_spread=speed_spread).root


def companion_folder(root, speed_spread: float) -> Path:
    """Where the companion of the synthetic set in ``root`` with ``speed_spread`` lives: ``<root>_spread<ratio>``
    beside it (``data/synthetic_spread1`` for one speed)."""
    root = Path(root)
    return root.with_name(f"{root.name}_spread{check_speed_spread(speed_spread):g}")


def ensure_companion(root, speed_spread: float, workers: Optional[int] = None, progress: bool = True) -> Path:
    """The companion of the synthetic set in ``root``: the same parameters and seed (so the same videos, scenes
    and split) with the actions' natural speeds pulled together to ``speed_spread``, written (or reused) in
    :func:`companion_folder`. Returns its folder."""
    spread = check_speed_spread(speed_spread)
    if spread is None:
        raise ValueError("speed_spread=None: a companion set needs a speed spread (1: one speed for every action)")
    meta = read_synthetic_metadata(root)
    if meta is None:
        raise FileNotFoundError(f"{Path(root) / METADATA_FILE} is missing: a companion set is drawn from a pacekit "
                                "synthetic set's description; write the set first (pacekit make-synthetic)")
    params = {k: v for k, v in meta["params"].items() if k != "speed_spread"}
    return ensure_synthetic(companion_folder(root, spread), workers=workers, progress=progress,
                            version=meta["version"], speed_spread=spread, **params)

