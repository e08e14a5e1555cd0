"""Tests for pacekit.data.synthetic: the class table's design, real motion, files, splits and cache."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path

import av
import numpy as np
import pytest

from pacekit.data.synthetic import (
    MIN_CYCLE_FRAMES,
    MOTION_CLASSES,
    REFERENCE_HEIGHT,
    SYNTHETIC_CLASSES,
    build_synthetic,
    draw_video,
    ensure_synthetic,
    make_synthetic,
    plan_synthetic,
    render_video,
    sample_spec,
    tip_speed,
    trajectory,
)

PACES = (1, 2, 3, 4)                     # the paper's default pace set p = [1, 4] (Table 1)
DEFAULT = MOTION_CLASSES[:10]            # the classes of the default set
# Version 1's files (the tests of the first set pin its drawing); versions 3 and 4 have their own sections below.
TINY = dict(num_classes=3, videos_per_class=4, seed=0, width=64, height=48, duration=1.0,
            test_fraction=0.3, progress=False, version=1)
SHARED_SPLITS = Path(__file__).resolve().parents[2] / "shared" / "data" / "splits" / "ucf101"
INDEX = {name: i for i, name in enumerate(SYNTHETIC_CLASSES)}


def overlaps(a, b) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def scaled(band, p):
    return (band[0] * p, band[1] * p)


# ---------------------------------------------------------------- the class table, as designed


def test_class_names_are_unique_camel_case():
    assert len(set(SYNTHETIC_CLASSES)) == len(SYNTHETIC_CLASSES) >= 10
    assert all(re.fullmatch(r"[A-Z][A-Za-z]+", n) for n in SYNTHETIC_CLASSES)
    assert SYNTHETIC_CLASSES[:3] == ("Bounce", "PendulumSwing", "Orbit")


@pytest.mark.parametrize("motion", MOTION_CLASSES, ids=SYNTHETIC_CLASSES)
def test_within_a_class_neighbouring_paces_do_not_overlap(motion):
    # Knowing the class, the speed tells pace p from p + 1 (needs max / min < 4 / 3).
    for p in PACES[:-1]:
        assert motion.speed_range[1] * p < motion.speed_range[0] * (p + 1)


@pytest.mark.parametrize("p", PACES[1:])
def test_across_classes_every_pace_moves_like_some_class_at_natural_pace(p):
    # Without the class, global speed is ambiguous: some class sped up by p moves like another at pace 1.
    pairs = [(a.name, b.name) for a in DEFAULT for b in DEFAULT
             if a is not b and overlaps(scaled(a.speed_range, p), b.speed_range)]
    assert pairs, f"no class at pace {p} overlaps another at pace 1"


def test_designed_examples_of_ambiguous_speed():
    band = {m.name: m.speed_range for m in MOTION_CLASSES}
    assert overlaps(scaled(band["Zoom"], 4), band["Bounce"])       # slowest x 4 ~ fastest x 1
    assert overlaps(scaled(band["Shake"], 3), band["ZigZag"])      # slow x 3 ~ fast x 1
    assert overlaps(scaled(band["PendulumSwing"], 2), band["Jump"])
    speeds = sorted(b for m in DEFAULT for b in m.speed_range)
    assert speeds[-1] / speeds[0] > 4                               # natural speeds span > 4x


@pytest.mark.parametrize("motion", MOTION_CLASSES, ids=SYNTHETIC_CLASSES)
def test_elementary_cycles_are_long_enough_not_to_alias_at_pace_4(motion):
    assert motion.period_range[0] / motion.cycles >= MIN_CYCLE_FRAMES
    assert MIN_CYCLE_FRAMES / max(PACES) >= 7                       # >= 7 samples per cycle at pace 4


# ---------------------------------------------------------------- specs and trajectories


@pytest.mark.parametrize("ci", range(len(MOTION_CLASSES)), ids=SYNTHETIC_CLASSES)
def test_sampled_motion_has_its_class_speed_and_stays_in_frame(ci):
    motion = MOTION_CLASSES[ci]
    for seed in range(12):
        width, height = ((160, 120), (64, 48))[seed % 2]
        spec = sample_spec(ci, seed, width, height, num_frames=100)
        assert motion.speed_range[0] <= spec.speed <= motion.speed_range[1]
        assert motion.period_range[0] <= spec.period <= motion.period_range[1]
        # Over one whole cycle the tip's mean speed is the spec's speed, in this video's pixels.
        one_cycle = trajectory(spec, np.linspace(0, spec.period, 4001))
        steps = np.linalg.norm(np.diff(one_cycle["tip"], axis=0), axis=-1)
        assert steps.sum() / spec.period == pytest.approx(spec.speed * spec.scale, rel=2e-3)
        # Smooth at natural pace: no step beyond 5 px (of a 120-px frame), nor beyond 3.2x the mean.
        frames = trajectory(spec, np.arange(300))
        step = np.linalg.norm(np.diff(frames["tip"], axis=0), axis=-1)
        assert step.max() <= min(5.0 * spec.scale, 3.2 * spec.speed * spec.scale)
        reach = frames["half_length"]
        assert (frames["x"] - reach).min() >= -0.5 and (frames["x"] + reach).max() <= width + 0.5
        assert (frames["y"] - reach).min() >= -0.5 and (frames["y"] + reach).max() <= height + 0.5


@pytest.mark.parametrize("ci", range(len(MOTION_CLASSES)), ids=SYNTHETIC_CLASSES)
def test_motion_returns_to_its_start_after_one_period_and_not_before(ci):
    spec = sample_spec(ci, 7, 160, 120)
    t = np.linspace(0, spec.period, 101)
    traj = trajectory(spec, t)
    pose = np.stack([traj["x"], traj["y"], traj["half_length"], np.cos(traj["angle"]), np.sin(traj["angle"])])
    np.testing.assert_allclose(pose[:, -1], pose[:, 0], atol=1e-6)
    # ... and it really moved in between: the tip got at least half an amplitude away.
    away = np.linalg.norm(traj["tip"] - traj["tip"][0], axis=-1).max()
    assert away >= 0.5 * spec.amplitude > 2.0


def test_bounce_falls_to_the_floor_and_pendulum_rises_at_both_ends():
    bounce = sample_spec(INDEX["Bounce"], 3, 160, 120)
    contact = ((1.0 - bounce.phase) % 0.5) * bounce.period      # first floor contact (2 per cycle)
    t = contact + bounce.period * np.array([0.0, 0.125, 0.25, 0.5])
    y = trajectory(bounce, t)["y"]
    floor, top = bounce.anchor[1], bounce.anchor[1] - bounce.amplitude
    np.testing.assert_allclose(y, [floor, floor - 0.75 * bounce.amplitude, top, floor], atol=1e-9)
    assert trajectory(bounce, np.linspace(0, bounce.period, 401))["y"].max() <= floor + 1e-9
    swing = sample_spec(INDEX["PendulumSwing"], 3, 160, 120)
    tr = trajectory(swing, np.linspace(0, swing.period, 401))
    lowest = np.argmax(tr["y"])
    assert abs(tr["x"][lowest] - swing.anchor[0]) < 0.02 * swing.amplitude   # lowest in the middle
    rise = tr["y"][lowest] - tr["y"][np.argmax(np.abs(tr["x"] - swing.anchor[0]))]
    assert rise == pytest.approx(swing.amplitude * (1 - math.cos(swing.params["theta0"])), rel=1e-3)


# ---------------------------------------------------------------- rendered pixels follow the motion


def plain(spec, shape="disc", aspect=1.0):
    """The spec drawn white on black, no distractors: pixel intensity is the object's coverage."""
    return dataclasses.replace(
        spec, background={"kind": "gradient", "colors": [[0, 0, 0], [0, 0, 0]], "angle": 0.0},
        distractors=(), fill="solid", colors=((255, 255, 255), (255, 255, 255)), shape=shape, aspect=aspect)


def coverage_moments(frames):
    """Per frame: centroid (x, y), area and long-axis angle (mod pi) of the white object."""
    a = frames[..., 0].astype(np.float64) / 255.0                   # (T, H, W)
    gy, gx = np.mgrid[0:a.shape[1], 0:a.shape[2]] + 0.5
    m = a.sum(axis=(1, 2))
    cx, cy = (a * gx).sum(axis=(1, 2)) / m, (a * gy).sum(axis=(1, 2)) / m
    dx, dy = gx - cx[:, None, None], gy - cy[:, None, None]
    mxx, myy, mxy = ((a * dx * dx).sum(axis=(1, 2)), (a * dy * dy).sum(axis=(1, 2)),
                     (a * dx * dy).sum(axis=(1, 2)))
    return cx, cy, m, 0.5 * np.arctan2(2 * mxy, mxx - myy)


MOVING = [n for n in SYNTHETIC_CLASSES if n not in ("Zoom", "Spin")]


@pytest.mark.parametrize("name", MOVING)
def test_drawn_object_moves_along_its_trajectory_at_its_class_speed(name):
    spec = sample_spec(INDEX[name], 11, 160, 120, num_frames=1)
    spec = dataclasses.replace(spec, num_frames=int(spec.period) + 1)   # one whole cycle
    cx, cy, _, _ = coverage_moments(draw_video(plain(spec)))
    traj = trajectory(spec)
    assert np.abs(cx - traj["x"]).max() < 0.2 and np.abs(cy - traj["y"]).max() < 0.2
    measured = np.hypot(np.diff(cx), np.diff(cy)).mean() * REFERENCE_HEIGHT / spec.height
    lo, hi = MOTION_CLASSES[INDEX[name]].speed_range
    assert 0.95 * lo <= measured <= 1.01 * hi
    assert measured == pytest.approx(tip_speed(traj) / spec.scale, rel=0.03)
    assert measured == pytest.approx(spec.speed, rel=0.06)


def test_drawn_zoom_grows_and_shrinks_in_place():
    spec = sample_spec(INDEX["Zoom"], 5, 160, 120, num_frames=1)
    spec = dataclasses.replace(spec, num_frames=int(spec.period) + 1)
    cx, cy, area, _ = coverage_moments(draw_video(plain(spec)))
    traj = trajectory(spec)
    np.testing.assert_allclose(np.sqrt(area / math.pi), traj["half_length"], atol=0.15)
    assert np.ptp(cx) < 0.1 and np.ptp(cy) < 0.1
    assert np.sqrt(area.max() / area.min()) > 1.5                    # a visible pulse


def test_drawn_spin_turns_at_its_angle():
    spec = sample_spec(INDEX["Spin"], 5, 160, 120, num_frames=1)
    spec = dataclasses.replace(spec, num_frames=int(spec.period) + 1)
    _, _, _, measured = coverage_moments(draw_video(plain(spec, shape="square", aspect=2.5)))
    expected = trajectory(spec)["angle"]
    error = np.angle(np.exp(2j * (measured - expected))) / 2        # difference mod pi
    assert np.abs(error).max() < math.radians(2)


def test_render_video_is_deterministic_and_seed_dependent():
    a = render_video(0, 5, width=64, height=48, num_frames=20)
    assert a.shape == (20, 48, 64, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, render_video(0, np.random.default_rng(5), 64, 48, 20))
    assert not np.array_equal(a, render_video(0, 6, 64, 48, 20))
    assert np.ptp(a.astype(int), axis=0).max() > 100                   # something moves across frames


def test_clips_of_a_group_share_the_scene_but_not_the_motion():
    a, b = sample_spec(1, 10, scene_seed=99), sample_spec(1, 11, scene_seed=99)
    assert a.background == b.background and a.shape == b.shape and a.colors == b.colors
    assert a.speed != b.speed and a.phase != b.phase


def test_bad_arguments_name_the_value_and_the_fix():
    with pytest.raises(ValueError, match=r"num_classes=13.*12 built-in"):
        plan_synthetic(num_classes=13, version=1)
    with pytest.raises(ValueError, match=r"num_classes=11.*version 6.*10 built-in"):
        plan_synthetic(num_classes=11)
    with pytest.raises(ValueError, match=r"version=2: .*format versions 1, 3, 4, 5, 6 "):
        plan_synthetic(version=2)
    with pytest.raises(ValueError, match=r"version=7: .*format versions 1, 3, 4, 5, 6 "):
        plan_synthetic(version=7)
    with pytest.raises(ValueError, match=r"65x48.*even"):
        render_video(0, 0, width=65, height=48)
    with pytest.raises(ValueError, match=r"class_index=12"):
        render_video(12, 0)


# ---------------------------------------------------------------- files, splits, cache


@pytest.fixture(scope="module")
def tiny_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("synthetic") / "set"
    summary = build_synthetic(out, workers=1, force=True, **{k: v for k, v in TINY.items()})
    return out, summary


def read_lines(path: Path) -> list[str]:
    data = path.read_bytes()
    assert data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b"")   # CRLF only
    return data.decode().split("\r\n")[:-1]


def test_layout_and_split_files_are_in_ucf101_format(tiny_set):
    out, summary = tiny_set
    assert summary.num_videos == summary.num_written == 12 and not summary.cached
    splits = out / "ucfTrainTestlist"
    assert (splits / "classInd.txt").read_bytes() == b"1 Bounce\r\n2 PendulumSwing\r\n3 Orbit\r\n"
    train_groups, test_groups, listed = set(), set(), []
    for line in read_lines(splits / "trainlist01.txt"):
        m = re.fullmatch(r"(\w+)/v_\1_g(\d\d)_c(\d\d)\.avi (\d+)", line)
        assert m, line
        assert int(m[4]) == INDEX[m[1]] + 1                          # 1-based label
        train_groups.add((m[1], m[2]))
        listed.append(line.split()[0])
    for line in read_lines(splits / "testlist01.txt"):
        m = re.fullmatch(r"(\w+)/v_\1_g(\d\d)_c(\d\d)\.avi", line)   # no label
        assert m, line
        test_groups.add((m[1], m[2]))
        listed.append(line)
    assert train_groups and test_groups and not train_groups & test_groups
    on_disk = sorted(str(p.relative_to(out / "UCF-101")) for p in (out / "UCF-101").rglob("*.avi"))
    assert sorted(listed) == on_disk and len(on_disk) == 12
    # 4 videos per class: two groups of two; test_fraction 0.3 -> group 1 of each class is test.
    assert test_groups == {(c, "01") for c in SYNTHETIC_CLASSES[:3]}
    meta = json.loads((out / "synthetic.json").read_text())
    assert meta["params"]["num_classes"] == 3 and len(meta["videos"]) == 12
    assert {v["split"] for v in meta["videos"] if v["group"] == 1} == {"test"}


def test_decoded_videos_match_the_metadata(tiny_set):
    out, _ = tiny_set
    meta = json.loads((out / "synthetic.json").read_text())
    for v in meta["videos"]:
        band = MOTION_CLASSES[v["class_index"]].speed_range
        assert band[0] <= v["natural_speed"] <= band[1]
        assert v["num_frames"] == 25                                  # 1.0 s at 25 fps
        with av.open(str(out / "UCF-101" / v["path"])) as container:
            stream = container.streams.video[0]
            assert stream.codec_context.name == "mpeg4" and stream.codec_context.pix_fmt == "yuv420p"
            assert stream.average_rate == 25 and container.format.name == "avi"
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
        assert len(frames) == v["num_frames"] and frames[0].shape == (48, 64, 3)


def test_decoded_frames_are_close_to_the_drawn_ones(tiny_set):
    out, _ = tiny_set
    v = json.loads((out / "synthetic.json").read_text())["videos"][5]
    drawn = draw_video(sample_spec(v["class_index"], v["seed"], 64, 48, v["num_frames"], v["scene_seed"]))
    with av.open(str(out / "UCF-101" / v["path"])) as container:
        decoded = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    assert np.abs(decoded.astype(int) - drawn).mean() < 6              # lossy, but the same video


def decode_all(out: Path) -> dict[str, np.ndarray]:
    result = {}
    for path in sorted((out / "UCF-101").rglob("*.avi")):
        with av.open(str(path)) as container:
            result[path.name] = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    return result


def test_same_seed_gives_identical_frames_in_parallel_and_other_seed_differs(tiny_set, tmp_path):
    out, _ = tiny_set
    again = make_synthetic(tmp_path / "again", workers=2, **TINY)
    first, second = decode_all(out), decode_all(again)
    assert first.keys() == second.keys()
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])
    other = decode_all(make_synthetic(tmp_path / "other", workers=1, **{**TINY, "seed": 1}))
    assert all(not np.array_equal(first[n], other[n]) for n in first)


def test_ensure_reuses_a_complete_set_and_repairs_only_missing_videos(tmp_path):
    out = tmp_path / "set"
    assert ensure_synthetic(out, workers=1, **TINY) == out
    videos = sorted((out / "UCF-101").rglob("*.avi"))
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in videos}
    meta_mtime = (out / "synthetic.json").stat().st_mtime_ns

    summary = build_synthetic(out, workers=1, **TINY)
    assert summary.cached and summary.num_written == 0
    assert all(p.stat().st_mtime_ns == before[p][0] for p in videos)
    assert (out / "synthetic.json").stat().st_mtime_ns == meta_mtime

    deleted, emptied = videos[2], videos[7]
    deleted.unlink()
    emptied.write_bytes(b"")
    summary = build_synthetic(out, workers=1, **TINY)
    assert summary.num_written == 2
    for p in videos:
        assert p.read_bytes() == before[p][1]                          # bit-identical re-encode
        if p not in (deleted, emptied):
            assert p.stat().st_mtime_ns == before[p][0]
    assert not list(out.rglob("*.tmp"))


def test_other_parameters_rewrite_the_set_and_drop_stale_videos(tmp_path):
    out = tmp_path / "set"
    ensure_synthetic(out, workers=1, **TINY)
    summary = build_synthetic(out, workers=1, **{**TINY, "num_classes": 2, "videos_per_class": 2})
    assert summary.num_written == summary.num_videos == 4
    assert len(list((out / "UCF-101").rglob("*.avi"))) == 4
    assert read_lines(out / "ucfTrainTestlist" / "classInd.txt") == ["1 Bounce", "2 PendulumSwing"]


def test_a_folder_not_written_by_pacekit_is_refused(tmp_path):
    (tmp_path / "UCF-101" / "ApplyEyeMakeup").mkdir(parents=True)
    with pytest.raises(FileExistsError, match="pacekit did not write it"):
        ensure_synthetic(tmp_path, workers=1, **TINY)


@pytest.mark.parametrize("layout", ["root/<Class>/", "ucfTrainTestlist/ only"])
def test_a_users_dataset_in_any_layout_is_left_byte_for_byte_untouched(tmp_path, layout):
    """A UCF101 copy in the root/<Class>/ layout (or a folder with only the user's split files) has no UCF-101/
    folder: the writer must still refuse it, before writing anything."""
    splits = tmp_path / "ucfTrainTestlist"
    splits.mkdir()
    official = {"classInd.txt": "".join(f"{i} Class{i}\n" for i in range(1, 102)),
                "trainlist01.txt": "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\n",
                "testlist01.txt": "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi\n"}
    for name, text in official.items():
        (splits / name).write_text(text)
    if layout == "root/<Class>/":
        (tmp_path / "ApplyEyeMakeup").mkdir()
        (tmp_path / "ApplyEyeMakeup" / "v_ApplyEyeMakeup_g08_c01.avi").write_bytes(b"not ours")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    with pytest.raises(FileExistsError, match="pacekit did not write it"):
        ensure_synthetic(tmp_path, workers=1, **TINY)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_the_command_refuses_a_users_dataset_in_one_line(tmp_path, capsys):
    from pacekit.cli import main

    (tmp_path / "ucfTrainTestlist").mkdir()
    (tmp_path / "ucfTrainTestlist" / "classInd.txt").write_text("1 ApplyEyeMakeup\n")
    assert main(["make-synthetic", "--out", str(tmp_path), "--classes", "2", "--videos-per-class", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert "pacekit did not write it" in err and "\n" not in err and "Traceback" not in err
    assert (tmp_path / "ucfTrainTestlist" / "classInd.txt").read_text() == "1 ApplyEyeMakeup\n"


@pytest.mark.skipif(not (SHARED_SPLITS / "trainlist01.txt").is_file(), reason="real UCF101 split files absent")
def test_split_lines_have_the_same_form_as_the_official_files(tiny_set):
    out, _ = tiny_set
    for name, pattern in [("classInd.txt", r"\d+ [A-Za-z]+"),
                          ("trainlist01.txt", r"[A-Za-z]+/v_[A-Za-z]+_g\d\d_c\d\d\.avi \d+"),
                          ("testlist01.txt", r"[A-Za-z]+/v_[A-Za-z]+_g\d\d_c\d\d\.avi")]:
        for lines in (read_lines(SHARED_SPLITS / name), read_lines(out / "ucfTrainTestlist" / name)):
            assert all(re.fullmatch(pattern, line) for line in lines), name


# ---------------------------------------------------------------- version 3: the figure machinery

from pacekit.cli import main as cli_main  # noqa: E402
from pacekit.data.readers import open_video  # noqa: E402
from pacekit.data.synthetic import (  # noqa: E402
    FIGURE_CLASSES,
    FORMAT_VERSION,
    FORMAT_VERSIONS,
    MASK_SCALE,
    V3_CLASSES,
    V3_SPEED_FACTOR,
    draw_figure_video,
    figure_classes,
    figure_trajectory,
    load_mover_masks,
    mask_path,
    render_figure_video,
    sample_figure_spec,
    synthetic_classes,
)

TINY3 = {**TINY, "version": 3}
FIGURES = [m.name for m in FIGURE_CLASSES]


def mask_centroids(masks: np.ndarray) -> np.ndarray:
    """(T, 2) centroid (x, y) of each mask, in frame pixels."""
    gy, gx = np.mgrid[0:masks.shape[1], 0:masks.shape[2]] + 0.5
    n = masks.sum(axis=(1, 2))
    return np.stack([(masks * gx).sum(axis=(1, 2)) / n, (masks * gy).sum(axis=(1, 2)) / n], axis=1) * MASK_SCALE


def mask_speed(masks: np.ndarray, spec) -> float:
    """Mean displacement per frame of the masks' centroid, px/frame at REFERENCE_HEIGHT."""
    return float(np.linalg.norm(np.diff(mask_centroids(masks), axis=0), axis=1).mean() / spec.scale)


def one_cycle(spec):
    """``spec`` one whole motion cycle long, without the per-frame photometric jitter."""
    n = int(spec.period) + 1
    return dataclasses.replace(spec, num_frames=n, jitter=np.ones((n, 3), np.float32))


def rank_correlation(a, b) -> float:
    """Spearman's rho of two sequences without ties."""
    rank = lambda v: np.argsort(np.argsort(v))  # noqa: E731
    return float(np.corrcoef(rank(a), rank(b))[0, 1])


@pytest.fixture(scope="module")
def rendered():
    """Three 160x120 version-3 videos of every class, each one whole motion cycle long: {class: [(spec, frames,
    masks)]}."""
    out = {}
    for ci, name in enumerate(FIGURES):
        out[name] = []
        for seed in range(3):
            spec = one_cycle(sample_figure_spec(ci, seed, 160, 120, num_frames=1, scene_seed=50 + seed, version=3))
            frames, masks = draw_figure_video(spec)
            out[name].append((spec, frames, masks))
    return out


def test_version_3_speeds_are_log_spaced_over_4x_and_tell_paces_apart_only_with_the_class():
    speeds = sorted(m.speed for m in V3_CLASSES)
    assert speeds[-1] / speeds[0] == pytest.approx(4.0)
    np.testing.assert_allclose(np.diff(np.log(speeds)), math.log(4) / 9, rtol=1e-9)
    # the class order is not the speed order: an index tells nothing about speed
    assert [m.speed for m in V3_CLASSES] != sorted(m.speed for m in V3_CLASSES)
    for m in V3_CLASSES:
        for p in PACES[:-1]:
            assert m.speed_range[1] * p < m.speed_range[0] * (p + 1)
    bands = sorted(m.speed_range for m in V3_CLASSES)
    assert all(a[1] < b[0] for a, b in zip(bands, bands[1:]))          # one speed band per class
    slowest, fastest = bands[0], bands[-1]
    assert overlaps(scaled(slowest, 4), fastest)                         # slowest at pace 4 ~ fastest at 1
    for m in V3_CLASSES:
        assert m.period_range[0] / m.cycles >= MIN_CYCLE_FRAMES / V3_SPEED_FACTOR


def test_version_3_is_the_figure_table_twice_as_fast_along_the_same_path():
    assert figure_classes(3) == V3_CLASSES
    for a, b in zip(FIGURE_CLASSES, V3_CLASSES):
        assert b.speed == pytest.approx(V3_SPEED_FACTOR * a.speed)
        assert b.period_range == pytest.approx((a.period_range[0] / V3_SPEED_FACTOR,
                                                a.period_range[1] / V3_SPEED_FACTOR))
        assert (b.name, b.body, b.cycles, b.path, b.description) == (a.name, a.body, a.cycles, a.path, a.description)
    for ci, m in enumerate(V3_CLASSES):
        spec = sample_figure_spec(ci, 7, 160, 120, 40, scene_seed=3, version=3)
        assert m.period_range[0] * 0.95 ** 60 <= spec.period <= m.period_range[1]
        assert m.speed_range[0] <= spec.speed <= m.speed_range[1]
    # Ground truth from the drawn masks: the mover's centroid moves at twice the figure table's speed.
    ci = FIGURES.index("Slide")
    spec = one_cycle(sample_figure_spec(ci, 11, 160, 120, 1, scene_seed=4, version=3))
    measured = mask_speed(draw_figure_video(spec)[1], spec)
    assert measured / FIGURE_CLASSES[ci].speed == pytest.approx(V3_SPEED_FACTOR, rel=0.15)


@pytest.mark.parametrize("name", FIGURES)
def test_version_3_mover_covers_4_to_11_percent_and_moves_at_its_class_speed(rendered, name):
    motion = V3_CLASSES[FIGURES.index(name)]
    for spec, frames, masks in rendered[name]:
        assert masks.shape == (len(frames), 120 // MASK_SCALE, 160 // MASK_SCALE) and masks.dtype == bool
        area = masks.mean(axis=(1, 2))
        assert 0.04 <= area.mean() <= 0.11 and area.min() > 0.02, area.mean()
        assert motion.speed_range[0] <= spec.speed <= motion.speed_range[1]
        # the centre moves at the spec's speed over a whole cycle ...
        t = np.linspace(0, spec.period, 4001)
        traj = figure_trajectory(spec, t)
        assert np.hypot(np.diff(traj["x"]), np.diff(traj["y"])).sum() / spec.period == pytest.approx(
            spec.speed * spec.scale, rel=2e-3)
        # ... and so does the drawn mover's mask, within what its limbs add or take away
        measured = mask_speed(masks, spec)
        assert 0.7 <= measured / spec.speed <= 1.35, (measured, spec.speed)


def test_version_3_mask_speeds_rank_like_the_class_speeds(rendered):
    measured = [np.mean([mask_speed(m, s) for s, _, m in rendered[name]]) for name in FIGURES]
    natural = [m.speed for m in V3_CLASSES]
    assert rank_correlation(measured, natural) >= 0.9, (measured, natural)


def test_version_3_masks_are_zero_on_the_static_distractors_and_the_mover_stays_in_frame(rendered):
    seen = 0
    for name in FIGURES:
        for spec, frames, masks in rendered[name]:
            for d in spec.distractors:
                x, y = (int(v // MASK_SCALE) for v in d["c"])
                r = max(int(d["b"] // MASK_SCALE) - 1, 0)
                assert not masks[:, max(y - r, 0):y + r + 1, max(x - r, 0):x + r + 1].any()
                seen += 1
            # the mask never touches the frame's border for long: the mover stays inside
            border = masks[:, [0, -1], :].any(axis=(1, 2)) | masks[:, :, [0, -1]].any(axis=(1, 2))
            assert border.mean() < 0.05
    assert seen >= 10                                                  # distractors really are there


def test_version_3_is_deterministic_from_the_seed():
    a_frames, a_masks = render_figure_video(3, 5, 64, 48, 30, scene_seed=9, version=3)
    b_frames, b_masks = render_figure_video(3, np.random.default_rng(5), 64, 48, 30, scene_seed=9, version=3)
    np.testing.assert_array_equal(a_frames, b_frames)
    np.testing.assert_array_equal(a_masks, b_masks)
    c_frames, c_masks = render_figure_video(3, 6, 64, 48, 30, scene_seed=9, version=3)
    assert not np.array_equal(a_masks, c_masks)
    np.testing.assert_array_equal(render_video(3, 5, 64, 48, 30, scene_seed=9, version=3), a_frames)


@pytest.fixture(scope="module")
def tiny_set3(tmp_path_factory):
    out = tmp_path_factory.mktemp("synthetic3") / "set"
    summary = build_synthetic(out, workers=1, force=True, **TINY3)
    return out, summary


def test_version_3_small_set_has_masks_beside_every_video(tiny_set3):
    out, summary = tiny_set3
    assert summary.num_videos == summary.num_written == 12
    meta = json.loads((out / "synthetic.json").read_text())
    assert meta["version"] == 3 and "masks" in meta["units"]
    for v in meta["videos"]:
        video = out / "UCF-101" / v["path"]
        assert (out / "UCF-101" / v["masks"]) == mask_path(video) and mask_path(video).is_file()
        assert mask_path(video).name == video.stem + ".masks.npz"
        masks = load_mover_masks(video)
        with open_video(video) as reader:
            assert reader.num_frames == len(masks) == v["num_frames"]
        assert masks.shape == (v["num_frames"], 48 // MASK_SCALE, 64 // MASK_SCALE)
        assert load_mover_masks(video, full_size=True).shape == (v["num_frames"], 48, 64)
        assert 0.03 <= masks.mean() <= 0.13   # coarse 32x24 masks of a 4-11 % mover
        frames, drawn = draw_figure_video(sample_figure_spec(v["class_index"], v["seed"], 64, 48, v["num_frames"],
                                                             v["scene_seed"], version=3))
        np.testing.assert_array_equal(masks, drawn)


def test_version_3_files_are_deterministic_and_a_missing_mask_is_repaired(tiny_set3, tmp_path):
    out, _ = tiny_set3
    again = tmp_path / "again"
    ensure_synthetic(again, workers=2, **TINY3)
    assert decode_all(out).keys() == decode_all(again).keys()
    for path in sorted((out / "UCF-101").rglob("*.masks.npz")):
        twin = again / path.relative_to(out)
        assert twin.read_bytes() == path.read_bytes()
    victim = sorted((again / "UCF-101").rglob("*.masks.npz"))[3]
    data = victim.read_bytes()
    victim.unlink()
    summary = build_synthetic(again, workers=1, **TINY3)
    assert summary.num_written == 1 and victim.read_bytes() == data
    with pytest.raises(FileNotFoundError, match="no mover masks"):
        load_mover_masks(tmp_path / "nothing.avi")


def test_switching_version_rewrites_the_set_and_drops_stale_masks(tmp_path):
    out = tmp_path / "set"
    ensure_synthetic(out, workers=1, **TINY3)
    assert len(list(out.rglob("*.masks.npz"))) == 12
    summary = build_synthetic(out, workers=1, **TINY)               # version 1
    assert summary.num_written == 12 and not list(out.rglob("*.masks.npz"))
    assert json.loads((out / "synthetic.json").read_text())["version"] == 1


def test_make_synthetic_version_flag(tmp_path, capsys):
    out = tmp_path / "v1"
    args = ["make-synthetic", "--out", str(out), "--classes", "1", "--videos-per-class", "2", "--width", "32",
            "--height", "24", "--version", "1"]
    assert cli_main(args) == 0
    assert json.loads((out / "synthetic.json").read_text())["version"] == 1
    assert not list(out.rglob("*.masks.npz"))
    capsys.readouterr()
    with pytest.raises(SystemExit):
        cli_main(args[:-1] + ["2"])                                   # retired: the choices are FORMAT_VERSIONS
    err = capsys.readouterr().err
    assert "invalid choice" in err and all(str(v) in err for v in FORMAT_VERSIONS)


# ---------------------------------------------------------------- version 4: ten actions, each with its own body

from pacekit.data.synthetic import (  # noqa: E402
    V4_CLASSES,
    V4_DISTRACTOR_KINDS,
    V4_DISTRACTORS,
    V4_MIN_SWING,
    V4_SPEED_JITTER,
    V4_SPEEDS,
    drawing,
)

ACTIONS = [m.name for m in V4_CLASSES]


@pytest.fixture(scope="module")
def rendered4():
    """Two 160x120 version-4 videos of every action, each one whole motion cycle long, without the photometric
    jitter: {action: [(spec, frames, masks)]}."""
    out = {}
    for ci, name in enumerate(ACTIONS):
        out[name] = []
        for seed in range(2):
            spec = one_cycle(sample_figure_spec(ci, seed, 160, 120, 1, scene_seed=400 + 10 * ci + seed,
                                                version=4))
            frames, masks = draw_figure_video(spec)
            out[name].append((spec, frames, masks))
    return out


def draw_without_mover(spec, monkeypatch):
    """``draw_figure_video(spec)`` with the mover drawn nowhere: only the background and the distractors."""
    with monkeypatch.context() as patch:
        patch.setattr(drawing, "_figure_parts", lambda *args: [])
        return draw_figure_video(spec)


def test_version_6_is_the_default_and_version_2_is_refused_everywhere(tmp_path):
    assert FORMAT_VERSION == 6 and FORMAT_VERSIONS == (1, 3, 4, 5, 6)
    assert plan_synthetic(num_classes=1, videos_per_class=1, test_fraction=0)["version"] == 6
    assert synthetic_classes() == synthetic_classes(6) == synthetic_classes(4) == tuple(ACTIONS)
    assert figure_classes() == figure_classes(4) == V4_CLASSES
    assert synthetic_classes(3) == tuple(FIGURES) and synthetic_classes(3)[:3] == SYNTHETIC_CLASSES[:3]
    assert synthetic_classes(1) == SYNTHETIC_CLASSES
    assert sample_figure_spec(0, 0, 32, 24, 2).version == 6
    calls = [lambda: plan_synthetic(version=2), lambda: synthetic_classes(2), lambda: figure_classes(2),
             lambda: sample_figure_spec(0, 0, version=2), lambda: render_figure_video(0, 0, version=2),
             lambda: render_video(0, 0, version=2), lambda: build_synthetic(tmp_path / "v2", version=2)]
    for call in calls:
        with pytest.raises(ValueError,
                           match=r"version=2: .*format versions 1, 3, 4, 5, 6 .*version 3 is its figure table"):
            call()
    assert not (tmp_path / "v2").exists()


def test_version_4_has_ten_actions_each_with_its_own_body_following_its_class_path():
    assert len(V4_CLASSES) == 10 and len(set(ACTIONS)) == 10
    assert len({m.body for m in V4_CLASSES}) == 10
    u = np.linspace(0.0, 1.0, 201)
    for ci, m in enumerate(V4_CLASSES):
        spec = sample_figure_spec(ci, 3, 160, 120, 40, scene_seed=5, version=4)
        assert spec.motion is m
        # the mover's centre follows the class table's path function ...
        traj = figure_trajectory(spec)
        x, y = m.path(traj["u"], spec.params)
        np.testing.assert_allclose(traj["x"], spec.anchor[0] + spec.amplitude * x, atol=1e-9)
        np.testing.assert_allclose(traj["y"], spec.anchor[1] + spec.amplitude * y, atol=1e-9)
        # ... a closed path that really moves
        x, y = m.path(u, spec.params)
        assert (x[-1], y[-1]) == pytest.approx((x[0], y[0]), abs=1e-9)
        assert max(np.ptp(x), np.ptp(y)) > 0.15
        assert drawing._figure_parts(spec, *spec.anchor, 0.25, 0.0)       # a body drawing knows


def test_version_4_speeds_are_log_spaced_and_the_jitter_keeps_neighbouring_classes_apart():
    speeds = np.array([m.speed for m in V4_CLASSES])
    assert tuple(speeds) == V4_SPEEDS
    assert speeds.max() / speeds.min() >= 3 and speeds.max() / speeds.min() == pytest.approx(4.0)
    steps = np.diff(np.log(np.sort(speeds)))
    np.testing.assert_allclose(steps, math.log(4) / 9, rtol=1e-9)        # log-spaced
    assert V4_SPEED_JITTER[1] / V4_SPEED_JITTER[0] < math.exp(steps.min())   # narrower than the gap
    lo, hi = V4_SPEED_JITTER
    for p in PACES[:-1]:
        assert hi * p < lo * (p + 1)                                      # the class known, paces apart
    assert overlaps(scaled((speeds.min() * lo, speeds.min() * hi), 4), (speeds.max() * lo, speeds.max() * hi))
    for ci, m in enumerate(V4_CLASSES):
        drawn = [sample_figure_spec(ci, seed, 160, 120, 2, scene_seed=seed, version=4).speed for seed in range(6)]
        assert all(m.speed * lo <= s <= m.speed * hi for s in drawn) and len(set(drawn)) == 6


@pytest.mark.parametrize("name", ACTIONS)
def test_version_4_swings_and_path_cycles_keep_6_samples_per_cycle_at_pace_4(name):
    ci = ACTIONS.index(name)
    for seed in range(12):
        spec = sample_figure_spec(ci, seed, 160, 120, 2, scene_seed=seed + 40, version=4)
        assert spec.period / spec.look["steps"] >= V4_MIN_SWING
        assert spec.period / spec.motion.cycles >= 24, spec.period
    assert 24 / max(PACES) >= 6


def test_version_4_mask_speeds_rank_like_the_class_speeds(rendered4):
    measured = [np.mean([mask_speed(m, s) for s, _, m in rendered4[name]]) for name in ACTIONS]
    assert rank_correlation(measured, V4_SPEEDS) >= 0.8, measured


def test_version_4_masks_are_the_mover_and_zero_on_the_static_distractors(rendered4, monkeypatch):
    s = MASK_SCALE
    for name in ACTIONS:
        for spec, frames, masks in rendered4[name]:
            still, none = draw_without_mover(spec, monkeypatch)
            bare, _ = draw_without_mover(dataclasses.replace(spec, distractors=()), monkeypatch)
            assert not none.any()
            assert (still == still[0]).all()                                # the scene never moves
            distractor_px = (still[0] != bare[0]).any(axis=-1)
            assert distractor_px.sum() >= 100 * len(spec.distractors)       # and its distractors are drawn
            t, h, w = masks.shape
            moved = (frames != still).any(axis=-1)[:, :h * s, :w * s]       # pixels the mover changed
            moved_blocks = moved.reshape(t, h, s, w, s).any(axis=(2, 4))
            assert not (masks & ~moved_blocks).any()          # a mask pixel never lies on background or distractor
            grown = np.pad(masks, ((0, 0), (1, 1), (1, 1)))
            grown = np.max([grown[:, 1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
                            for dy in (-1, 0, 1) for dx in (-1, 0, 1)], axis=0)
            assert not (moved & ~grown.repeat(s, axis=1).repeat(s, axis=2)).any()   # nor misses the mover


def test_version_4_has_3_to_5_distractors_per_scene_described_by_parameters():
    specs = [sample_figure_spec(seed % 10, seed, 160, 120, 2, scene_seed=200 + seed, version=4) for seed in range(30)]
    counts = [len(spec.distractors) for spec in specs]
    assert set(counts) == set(range(V4_DISTRACTORS[0], V4_DISTRACTORS[1] + 1)) == {3, 4, 5}
    for spec in specs:
        for d in spec.distractors:    # parameters only: drawing.py turns them into parts
            assert set(d) == {"kind", "c", "size", "aspect", "angle", "bend", "textures"}
            assert d["kind"] in V4_DISTRACTOR_KINDS and len(d["textures"]) == 2
            assert 0 <= d["c"][0] <= spec.width and 0 <= d["c"][1] <= spec.height


def test_version_4_distractors_are_sized_like_the_mover(rendered4):
    gy, gx = np.mgrid[0:120, 0:160].astype(np.float32) + 0.5
    ratios = []
    for name in ACTIONS:
        for spec, _, masks in rendered4[name]:
            mover = masks.sum(axis=(1, 2)).mean() * MASK_SCALE ** 2         # mean mask area, px
            for d in spec.distractors:
                cover = np.zeros((120, 160), bool)
                drawing._draw_parts(np.zeros((120, 160, 3), np.float32), gx, gy, drawing._v4_distractor_parts(d),
                                    d["textures"], cover)
                ratios.append(cover.sum() / mover)
    assert len(ratios) >= 60 and {d["kind"] for n in ACTIONS for s, _, _ in rendered4[n] for d in s.distractors} == \
        set(V4_DISTRACTOR_KINDS)
    # rocks and discs as large as the mover; sticks and limbs as thick as its limbs
    assert 0.05 <= min(ratios) and max(ratios) <= 2.0, (min(ratios), max(ratios))


def test_version_4_is_deterministic_and_a_group_shares_its_background_and_distractors(monkeypatch):
    frames, masks = render_figure_video(5, 3, 96, 72, 12, scene_seed=8, version=4)
    again = render_figure_video(5, np.random.default_rng(3), 96, 72, 12, scene_seed=8, version=4)
    np.testing.assert_array_equal(frames, again[0])
    np.testing.assert_array_equal(masks, again[1])
    np.testing.assert_array_equal(render_video(5, 3, 96, 72, 12, scene_seed=8, version=4), frames)
    assert not np.array_equal(render_figure_video(5, 4, 96, 72, 12, scene_seed=8, version=4)[1], masks)
    # without a version the call draws what version=6 draws: 6 is the default
    np.testing.assert_array_equal(render_figure_video(5, 3, 96, 72, 12, scene_seed=8)[0],
                                  render_figure_video(5, 3, 96, 72, 12, scene_seed=8, version=6)[0])
    a = sample_figure_spec(5, 3, 96, 72, 12, scene_seed=8, version=4)
    b = sample_figure_spec(5, 4, 96, 72, 12, scene_seed=8, version=4)          # another clip of the group
    c = sample_figure_spec(5, 3, 96, 72, 12, scene_seed=9, version=4)          # another group
    assert a.speed != b.speed and a.phase != b.phase
    assert a.background == b.background and a.size == b.size and a.look["textures"] == b.look["textures"]
    unplaced = lambda spec: [{k: v for k, v in d.items() if k != "c"} for d in spec.distractors]  # noqa: E731
    assert unplaced(a) == unplaced(b) and unplaced(a) != unplaced(c)
    ones = np.ones((12, 3), np.float32)
    backgrounds = [draw_without_mover(dataclasses.replace(v, jitter=ones, distractors=()), monkeypatch)[0]
                   for v in (a, b, c)]
    np.testing.assert_array_equal(backgrounds[0], backgrounds[1])
    assert not np.array_equal(backgrounds[0], backgrounds[2])


def test_version_4_clips_place_the_distractors_clear_of_their_own_mover():
    """A group shares its distractors (kinds, sizes, textures); each clip places them at the clearest of the same
    candidate spots, away from its own mover's path and from each other."""
    for ci in range(len(ACTIONS)):
        for clip in range(3):
            spec = sample_figure_spec(ci, 10 * ci + clip, 160, 120, 2, scene_seed=300 + ci, version=4)
            path = figure_trajectory(spec, np.linspace(0, spec.period, 96))
            centres = np.array([d["c"] for d in spec.distractors])
            gap = np.hypot(path["x"][:, None] - centres[:, 0], path["y"][:, None] - centres[:, 1]).min(0)
            assert gap.min() > 0.5 * spec.size, (ACTIONS[ci], gap.min(), spec.size)


# ---------------------------------------------------------------- version 5: version 4 with each action's own colours

from pacekit.data.synthetic import V5_PALETTES  # noqa: E402
from pacekit.data.synthetic.specs import TEXTURES  # noqa: E402


def assert_same_draws(a, b, *also):
    """``a`` and ``b`` (specs of two versions, the same seeds) move alike: the same action, motion, size,
    background and per-frame jitter, and the same ``also`` fields."""
    assert a.motion == b.motion
    for f in ("speed", "period", "amplitude", "phase", "anchor", "params", "size", "background", *also):
        assert getattr(a, f) == getattr(b, f), f
    np.testing.assert_array_equal(a.jitter, b.jitter)


def test_version_5_draws_version_4s_videos_with_only_the_movers_patterns_and_colours_changed(monkeypatch):
    for ci in range(len(ACTIONS)):
        v4 = sample_figure_spec(ci, 7 + ci, 160, 120, 30, scene_seed=500 + ci, version=4)
        v5 = sample_figure_spec(ci, 7 + ci, 160, 120, 30, scene_seed=500 + ci, version=5)
        assert v5.version == 5
        assert_same_draws(v5, v4, "distractors")
        assert {k: v for k, v in v5.look.items() if k != "textures"} == {k: v for k, v in v4.look.items()
                                                                          if k != "textures"}
        for t4, t5 in zip(v4.look["textures"], v5.look["textures"]):
            assert t5["freq"] == t4["freq"] and (t5["kind"], t5["colors"]) != (t4["kind"], t4["colors"])
        # the same mover, only coloured otherwise: identical masks, different pixels on the mover alone
        ones = np.ones((30, 3), np.float32)
        f4, m4 = draw_figure_video(dataclasses.replace(v4, jitter=ones))
        f5, m5 = draw_figure_video(dataclasses.replace(v5, jitter=ones))
        np.testing.assert_array_equal(m4, m5)
        off = ~np.repeat(np.repeat(m4.astype(bool), MASK_SCALE, 1), MASK_SCALE, 2)
        clear = off.copy()    # 2 pixels or more from the mask (masks are stored at 1/MASK_SCALE of the frame)
        for dy in range(-2, 3):
            for dx in range(-2, 3):
                clear &= np.roll(off, (dy, dx), axis=(1, 2))
        assert np.array_equal(f4[clear], f5[clear]) and not np.array_equal(f4, f5)


def test_version_5_every_video_of_an_action_wears_its_palette_and_the_actions_differ():
    palettes = {}
    for ci, name in enumerate(ACTIONS):
        looks = {json.dumps([(t["kind"], t["colors"]) for t in
                             sample_figure_spec(ci, s, 160, 120, 2, scene_seed=900 + s, version=5).look["textures"]])
                 for s in range(4)}
        assert len(looks) == 1, name            # four groups, one palette
        palettes[name] = looks.pop()
        kinds = [t[0] for t in json.loads(palettes[name])]
        assert kinds[0] != kinds[1] and set(kinds) <= set(TEXTURES)
    assert len(set(palettes.values())) == len(ACTIONS) == len(V5_PALETTES)
    assert list(V5_PALETTES) == ACTIONS
    hues = sorted(dark for dark, _ in V5_PALETTES.values())
    assert np.allclose(np.diff(hues), 1 / len(ACTIONS))     # spread evenly around the colour wheel


@pytest.mark.parametrize("version", [5, 6])
def test_versions_5_and_6_write_masks_and_record_their_version(tmp_path, version):
    root = make_synthetic(tmp_path / f"v{version}", num_classes=2, videos_per_class=2, width=48, height=36,
                          duration=0.4, version=version, workers=1, progress=False)
    meta = json.loads((root / "synthetic.json").read_text())
    assert meta["version"] == version and [c["name"] for c in meta["classes"]] == ACTIONS[:2]
    videos = sorted((root / "UCF-101").rglob("*.avi"))
    assert len(videos) == 4 and all(mask_path(v).is_file() for v in videos)


# ---------------------------------------------------------------- version 6: version 5 in crowded scenes

from pacekit.data.synthetic import V6_DISTRACTORS  # noqa: E402


def _distractor_cover(spec) -> float:
    """Share of the first frame's pixels the static distractors change."""
    still = np.ones((spec.num_frames, 3), np.float32)
    with_them, _ = draw_figure_video(dataclasses.replace(spec, jitter=still))
    without, _ = draw_figure_video(dataclasses.replace(spec, jitter=still, distractors=()))
    return float((with_them[0] != without[0]).any(-1).mean())


def test_version_6_draws_version_5s_movers_among_16_to_22_distractors_covering_about_half_the_frame():
    covers = {5: [], 6: []}
    for ci in range(len(ACTIONS)):
        v5 = sample_figure_spec(ci, 7 + ci, 160, 120, 2, scene_seed=500 + ci, version=5)
        v6 = sample_figure_spec(ci, 7 + ci, 160, 120, 2, scene_seed=500 + ci, version=6)
        assert v6.version == 6
        assert_same_draws(v6, v5, "look")
        assert V6_DISTRACTORS[0] <= len(v6.distractors) <= V6_DISTRACTORS[1]
        assert {d["kind"] for d in v6.distractors} <= set(V4_DISTRACTOR_KINDS)
        # the same mover: identical masks
        np.testing.assert_array_equal(draw_figure_video(v6)[1], draw_figure_video(v5)[1])
        for version, spec in ((5, v5), (6, v6)):
            covers[version].append(_distractor_cover(spec))
    assert 0.4 <= np.mean(covers[6]) <= 0.6 and min(covers[6]) >= 0.3     # measured: 0.34-0.55, mean 0.45
    assert np.mean(covers[5]) < 0.25                                      # version 5: 0.08-0.27, mean 0.16


# ---------------------------------------------------------------- speed_spread: the speeds pulled together

from pacekit.data.synthetic import NATIVE_SPEED_SPREAD, natural_speeds  # noqa: E402


@pytest.mark.parametrize("version", [3, 4])
@pytest.mark.parametrize("spread", [1.0, 1.7, 4.0, 8.0])
def test_speed_spread_sets_the_ratio_of_the_class_speeds_and_keeps_their_order_and_paths(spread, version):
    native = figure_classes(version)
    pulled = figure_classes(version, speed_spread=spread)
    speeds = np.array([m.speed for m in pulled])
    assert speeds.max() / speeds.min() == pytest.approx(spread)
    own = np.array([m.speed for m in native])
    assert np.exp(np.log(speeds).mean()) == pytest.approx(np.exp(np.log(own).mean()))   # same geometric mean
    if spread > 1:
        assert list(np.argsort(speeds)) == list(np.argsort(own))                         # same order
    for a, b in zip(native, pulled):
        # speed x period is the path length per cycle: the same path, followed faster or slower
        assert b.speed * b.period_range[0] == pytest.approx(a.speed * a.period_range[0])
        assert b.speed * b.period_range[1] == pytest.approx(a.speed * a.period_range[1])
        assert (b.name, b.body, b.cycles) == (a.name, a.body, a.cycles)


def test_speed_spread_of_the_native_ratio_is_the_classes_own_speeds():
    assert NATIVE_SPEED_SPREAD == pytest.approx(4.0)
    for version in (3, 4):
        speeds = [m.speed for m in figure_classes(version)]
        assert max(speeds) / min(speeds) == pytest.approx(NATIVE_SPEED_SPREAD)
        for a, b in zip(figure_classes(version), figure_classes(version, speed_spread=NATIVE_SPEED_SPREAD)):
            assert b.speed == pytest.approx(a.speed) and b.period_range == pytest.approx(a.period_range)
        assert figure_classes(version, speed_spread=None) == figure_classes(version)


@pytest.mark.parametrize("bad", [0.5, 0.0, -2, float("nan"), float("inf"), "fast"])
def test_a_bad_speed_spread_names_the_value_and_what_it_must_be(bad):
    with pytest.raises(ValueError, match=r"speed_spread=.*must be a number >= 1"):
        figure_classes(3, speed_spread=bad)
    with pytest.raises(ValueError, match="speed_spread"):
        plan_synthetic(num_classes=1, videos_per_class=2, speed_spread=bad)


def test_speed_spread_needs_a_version_with_class_speeds():
    with pytest.raises(ValueError, match="needs format version 3, 4 or 5"):
        plan_synthetic(num_classes=1, videos_per_class=2, version=1, speed_spread=1)


@pytest.mark.parametrize("version", [3, 4])
def test_one_speed_draws_the_same_video_with_only_its_speed_and_period_changed(version):
    for ci in range(len(figure_classes(version))):
        a = sample_figure_spec(ci, 7, 160, 120, 40, scene_seed=3, version=version)
        b = sample_figure_spec(ci, 7, 160, 120, 40, scene_seed=3, version=version, speed_spread=1)
        assert b.speed * b.period == pytest.approx(a.speed * a.period)
        assert (b.amplitude, b.size, b.phase, *b.anchor) == pytest.approx((a.amplitude, a.size, a.phase, *a.anchor))
        assert b.distractors == a.distractors and b.background == a.background
        # version 4's limbs swing at most once per V4_MIN_SWING frames, so their steps per cycle follow the period
        skip = {"steps"} if version == 4 else set()
        assert {k: v for k, v in b.look.items() if k not in skip} == {k: v for k, v in a.look.items() if k not in skip}
        np.testing.assert_array_equal(b.jitter, a.jitter)


@pytest.mark.parametrize("version", [3, 4])
def test_one_speed_movers_are_drawn_at_one_speed_measured_from_their_masks(version):
    """Ground truth from the drawn masks: the slowest and the fastest action's movers, 4x apart in the default
    set, cover about the same distance per frame once the spread is 1."""
    speeds = [m.speed for m in figure_classes(version)]
    slow, fast = int(np.argmin(speeds)), int(np.argmax(speeds))

    def measured(ci, spread):
        steps = []
        for seed in range(3):
            spec = one_cycle(sample_figure_spec(ci, seed, 160, 120, 1, scene_seed=50 + seed, version=version,
                                                speed_spread=spread))
            steps.append(mask_speed(draw_figure_video(spec)[1], spec))
        return float(np.mean(steps))

    assert measured(fast, None) / measured(slow, None) > 2.5
    assert 0.7 <= measured(fast, 1) / measured(slow, 1) <= 1.4


def test_a_one_speed_set_has_the_same_videos_scenes_and_split_and_says_its_spread(tmp_path):
    own = plan_synthetic(num_classes=3, videos_per_class=4, seed=5)
    one = plan_synthetic(num_classes=3, videos_per_class=4, seed=5, speed_spread=1)
    assert "speed_spread" not in own["params"] and one["params"]["speed_spread"] == 1.0
    keys = ("path", "split", "num_frames", "seed", "scene_seed", "masks")
    assert [{k: v[k] for k in keys} for v in own["videos"]] == [{k: v[k] for k in keys} for v in one["videos"]]
    assert [v["natural_speed"] for v in own["videos"]] != [v["natural_speed"] for v in one["videos"]]
    centres = [np.mean(c["speed_range"]) for c in one["classes"]]
    assert max(centres) / min(centres) == pytest.approx(1.0)

    out = tmp_path / "one"
    args = ["make-synthetic", "--out", str(out), "--classes", "2", "--videos-per-class", "2", "--width", "32",
            "--height", "24", "--speed-spread", "1"]
    assert cli_main(args) == 0
    meta = json.loads((out / "synthetic.json").read_text())
    assert meta["params"]["speed_spread"] == 1.0 and len(list(out.rglob("*.masks.npz"))) == 4
    speeds = natural_speeds(out, synthetic_classes()[:2])
    assert speeds[0] == pytest.approx(speeds[1])
    # the set is reused as it is, and drawn anew when the spread changes
    assert build_synthetic(out, num_classes=2, videos_per_class=2, width=32, height=24, speed_spread=1,
                           workers=1, progress=False).cached
    assert build_synthetic(out, num_classes=2, videos_per_class=2, width=32, height=24, workers=1,
                           progress=False).num_written == 4
    assert "speed_spread" not in json.loads((out / "synthetic.json").read_text())["params"]
    assert cli_main(args[:-1] + ["0.5"]) != 0


def test_a_companion_needs_a_pacekit_set_and_a_spread(tmp_path):
    from pacekit.data.synthetic import companion_folder, ensure_companion

    assert companion_folder(tmp_path / "data" / "synthetic", 1) == tmp_path / "data" / "synthetic_spread1"
    assert companion_folder("synthetic", 1.5).name == "synthetic_spread1.5"
    with pytest.raises(FileNotFoundError, match="make-synthetic"):
        ensure_companion(tmp_path / "nothing", 1)
    with pytest.raises(ValueError, match="needs a speed spread"):
        ensure_companion(tmp_path / "nothing", None)


def test_the_package_runs_in_layers_specs_then_drawing_then_writer():
    import ast

    import pacekit.data.synthetic as package

    def siblings(layer: str) -> set:
        tree = ast.parse((Path(package.__file__).parent / f"{layer}.py").read_text())
        return {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 1}

    assert siblings("specs") == set()
    assert siblings("drawing") == {"specs"}
    assert siblings("writer") == {"specs", "drawing"}
