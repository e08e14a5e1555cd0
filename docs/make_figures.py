"""Regenerate the README's figures (``python docs/make_figures.py``): one video of the default synthetic set
sampled at paces 1-4, as a strip of stills and as an animation of the four clips side by side in a shuffled
order (:data:`SHOWN_ORDER`; the README's caption gives the answer folded away)."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from pacekit.data.synthetic import FORMAT_VERSION, render_video, synthetic_classes  # noqa: E402
from pacekit.pace import sample_indices  # noqa: E402
from pacekit.study.plots import plot_pace_strip  # noqa: E402

OUT = Path(__file__).parent / "figures"
#: The paces of the animation's clips from left to right (A, B, C, D).
SHOWN_ORDER = (3, 1, 4, 2)


def pace_strip_figure():
    class_index = synthetic_classes(FORMAT_VERSION).index("Propeller")
    frames = render_video(class_index, 3, width=160, height=120, num_frames=100, version=FORMAT_VERSION)
    clips = {p: frames[sample_indices(len(frames), 16, p, start=0)] for p in (1, 2, 3, 4)}
    return plot_pace_strip(clips, max_frames=8, frame_width=1.0)


def pace_clips_animation(gap: int = 6) -> bytes:
    """An animated WebP: the clips of :func:`pace_strip_figure`'s video at :data:`SHOWN_ORDER`'s paces, side
    by side, looping at 25 frames per second, nothing drawn on them that names a pace."""
    import io

    import numpy as np
    from PIL import Image

    class_index = synthetic_classes(FORMAT_VERSION).index("Propeller")
    frames = render_video(class_index, 3, width=160, height=120, num_frames=100, version=FORMAT_VERSION)
    clips = [frames[sample_indices(len(frames), 16, p, start=0)] for p in SHOWN_ORDER]
    white = np.full((16, 120, gap, 3), 255, dtype=np.uint8)
    row = np.concatenate([part for clip in clips for part in (clip, white)][:-1], axis=2)  # (T, H, W', 3)
    images = [Image.fromarray(np.ascontiguousarray(f)) for f in row]
    out = io.BytesIO()
    images[0].save(out, format="WEBP", save_all=True, append_images=images[1:], duration=40, loop=0, quality=85)
    return out.getvalue()


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    pace_strip_figure().savefig(OUT / "pace_strip.png", dpi=110, bbox_inches="tight")
    print(f"wrote {OUT / 'pace_strip.png'}")
    (OUT / "pace_clips.webp").write_bytes(pace_clips_animation())
    print(f"wrote {OUT / 'pace_clips.webp'}")
