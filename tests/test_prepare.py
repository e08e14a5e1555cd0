import pytest

from helpers import read_number
from pacekit.data import build_dataset, open_video
from pacekit.data.prepare import prepare_dataset, short_side_size


def test_short_side_size():
    assert short_side_size(240, 320, 128) == (128, 171)
    assert short_side_size(256, 454, 128) == (128, 227)


def test_prepare_mirrors_the_dataset_and_reads_with_the_same_code(ucf_root, tmp_path):
    out = tmp_path / "prepared"
    report = prepare_dataset(ucf_root, out, short_side=64, workers=2, progress=False)
    assert report.converted == 12 and report.copied == 3 and not report.failed
    original = build_dataset("ucf101", ucf_root, "train", mode="eval", clip_len=4, frame_size=(64, 96))
    prepared = build_dataset("ucf101", out, "train", mode="eval", clip_len=4, frame_size=(64, 96))
    assert all(r.path.suffix == ".jpack" for r in prepared.records)
    a, b = original[2]["video"], prepared[2]["video"]
    assert [read_number(f) for f in a[3]] == [read_number(f) for f in b[3]]
    assert (a.float() - b.float()).abs().mean() < 8  # JPEG of an MPEG-4 frame: close, not equal


def test_prepare_is_resumable_and_idempotent(ucf_root, tmp_path):
    out = tmp_path / "prepared"
    prepare_dataset(ucf_root, out, short_side=32, workers=1, progress=False)
    victim = next(out.rglob("*.jpack"))
    victim.unlink()
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*.jpack")}
    report = prepare_dataset(ucf_root, out, short_side=32, workers=1, progress=False)
    assert report.converted == 1 and report.skipped == 11
    assert victim.exists()
    assert all(p.stat().st_mtime_ns == t for p, t in mtimes.items())


def test_prepare_reports_undecodable_videos_and_goes_on(ucf_root, tmp_path):
    import shutil

    root = tmp_path / "root"
    shutil.copytree(ucf_root, root)
    bad = root / "UCF-101" / "Basketball" / "v_Basketball_g01_c01.avi"
    bad.write_bytes(b"garbage" * 50)
    out = tmp_path / "out"
    report = prepare_dataset(root, out, short_side=32, workers=2, progress=False)
    assert report.converted == 11 and len(report.failed) == 1
    assert "v_Basketball_g01_c01.avi" in (out / "prepare_failures.txt").read_text()
    assert "1 failed" in str(report)


def test_prepare_refuses_same_folder_and_missing_root(ucf_root, tmp_path):
    with pytest.raises(ValueError, match="must differ"):
        prepare_dataset(ucf_root, ucf_root)
    with pytest.raises(FileNotFoundError, match="nope"):
        prepare_dataset(tmp_path / "nope", tmp_path / "out")


def test_prepare_lists_a_partly_decodable_real_video_as_failed_and_writes_no_pack(shared_data, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "bad.mp4").write_bytes((shared_data / "videos" / "other" / "decord_corrupted_truncated.mp4").read_bytes())
    report = prepare_dataset(root, tmp_path / "out", workers=1, progress=False)
    assert report.converted == 0 and [rel for rel, _ in report.failed] == ["bad.mp4"]
    assert "of the 50 frames" in report.failed[0][1]
    assert not (tmp_path / "out" / "bad.jpack").exists()  # a short pack would read as a whole video
    assert "bad.mp4" in (tmp_path / "out" / "prepare_failures.txt").read_text()


def test_prepare_refuses_a_folder_without_videos_and_a_bad_quality(tmp_path, ucf_root):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no videos under"):
        prepare_dataset(tmp_path / "empty", tmp_path / "out", progress=False)
    with pytest.raises(ValueError, match="between 1 and 100"):
        prepare_dataset(ucf_root, tmp_path / "out", quality=500, progress=False)
