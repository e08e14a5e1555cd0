"""Turning a spec into pixels: signed distances, parts, textures, backgrounds and the frames of a video.

``draw_video(VideoSpec)`` draws a version-1 video; ``draw_figure_video(FigureSpec)`` a version-3 or -4 video
and its mover masks. Both are pure functions of the spec; ``render_video`` and ``render_figure_video`` sample
a spec from seeds (:mod:`.specs`) and draw it. Every shape is anti-aliased from a signed distance in pixels,
so edges stay one pixel soft at every frame size.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np

from .specs import (
    BACKGROUNDS,
    FORMAT_VERSION,
    SHAPES,
    FigureSpec,
    RngLike,
    VideoSpec,
    _check_version,
    figure_trajectory,
    sample_figure_spec,
    sample_spec,
    trajectory,
)

MASK_SCALE = 2          # masks are drawn at 1/MASK_SCALE of the frame size (block coverage >= 1/2)


# ------------------------------------------------------------------------------------ version 1


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
    ``version=3`` or ``4`` draws ``draw_figure_video(sample_figure_spec(c, s, version=...))``'s frames (without
    the masks; ``render_figure_video`` gives both). The same seed gives the same frames.
    """
    if _check_version(version) == 1:
        return draw_video(sample_spec(class_index, rng_or_seed, width, height, num_frames, scene_seed))
    return render_figure_video(class_index, rng_or_seed, width, height, num_frames, scene_seed, int(version))[0]


# ------------------------------------------------------------------------------------ versions 3 to 6
# A part is a dict: {"kind": "ellipse", "c": (x, y), "a": half-length, "b": half-width, "angle": rad,
# "tex": index into the textures it is drawn with} or {"kind": "capsule", "p0": (x, y), "p1": (x, y),
# "r": radius, "tex"}. The mover's parts come from ``_figure_parts`` (textures: ``look["textures"]``), a
# version-4 distractor's from ``_v4_distractor_parts`` (its own two textures).


def _ellipse(c, a, b, angle, tex):
    """An ellipse part: centre ``c``, half-axes ``a`` (along ``angle``, rad) and ``b``, texture index ``tex``."""
    return {"kind": "ellipse", "c": (float(c[0]), float(c[1])), "a": float(a), "b": float(b),
            "angle": float(angle), "tex": tex}


def _capsule(p0, p1, r, tex):
    """A capsule part: the points within ``r`` px of the segment ``p0`` - ``p1``, texture index ``tex``."""
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
            wave = math.sin((spec.look["steps"] if spec.version >= 4 else 3) * w)
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
    if body == "jack":   # arms and legs open as the figure leaves the ground (the path's top is u = 0.5)
        open_ = 0.5 - 0.5 * math.cos(2 * w)
        parts = [_ellipse((cx, cy - 0.2 * R), 0.75 * R, 0.42 * R, math.pi / 2, 0),
                 _ellipse((cx, cy - 1.25 * R), 0.36 * R, 0.36 * R, 0.0, 1)]
        for side in (-1.0, 1.0):
            arm, _ = _limb((cx + side * 0.3 * R, cy - 0.75 * R), side * (0.35 + 2.3 * open_), side * 0.3 * open_,
                           0.5 * R, 0.16 * R, 1)
            leg, _ = _limb((cx + side * 0.18 * R, cy + 0.45 * R), side * (0.12 + 0.4 * open_), -side * 0.1,
                           0.5 * R, 0.2 * R, 1)
            parts += arm + leg
        return parts
    if body == "propeller":
        parts = [_capsule((cx, cy), (cx + R * math.cos(rot + k * math.pi), cy + R * math.sin(rot + k * math.pi)),
                          0.24 * R, k) for k in (0, 1)]
        return parts + [_ellipse((cx, cy), 0.32 * R, 0.32 * R, rot, 1)]
    if body == "hammer":   # the hand is the anchor; the head is the centre
        hand = spec.anchor
        th = math.atan2(cx - hand[0], cy - hand[1])
        head = _ellipse((cx, cy), 0.7 * R, 0.38 * R, -th, 0)
        return [_capsule(hand, (cx, cy), 0.16 * R, 1), head,
                _ellipse(hand, 0.3 * R, 0.3 * R, 0.0, 1)]
    if body == "spokes":
        parts = [_ellipse((cx, cy), R, R, rot, 0)]
        parts += [_capsule((cx, cy), (cx + 0.8 * R * math.cos(rot + k * 2 * math.pi / 3),
                                      cy + 0.8 * R * math.sin(rot + k * 2 * math.pi / 3)), 0.12 * R, 1)
                  for k in range(3)]
        return parts + [_ellipse((cx, cy), 0.25 * R, 0.25 * R, rot, 1)]
    raise ValueError(f"unknown body {body!r}")


def _part_box(part) -> tuple[float, float, float, float]:
    """The part's bounding box (xmin, xmax, ymin, ymax) in px (an ellipse's: the circle of its long half-axis)."""
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
    """A texture's colour (h, w, 3) float32 at a part's local coordinates (p, q): its two colours in stripes,
    checks, rings or two halves, ``freq`` radians per px."""
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


def _v4_distractor_parts(d: dict) -> list:
    """The parts of a version-4 static distractor (``FigureSpec.distractors``' parameters): a rock (an ellipse),
    a stick (a capsule), a bent two-part limb with a round joint at its root, or a disc with a hub; part ``tex``
    indexes the distractor's own two textures."""
    (cx, cy), f, ang, kind = d["c"], d["size"], d["angle"], d["kind"]
    if kind == "rock":
        return [_ellipse((cx, cy), f, f * d["aspect"], ang, 0)]
    if kind == "stick":
        dx, dy = f * math.cos(ang), f * math.sin(ang)
        return [_capsule((cx - dx, cy - dy), (cx + dx, cy + dy), 0.25 * f, 0)]
    if kind == "limb":
        root = (cx - 0.5 * f * math.sin(ang), cy - 0.5 * f * math.cos(ang))
        parts, _ = _limb(root, ang, d["bend"], 0.55 * f, 0.2 * f, 0)
        return parts + [_ellipse(root, 0.3 * f, 0.3 * f, 0.0, 1)]
    if kind == "disc":
        return [_ellipse((cx, cy), f, f, ang, 0), _ellipse((cx, cy), 0.3 * f, 0.3 * f, ang, 1)]
    raise ValueError(f"unknown distractor kind {kind!r}")


def draw_figure_video(spec: FigureSpec) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``spec``: frames (T, H, W, 3) uint8 RGB and the mover's masks (T, H // MASK_SCALE,
    W // MASK_SCALE) bool (a mask pixel is set when the mover covers at least half of its block).

    The background and the static distractors are drawn once; each frame adds the mover's parts, then the
    frame's brightness / contrast / saturation change (``spec.jitter``) over the whole frame."""
    H, W = spec.height, spec.width
    gy, gx = np.mgrid[0:H, 0:W].astype(np.float32) + 0.5
    canvas = _background(spec.background, gx, gy)
    if spec.version >= 4:
        for d in spec.distractors:
            _draw_parts(canvas, gx, gy, _v4_distractor_parts(d), d["textures"])
    else:
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
    """One random version-3 or -4 video: ``(frames, masks)`` as ``draw_figure_video`` returns them."""
    return draw_figure_video(sample_figure_spec(class_index, rng_or_seed, width, height, num_frames, scene_seed,
                                                version=version, speed_spread=speed_spread))
