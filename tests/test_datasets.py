import warnings

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from helpers import read_number, write_numbered_video
from pacekit.data import VideoDataset, VideoRecord, build_dataset
from pacekit.pace import PaceSet


def numbers(clip):
    return [read_number(f) for f in clip]


def test_pace_items_show_frames_at_their_pace(ucf_root):
    ds = build_dataset("ucf101", ucf_root, "train", mode="pace", clip_len=8, frame_size=(64, 96))
    pace_set = PaceSet.from_spec("relative")
    seen = set()
    for i in range(len(ds)):
        item = ds[i]
        assert item["video"].shape == (8, 64, 96, 3) and item["video"].dtype == torch.uint8
        p = int(pace_set.pace_of(item["pace_label"]))
        frames = numbers(item["video"])
        assert np.diff(frames).tolist() == [p] * 7  # 'fit' start: no loop, exact steps
        seen.add(p)
    assert item["label"].dtype == torch.int64 and "index" in item
    assert len(seen) >= 2


def test_absolute_paces_repeat_frames_when_slow(ucf_root):
    ds = build_dataset("ucf101", ucf_root, "train", mode="pace", clip_len=6, pace_set=["1/3"], frame_size=None)
    frames = numbers(ds[0]["video"])
    assert frames[0] == frames[1] == frames[2] and frames[3] == frames[0] + 1


def test_interpolated_slow_fill_blends(ucf_root):
    ds = build_dataset("ucf101", ucf_root, "train", mode="pace", clip_len=4, pace_set=["1/2"],
                       slow_fill="interpolate", frame_size=None)
    clip = ds[0]["video"].float()
    # frame 1 sits halfway between frames 0 and 2 (which are consecutive source frames)
    assert torch.allclose(clip[1], (clip[0] + clip[2]) / 2, atol=1.0)


def test_two_clips_per_video_have_different_paces(ucf_root):
    ds = build_dataset("ucf101", ucf_root, "train", mode="pace", clip_len=4, clips_per_video=2, frame_size=(32, 48))
    for i in range(len(ds)):
        item = ds[i]
        assert item["video"].shape == (2, 4, 32, 48, 3)
        assert item["pace_label"].shape == (2,) and item["pace_label"][0] != item["pace_label"][1]


def test_sampling_is_deterministic_per_seed_epoch_and_index(ucf_root):
    ds = build_dataset("ucf101", ucf_root, "train", mode="pace", clip_len=4, frame_size=(32, 48))
    a = [ds[i]["pace_label"].item() for i in range(len(ds))] + [numbers(ds[0]["video"])]
    b = [ds[i]["pace_label"].item() for i in range(len(ds))] + [numbers(ds[0]["video"])]
    assert a == b
    draws = set()
    for epoch in range(6):
        ds.set_epoch(epoch)
        draws.add(tuple(ds[i]["pace_label"].item() for i in range(len(ds))))
    assert len(draws) > 1


def test_clip_mode_is_natural_pace(ucf_root):
    ds = build_dataset("ucf101", ucf_root, "test", mode="clip", clip_len=5, frame_size=(32, 48))
    item = ds[1]
    assert np.diff(numbers(item["video"])).tolist() == [1, 1, 1, 1]
    assert item["label"].item() == ds.records[1].label


def test_eval_mode_spaces_ten_clips_uniformly(ucf_root):
    ds = build_dataset("ucf101", ucf_root, "test", mode="eval", clip_len=4, frame_size=(32, 48))
    item = ds[0]
    n = 40  # first class: 40 frames
    assert item["video"].shape == (10, 4, 32, 48, 3)
    starts = [numbers(clip)[0] for clip in item["video"]]
    assert starts == np.round(np.linspace(0, n - 4, 10)).astype(int).tolist()
    assert all(np.diff(numbers(c)).tolist() == [1, 1, 1] for c in item["video"])


def test_eval_mode_on_a_video_shorter_than_a_clip_loops_from_zero(tmp_path):
    video = write_numbered_video(tmp_path / "short.avi", 3)
    ds = VideoDataset([VideoRecord(video, 0, "short")], ["x"], mode="eval", clip_len=8, num_clips=10, frame_size=None)
    clips = ds[0]["video"]
    assert all(numbers(c) == [0, 1, 2, 0, 1, 2, 0, 1] for c in clips)


def test_repeat_makes_a_longer_epoch(ucf_root):
    ds = build_dataset("ucf101", ucf_root, "train", repeat=10, clip_len=4, frame_size=(32, 48))
    assert len(ds) == 60 and ds[59]["index"].item() == 5


def test_corrupt_video_warns_once_and_is_substituted(tmp_path):
    good = write_numbered_video(tmp_path / "good.avi", 30)
    bad = tmp_path / "bad.avi"
    bad.write_bytes(b"not a video at all" * 100)
    ds = VideoDataset([VideoRecord(bad, 1, "bad"), VideoRecord(good, 0, "good")], ["g", "b"], clip_len=4,
                      frame_size=None)
    with pytest.warns(UserWarning, match="bad.avi") as record:
        item = ds[0]
    assert len([w for w in record if "bad.avi" in str(w.message)]) == 1
    assert item["substituted"].item() >= 1 and item["label"].item() == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the second time: no new warning
        ds[0]
    assert ds[1]["substituted"].item() == 0


def test_dataloader_batches_stack_with_workers(ucf_root):
    ds = build_dataset("ucf101", ucf_root, "train", clip_len=4, frame_size=(64, 80))
    loader = DataLoader(ds, batch_size=3, num_workers=2)
    batches = list(loader)
    assert [b["video"].shape for b in batches] == [(3, 4, 64, 80, 3)] * 2
    assert torch.equal(torch.cat([b["pace_label"] for b in batches]),
                       torch.stack([ds[i]["pace_label"] for i in range(6)]))


def test_bad_arguments_are_explained(ucf_root):
    with pytest.raises(ValueError, match="mode"):
        build_dataset("ucf101", ucf_root, mode="train")
    with pytest.raises(ValueError, match="unknown dataset"):
        build_dataset("ucf", ucf_root)
    with pytest.raises(ValueError, match="clips_per_video"):
        build_dataset("ucf101", ucf_root, mode="clip", clips_per_video=2)


def test_real_ucf101_clips_through_the_dataset(shared_data):
    videos = sorted((shared_data / "videos" / "ucf101").glob("*.avi"))
    records = [VideoRecord(p, i, p.name) for i, p in enumerate(videos)]
    ds = VideoDataset(records, [p.stem for p in videos], mode="pace", clip_len=16, clips_per_video=2)
    item = ds[0]
    assert item["video"].shape == (2, 16, 128, 171, 3)
    ev = VideoDataset(records, [p.stem for p in videos], mode="eval", clip_len=16)
    assert ev[2]["video"].shape == (10, 16, 128, 171, 3)


def test_real_corrupt_clip_in_a_dataset_is_substituted(shared_data):
    bad = shared_data / "videos" / "other" / "decord_corrupted_truncated.mp4"
    good = shared_data / "videos" / "other" / "mmaction2_rawvideo_part_0.mp4"
    ds = VideoDataset([VideoRecord(bad, 0, "bad"), VideoRecord(good, 1, "good")], ["a", "b"],
                      mode="eval", clip_len=16, num_clips=2)
    with pytest.warns(UserWarning, match="decord_corrupted_truncated"):
        item = ds[0]
    assert item["substituted"].item() >= 1 and item["label"].item() == 1
