"""Regenerate the README's figure: one video of the default synthetic set sampled at paces 1-4
(``python docs/make_figures.py``)."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from pacekit.data.synthetic import FORMAT_VERSION, render_video, synthetic_classes  # noqa: E402
from pacekit.pace import sample_indices  # noqa: E402
from pacekit.study.plots import plot_pace_strip  # noqa: E402

OUT = Path(__file__).parent / "figures"


def pace_strip_figure():
    class_index = synthetic_classes(FORMAT_VERSION).index("Propeller")
    frames = render_video(class_index, 3, width=160, height=120, num_frames=100, version=FORMAT_VERSION)
    clips = {p: frames[sample_indices(len(frames), 16, p, start=0)] for p in (1, 2, 3, 4)}
    return plot_pace_strip(clips, max_frames=8, frame_width=1.0)


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    pace_strip_figure().savefig(OUT / "pace_strip.png", dpi=110, bbox_inches="tight")
    print(f"wrote {OUT / 'pace_strip.png'}")
