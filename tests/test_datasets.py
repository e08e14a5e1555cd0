import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
import torch
from helpers import make_ucf_layout, read_number, write_numbered_video
from torch.utils.data import DataLoader

from pacekit.data import (
    ActionClipSampler,
    ClipSampler,
    EvalClipSampler,
    PaceClipSampler,
    VideoDataset,
    VideoRecord,
    build_dataset,
    make_clip_sampler,
)
from pacekit.data.splits import kinetics_filename
from pacekit.pace import PaceSet, sample_start

#: The videos :func:`make_ucf_with_broken_videos` overwrites with garbage: one of the test list (record
#: 2 of 6) and one of the train list (record 4 of 6).
BROKEN_TEST = "HandstandPushups/v_HandStandPushups_g03_c01.avi"
BROKEN_TRAIN = "Basketball/v_Basketball_g01_c01.avi"


def make_ucf_with_broken_videos(root):
    """The conftest's UCF101 layout (3 classes; train and test lists of 6) with :data:`BROKEN_TEST` and
    :data:`BROKEN_TRAIN` replaced by bytes no reader can decode."""
    root = make_ucf_layout(root)
    for rel in (BROKEN_TEST, BROKEN_TRAIN):
        (root / "UCF-101" / rel).write_bytes(b"not a video at all" * 100)
    return root


@pytest.fixture(scope="module")
def broken_ucf_root(tmp_path_factory):
    return make_ucf_with_broken_videos(tmp_path_factory.mktemp("broken_ucf"))


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
    ds = VideoDataset([VideoRecord(video, 0, "short")], ["x"], EvalClipSampler(clip_len=8, num_clips=10), frame_size=None)
    clips = ds[0]["video"]
    assert all(numbers(c) == [0, 1, 2, 0, 1, 2, 0, 1] for c in clips)


def test_repeat_makes_a_longer_epoch(ucf_root):
    ds = build_dataset("ucf101", ucf_root, "train", repeat=10, clip_len=4, frame_size=(32, 48))
    assert len(ds) == 60 and ds[59]["index"].item() == 5


def test_corrupt_video_warns_once_and_is_substituted(tmp_path):
    good = write_numbered_video(tmp_path / "good.avi", 30)
    bad = tmp_path / "bad.avi"
    bad.write_bytes(b"not a video at all" * 100)
    ds = VideoDataset([VideoRecord(bad, 1, "bad"), VideoRecord(good, 0, "good")], ["g", "b"],
                      PaceClipSampler(clip_len=4), frame_size=None)
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
    ds = VideoDataset(records, [p.stem for p in videos], PaceClipSampler(clip_len=16, clips_per_video=2))
    item = ds[0]
    assert item["video"].shape == (2, 16, 128, 171, 3)
    ev = VideoDataset(records, [p.stem for p in videos], EvalClipSampler(clip_len=16))
    assert ev[2]["video"].shape == (10, 16, 128, 171, 3)


def test_real_corrupt_clip_is_substituted_in_training_and_left_out_in_eval(shared_data):
    bad = shared_data / "videos" / "other" / "decord_corrupted_truncated.mp4"
    good = shared_data / "videos" / "other" / "mmaction2_rawvideo_part_0.mp4"
    records = [VideoRecord(bad, 0, "bad"), VideoRecord(good, 1, "good")]
    training = VideoDataset(records, ["a", "b"], ActionClipSampler(clip_len=16))
    with pytest.warns(UserWarning, match="decord_corrupted_truncated"):
        item = training[0]
    assert item["substituted"].item() >= 1 and item["label"].item() == 1
    evaluation = VideoDataset(records, ["a", "b"], EvalClipSampler(clip_len=16, num_clips=2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # eval mode reports through the item, not by substituting
        item = evaluation[0]
    assert not item["usable"] and item["index"].item() == 0 and item["label"].item() == 0
    assert item["unusable_reason"].startswith("partly decodable: ")  # breaks after frame 28 of 50
    assert "decord_corrupted_truncated" in item["unusable_reason"]
    assert item["video"].shape == (2, 16, 128, 171, 3)


# ------------------------------------------------------------------- unreadable videos in eval mode


def test_eval_mode_flags_an_unreadable_video_instead_of_substituting(broken_ucf_root):
    from pacekit.data.datasets import collate_eval_items

    ds = build_dataset("ucf101", broken_ucf_root, "test", mode="eval", clip_len=4, num_clips=3, frame_size=(32, 48))
    assert ds.records[2].name == BROKEN_TEST
    items = [ds[i] for i in range(len(ds))]
    assert [bool(item["usable"]) for item in items] == [True, True, False, True, True, True]
    bad = items[2]
    assert bad["index"].item() == 2 and bad["label"].item() == ds.records[2].label == 1  # its own, not another's
    assert bad["unusable_reason"].startswith("undecodable: ")
    assert "v_HandStandPushups_g03_c01.avi" in bad["unusable_reason"]
    assert "substituted" not in bad
    assert bad["video"].shape == (3, 4, 32, 48, 3) and not bad["video"].any()  # a zero clip that stacks
    assert numbers(items[3]["video"][0]) == [0, 1, 2, 3]  # the neighbours are read as themselves
    # Plain collation still stacks the batch; eval collation sets the unusable item aside.
    plain = next(iter(DataLoader(ds, batch_size=3)))
    assert plain["video"].shape == (3, 3, 4, 32, 48, 3) and plain["usable"].tolist() == [True, True, False]
    parts = list(DataLoader(ds, batch_size=4, collate_fn=collate_eval_items))
    assert parts[0]["usable"]["index"].tolist() == [0, 1, 3] and parts[1]["usable"]["index"].tolist() == [4, 5]
    assert [index for index, _ in parts[0]["left_out"]] == [2] and parts[1]["left_out"] == []
    assert "usable" not in parts[0]["usable"] and parts[0]["usable"]["video"].shape == (3, 3, 4, 32, 48, 3)


def test_eval_mode_reports_a_vanished_file_as_missing_on_disk(tmp_path):
    from pacekit.data.datasets import collate_eval_items

    good = write_numbered_video(tmp_path / "good.avi", 12)
    gone = tmp_path / "gone.avi"  # listed when the split was read, deleted before decoding
    ds = VideoDataset([VideoRecord(good, 0, "good.avi"), VideoRecord(gone, 0, "gone.avi")], ["x"],
                      EvalClipSampler(clip_len=4, num_clips=2), frame_size=None)
    item = ds[1]
    assert not item["usable"] and item["unusable_reason"].startswith("missing on disk: ")
    assert item["video"].shape == (2, 4, 0, 0, 3)  # native size: nothing to match, nothing to score
    parts = collate_eval_items([ds[0], ds[1]])  # the empty placeholder never meets the real clip
    assert parts["usable"]["video"].shape == (1, 2, 4, 64, 96, 3) and parts["left_out"][0][0] == 1
    assert collate_eval_items([item]) == {"usable": None, "left_out": [(1, item["unusable_reason"])]}


def test_training_modes_still_substitute_what_eval_leaves_out(broken_ucf_root):
    clip = build_dataset("ucf101", broken_ucf_root, "test", mode="clip", clip_len=4, frame_size=(32, 48))
    with pytest.warns(UserWarning, match="v_HandStandPushups_g03_c01.avi.*another video is used"):
        item = clip[2]
    assert item["substituted"].item() >= 1 and item["index"].item() != 2
    pace = build_dataset("ucf101", broken_ucf_root, "train", mode="pace", clip_len=4, frame_size=(32, 48))
    assert pace.records[4].name == BROKEN_TRAIN
    with pytest.warns(UserWarning, match="v_Basketball_g01_c01.avi"):
        item = pace[4]
    assert item["substituted"].item() >= 1 and item["index"].item() != 4 and "usable" not in item
    evaluation = build_dataset("ucf101", broken_ucf_root, "test", mode="eval", clip_len=4, frame_size=(32, 48))
    assert not evaluation[2]["usable"] and evaluation[2]["index"].item() == 2


# ------------------------------------------------------------------------- Kinetics: missing on disk


def make_kinetics_layout(root, present=("aaa", "bbb", "ccc"), absent=("ddd", "eee")):
    """Kinetics-400 annotations whose train and val lists name ``present`` videos (written, 20 frames)
    and ``absent`` ones (not on disk), alternating between two classes."""
    root = Path(root)
    (root / "annotations").mkdir(parents=True)
    labels = ("abseiling", "air drumming")
    for subset in ("train", "val"):
        rows = [(labels[i % 2], y, 10 * i) for i, y in enumerate(present + absent)]
        lines = "".join(f"{label},{youtube_id},{start},{start + 10},{subset}\n" for label, youtube_id, start in rows)
        (root / "annotations" / f"{subset}.csv").write_text("label,youtube_id,time_start,time_end,split\n" + lines)
        for label, youtube_id, start in rows:
            if youtube_id in present:
                write_numbered_video(root / subset / label / kinetics_filename(youtube_id, start, start + 10), 20)
    return root


def test_kinetics_videos_missing_on_disk_are_kept_by_name(tmp_path):
    root = make_kinetics_layout(tmp_path / "k400")
    missing = [kinetics_filename("ddd", 30, 40), kinetics_filename("eee", 40, 50)]
    with pytest.warns(UserWarning, match="2 of the 5 videos.*ddd_000030_000040.mp4, eee_000040_000050.mp4.*"
                                         "counted and named as left out"):
        ds = build_dataset("kinetics400", root, "test", mode="eval", clip_len=4, num_clips=2, frame_size=(32, 48))
    assert ds.missing == missing and ds.num_listed == 5 and len(ds) == 3
    assert all(bool(ds[i]["usable"]) for i in range(3))
    with pytest.warns(UserWarning, match="ddd_000030_000040.mp4.*left out of training"):
        train = build_dataset("kinetics400", root, "train", mode="pace", clip_len=4, frame_size=(32, 48))
    assert train.missing == missing and len(train) == 3


def test_kinetics_quick_runs_keep_a_proportionate_share_of_the_missing(tmp_path):
    root = make_kinetics_layout(tmp_path / "k400", present=("a1", "a2", "a3", "a4"), absent=("m1", "m2", "m3", "m4"))
    with pytest.warns(UserWarning, match="2 of the 4 videos"):  # half of each: 2 of 4 present, 2 of 4 missing
        ds = build_dataset("kinetics400", root, "test", mode="eval", max_videos=2, frame_size=(32, 48))
    assert len(ds) == 2 and ds.num_listed == 4
    assert ds.missing == [kinetics_filename("m1", 40, 50), kinetics_filename("m4", 70, 80)]


# ------------------------------------------------------------------------------ samplers, pinned items

#: Frame counts of the :func:`numbered_videos` (labels alternate 0, 1): a long video, a short one, one
#: shorter than most clips, and one in between.
NUMBERED_LENGTHS = (40, 23, 12, 31)
#: ``(sampler arguments, seed, epoch, item, expected)``: items of a dataset of :data:`NUMBERED_LENGTHS`
#: repeated twice, read at native size. Computed with the mode-string VideoDataset before samplers were
#: objects; a change here changes which clips every run trains on.
PINNED_ITEMS = [
    (dict(mode="pace", clip_len=8), 3, 0, 0,
     dict(frames=[1, 5, 9, 13, 17, 21, 25, 29], pace_label=3, label=0, index=0, substituted=0)),
    (dict(mode="pace", clip_len=8), 3, 0, 2,
     dict(frames=[0, 4, 8, 0, 4, 8, 0, 4], pace_label=3, label=0, index=2, substituted=0)),
    (dict(mode="pace", clip_len=8), 3, 1, 5,
     dict(frames=[1, 3, 5, 7, 9, 11, 13, 15], pace_label=1, label=1, index=1, substituted=0)),
    (dict(mode="pace", clip_len=8, start_policy="any", wrap="restart"), 5, 0, 0,
     dict(frames=[32, 35, 38, 0, 3, 6, 9, 12], pace_label=2, label=0, index=0, substituted=0)),
    (dict(mode="pace", clip_len=8, start_policy="any", wrap="restart"), 5, 1, 7,
     dict(frames=[24, 28, 0, 4, 8, 12, 16, 20], pace_label=3, label=1, index=3, substituted=0)),
    (dict(mode="pace", clip_len=6, clips_per_video=2, pace_set="absolute"), 1, 0, 0,
     dict(frames=[[36, 36, 37, 37, 38, 38], [1, 2, 3, 4, 5, 6]], pace_label=[1, 2], label=0, index=0,
          substituted=0)),
    (dict(mode="pace", clip_len=6, clips_per_video=2, pace_set="absolute"), 1, 1, 2,
     dict(frames=[[0, 3, 6, 9, 0, 3], [0, 2, 4, 6, 8, 10]], pace_label=[4, 3], label=0, index=2, substituted=0)),
    (dict(mode="clip", clip_len=10), 2, 0, 0,
     dict(frames=list(range(25, 35)), label=0, index=0, substituted=0)),
    (dict(mode="clip", clip_len=10), 2, 1, 7,
     dict(frames=list(range(3, 13)), label=1, index=3, substituted=0)),
    (dict(mode="eval", clip_len=16, num_clips=3), 0, 1, 5,
     dict(frames=[list(range(0, 16)), list(range(4, 20)), list(range(7, 23))], usable=True, unusable_reason="",
          label=1, index=1)),
]


@pytest.fixture(scope="module")
def numbered_videos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("numbered")
    return [VideoRecord(write_numbered_video(folder / f"v{i}.avi", n), i % 2, f"v{i}.avi")
            for i, n in enumerate(NUMBERED_LENGTHS)]


def frames_of(video):
    return numbers(video) if video.dim() == 4 else [numbers(clip) for clip in video]


@pytest.mark.parametrize("args, seed, epoch, index, expected", PINNED_ITEMS)
def test_items_are_pinned(numbered_videos, args, seed, epoch, index, expected):
    args = dict(args)
    ds = build_dataset_from_records(numbered_videos, make_clip_sampler(args.pop("mode"), **args), seed=seed)
    ds.set_epoch(epoch)
    item = ds[index]
    expected = dict(expected)
    assert frames_of(item["video"]) == expected.pop("frames")
    assert item["video"].dtype == torch.uint8 and item["video"].shape[-3:] == (64, 96, 3)
    assert list(item) == ["video"] + list(expected)  # keys, in order
    for key, value in expected.items():
        got = item[key]
        if isinstance(got, torch.Tensor):
            assert got.dtype == (torch.bool if key == "usable" else torch.int64)
            got = got.tolist()
        assert got == value, key


def build_dataset_from_records(records, sampler, seed=0, repeat=2):
    return VideoDataset(records, ["even", "odd"], sampler, frame_size=None, repeat=repeat, seed=seed)


def test_substitution_is_pinned(numbered_videos, tmp_path):
    bad = tmp_path / "bad.avi"
    bad.write_bytes(b"not a video at all" * 100)
    records = [numbered_videos[0], VideoRecord(bad, 1, "bad"), numbered_videos[1]]
    for sampler, expected in ((PaceClipSampler(clip_len=4), dict(frames=[6, 7, 8, 9], pace_label=0)),
                              (ActionClipSampler(clip_len=4), dict(frames=[4, 5, 6, 7]))):
        ds = VideoDataset(records, ["a", "b"], sampler, frame_size=None, seed=7)
        with pytest.warns(UserWarning, match="bad.avi"):
            item = ds[1]
        assert numbers(item["video"]) == expected["frames"]
        assert (item["label"].item(), item["index"].item(), item["substituted"].item()) == (1, 2, 1)
        if "pace_label" in expected:
            assert item["pace_label"].item() == expected["pace_label"]


class FixedReader:
    """A stand-in for an open video: ``num_frames`` frames whose pixels hold their index."""

    def __init__(self, num_frames):
        self.num_frames = num_frames

    def get_frames(self, indices):
        return torch.as_tensor(np.asarray(indices), dtype=torch.uint8).view(-1, 1, 1, 1).expand(-1, 2, 2, 3).clone()


def test_pace_sampler_reads_the_frames_pace_py_gives(numbered_videos):
    from pacekit import pace as pacelib

    sampler = PaceClipSampler(clip_len=8, pace_set="absolute", start_policy="any", wrap="restart")
    ds = build_dataset_from_records(numbered_videos, sampler, seed=11, repeat=1)
    for i, record in enumerate(numbered_videos):
        item = ds[i]
        # Replay the sampler's draws with pace.py: the pace label, then the start.
        rng = np.random.default_rng((11, 0, i, 0))
        label = int(rng.choice(len(sampler.pace_set), size=1, replace=False)[0])
        pace = sampler.pace_set.pace_of(label)
        n = NUMBERED_LENGTHS[i]
        start = pacelib.sample_start(n, 8, pace, "any", rng)
        assert item["pace_label"].item() == label
        assert numbers(item["video"]) == pacelib.sample_indices(n, 8, pace, start, "restart").tolist()


def test_action_sampler_reads_natural_pace_from_pace_py_start(numbered_videos):
    from pacekit import pace as pacelib

    ds = build_dataset_from_records(numbered_videos, ActionClipSampler(clip_len=10), seed=4, repeat=1)
    for i in range(len(ds)):
        start = pacelib.sample_start(NUMBERED_LENGTHS[i], 10, 1, "fit", np.random.default_rng((4, 0, i, 0)))
        assert numbers(ds[i]["video"]) == pacelib.sample_indices(NUMBERED_LENGTHS[i], 10, 1, start).tolist()
        assert "pace_label" not in ds[i]


def test_eval_sampler_reads_uniform_starts(numbered_videos):
    from pacekit import pace as pacelib

    sampler = EvalClipSampler(clip_len=16, num_clips=4)
    ds = build_dataset_from_records(numbered_videos, sampler, repeat=1)
    for i, n in enumerate(NUMBERED_LENGTHS):
        expected = [pacelib.sample_indices(n, 16, 1, s).tolist() for s in sampler.starts(n)]
        assert frames_of(ds[i]["video"]) == expected
        assert bool(ds[i]["usable"]) and "substituted" not in ds[i]
    assert sampler.starts(40).tolist() == [0, 8, 16, 24] and ds.eval_starts(12).tolist() == [0, 0, 0, 0]


def test_samplers_are_plain_callables_on_a_reader():
    reader = FixedReader(20)
    sample = ActionClipSampler(clip_len=4)(reader, np.random.default_rng(0))
    start = sample_start(20, 4, 1, "fit", np.random.default_rng(0))
    assert sample.pace_label is None and sample.video[:, 0, 0, 0].tolist() == list(range(start, start + 4))
    sample = EvalClipSampler(clip_len=4, num_clips=2)(reader, None)
    assert sample.video.shape == (2, 4, 2, 2, 3) and sample.video[:, :, 0, 0, 0].tolist() == [[0, 1, 2, 3],
                                                                                            [16, 17, 18, 19]]


class ReverseSample(NamedTuple):
    video: torch.Tensor
    reversed: torch.Tensor


class ReverseClipSampler(ClipSampler):
    """A made-up pretext task (is the clip played backwards?), to show that the dataset needs no edit."""

    def __init__(self, clip_len):
        self.clip_len = clip_len

    def __call__(self, reader, rng):
        backwards = bool(rng.integers(0, 2))
        indices = np.arange(self.clip_len)
        return ReverseSample(reader.get_frames(indices[::-1] if backwards else indices),
                             torch.tensor(int(backwards), dtype=torch.int64))


def test_a_custom_sampler_plugs_into_the_dataset(numbered_videos):
    ds = build_dataset_from_records(numbered_videos, ReverseClipSampler(clip_len=5), seed=0, repeat=4)
    items = [ds[i] for i in range(len(ds))]
    assert list(items[0]) == ["video", "reversed", "label", "index", "substituted"]
    for item in items:
        expected = [4, 3, 2, 1, 0] if item["reversed"] else [0, 1, 2, 3, 4]
        assert numbers(item["video"]) == expected
    assert {int(item["reversed"]) for item in items} == {0, 1}
    assert ds.pace_set is None
    batch = next(iter(DataLoader(ds, batch_size=4)))
    assert batch["video"].shape == (4, 5, 64, 96, 3) and batch["reversed"].shape == (4,)


def test_the_dataset_wants_a_sampler_object(numbered_videos):
    with pytest.raises(TypeError, match="make_clip_sampler"):
        VideoDataset(numbered_videos, ["a", "b"], 42)
    with pytest.raises(TypeError, match="has its own"):
        VideoDataset(numbered_videos, ["a", "b"], EvalClipSampler(), clip_len=4)
    # The older form builds the same sampler from a mode name and keywords.
    old = VideoDataset(numbered_videos, ["a", "b"], mode="eval", clip_len=4, num_clips=2, frame_size=None)
    new = VideoDataset(numbered_videos, ["a", "b"], EvalClipSampler(clip_len=4, num_clips=2), frame_size=None)
    assert torch.equal(old[1]["video"], new[1]["video"]) and isinstance(old.sampler, EvalClipSampler)
    with pytest.raises(ValueError, match="clips_per_video"):
        make_clip_sampler("eval", clips_per_video=2)
    with pytest.raises(ValueError, match="start_policy"):
        ActionClipSampler(start_policy="middle")


def test_stage_builders_pass_the_backend_and_their_sampler(ucf_root):
    from types import SimpleNamespace

    from pacekit.training.data import eval_dataset, finetune_dataset, pretrain_dataset

    cfg = SimpleNamespace(dataset="ucf101", root=ucf_root, split=1, max_videos=None, clip_len=4, pace_set="relative",
                          start_policy="fit", wrap="modulo", clips_per_video=1, slow_fill="repeat",
                          frame_size=(32, 48), epoch_repeat=2, ft_epoch_repeat=3, labels_per_class=1, num_clips=2,
                          seed=5, backend="pyav")
    pre, fine, ev = pretrain_dataset(cfg), finetune_dataset(cfg), eval_dataset(cfg, backend="auto")
    assert isinstance(pre.sampler, PaceClipSampler) and len(pre) == 12 and pre.backend == "pyav"
    assert isinstance(fine.sampler, ActionClipSampler) and len(fine) == 9 and fine.backend == "pyav"
    assert fine.seed == 5 and fine.frame_size == (32, 48)
    assert isinstance(ev.sampler, EvalClipSampler) and ev.backend == "auto" and ev[0]["video"].shape[:2] == (2, 4)


def test_a_video_cut_short_is_left_out_of_evaluation_as_partly_decodable(tmp_path):
    whole = write_numbered_video(tmp_path / "whole.avi", 60, height=120, width=160)
    cut = tmp_path / "cut.avi"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) // 2])  # the header still lists 60 frames
    records = [VideoRecord(cut, 0, "cut"), VideoRecord(whole, 1, "whole")]
    evaluation = VideoDataset(records, ["a", "b"], EvalClipSampler(clip_len=8, num_clips=3), frame_size=(32, 48))
    cut_item, whole_item = evaluation[0], evaluation[1]
    assert not cut_item["usable"] and cut_item["unusable_reason"].startswith("partly decodable: ")
    assert "of the 60 frames" in cut_item["unusable_reason"]
    assert whole_item["usable"] and numbers(whole_item["video"][2]) == list(range(52, 60))
