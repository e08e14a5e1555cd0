"""Frame strips: the frames decoded are the ones asked for, checked on videos whose frames show their index."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import make_ucf_layout, read_number, write_numbered_video

from pacekit.config import get_config
from pacekit.data.strips import read_pace_strips, read_strip, spread_indices
from pacekit.evaluation.attention import load_pace_clips
from pacekit.evaluation.retrieval import frame_strip
from pacekit.study.quickstart import _pace_strip_frames
from pacekit.teaching.widgets import read_videos


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    """An MPEG-4 AVI of 20 frames, 64 x 96, frame i showing the number i."""
    return write_numbered_video(tmp_path_factory.mktemp("strips") / "v_Count_g01_c01.avi", 20)


def numbers(frames) -> list[int]:
    return [read_number(f) for f in np.asarray(frames)]


def test_read_strip_returns_the_frames_at_the_indices_in_order(video):
    frames = read_strip(video, [5, 0, 19, 3, 3])
    assert frames.dtype == torch.uint8 and frames.shape == (5, 64, 96, 3)
    assert numbers(frames) == [5, 0, 19, 3, 3]


def test_read_strip_resizes_while_decoding(video):
    frames = read_strip(video, np.array([7, 12]), size=(32, 48))
    assert frames.shape == (2, 32, 48, 3)
    assert numbers(frames) == [7, 12]


def test_read_strip_takes_indices_as_a_function_of_the_frame_count(video):
    seen = []

    def last_three(num_frames):
        seen.append(num_frames)
        return [num_frames - 3, num_frames - 2, num_frames - 1]

    assert numbers(read_strip(video, last_three)) == [17, 18, 19]
    assert seen == [20]
    assert numbers(read_strip(video, np.arange)) == list(range(20))


def test_read_strip_refuses_frames_past_the_end(video):
    with pytest.raises(IndexError, match="out of range"):
        read_strip(video, [0, 20])


def test_spread_indices_run_from_first_to_last_frame():
    assert spread_indices(20, 4).tolist() == [0, 6, 13, 19]
    assert spread_indices(10, 4).tolist() == [0, 3, 6, 9]
    assert spread_indices(1, 3).tolist() == [0, 0, 0]


def test_read_pace_strips_take_frame_start_plus_floor_i_times_p(video):
    strips = read_pace_strips(video, paces=(1, 2, "1/2", 4), clip_len=6, start=3, size=(32, 48))
    assert strips.dtype == torch.uint8 and strips.shape == (4, 6, 32, 48, 3)
    assert [numbers(clip) for clip in strips] == [
        [3, 4, 5, 6, 7, 8],
        [3, 5, 7, 9, 11, 13],
        [3, 3, 4, 4, 5, 5],
        [3, 7, 11, 15, 19, 3],  # 23 loops back to frame 3 of the 20
    ]


def test_read_pace_strips_need_a_pace(video):
    with pytest.raises(ValueError, match="at least one pace"):
        read_pace_strips(video, paces=(), clip_len=4)


# -- the callers keep their outputs ---------------------------------------------------------------

def test_retrieval_frame_strip_lays_spread_frames_side_by_side(video):
    strip = frame_strip(video, num_frames=4, frame_size=(32, 48))
    assert strip.dtype == np.uint8 and strip.shape == (32, 4 * 48, 3)
    assert [read_number(strip[:, i * 48:(i + 1) * 48]) for i in range(4)] == [0, 6, 13, 19]


def test_widgets_read_videos_returns_every_frame_by_file_name(video):
    (name, frames), = read_videos([video], frame_size=(32, 48))
    assert name == "v_Count_g01_c01" and isinstance(frames, np.ndarray) and frames.shape == (20, 32, 48, 3)
    assert numbers(frames) == list(range(20))


def test_attention_pace_clips_are_the_pace_strips(video):
    clips = load_pace_clips(video, paces=(1, 3), clip_len=4, start=2, frame_size=(32, 48))
    assert clips.shape == (2, 4, 32, 48, 3)
    assert [numbers(clip) for clip in clips] == [[2, 3, 4, 5], [2, 5, 8, 11]]


def test_quickstart_pace_strip_shows_the_first_test_video_at_every_pace(tmp_path):
    root = make_ucf_layout(tmp_path / "ucf", classes=("ApplyEyeMakeup",), per_class=2, num_frames=30)
    cfg = get_config("cpu-tiny").replace(dataset="ucf101", root=str(root), clip_len=8, frame_size=(64, 96))
    frames = _pace_strip_frames(cfg)
    assert list(frames) == [1, 2, 3, 4]  # the cpu-tiny preset's relative pace set
    assert all(isinstance(f, np.ndarray) and f.shape == (8, 64, 96, 3) for f in frames.values())
    assert {int(p): numbers(f) for p, f in frames.items()} == {
        1: [0, 1, 2, 3, 4, 5, 6, 7],
        2: [0, 2, 4, 6, 8, 10, 12, 14],
        3: [0, 3, 6, 9, 12, 15, 18, 21],
        4: [0, 4, 8, 12, 16, 20, 24, 28],
    }
