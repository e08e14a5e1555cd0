from pathlib import Path

import pytest
from helpers import alive, descendants, read_number

from pacekit.data import build_dataset
from pacekit.data.prepare import PREPARED_FOLDER, prepare_dataset, short_side_size
from pacekit.owned import mark_folder


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
    # the prepared copy stays usable: its split files list what was packed, and the report names the failures
    assert report.left_out_of_splits == 1 and "prepare_failures.txt" in str(report)
    listed = "".join(p.read_text() for p in (out / "ucfTrainTestlist").glob("*list01.txt"))
    assert "v_Basketball_g01_c01" not in listed and "v_Basketball_g02_c01" in listed
    original = "".join(p.read_text() for p in (root / "ucfTrainTestlist").glob("*list01.txt"))
    assert "v_Basketball_g01_c01" in original  # the user's own split files are untouched
    for split in ("train", "test"):
        dataset = build_dataset("ucf101", out, split)
        assert not dataset.missing and all(Path(r.path).exists() for r in dataset.records)


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


@pytest.mark.skipif(not __import__("os").path.isdir("/proc/self"), reason="reads the process tree from /proc")
def test_killing_prepare_ends_its_workers_and_leaves_no_temp_file(tmp_path):
    import os
    import shutil
    import signal
    import subprocess
    import sys
    import time

    from helpers import write_numbered_video

    root = tmp_path / "root"
    first = write_numbered_video(root / "v00.avi", 30)
    for i in range(1, 60):
        shutil.copy(first, root / f"v{i:02d}.avi")
    out = tmp_path / "out"
    script = (f"from pacekit.data.prepare import prepare_dataset; "
              f"prepare_dataset({str(root)!r}, {str(out)!r}, short_side=32, workers=2, progress=False)")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    below: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while not any(out.rglob("*.jpack")) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert proc.poll() is None, "prepare finished before it could be killed"
        below = descendants(proc.pid)
        assert len(below) >= 2  # the workers (and multiprocessing's resource tracker)
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + 5
        while any(alive(p) for p in below) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [p for p in below if alive(p)], "worker processes outlived the killed prepare"
        assert not [p.name for p in out.rglob("*") if ".tmp" in p.name]
    finally:
        for pid in [proc.pid, *below]:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def _fill_the_disk(monkeypatch):
    """Make every frame pack's final rename fail as on a full disk."""
    import errno
    import os

    from pacekit.data import prepare

    real_replace = os.replace

    def replace(src, dst, *args, **kwargs):
        if str(dst).endswith(".jpack"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(prepare.os, "replace", replace)


def test_a_full_disk_stops_with_a_clear_message_a_failure_list_and_no_temp_file(ucf_root, tmp_path, monkeypatch,
                                                                                 capsys):
    from pacekit.cli import main
    from pacekit.data.prepare import PrepareError

    _fill_the_disk(monkeypatch)
    out = tmp_path / "out"
    with pytest.raises(PrepareError) as caught:
        prepare_dataset(ucf_root, out, short_side=32, workers=1, progress=False)
    message = str(caught.value)
    assert "disk is full" in message and ".jpack" in message and "prepare_failures.txt" in message
    assert not [p.name for p in out.rglob("*") if ".tmp" in p.name]
    listed = (out / "prepare_failures.txt").read_text()
    assert listed.count("\n") == 1 and ".avi\tcannot write" in listed and "disk is full" in listed
    assert main(["prepare", "--root", str(ucf_root), "--out", str(out), "--workers", "1", "--short-side", "32"]) == 2
    err = capsys.readouterr().err
    assert "disk is full" in err and "Traceback" not in err


def test_ctrl_c_while_a_pack_is_written_leaves_no_temp_file_and_lists_the_failures_so_far(ucf_root, tmp_path,
                                                                                          monkeypatch):
    import shutil

    from pacekit.data import prepare

    root = shutil.copytree(ucf_root, tmp_path / "root")
    (root / "UCF-101" / "ApplyEyeMakeup" / "v_ApplyEyeMakeup_g01_c01.avi").write_bytes(b"garbage" * 50)  # the first

    def interrupted(fd):
        raise KeyboardInterrupt

    out = mark_folder(tmp_path / "out", PREPARED_FOLDER)  # as prepare leaves it before its first pack
    monkeypatch.setattr(prepare.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        prepare_dataset(root, out, short_side=32, workers=1, progress=False)
    assert not [p.name for p in out.rglob("*") if ".tmp" in p.name]
    listed = (out / "prepare_failures.txt").read_text()
    assert listed.startswith("UCF-101/ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi\t") and "decod" in listed


def test_a_temp_pack_left_by_a_killed_run_is_removed_on_the_next(ucf_root, tmp_path):
    out = tmp_path / "out"
    stale = out / "UCF-101" / "Basketball" / ".v_Basketball_g01_c01.jpack.tmp4194304"  # above Linux's pid_max
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"half a pack")
    prepare_dataset(ucf_root, out, short_side=32, workers=1, progress=False)
    assert not stale.exists()


def test_a_damaged_or_empty_pack_is_rebuilt_on_a_re_run(ucf_root, tmp_path):
    from pacekit.data.readers import FramePackReader

    out = tmp_path / "out"
    prepare_dataset(ucf_root, out, short_side=32, workers=1, progress=False)
    packs = sorted(out.rglob("*.jpack"))
    packs[0].write_bytes(b"")
    whole = packs[1].read_bytes()
    packs[1].write_bytes(whole[: len(whole) // 2])
    report = prepare_dataset(ucf_root, out, short_side=32, workers=1, progress=False)
    assert report.converted == 2 and report.rebuilt == 2 and report.skipped == 10 and not report.failed
    assert "2 existing packs were damaged and rebuilt" in str(report)
    assert packs[1].read_bytes() == whole
    reader = FramePackReader(packs[0])
    assert reader.num_frames > 0
    reader.close()


def test_prepare_refuses_an_out_inside_root_and_a_root_inside_out(tmp_path):
    from helpers import write_numbered_video

    root = tmp_path / "root"
    write_numbered_video(root / "a.avi", 4)
    with pytest.raises(ValueError, match="--out .* is inside --root"):
        prepare_dataset(root, root / "prepared", short_side=32, workers=1, progress=False)
    assert not (root / "prepared").exists()
    with pytest.raises(ValueError, match="--root .* is inside --out"):
        prepare_dataset(root, tmp_path, short_side=32, workers=1, progress=False)


@pytest.mark.parametrize("flag, value", [("short_side", 0), ("short_side", 15), ("quality", 0), ("workers", 0)])
def test_prepare_refuses_bad_values_naming_the_flag(ucf_root, tmp_path, flag, value):
    with pytest.raises(ValueError, match="--" + flag.replace("_", "-")):
        prepare_dataset(ucf_root, tmp_path / "out", progress=False, **{flag: value})
    assert not (tmp_path / "out").exists()


def test_a_denied_write_names_the_file_and_the_cause(ucf_root, tmp_path, monkeypatch):
    import errno

    from pacekit.data import prepare

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    out = mark_folder(tmp_path / "out", PREPARED_FOLDER)  # as prepare leaves it before its first pack
    monkeypatch.setattr(prepare.os, "fsync", denied)
    with pytest.raises(prepare.PrepareError, match=r"cannot write .*v_ApplyEyeMakeup_g01_c01\.jpack: permission denied"):
        prepare_dataset(ucf_root, out, short_side=32, workers=1, progress=False)
    assert not [p.name for p in out.rglob("*") if ".tmp" in p.name]
    assert "permission denied" in (out / "prepare_failures.txt").read_text()


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_the_portable_watchdog_ends_a_worker_whose_parent_is_gone():
    import os

    from pacekit import workers

    pid = os.fork()
    if pid == 0:  # the "worker": its parent is not the one it was started by
        workers._watch_parent(os.getppid() + 1, interval=0.01)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 1


def _header_end(data: bytes) -> int:
    import struct

    from pacekit.data.readers import FRAME_PACK_MAGIC

    (length,) = struct.unpack("<I", data[len(FRAME_PACK_MAGIC):len(FRAME_PACK_MAGIC) + 4])
    return len(FRAME_PACK_MAGIC) + 4 + length


def test_a_pack_whose_header_claims_2_33_frames_is_a_named_decode_error_not_a_memory_error(ucf_root, tmp_path):
    import json
    import struct

    from pacekit.data.prepare import check_pack
    from pacekit.data.readers import FRAME_PACK_MAGIC, FramePackReader, VideoDecodeError, probe_video

    out = tmp_path / "out"
    prepare_dataset(ucf_root, out, short_side=32, workers=1, progress=False)
    pack = sorted(out.rglob("*.jpack"))[0]
    data = pack.read_bytes()
    header = json.loads(data[len(FRAME_PACK_MAGIC) + 4:_header_end(data)])
    forged = json.dumps({**header, "num_frames": 2 ** 33}).encode()
    pack.write_bytes(FRAME_PACK_MAGIC + struct.pack("<I", len(forged)) + forged + data[_header_end(data):])
    with pytest.raises(VideoDecodeError, match="claims 8589934592 frames"):
        FramePackReader(pack)
    assert "claims 8589934592 frames" in check_pack(pack)
    assert probe_video(pack).undecodable  # `pacekit info` counts it and goes on
    report = prepare_dataset(ucf_root, out, short_side=32, workers=1, progress=False)
    assert report.rebuilt == 1 and check_pack(pack) is None


def test_zeroed_jpeg_bytes_fail_the_checksum_and_the_pack_is_rebuilt(ucf_root, tmp_path):
    from pacekit.data.prepare import check_pack
    from pacekit.data.readers import probe_video

    out = tmp_path / "out"
    prepare_dataset(ucf_root, out, short_side=32, workers=1, progress=False)
    pack = sorted(out.rglob("*.jpack"))[0]
    whole = pack.read_bytes()
    start = len(whole) - 2500
    pack.write_bytes(whole[:start] + bytes(2000) + whole[start + 2000:])
    assert "checksum" in check_pack(pack)
    assert "checksum" in probe_video(pack).problem
    report = prepare_dataset(ucf_root, out, short_side=32, workers=1, progress=False)
    assert report.rebuilt == 1 and pack.read_bytes() == whole
