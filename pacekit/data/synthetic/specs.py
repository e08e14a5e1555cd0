"""What a synthetic video is, before any pixel: the class tables, the spec of one video, and its trajectory.

(Over 600 lines on purpose: most of it is data, the class tables of format versions 1, 3 and 4, kept in
one place with the sampling that reads them.)

A *spec* (``VideoSpec`` for format version 1, ``FigureSpec`` for versions 3 to 6) holds every random choice
of one video: the motion (speed, period, phase, position, path parameters) and the scene (background, the
mover's look, the static distractors' parameters). ``sample_spec`` / ``sample_figure_spec`` draw a spec from
seeds; ``trajectory`` / ``figure_trajectory`` give the mover's pose at any frame time. Turning a spec into
pixels is :mod:`.drawing`'s job; nothing here draws.

Units: speeds are pixels per frame in a ``REFERENCE_HEIGHT`` (120) pixel high frame, scaled by
``height / REFERENCE_HEIGHT`` for other heights; periods are frames per motion cycle at natural pace (pace 1).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence, Union

import numpy as np

REFERENCE_HEIGHT = 120   # the class table's speeds and sizes are in pixels of a 120-px-high frame
MIN_CYCLE_FRAMES = 28    # version 1: shortest elementary cycle at natural pace, >= 7 samples at pace 4
FORMAT_VERSION = 6       # the default format; bump whenever a change to this package changes the frames it draws
FORMAT_VERSIONS = (1, 3, 4, 5, 6)  # 1: small single objects (the first set); 3: the figure table at V3_SPEED_FACTOR;
#                                    4: ten actions with their own bodies (V4_CLASSES); 5: version 4 with each
#                                    action's own colours and patterns on its mover (V5_PALETTES); 6: version 5
#                                    in scenes crowded with static distractors (V6_DISTRACTORS)
MASKED_VERSIONS = tuple(v for v in FORMAT_VERSIONS if v >= 3)   # those that write each video's mover masks

RngLike = Union[int, np.random.Generator, np.random.SeedSequence, Sequence[int]]


# ------------------------------------------------------------------------- version 1: unit paths
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


# ------------------------------------------------------------------------ version 1: video specs


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


# ----------------------------------------------------------------------- version 1: trajectories


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


# ------------------------------------------------------------------------------------ versions 3 to 6
# Versions 3 and 4, "made for the lesson": a small RGB network learns pace from them in minutes.
#
# * Movers are large and structured: textured bodies that roll or spin, two-part articulated arms,
#   walkers with two-part legs, a caterpillar, a flapping flyer; each covers about 4-11 % of the frame,
#   so it survives a 56/112-pixel crop.
# * Each class has one natural speed (mean displacement per frame of the mover's centre, px/frame at
#   a 120-px height); the ten speeds are log-spaced over 4x, and a video's speed is its class speed
#   times a narrow jitter, so neighbouring classes' bands never overlap and a slow class at pace 4
#   moves like a fast one at pace 1: the pace is only known once the motion (hence its natural speed)
#   is recognised.
# * Distractors are textured shapes of the movers' sizes and textures that never move; backgrounds are
#   low-contrast; every frame gets its own small brightness / contrast / saturation change (the same
#   for the whole frame), so frame differences alone do not locate the mover.
#
# Version 3 is the figure table ``FIGURE_CLASSES`` (speeds 0.6 .. 2.4) at ``V3_SPEED_FACTOR`` times its
# speeds; version 4 has its own table, ``V4_CLASSES``, with a body per class and speeds 1.6 .. 6.4.

# The figure table's constants (``V2_``: version 3 draws this table at ``V3_SPEED_FACTOR`` times its speeds).
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
    """One action class of versions 3 to 6: a mover (``body``) following a periodic path at a natural speed.

    ``speed``: natural mean speed of the mover's centre, px/frame at ``REFERENCE_HEIGHT``;
    ``period_range``: frames per motion cycle at natural pace, ``cycles`` elementary cycles in each;
    ``path(u, params)`` maps the phase ``u`` (cycles) to the centre's offset (x, y) in amplitude units;
    ``sample_params(rng)`` draws the path's own parameters of one video; each video's speed is the class speed
    times a factor drawn from ``speed_jitter``, so ``speed_range`` is the band synthetic.json lists for the class.
    """

    name: str
    speed: float
    period_range: tuple[float, float]
    cycles: int
    body: str
    path: Callable = field(repr=False, compare=False)
    sample_params: Callable = field(repr=False, compare=False)
    description: str = ""
    speed_jitter: tuple[float, float] = V2_SPEED_JITTER

    @property
    def speed_range(self) -> tuple[float, float]:
        return (self.speed * self.speed_jitter[0], self.speed * self.speed_jitter[1])


_S = V2_SPEEDS
#: The figure table: ten movers at ``V2_SPEEDS``. Version 3 draws it at ``V3_SPEED_FACTOR`` times these speeds
#: (``V3_CLASSES``, ``figure_classes(3)``).
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


#: Version 3's speed factor over ``FIGURE_CLASSES``: each class's natural speed x2 and its period range / 2, so
#: the mover follows the same path twice as fast (the elementary cycles of the fastest classes, 15-18
#: frames, then give 4 samples per cycle at pace 4).
V3_SPEED_FACTOR = 2.0


#: Version 4's natural speeds: ten log-spaced speeds spanning 4x (px/frame of the mover's centre at 120 px).
V4_SPEEDS = tuple(1.6 * 4.0 ** (k / 9) for k in range(10))


def _v4_path_hop(u, p):
    s = np.mod(u, 1.0)
    return p["dir"] * p["drift"] * _soft_tri(u), -4.0 * s * (1.0 - s)


def _v4_path_crawl(u, p):
    """Across and back, bobbing three times per cycle."""
    return p["dir"] * _soft_tri(u - 0.25), 0.08 * np.sin(2 * np.pi * 3 * u)


def _v4_path_jump(u, p):
    """Two jumps per cycle while drifting across and back."""
    return p["dir"] * _soft_tri(u - 0.25), p["height"] * (-0.5 + 0.5 * np.cos(2 * np.pi * 2 * u))


def _v4_path_hammer(u, p):
    th = _v4_hammer_angle(u, p)           # the head, around the hand (the anchor); one amplitude = the handle
    return p["dir"] * np.sin(th), np.cos(th)


def _v4_hammer_angle(u, p):
    """The hammer's angle from straight down (rad): raised slowly for 70% of a cycle, then a fast strike."""
    s = np.mod(u, 1.0)
    rise = 0.5 - 0.5 * np.cos(np.pi * np.minimum(s / 0.7, 1.0))           # 0 -> 1 over the raise
    fall = 0.5 + 0.5 * np.cos(np.pi * np.clip((s - 0.7) / 0.3, 0.0, 1.0))  # 1 -> 0 over the strike
    lift = np.where(s < 0.7, rise, fall)
    return p["low"] + (p["high"] - p["low"]) * lift


V4_SPEED_JITTER = (0.95, 1.05)     # per video, around the class speed


def _v4(rank: int, period_range: tuple[float, float], cycles: int, like: Optional[str] = None,
        **fields) -> FigureClass:
    """A version-4 class at ``V4_SPEEDS[rank]`` and ``V4_SPEED_JITTER``: ``FIGURE_CLASSES``' class ``like`` (its name,
    body, path, parameters and description) with new periods, or a new class from ``fields``."""
    timing = {"speed": V4_SPEEDS[rank], "period_range": period_range, "cycles": cycles, "speed_jitter": V4_SPEED_JITTER}
    if like is not None:
        return dataclasses.replace(next(m for m in FIGURE_CLASSES if m.name == like), **timing, **fields)
    return FigureClass(**timing, **fields)


#: Version 4: ten actions that differ in what moves and in how it moves, each at its own natural speed.
V4_CLASSES: tuple[FigureClass, ...] = (
    _v4(0, (70, 90), 2, name="JumpingJack", body="jack", path=_v4_path_jump,
        sample_params=lambda r: {"dir": _sign(r), "height": r.uniform(0.3, 0.4)},
        description="a figure jumping in place, arms and legs opening and closing"),
    _v4(1, (100, 130), 3, like="Crawl", path=_v4_path_crawl),
    _v4(2, (80, 100), 1, like="PendulumSwing"),
    _v4(3, (60, 80), 2, like="Walk"),
    _v4(4, (56, 70), 2, like="Wave"),
    _v4(5, (44, 56), 1, like="Orbit", name="Propeller", body="propeller",
        description="a two-bladed propeller circling while it spins"),
    _v4(6, (44, 56), 1, like="FigureEight", name="Fly",
        sample_params=lambda r: {"dir": _sign(r), "height": r.uniform(0.35, 0.5)}),
    _v4(7, (28, 36), 1, name="Hammer", body="hammer", path=_v4_path_hammer,
        sample_params=lambda r: {"dir": _sign(r), "low": r.uniform(0.2, 0.4), "high": r.uniform(1.6, 1.9)},
        description="a hammer raised slowly and brought down fast, again and again"),
    _v4(8, (36, 46), 1, like="Bounce", path=_v4_path_hop),
    _v4(9, (50, 62), 1, like="Roll", body="spokes", description="a spoked wheel rolling back and forth"),
)


#: Version 3's class table: ``FIGURE_CLASSES`` at ``V3_SPEED_FACTOR`` times their speeds, the periods divided by it.
V3_CLASSES: tuple[FigureClass, ...] = tuple(
    dataclasses.replace(m, speed=m.speed * V3_SPEED_FACTOR,
                        period_range=(m.period_range[0] / V3_SPEED_FACTOR, m.period_range[1] / V3_SPEED_FACTOR))
    for m in FIGURE_CLASSES)

#: The ratio of the fastest to the slowest class speed of versions 3 to 6 (4x): the ``speed_spread`` a set
#: drawn without one has.
NATIVE_SPEED_SPREAD = max(V2_SPEEDS) / min(V2_SPEEDS)

V4_MIN_SWING = 28                  # frames per limb swing, wing flap or ripple at natural pace, at least
V4_AREA_RANGE = (0.05, 0.085)      # target mean mask area / frame area
V4_TEXTURE_PERIOD = (0.5, 0.9)     # a texture's period, in radii of a disc of the mover's area
#: Version 4's static distractors per scene (min, max): pieces cut from the movers' own parts and textures.
V4_DISTRACTORS = (3, 5)
#: Version 6's static distractors per scene: together they cover about half of the frame (a third to a half and
#: more), so random filters, which answer to textured bodies far more than to a smooth background, find about as
#: much to answer to off the mover as on it, and only the motion tells the mover apart.
V6_DISTRACTORS = (16, 22)
V4_DISTRACTOR_KINDS = ("rock", "stick", "limb", "disc")


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
    """The action classes of format version 3 (``V3_CLASSES``) or 4 (``V4_CLASSES``).

    ``speed_spread`` (>= 1) pulls the classes' natural speeds toward their geometric mean ``g`` (or pushes them
    apart) so that the fastest is ``speed_spread`` times the slowest: ``s' = g (s / g) ** k`` with
    ``k = log(speed_spread) / log(NATIVE_SPEED_SPREAD)``, each period range scaled by ``s / s'`` so the mover
    follows the same path, only faster or slower. The order of the speeds, the paths, bodies and looks stay.
    ``speed_spread=1`` puts every action at one speed ``g``: the pace can then be read from the speed alone,
    without recognising the action (a companion set for pretraining; see ``pacekit.study.quickstart``). None: the
    classes' own speeds.
    """
    version = _check_version(version)
    if version == 1:
        raise ValueError("version 1 of the synthetic set has no figure classes (see MOTION_CLASSES)")
    classes = V4_CLASSES if version >= 4 else V3_CLASSES
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
    """``version`` as an int when it is one of ``FORMAT_VERSIONS``; a ValueError naming the valid ones otherwise."""
    if version not in FORMAT_VERSIONS:
        retired = (" (version 2 is no longer drawn: version 3 is its figure table at twice the speed)"
                   if version == 2 else "")
        raise ValueError(f"version={version!r}: pacekit's synthetic set has format versions "
                         f"{', '.join(map(str, FORMAT_VERSIONS))} ({FORMAT_VERSION}, the default, is made for the "
                         f"lesson){retired}")
    return int(version)


def synthetic_classes(version: int = FORMAT_VERSION) -> tuple[str, ...]:
    """The class names of a format version, in label order (version 1: ``SYNTHETIC_CLASSES``)."""
    version = _check_version(version)
    if version == 1:
        return SYNTHETIC_CLASSES
    return tuple(m.name for m in figure_classes(version))


@dataclass
class FigureSpec:
    """Everything needed to draw one video of versions 3 to 6; ``draw_figure_video(spec)`` is a pure function of it.

    ``speed`` (px/frame at ``REFERENCE_HEIGHT``), ``period`` (frames per cycle), ``amplitude`` (px),
    ``phase`` (cycles), ``anchor`` (px), ``params`` (the path's own); ``size`` is the mover's body radius
    in px, ``look`` its textures (and ``steps``, limb swings per cycle), ``background``, ``distractors``
    the static distractors' parameters, ``jitter`` the per-frame (brightness, contrast, saturation) factors,
    (T, 3). A version-3 distractor is an ellipse: ``c`` (centre, px), ``a``, ``b`` (half-axes, px), ``angle``
    (rad), ``texture``; a version-4 distractor is ``kind`` (one of ``V4_DISTRACTOR_KINDS``), ``c``, ``size``
    (px), ``aspect``, ``angle`` (rad), ``bend`` (rad, the limb's knee) and two ``textures``.
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
    version: int = 3

    @property
    def motion(self) -> FigureClass:
        """The class of this video in its version's table (the table's own speed, before any ``speed_spread``)."""
        return (V4_CLASSES if self.version >= 4 else V3_CLASSES)[self.class_index]

    @property
    def scale(self) -> float:
        """Pixels of this video per pixel of the 120-px-high reference frame."""
        return self.height / REFERENCE_HEIGHT


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
            "walker": 2.16, "waver": 2.56, "flyer": 2.0, "caterpillar": 2.24, "jack": 2.3, "propeller": 1.4,
            "hammer": 1.2, "spokes": math.pi}[body]


def _v2_reach(spec_like_body: str, R: float, amplitude: float) -> float:
    """How far (px) the mover's parts reach from its centre, at most."""
    return {"ball": R, "wheel": R, "block": 1.25 * R, "arm": 0.75 * R, "walker": 1.65 * R, "waver": 1.7 * R,
            "flyer": 1.75 * R, "caterpillar": 1.4 * R, "jack": 1.9 * R, "propeller": 1.25 * R, "hammer": 0.75 * R,
            "spokes": R}[spec_like_body] + 1.0


def _v4_texture(rng, avoid, size) -> dict:
    """Version 4's textures: a pattern whose period is a fixed share of the body (``size`` px), so a body shows
    two to four stripes, checks or rings across it at any frame size."""
    tex = _v2_texture(rng, avoid, 1.0)
    # One dark and one light colour: the pattern survives the per-frame hue and saturation jitter of training.
    h0, h1 = rng.uniform(0, 1, 2)
    tex["colors"] = [[int(v) for v in _hsv_to_rgb(h0, rng.uniform(0.5, 1.0), rng.uniform(0.15, 0.35))],
                     [int(v) for v in _hsv_to_rgb(h1, rng.uniform(0.2, 0.7), rng.uniform(0.85, 1.0))]]
    tex["freq"] = float(2 * math.pi / (size * rng.uniform(*V4_TEXTURE_PERIOD)))
    return tex


#: Version 5: each action's mover wears its own two patterns and colours, as a real action comes with its own
#: things (a violin's brown wood, a pool's blue water): the dark colour's hue and the light colour's hue, in turns
#: of the colour wheel, ten actions spread around it. Distractors keep version 4's random textures, so an
#: action's colours can also sit still somewhere in another action's scene.
V5_PALETTES = {m.name: (i / len(V4_CLASSES), (i / len(V4_CLASSES) + 0.5) % 1.0) for i, m in enumerate(V4_CLASSES)}
V5_DARK = (0.8, 0.25)     # saturation, value of the dark colour (inside version 4's ranges)
V5_LIGHT = (0.5, 0.92)    # of the light colour


def _v5_palette(action: str, index: int, texture: dict) -> dict:
    """Version 5's ``index``-th texture (0 or 1) of ``action``'s mover: ``texture`` (drawn as version 4 draws it,
    so its period is kept) with the action's pattern and colours. The two textures of a mover differ in pattern
    and a little in their dark hue."""
    dark, light = V5_PALETTES[action]
    pattern = TEXTURES[(list(V5_PALETTES).index(action) + index) % len(TEXTURES)]
    colors = [[int(v) for v in _hsv_to_rgb((dark + 0.03 * index) % 1.0, *V5_DARK)],
              [int(v) for v in _hsv_to_rgb(light, *V5_LIGHT)]]
    return {**texture, "kind": pattern, "colors": colors}


def _v4_distractor_params(rng, size: float, avoid) -> dict:
    """The parameters of one static distractor, without its place: ``kind`` (a rock, a stick, a bent limb or a
    disc with a hub, ``V4_DISTRACTOR_KINDS``), ``size`` (px, 0.7-1.1 times ``size``, the radius of a disc of the
    mover's area), ``aspect`` (the rock's), ``angle`` (rad), ``bend`` (rad, the limb's knee) and two ``textures``
    from the movers' texture generator. :mod:`.drawing` turns them into parts."""
    kind = str(rng.choice(V4_DISTRACTOR_KINDS))
    f = float(rng.uniform(0.7, 1.1)) * size
    return {"kind": kind, "size": f, "aspect": float(rng.uniform(0.5, 0.9)),
            "angle": float(rng.uniform(0, 2 * math.pi)), "bend": float(rng.uniform(-1.2, 1.2)),
            "textures": [_v4_texture(rng, avoid, size), _v4_texture(rng, avoid, size)]}


def sample_figure_spec(class_index: int, rng_or_seed: RngLike, width: int = 160, height: int = 120,
                       num_frames: int = 75, scene_seed: Optional[RngLike] = None,
                       max_distractors: int = 3, version: int = FORMAT_VERSION,
                       speed_spread: Optional[float] = None) -> FigureSpec:
    """Draw the random parameters of one version-3 or -4 video of class ``class_index`` (0-based).

    The motion (speed, period, phase, position, brightness flicker) comes from ``rng_or_seed``; the
    look (mover size and textures, background, distractors) from ``scene_seed`` when given.
    ``speed_spread``: the class speeds of :func:`figure_classes`; the same seeds draw the same video
    with only its speed and period changed (the random draws are the same). ``max_distractors``: version
    3's most distractors per scene (versions 4 and 5 have ``V4_DISTRACTORS``, 6 ``V6_DISTRACTORS``). The
    amplitude follows from speed x period (one cycle's path length); a path that does not fit the frame is
    shrunk with its period, keeping the speed.
    """
    table = figure_classes(version, speed_spread)
    if not 0 <= int(class_index) < len(table):
        raise ValueError(f"class_index={class_index} is out of range: version {version} of pacekit's synthetic set "
                         f"has {len(table)} motions (indices 0..{len(table) - 1})")
    _check_frame_size(width, height)
    if num_frames < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}")
    rng = _rng(rng_or_seed)
    srng = rng if scene_seed is None else _rng(scene_seed)
    motion = table[class_index]
    # The draws run in this order (look, motion, distractors' places): the same seeds give the same video.
    scene = _sample_look(motion, srng, width, height, version, max_distractors)
    spec = _sample_motion(motion, rng, scene, int(class_index), width, height, num_frames, version)
    spec.distractors = _place_distractors(spec, srng, scene)
    return spec


@dataclass
class _Look:
    """The look of a group's videos, drawn before their motion: :func:`sample_figure_spec`'s first part."""

    background: dict
    look: dict
    size: float
    distract_draws: list
    candidates: np.ndarray   # positions tried in turn for version 3's distractors, off the mover's path


def _sample_look(motion: FigureClass, srng, width: int, height: int, version: int, max_distractors: int) -> _Look:
    scale = height / REFERENCE_HEIGHT
    background = _v2_background(srng, scale)
    textures = [_v2_texture(srng, background["colors"], scale) for _ in range(2)]   # version 4: replaced below
    area = srng.uniform(*(V4_AREA_RANGE if version >= 4 else V2_AREA_RANGE)) * width * height
    size = math.sqrt(area / _v2_area_coefficient(motion.body))
    if version >= 4:
        textures = [_v4_texture(srng, background["colors"], math.sqrt(area / math.pi)) for _ in range(2)]
    if version >= 5:   # the same draws as version 4, then the action's own patterns and colours on the mover
        textures = [_v5_palette(motion.name, i, t) for i, t in enumerate(textures)]
    look = {"textures": textures, "aspect": float(srng.uniform(0.75, 0.95)), "angle": float(srng.uniform(-0.5, 0.5)),
            "steps": int(srng.integers(2, 4))}
    if version >= 4:
        low, high = V6_DISTRACTORS if version >= 6 else V4_DISTRACTORS
        n_distract = int(srng.integers(low, high + 1))
        disc_radius = math.sqrt(area / math.pi)     # a disc of the mover's area
        distract_draws = [_v4_distractor_params(srng, disc_radius, background["colors"]) for _ in range(n_distract)]
    else:
        n_distract = int(srng.integers(1, max_distractors + 1))
        distract_draws = [(float(srng.uniform(0.5, 0.9)), float(srng.uniform(0.5, 1.0)),
                           float(srng.uniform(0, math.pi)), _v2_texture(srng, background["colors"], scale))
                          for _ in range(n_distract)]
    return _Look(background, look, size, distract_draws, srng.uniform(0, 1, size=(24, 2)))


def _sample_motion(motion: FigureClass, rng, scene: _Look, class_index: int, width: int, height: int,
                   num_frames: int, version: int) -> FigureSpec:
    """The spec of one video without its distractors: the motion drawn from ``rng`` in ``scene``'s look."""
    scale = height / REFERENCE_HEIGHT
    size, look = scene.size, scene.look
    speed = float(motion.speed * rng.uniform(*motion.speed_jitter))
    period = float(rng.uniform(*motion.period_range))
    params = motion.sample_params(rng)
    u = np.linspace(0.0, 1.0, 4097)
    x, y = motion.path(u, params)
    unit_length = float(np.hypot(np.diff(x), np.diff(y)).sum())
    amplitude = speed * scale * period / unit_length
    reach = _v2_reach(motion.body, size, amplitude)
    if motion.body == "hammer":   # the hand (the path's origin) stays in the frame too
        x, y = np.append(x, 0.0), np.append(y, 0.0)
    for _ in range(60):   # shrink the path (and the period with it, keeping the speed) until it fits
        fits = amplitude * np.ptp(x) + 2 * reach <= width and amplitude * np.ptp(y) + 2 * reach <= height
        if motion.body == "arm":
            fits = fits and amplitude * np.ptp(x) + 2 * reach <= width and amplitude + 2 * reach <= height
        if fits:
            break
        amplitude *= 0.95
        period *= 0.95
    if version >= 4:   # limbs swing, wings flap and bodies ripple at most once per V4_MIN_SWING frames
        look = {**look, "steps": int(min(3, max(1, period // V4_MIN_SWING)))}
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
    return FigureSpec(class_index=class_index, width=int(width), height=int(height),
                      num_frames=int(num_frames), speed=speed, period=period, amplitude=float(amplitude),
                      phase=phase, anchor=anchor, params=params, size=float(size), spin_dir=_sign(rng),
                      look=look, background=scene.background, distractors=(), jitter=jitter.astype(np.float32),
                      version=int(version))


def _place_distractors(spec: FigureSpec, srng, scene: _Look) -> tuple:
    """The static distractors of ``scene``, sized and textured like movers, placed off the mover's swept box:
    version 4 at the clearest of each one's candidate spots (the mover may pass over it), version 3 at the
    first candidate clear of the path."""
    traj = figure_trajectory(spec, np.linspace(0, spec.period, 96))
    path = np.stack([traj["x"], traj["y"]], axis=1)              # (n, 2) centres over one cycle
    body, anchor, amplitude = spec.motion.body, spec.anchor, spec.amplitude
    if body in ("arm", "hammer"):                                 # the arm or handle reaches to its pivot
        pivot = np.asarray((anchor[0], anchor[1] - (amplitude if body == "arm" else 0.0)))
        path = np.concatenate([pivot + (path - pivot) * k for k in np.linspace(0.0, 1.0, 6)])
    width, height, distractors = spec.width, spec.height, []
    if spec.version >= 4:
        spots = srng.uniform(0, 1, size=(len(scene.distract_draws), 16, 2))
        placed = path
        for draw, tries in zip(scene.distract_draws, spots):
            a = 1.1 * draw["size"]   # the margin kept from the frame's edges
            xy = np.stack([a + 1 + tries[:, 0] * max(width - 2 * a - 2, 0),
                           a + 1 + tries[:, 1] * max(height - 2 * a - 2, 0)], axis=1)
            clearance = np.hypot(placed[None, :, 0] - xy[:, None, 0], placed[None, :, 1] - xy[:, None, 1]).min(1)
            cx, cy = xy[int(np.argmax(clearance))]
            distractors.append({**draw, "c": (float(cx), float(cy))})
            placed = np.concatenate([placed, [[cx, cy]]])
        return tuple(distractors)
    reach = _v2_reach(body, spec.size, amplitude)
    tried = iter(scene.candidates)
    for fa, fb, ang, tex in scene.distract_draws:
        a = fa * spec.size
        b = fb * a
        for fx, fy in tried:
            cx, cy = a + 1 + fx * max(width - 2 * a - 2, 0), a + 1 + fy * max(height - 2 * a - 2, 0)
            if np.hypot(path[:, 0] - cx, path[:, 1] - cy).min() > reach + a + 2:
                distractors.append({"c": (float(cx), float(cy)), "a": a, "b": b, "angle": ang, "texture": tex})
                break
    return tuple(distractors)


def figure_trajectory(spec: FigureSpec, t=None) -> dict:
    """The mover's centre at frame times ``t`` (default ``0 .. num_frames - 1``): ``x``, ``y`` (px),
    ``u`` (phase, cycles) and ``rot`` (rad, the rolling or spinning angle of round bodies)."""
    t = np.arange(spec.num_frames, dtype=np.float64) if t is None else np.asarray(t, dtype=np.float64)
    u = spec.phase + t / spec.period
    x, y = spec.motion.path(u, spec.params)
    cx, cy = spec.anchor[0] + spec.amplitude * x, spec.anchor[1] + spec.amplitude * y
    body = spec.motion.body
    if body in ("wheel", "spokes") or (body == "ball" and spec.motion.name == "Bounce"):
        # Rolling: the angle follows the horizontal distance travelled (both ways), over the radius.
        rot = spec.amplitude * x / max(spec.size, 1e-6)
    else:   # spinning at a rate tied to the motion's: two turns per cycle (version 4's propeller: one)
        rot = spec.spin_dir * 2 * np.pi * (1 if body == "propeller" else 2) * u
    return {"x": cx, "y": cy, "u": u, "rot": rot}
