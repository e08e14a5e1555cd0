"""data_scripts/: resumable verified downloads, safe extraction, re-encode, and the three dataset
scripts run end to end against a loopback HTTP server serving small archives in the real layouts.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import av
import pytest
from _archives import rar4_bytes, tar_gz_bytes, tiny_video_bytes, with_parent_dirs, write, zip_bytes
from _range_server import RangeServer

DATA_SCRIPTS = Path(__file__).resolve().parents[1] / "data_scripts"
sys.path.insert(0, str(DATA_SCRIPTS))

import _common  # noqa: E402
import _extract  # noqa: E402
import _reencode  # noqa: E402
import get_hmdb51  # noqa: E402
import get_kinetics400  # noqa: E402
import get_ucf101  # noqa: E402
from _extract import ExtractionError, UnsafeArchiveError, extract  # noqa: E402
from _fetch import DownloadError, Expected, Options, VerificationError, download  # noqa: E402

RAR_TOOLS = [t for t in _extract.RAR_TOOLS if shutil.which(t) and (t != "unar" or shutil.which("lsar"))]
needs_rar_tool = pytest.mark.skipif(not RAR_TOOLS, reason="no unrar/unar/bsdtar (apt install unar)")
FAST = Options(retries=2, backoff_s=0.0, timeout_s=10.0, progress=False)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tree(root: Path) -> dict[str, bytes]:
    """Every file under `root` (relative posix path -> bytes)."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def server():
    srv = RangeServer()
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def clips() -> list[bytes]:
    return [tiny_video_bytes(".avi", frames=4, seed=i) for i in range(3)]


# -- downloads ---------------------------------------------------------------------------------

def test_truncated_download_resumes_from_where_it_stopped(server, tmp_path):
    data = os.urandom(50_000)
    url = server.add("/f.bin", data, drop_after=12_345)
    logs = []
    dest = download(url, tmp_path / "f.bin", Expected(size=len(data), sha256=sha256(data)), FAST, logs.append)
    assert dest.read_bytes() == data
    assert server.requests_for("/f.bin") == [None, "bytes=12345-"]
    assert not (tmp_path / "f.bin.part").exists()
    marker = json.loads((tmp_path / "f.bin.done").read_text())
    assert marker == {"url": url, "size": 50_000, "md5": hashlib.md5(data).hexdigest(), "sha256": sha256(data)}
    assert any("connection closed after 12345 of 50000 bytes" in line for line in logs)


def test_part_file_from_an_earlier_run_is_resumed_with_a_range_request(server, tmp_path):
    data = os.urandom(20_000)
    url = server.add("/f.bin", data)
    (tmp_path / "f.bin.part").write_bytes(data[:7_000])
    download(url, tmp_path / "f.bin", Expected(sha256=sha256(data)), FAST, lambda *_: None)
    assert server.requests_for("/f.bin") == ["bytes=7000-"]
    assert (tmp_path / "f.bin").read_bytes() == data


def test_complete_file_without_marker_is_checked_not_downloaded_again(server, tmp_path):
    data = os.urandom(3_000)
    url = server.add("/f.bin", data)
    (tmp_path / "f.bin").write_bytes(data)  # e.g. the run was killed between download and marker
    download(url, tmp_path / "f.bin", Expected(sha256=sha256(data)), FAST, lambda *_: None)
    assert server.requests_for("/f.bin") == ["bytes=3000-"]  # answered 416: nothing left to send
    assert (tmp_path / "f.bin").read_bytes() == data and (tmp_path / "f.bin.done").is_file()


def test_server_that_ignores_range_makes_the_download_start_over(server, tmp_path):
    data = os.urandom(20_000)
    url = server.add("/f.bin", data, ignore_range=True)
    stale = b"stale bytes that must not stay in front"
    (tmp_path / "f.bin.part").write_bytes(stale)
    download(url, tmp_path / "f.bin", Expected(), FAST, lambda *_: None)
    assert server.requests_for("/f.bin") == [f"bytes={len(stale)}-"]
    assert (tmp_path / "f.bin").read_bytes() == data


def test_wrong_checksum_is_rejected_and_the_file_is_not_kept(server, tmp_path):
    data = b"not the published file" * 100
    url = server.add("/f.bin", data)
    wrong = "0" * 64
    with pytest.raises(VerificationError, match=f"sha256 is {sha256(data)}, expected {wrong}"):
        download(url, tmp_path / "f.bin", Expected(sha256=wrong), FAST, lambda *_: None)
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    # the next run downloads afresh and, with the right checksum, succeeds
    download(url, tmp_path / "f.bin", Expected(sha256=sha256(data)), FAST, lambda *_: None)
    assert len(server.requests_for("/f.bin")) == 2


def test_wrong_size_is_rejected(server, tmp_path):
    url = server.add("/f.bin", b"x" * 1000)
    with pytest.raises(VerificationError, match="got 1000 bytes, expected 999"):
        download(url, tmp_path / "f.bin", Expected(size=999), FAST, lambda *_: None)
    assert not (tmp_path / "f.bin.done").exists() and not (tmp_path / "f.bin").exists()


def test_rerun_of_a_finished_download_sends_no_request(server, tmp_path):
    url = server.add("/f.bin", b"abc" * 10)
    download(url, tmp_path / "f.bin", Expected(), FAST, lambda *_: None)
    logs = []
    download(url, tmp_path / "f.bin", Expected(), FAST, logs.append)
    assert len(server.requests_for("/f.bin")) == 1
    assert logs == [f"skip: f.bin is already downloaded and verified ({tmp_path / 'f.bin'})"]


def test_server_errors_are_retried_then_reported(server, tmp_path):
    url = server.add("/f.bin", b"", fail_status=503)
    with pytest.raises(DownloadError, match="gave up after 2 retries"):
        download(url, tmp_path / "f.bin", Expected(), FAST, lambda *_: None)
    assert len(server.requests_for("/f.bin")) == 3
    with pytest.raises(DownloadError, match="HTTP 404"):
        download(server.url + "/missing", tmp_path / "m.bin", Expected(), FAST, lambda *_: None)
    assert len(server.requests_for("/missing")) == 1  # a 404 is not retried


# -- extraction --------------------------------------------------------------------------------

def _tar_with(member: tarfile.TarInfo, data: bytes = b"") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        ok = tarfile.TarInfo("ok.mp4")
        ok.size = 2
        tf.addfile(ok, io.BytesIO(b"ok"))
        member.size = len(data)
        tf.addfile(member, io.BytesIO(data))
    return buf.getvalue()


def _symlink(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = tarfile.SYMTYPE, target
    return info


@pytest.mark.parametrize(
    "member, reason",
    [
        (tarfile.TarInfo("../evil.mp4"), "outside the target"),
        (tarfile.TarInfo("a/../../evil.mp4"), "outside the target"),
        (tarfile.TarInfo("/tmp/evil.mp4"), "absolute path"),
        (_symlink("link", "../../etc"), "points outside"),
        (_symlink("link", "/etc/passwd"), "absolute target"),
    ],
)
def test_tar_member_that_would_escape_is_refused_and_nothing_is_kept(tmp_path, member, reason):
    archive = write(tmp_path / "shard.tar.gz", _tar_with(member, b"evil"))
    dest = tmp_path / "out" / "train"
    with pytest.raises(UnsafeArchiveError, match=reason):
        extract(archive, dest)
    assert list(dest.iterdir()) == []  # not even ok.mp4, which came first
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["out", "shard.tar.gz", "train"]


def test_tar_checks_run_without_the_tarfile_data_filter(tmp_path, monkeypatch):
    # Python < 3.10.12 / 3.11.4 has no tarfile.data_filter: our own checks must still refuse.
    monkeypatch.delattr(tarfile, "data_filter", raising=False)
    archive = write(tmp_path / "s.tar.gz", _tar_with(_symlink("ok2", "../../x")))
    with pytest.raises(UnsafeArchiveError, match="points outside"):
        extract(archive, tmp_path / "out")
    good = write(tmp_path / "g.tar.gz", tar_gz_bytes({"a/b.mp4": b"bb"}, symlinks={"a/c.mp4": "b.mp4"}))
    assert extract(good, tmp_path / "out") == ["a/b.mp4", "a/c.mp4"]
    assert (tmp_path / "out" / "a" / "c.mp4").read_bytes() == b"bb"


def test_zip_member_with_dotdot_is_refused_before_anything_is_written(tmp_path):
    archive = write(tmp_path / "s.zip", zip_bytes({"ucfTrainTestlist/classInd.txt": b"1 A\r\n", "../evil.txt": b"x"}))
    with pytest.raises(UnsafeArchiveError, match=r"'\.\./evil\.txt'"):
        extract(archive, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["out", "s.zip"]


@needs_rar_tool
@pytest.mark.parametrize("tool", RAR_TOOLS)
@pytest.mark.parametrize("use_rarfile", [True, False], ids=["list-with-rarfile", "list-with-tool"])
def test_rar_member_with_dotdot_is_refused_before_extracting(tmp_path, monkeypatch, tool, use_rarfile):
    if not use_rarfile:
        monkeypatch.setitem(sys.modules, "rarfile", None)  # import rarfile -> ImportError
    archive = write(tmp_path / "x.rar", rar4_bytes({"ok.txt": b"fine", "../evil.txt": b"evil"}))
    dest = tmp_path / "a" / "out"
    with pytest.raises(UnsafeArchiveError, match=r"refusing member '\.\./evil\.txt'"):
        extract(archive, dest, rar_tool=tool)
    assert list(dest.iterdir()) == []
    assert not (tmp_path / "a" / "evil.txt").exists() and not (tmp_path / "evil.txt").exists()


@needs_rar_tool
@pytest.mark.parametrize("tool", RAR_TOOLS)
@pytest.mark.parametrize("use_rarfile", [True, False], ids=["list-with-rarfile", "list-with-tool"])
def test_rar_extracts_windows_style_paths_into_folders(tmp_path, monkeypatch, tool, use_rarfile):
    if not use_rarfile:
        monkeypatch.setitem(sys.modules, "rarfile", None)
    files = {"UCF-101/Archery/v_Archery_g01_c01.avi": b"a" * 3000, "UCF-101/Bowling/v_Bowling_g02_c03.avi": b"b"}
    archive = write(tmp_path / "u.rar", rar4_bytes(with_parent_dirs(files)))
    assert extract(archive, tmp_path / "out", rar_tool=tool) == sorted(files)
    assert tree(tmp_path / "out") == files


def test_missing_rar_tool_names_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(_extract.shutil, "which", lambda name: None)
    monkeypatch.delenv("PACEKIT_RAR_TOOL", raising=False)
    archive = write(tmp_path / "u.rar", rar4_bytes({"a.txt": b"a"}))
    with pytest.raises(ExtractionError) as err:
        extract(archive, tmp_path / "out")
    assert "sudo apt install unar" in str(err.value) and "brew install unar" in str(err.value)
    assert str(archive) in str(err.value)


def test_extraction_marker_survives_deleting_nested_archives(tmp_path):
    inner = write(tmp_path / "dl" / "in" / "wave.rar", b"inner")
    outer = write(tmp_path / "dl" / "outer.rar", b"outer")
    _extract.mark_extracted(outer, tmp_path / "dl" / "in", ["wave.rar"])
    assert _extract.is_extracted(outer, tmp_path / "dl" / "in")
    inner.unlink()
    assert not _extract.is_extracted(outer, tmp_path / "dl" / "in")  # the inner file is gone, not done
    _extract.mark_extracted(inner, tmp_path / "videos", [])
    assert _extract.is_extracted(outer, tmp_path / "dl" / "in")  # ... unless it was extracted


# -- end to end: the fake datasets ---------------------------------------------------------------

UCF_FILES = {
    "UCF-101/ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi": 0,
    "UCF-101/ApplyEyeMakeup/v_ApplyEyeMakeup_g02_c01.avi": 1,
    "UCF-101/HandstandPushups/v_HandStandPushups_g01_c01.avi": 2,
}
UCF_LISTS = {
    "ucfTrainTestlist/classInd.txt": b"1 ApplyEyeMakeup\r\n2 HandstandPushups\r\n",
    "ucfTrainTestlist/trainlist01.txt": b"ApplyEyeMakeup/v_ApplyEyeMakeup_g02_c01.avi 1\r\n",
    "ucfTrainTestlist/testlist01.txt": b"ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi\r\n"
    b"HandstandPushups/v_HandStandPushups_g01_c01.avi\r\n",
}


def _serve_ucf(server, clips, extra=None, **rar_behaviour) -> tuple[str, dict[str, bytes]]:
    videos = {name: clips[i] for name, i in UCF_FILES.items()} | (extra or {})
    server.add("/ucf/UCF101.rar", rar4_bytes(with_parent_dirs(videos)), **rar_behaviour)
    server.add("/ucf/UCF101TrainTestSplits-RecognitionTask.zip", zip_bytes(UCF_LISTS))
    return server.url + "/ucf/", videos | UCF_LISTS


def _ucf_args(out: Path, mirror: str) -> list[str]:
    splits = sha256(zip_bytes(UCF_LISTS))  # the fake splits zip is pinned: it is not the published one
    return ["--out", str(out), "--mirror", mirror, "--quiet", "--retry-wait", "0",
            "--sha256", f"UCF101TrainTestSplits-RecognitionTask.zip={splits}"]


@needs_rar_tool
def test_ucf101_end_to_end_resumes_and_a_rerun_does_nothing(server, clips, tmp_path, capsys):
    mirror, expected = _serve_ucf(server, clips, drop_after=5_000)
    out = tmp_path / "ucf101"
    assert get_ucf101.main(_ucf_args(out, mirror)) == 0
    got = tree(out)
    assert {k: v for k, v in got.items() if not k.startswith("downloads/")} == expected
    assert server.requests_for("/ucf/UCF101.rar") == [None, "bytes=5000-"]
    printed = capsys.readouterr().out
    assert "UCF101 in" in printed and "2 classes, 3 videos" in printed

    n_requests, mtimes = len(server.requests), {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    assert get_ucf101.main(_ucf_args(out, mirror)) == 0
    assert len(server.requests) == n_requests  # nothing fetched again
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == mtimes  # nothing rewritten
    printed = capsys.readouterr().out
    assert "skip: UCF101.rar is already extracted" in printed
    assert "skip: UCF101TrainTestSplits-RecognitionTask.zip is already extracted" in printed


def test_ucf101_published_splits_checksum_rejects_a_different_file(server, clips, tmp_path):
    mirror, _ = _serve_ucf(server, clips)
    out = tmp_path / "ucf101"
    with pytest.raises(VerificationError, match="expected 113943"):
        get_ucf101.main(["--out", str(out), "--mirror", mirror, "--quiet", "--retry-wait", "0"])
    assert not any(p.name.endswith((".done", ".extracted")) for p in out.rglob("*"))


@needs_rar_tool
def test_ucf101_pinned_wrong_checksum_is_rejected_and_nothing_is_extracted(server, clips, tmp_path):
    mirror, _ = _serve_ucf(server, clips)
    out = tmp_path / "ucf101"
    with pytest.raises(VerificationError, match="sha256 is"):
        get_ucf101.main(_ucf_args(out, mirror) + ["--sha256", "UCF101.rar=" + "ab" * 32])
    assert not (out / "UCF-101").exists()
    assert not (out / "downloads" / "UCF101.rar").exists()
    assert not (out / "downloads" / "UCF101.rar.done").exists()


@needs_rar_tool
def test_ucf101_archive_with_dotdot_member_is_refused(server, clips, tmp_path):
    mirror, _ = _serve_ucf(server, clips, extra={"../../escaped.avi": b"evil"})
    out = tmp_path / "ucf101"
    with pytest.raises(UnsafeArchiveError, match=r"refusing member .\.\./"):
        get_ucf101.main(_ucf_args(out, mirror))
    assert not (out / "UCF-101").exists()
    assert not list(tmp_path.rglob("escaped.avi"))
    assert not (out / "downloads" / "UCF101.rar.extracted").exists()


HMDB_CLASSES = {
    "brush_hair": [
        "April_09_brush_hair_u_nm_np1_ba_goo_0.avi",
        "Blonde_being_brushed_brush_hair_f_nm_np2_ri_med_0.avi",
    ],
    "wave": ["RATRACE_wave_f_nm_np1_fr_goo_37.avi"],
}


@needs_rar_tool
def test_hmdb51_end_to_end_with_nested_rars_and_deleted_archives(server, clips, tmp_path, capsys):
    inner_rars, expected = {}, {}
    for c, names in HMDB_CLASSES.items():
        files = {f"{c}/{n}": clips[i] for i, n in enumerate(names)}
        inner_rars[f"{c}.rar"] = rar4_bytes(with_parent_dirs(files))
        expected |= {f"videos/{k}": v for k, v in files.items()}
    splits = {f"testTrainMulti_7030_splits/{c}_test_split{s}.txt": f"{names[0]} 1 \n".encode()
              for c, names in HMDB_CLASSES.items() for s in (1, 2, 3)}
    expected |= splits
    server.add("/hmdb/hmdb51_org.rar", rar4_bytes(inner_rars), drop_after=300)
    server.add("/hmdb/test_train_splits.rar", rar4_bytes(with_parent_dirs(splits)))
    out = tmp_path / "hmdb51"
    args = ["--out", str(out), "--mirror", server.url + "/hmdb", "--quiet", "--retry-wait", "0", "--delete-archives"]
    assert get_hmdb51.main(args) == 0
    assert {k: v for k, v in tree(out).items() if not k.startswith("downloads/")} == expected
    assert server.requests_for("/hmdb/hmdb51_org.rar") == [None, "bytes=300-"]
    assert not list((out / "downloads").rglob("*.rar"))  # --delete-archives freed them
    assert "2 classes, 3 videos, 6 split files" in capsys.readouterr().out

    n_requests = len(server.requests)
    assert get_hmdb51.main(args) == 0
    assert len(server.requests) == n_requests
    assert "already extracted" in capsys.readouterr().out


def _k400_shard(i: int) -> dict[str, bytes]:
    return {f"yt{i}{j}abcdefg_{10 * j:06d}_{10 * j + 10:06d}.mp4": f"clip {i}.{j}".encode() for j in range(2)}


def test_kinetics400_partial_then_full_download(server, tmp_path, capsys):
    csv = b"label,youtube_id,time_start,time_end,split\nabseiling,yt00abcdefg,0,10,train\n"
    server.add("/k400/annotations/train.csv", csv)
    server.add("/k400/annotations/val.csv", csv.replace(b"train\n", b"val\n"))
    official = [f"https://s3.amazonaws.com/kinetics/400/train/part_{i}.tar.gz" for i in range(3)]
    server.add("/k400/train/k400_train_path.txt", ("\n".join(official) + "\n").encode())
    for i in range(3):
        server.add(f"/k400/train/part_{i}.tar.gz", tar_gz_bytes(_k400_shard(i)), drop_after=100 if i == 1 else None)
    out = tmp_path / "k400"
    base = ["--out", str(out), "--mirror", server.url + "/k400/", "--quiet", "--retry-wait", "0", "--split", "train"]

    assert get_kinetics400.main(base + ["--max-shards", "2"]) == 0
    assert tree(out / "train") == _k400_shard(0) | _k400_shard(1)
    assert (out / "annotations" / "train.csv").read_bytes() == csv
    assert (out / "annotations" / "val.csv").read_bytes().endswith(b",val\n")
    assert server.requests_for("/k400/train/part_1.tar.gz") == [None, "bytes=100-"]
    assert server.requests_for("/k400/train/part_2.tar.gz") == []

    assert get_kinetics400.main(base + ["--delete-archives"]) == 0  # the rest of the split
    assert tree(out / "train") == _k400_shard(0) | _k400_shard(1) | _k400_shard(2)
    assert len(server.requests_for("/k400/train/part_0.tar.gz")) == 1  # not fetched again
    assert len(server.requests_for("/k400/train/part_2.tar.gz")) == 1
    assert not (out / "downloads" / "train_part_2.tar.gz").exists()
    assert "6 videos from 3 shard(s)" in capsys.readouterr().out


def test_kinetics400_shard_with_dotdot_member_is_refused(server, tmp_path):
    server.add("/k/annotations/train.csv", b"label\n")
    server.add("/k/annotations/val.csv", b"label\n")
    server.add("/k/train/k400_train_path.txt", f"{server.url}/k/train/evil.tar.gz\n".encode())
    server.add("/k/train/evil.tar.gz", tar_gz_bytes({"a_000000_000010.mp4": b"a", "../../../pwned.mp4": b"x"}))
    out = tmp_path / "k400"
    with pytest.raises(UnsafeArchiveError, match="pwned"):
        get_kinetics400.main(["--out", str(out), "--mirror", server.url + "/k/", "--quiet"])
    assert list((out / "train").iterdir()) == [] and not list(tmp_path.rglob("pwned.mp4"))


# -- helpers of the scripts --------------------------------------------------------------------

def test_mirror_rewrites_the_official_base_only():
    official = "https://s3.amazonaws.com/kinetics/400/"
    assert _common.rewrite_url(official + "train/part_0.tar.gz", official, "http://127.0.0.1:8/m") == \
        "http://127.0.0.1:8/m/train/part_0.tar.gz"
    assert _common.rewrite_url("https://other.org/x.tar.gz", official, "http://m/") == "https://other.org/x.tar.gz"
    assert _common.join_url("http://m/a/", "/b.rar") == "http://m/a/b.rar"


def test_checksum_pins_are_parsed_and_bad_ones_explained():
    assert _common.parse_pins(["UCF101.rar=" + "AB" * 32], "sha256") == {"UCF101.rar": "ab" * 32}
    with pytest.raises(SystemExit, match="expected FILE=<32 hex digits>"):
        _common.parse_pins(["UCF101.rar=1234"], "md5")


def test_prepare_command_uses_this_python_and_the_right_root(tmp_path, monkeypatch):
    assert _common.prepare_command(Path("/d/ucf101"), Path("/d/ucf101_prepared")) == [
        sys.executable, "-m", "pacekit.cli", "prepare", "--root", "/d/ucf101", "--out", "/d/ucf101_prepared"]
    calls = []
    monkeypatch.setattr(_common.subprocess, "run", lambda cmd: calls.append(cmd) or subprocess.CompletedProcess(cmd, 0))
    out = tmp_path / "ucf101"
    args = get_ucf101.build_parser("x", get_ucf101.DEFAULT_MIRROR).parse_args(
        ["--out", str(out), "--reencode", "--prepare", "--quiet", "--jobs", "1"])
    (out / "UCF-101").mkdir(parents=True)
    assert _common.finish(args, _common.Run.from_args(args), "ucf101") == 0
    # with --reencode, prepare reads the re-encoded copy
    assert calls == [_common.prepare_command(tmp_path / "ucf101_s128", tmp_path / "ucf101_prepared")]


def test_scripts_run_as_standalone_programs():
    result = subprocess.run([sys.executable, str(DATA_SCRIPTS / "get_kinetics400.py"), "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "--max-shards" in result.stdout and "--mirror" in result.stdout


# -- re-encode ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "size, want",
    [((320, 240), (170, 128)), ((240, 320), (128, 170)), ((454, 256), (228, 128)), ((100, 80), (100, 80))],
)
def test_scaled_size_sets_the_short_side_and_keeps_even_dims(size, want):
    assert _reencode.scaled_size(*size, short_side=128) == want


def _probe(path: Path) -> tuple[int, int, int, str]:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        return s.codec_context.width, s.codec_context.height, sum(1 for _ in c.decode(s)), s.codec_context.name


def test_reencode_tree_is_parallel_idempotent_and_reports_failures(tmp_path):
    src, dst = tmp_path / "ucf101", tmp_path / "ucf101_s64"
    write(src / "UCF-101/A/v_A_g01_c01.avi", tiny_video_bytes(".avi", frames=7, width=160, height=120, seed=1))
    write(src / "UCF-101/A/v_A_g02_c01.avi", tiny_video_bytes(".avi", frames=5, width=48, height=32, seed=2))
    write(src / "train/x_000000_000010.mp4", tiny_video_bytes(".mp4", frames=6, width=96, height=128, seed=3))
    write(src / "UCF-101/B/v_B_g01_c01.avi", b"this is not a video")
    write(src / "ucfTrainTestlist/classInd.txt", b"1 A\r\n2 B\r\n")
    write(src / "downloads/UCF101.rar", b"archives are not copied")
    logs = []
    report = _reencode.reencode_tree(src, dst, short_side=64, jobs=2, progress=False, log=logs.append)
    assert (report.encoded, report.kept_small, report.copied, report.skipped) == (2, 1, 1, 0)
    assert [rel for rel, _ in report.failed] == ["UCF-101/B/v_B_g01_c01.avi"]
    assert _probe(dst / "UCF-101/A/v_A_g01_c01.avi") == (86, 64, 7, "mpeg4")
    assert _probe(dst / "train/x_000000_000010.mp4") == (64, 86, 6, "h264")
    assert (dst / "UCF-101/A/v_A_g02_c01.avi").read_bytes() == (src / "UCF-101/A/v_A_g02_c01.avi").read_bytes()
    assert (dst / "ucfTrainTestlist/classInd.txt").read_bytes() == b"1 A\r\n2 B\r\n"
    assert not (dst / "downloads").exists() and not list(dst.rglob(".tmp-*"))
    # the broken video is kept as it was, so the copy is a complete dataset, and it is listed
    assert (dst / "UCF-101/B/v_B_g01_c01.avi").read_bytes() == b"this is not a video"
    failures = (dst / _reencode.FAILURES_FILE).read_text()
    assert failures.startswith("UCF-101/B/v_B_g01_c01.avi\tInvalidDataError") and failures.count("\n") == 1

    again = _reencode.reencode_tree(src, dst, short_side=64, jobs=1, progress=False, log=logs.append)
    assert (again.encoded, again.kept_small, again.copied, again.skipped, again.failed) == (0, 0, 0, 4, [])
    assert (dst / _reencode.FAILURES_FILE).read_text() == failures


# -- real clips (skipped in a clone without shared/) -------------------------------------------

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "videos"


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared/data/videos (real sample clips) is not beside the repo")
def test_reencode_keeps_every_frame_of_real_ucf101_and_hmdb51_clips(tmp_path):
    ucf = SHARED / "ucf101" / "v_ApplyEyeMakeup_g01_c01.avi"
    hmdb = SHARED / "hmdb51" / "hmdb51_Turnk_r_Pippi_Michel_cartwheel_f_cm_np2_le_med_6.avi"  # bad UTF-8 metadata
    assert _reencode.reencode_video(ucf, tmp_path / "u.avi") == "encoded"
    assert _reencode.reencode_video(hmdb, tmp_path / "h.avi") == "encoded"
    assert _probe(tmp_path / "u.avi") == (170, 128, 164, "mpeg4")  # 320x240, 164 frames (PROVENANCE.md)
    assert _probe(tmp_path / "h.avi") == (170, 128, 83, "mpeg4")  # 320x240, 83 decodable frames


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared/data/videos (real sample clips) is not beside the repo")
def test_reencode_of_a_real_clip_broken_part_way_keeps_the_original(tmp_path):
    broken = SHARED / "other" / "decord_corrupted_truncated.mp4"  # decoders fail after 28 frames
    write(tmp_path / "src" / "val" / broken.name, broken.read_bytes())
    report = _reencode.reencode_tree(tmp_path / "src", tmp_path / "dst", jobs=1, progress=False, log=lambda *_: None)
    assert [rel for rel, _ in report.failed] == [f"val/{broken.name}"]
    assert (tmp_path / "dst" / "val" / broken.name).read_bytes() == broken.read_bytes()
