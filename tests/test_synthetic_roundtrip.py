"""Generate the synthetic set, read it back through the UCF101 code path, and check class, label and pace."""

import numpy as np
import pytest

from pacekit.data import build_dataset
from pacekit.data.synthetic import build_synthetic, read_synthetic_metadata, render_video, synthetic_classes
from pacekit.pace import PaceSet, sample_indices


@pytest.fixture(scope="module")
def synthetic_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic")
    build_synthetic(root, num_classes=3, videos_per_class=4, width=64, height=48, duration=(3.0, 3.2), seed=7)
    return root


def best_pace_fit(clip: np.ndarray, frames: np.ndarray, pace_set: PaceSet) -> tuple[int, float]:
    """The pace label (and its error) whose best start reproduces ``clip`` from the rendered frames."""
    errors = []
    for label, pace in enumerate(pace_set):
        errors.append(min(np.abs(frames[sample_indices(len(frames), len(clip), pace, s)].astype(float) - clip).mean()
                          for s in range(len(frames))))
    return int(np.argmin(errors)), float(min(errors))


def test_round_trip_class_label_and_pace(synthetic_root):
    described = read_synthetic_metadata(synthetic_root)
    meta, version = {v["path"]: v for v in described["videos"]}, described["version"]
    ds = build_dataset("synthetic", synthetic_root, "train", mode="pace", clip_len=8, frame_size=None)
    assert ds.classes == list(synthetic_classes(version)[:3])
    pace_set = PaceSet.from_spec("relative")
    for i in range(len(ds)):
        record, item = ds.records[i], ds[i]
        video = meta[record.name]
        assert ds.classes[record.label] == video["class"] == record.name.split("/")[0]
        frames = render_video(video["class_index"], video["seed"], 64, 48, video["num_frames"],
                              scene_seed=video["scene_seed"], version=version)
        label, error = best_pace_fit(item["video"].numpy().astype(float), frames, pace_set)
        assert label == item["pace_label"].item(), (record.name, label, item["pace_label"])
        assert error < 16  # MPEG-4 noise on tiny textured frames; the pace fit itself is exact
