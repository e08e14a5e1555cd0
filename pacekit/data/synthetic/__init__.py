"""The built-in procedural action dataset, written as real videos in the UCF101 layout.

Nothing in a fresh clone can download UCF101, so pacekit draws its own: ten or twelve action classes, each a
distinct periodic motion of a textured mover over random backgrounds, encoded like UCF101 (MPEG-4 Part 2 in
AVI, 25 fps, yuv420p) and listed in UCF101's split files, so the same reading code serves both (paper
Sec. 3.1, Fig. 2). Up to version 4 a class is a motion, not a look: the look is random per group of clips (a
UCF101 "group" is clips cut from one long video, so here a group shares its background, the mover's look and its
distractors' looks; versions 3 to 6 place the distractors off each clip's own path); version 5 gives each
action's mover its own colours, and version 6 crowds its scenes with distractors. The train/test split keeps
whole groups apart.

Why it suits pace prediction. The pace of a clip (Sec. 3.1) must not be readable from the global amount of
motion alone, or a network could solve the pretext task without looking at what moves. Every class has its
own narrow natural speed band, and the bands are spread (4x) so that a slow class at pace 4 moves like a
fast class at pace 1: the pace is known only once the motion, hence its natural speed, is recognised. Every
motion is periodic and smooth at its natural pace, so sampling every 4th frame does not alias.

Format versions (``FORMAT_VERSIONS``; ``FORMAT_VERSION`` is the default):

* 1: one small object (about 1 % of the frame) per video, twelve motions with speed bands
  (``MOTION_CLASSES``); no masks. Kept for its tests and the ``--version 1`` flag.
* 3: the figure table (``FIGURE_CLASSES``: large textured, articulated movers covering 4-11 % of the frame,
  static textured distractors, low-contrast backgrounds, per-frame brightness / contrast / saturation
  changes) at ``V3_SPEED_FACTOR`` times its speeds (``V3_CLASSES``); each video's mover masks lie beside it.
* 4: ten actions with a body each (``V4_CLASSES``, speeds 1.6 .. 6.4 log-spaced; a limb swings
  at most once per ``V4_MIN_SWING`` frames where the frame holds the path at its natural period), 3-5 static
  distractors cut from the movers' own parts and textures, and the masks of version 3.
* 5: version 4's videos (the same draws: motion, scene, distractors) with each action's own two patterns and
  colours on its mover (``V5_PALETTES``), as a real action comes with its own things: in version 4 a small
  network could not tell the actions apart across their random looks, so it could not know which natural
  speed to expect (the measurements: docs/lab-notebook.md).
* 6, the default: version 5's movers and motions in scenes crowded with 16-22 static distractors
  (``V6_DISTRACTORS``, the same kinds, textures and placement) covering about half of the frame: random
  filters then put about as much of their attention off the mover as on it, so where a pretrained network
  looks differs from random weights by the motion.

``speed_spread`` (versions 3 to 6, a parameter rather than a version) pulls the classes' natural speeds
together, so the fastest is ``speed_spread`` times the slowest (1: one speed for all, where the pace can be
told from the speed alone); pacekit pretrains on such a *companion* set beside the default one
(``pacekit quickstart --pretrain-speed-spread``, claim C9 of ``pacekit claims``).

Units: speeds are pixels per frame in a ``REFERENCE_HEIGHT`` (120) pixel high frame, scaled by
``height / 120`` for other heights; version 1's speed is the mean displacement per frame of the object's tip,
versions 3 to 6's that of the mover's centre. Periods are frames per motion cycle at natural pace.

Layers, each importing only those before it:

* :mod:`.specs`: class tables, constants, the spec of one video (``sample_spec``, ``sample_figure_spec``)
  and its trajectory; no pixels.
* :mod:`.drawing`: a spec to pixels (``draw_video``, ``draw_figure_video`` with its masks, ``render_video``,
  ``render_figure_video``).
* :mod:`.writer`: a whole set on disk (``plan_synthetic``, ``build_synthetic``, ``make_synthetic``,
  ``ensure_synthetic``, ``write_video``, mover masks, companions).
"""

from __future__ import annotations

from .drawing import MASK_SCALE, draw_figure_video, draw_video, render_figure_video, render_video
from .specs import (
                    BACKGROUNDS,
                    FIGURE_CLASSES,
                    FILLS,
                    FORMAT_VERSION,
                    FORMAT_VERSIONS,
                    MASKED_VERSIONS,
                    MIN_CYCLE_FRAMES,
                    MOTION_CLASSES,
                    NATIVE_SPEED_SPREAD,
                    REFERENCE_HEIGHT,
                    SHAPES,
                    SYNTHETIC_CLASSES,
                    TEXTURES,
                    V2_AREA_RANGE,
                    V2_SPEED_JITTER,
                    V2_SPEEDS,
                    V3_CLASSES,
                    V3_SPEED_FACTOR,
                    V4_AREA_RANGE,
                    V4_CLASSES,
                    V4_DISTRACTOR_KINDS,
                    V4_DISTRACTORS,
                    V4_MIN_SWING,
                    V4_SPEED_JITTER,
                    V4_SPEEDS,
                    V4_TEXTURE_PERIOD,
                    V5_PALETTES,
                    V6_DISTRACTORS,
                    FigureClass,
                    FigureSpec,
                    MotionClass,
                    RngLike,
                    VideoSpec,
                    check_speed_spread,
                    figure_classes,
                    figure_trajectory,
                    sample_figure_spec,
                    sample_spec,
                    synthetic_classes,
                    tip_speed,
                    trajectory,
)
from .writer import (
                    CLIPS_PER_GROUP,
                    FORMAT_NAME,
                    GOP_SIZE,
                    MASK_SUFFIX,
                    METADATA_FILE,
                    QUANTIZER,
                    SPLITS_DIR,
                    VIDEOS_DIR,
                    SyntheticParams,
                    SyntheticSummary,
                    build_synthetic,
                    check_companion_folder,
                    check_synthetic_folder,
                    companion_folder,
                    ensure_companion,
                    ensure_synthetic,
                    load_mover_masks,
                    make_synthetic,
                    mask_path,
                    natural_speeds,
                    plan_synthetic,
                    read_synthetic_metadata,
                    synthetic_version,
                    video_filename,
                    write_mover_masks,
                    write_video,
)

__all__ = [
    "FIGURE_CLASSES", "NATIVE_SPEED_SPREAD", "V3_SPEED_FACTOR", "check_companion_folder", "check_speed_spread",
    "check_synthetic_folder", "companion_folder",
    "ensure_companion", "figure_classes", "FORMAT_NAME", "FORMAT_VERSION", "FORMAT_VERSIONS", "MASK_SCALE",
    "MASKED_VERSIONS",
    "MIN_CYCLE_FRAMES", "MOTION_CLASSES", "REFERENCE_HEIGHT",
    "SYNTHETIC_CLASSES", "MotionClass", "SyntheticParams", "SyntheticSummary", "VideoSpec", "build_synthetic",
    "FigureClass", "FigureSpec", "draw_figure_video", "figure_trajectory", "load_mover_masks", "mask_path",
    "render_figure_video", "sample_figure_spec", "synthetic_classes", "write_mover_masks",
    "draw_video", "ensure_synthetic", "make_synthetic", "natural_speeds", "plan_synthetic", "read_synthetic_metadata",
    "render_video", "sample_spec", "synthetic_version", "tip_speed", "trajectory", "video_filename", "write_video",
    "V3_CLASSES", "V4_AREA_RANGE", "V4_CLASSES", "V4_DISTRACTORS", "V4_MIN_SWING", "V4_SPEED_JITTER", "V4_SPEEDS",
    "V5_PALETTES", "V6_DISTRACTORS",
]
