"""ucf101-mini, the Colab GPU course's data: its split files against the official ones, and the whole path on
the CPU at tiny sizes with real UCF101 clips: download from a loopback server, extract only the subset,
prepare, pretrain, resume, fine-tune, evaluate."""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import pytest
from _archives import rar4_bytes, with_parent_dirs, zip_bytes
from _range_server import RangeServer

from pacekit.data.subsets import UCF101_MINI, SubsetError, subset_videos, ucf101_subset_lists, write_subset_lists

DATA_SCRIPTS = Path(__file__).resolve().parents[1] / "data_scripts"
sys.path.insert(0, str(DATA_SCRIPTS))

import _extract  # noqa: E402
import get_ucf101  # noqa: E402

RAR_TOOLS = [t for t in _extract.RAR_TOOLS if shutil.which(t) and (t != "unar" or shutil.which("lsar"))]
SPLITS_ZIP = "UCF101TrainTestSplits-RecognitionTask.zip"


def official_lists(shared_data) -> tuple[str, str, str]:
    folder = shared_data / "splits" / "ucf101"
    return tuple((folder / n).read_text() for n in ("classInd.txt", "trainlist01.txt", "testlist01.txt"))


def test_the_subset_keeps_every_official_line_of_its_classes_and_no_other(shared_data):
    class_ind, train, test = official_lists(shared_data)
    lists = ucf101_subset_lists(class_ind, train, test)
    number = {line.split()[1]: int(line.split()[0]) for line in class_ind.splitlines() if line.strip()}
    kept = {number[c] for c in UCF101_MINI.class_names}
    # The official training lines carry their official label: those of the ten classes, by number.
    official_train = [line.split() for line in train.splitlines() if line.strip()]
    want_train = [(rel, int(label)) for rel, label in official_train if int(label) in kept]
    order = sorted(kept)  # the subset numbers its classes 1-10 in the official order
    got_train = [line.split() for line in lists["trainlist01.txt"].splitlines()]
    assert [(rel, order[int(label) - 1]) for rel, label in got_train] == want_train
    official_test = [line.strip() for line in test.splitlines() if line.strip()]
    want_test = [rel for rel in official_test if number[rel.split("/")[0]] in kept]
    assert lists["testlist01.txt"].splitlines() == want_test
    assert (len(want_train), len(want_test)) == (UCF101_MINI.train_videos, UCF101_MINI.test_videos)
    assert lists["classInd.txt"].splitlines() == [f"{i + 1} {name}" for i, name in
                                                  enumerate(sorted(UCF101_MINI.class_names, key=number.get))]
    assert len(subset_videos(lists)) == UCF101_MINI.train_videos + UCF101_MINI.test_videos


def test_split_files_without_a_class_of_the_subset_are_refused():
    with pytest.raises(SubsetError, match="lacks"):
        ucf101_subset_lists("1 ApplyEyeMakeup\n", "", "")


def test_the_subset_never_overwrites_other_split_files_and_a_rerun_changes_nothing(tmp_path):
    lists = {"classInd.txt": "1 A\n", "trainlist01.txt": "A/v_A_g01_c01.avi 1\n", "testlist01.txt": "A/x.avi\n"}
    folder = tmp_path / "ucfTrainTestlist"
    folder.mkdir()
    (folder / "classInd.txt").write_text("1 ApplyEyeMakeup\n2 ApplyLipstick\n")  # a full UCF101 copy's
    with pytest.raises(SubsetError, match="already holds other split files"):
        write_subset_lists(folder, lists)
    assert (folder / "classInd.txt").read_text() == "1 ApplyEyeMakeup\n2 ApplyLipstick\n"
    assert not (folder / "trainlist01.txt").exists()
    other = tmp_path / "mini" / "ucfTrainTestlist"
    write_subset_lists(other, lists)
    stamps = {p.name: p.stat().st_mtime_ns for p in other.iterdir()}
    write_subset_lists(other, lists)
    assert {p.name: p.stat().st_mtime_ns for p in other.iterdir()} == stamps


def _served_set(shared_data) -> tuple[dict[str, bytes], dict[str, bytes], list[str]]:
    """A UCF101 archive and splits zip in the real layouts, small: per class of the subset its first
    official training video and first test video, and one class outside it; each video is a real UCF101
    clip. The splits zip holds the official classInd.txt and the official lines of those videos."""
    class_ind, train, test = official_lists(shared_data)
    clips = [p.read_bytes() for p in sorted((shared_data / "videos" / "ucf101").glob("*.avi"))]
    chosen_train, chosen_test = [], []
    for name in (*UCF101_MINI.class_names, "YoYo"):
        chosen_train += [line for line in train.splitlines() if line.startswith(name + "/")][:1]
        chosen_test += [line for line in test.splitlines() if line.startswith(name + "/")][:1]
    rels = [line.split()[0] for line in chosen_train + chosen_test]
    videos = {f"UCF-101/{rel}": clips[i % len(clips)] for i, rel in enumerate(rels)}
    lists = {"ucfTrainTestlist/classInd.txt": class_ind.encode(),
             "ucfTrainTestlist/trainlist01.txt": "".join(line + "\n" for line in chosen_train).encode(),
             "ucfTrainTestlist/testlist01.txt": "".join(line + "\n" for line in chosen_test).encode()}
    return videos, lists, rels


@pytest.mark.skipif(not RAR_TOOLS, reason="no unrar/unar/bsdtar (apt install unar)")
def test_ucf101_mini_from_download_to_evaluation_on_the_cpu(shared_data, tmp_path, capsys):
    from pacekit import cli

    videos, lists, rels = _served_set(shared_data)
    server = RangeServer()
    try:
        server.add("/ucf/UCF101.rar", rar4_bytes(with_parent_dirs(videos)), drop_after=100_000)
        server.add(f"/ucf/{SPLITS_ZIP}", zip_bytes(lists))
        out = tmp_path / "ucf101_mini"
        args = ["--out", str(out), "--mirror", server.url + "/ucf/", "--quiet", "--retry-wait", "0",
                "--subset", "ucf101-mini", "--delete-archives",
                "--sha256", f"{SPLITS_ZIP}={hashlib.sha256(zip_bytes(lists)).hexdigest()}"]
        assert get_ucf101.main(args) == 0
        assert server.requests_for("/ucf/UCF101.rar") == [None, "bytes=100000-"]  # an interrupted download resumed
        n_requests = len(server.requests)
        assert get_ucf101.main(args) == 0  # a rerun: nothing fetched, nothing extracted again
        assert len(server.requests) == n_requests
    finally:
        server.close()
    assert "skip: UCF101.rar is already extracted" in capsys.readouterr().out
    got = sorted(p.relative_to(out / "UCF-101").as_posix() for p in (out / "UCF-101").rglob("*.avi"))
    assert got == sorted(r for r in rels if not r.startswith("YoYo/"))  # the subset's videos and no other
    assert {p.name for p in (out / "downloads").iterdir()} >= {"UCF101.rar.ucf101-mini.extracted"}
    assert not (out / "downloads" / "UCF101.rar").exists()  # --delete-archives
    assert len((out / "ucfTrainTestlist" / "classInd.txt").read_text().splitlines()) == 10
    assert json.loads((out / "subset.json").read_text())["classes"] == UCF101_MINI.classes

    prepared, runs = tmp_path / "prepared", tmp_path / "runs"
    assert cli.main(["prepare", "--root", str(out), "--out", str(prepared), "--short-side", "32",
                     "--workers", "1"]) == 0
    tiny = ["--preset", "colab-t4", "--root", str(prepared), "--out-dir", str(runs), "--device", "cpu",
            "--precision", "fp32", "--backbone", "tiny", "--frame-size", "32,42", "--clip-len", "4", "--crop", "32",
            "--num-workers", "0", "--batch-size", "5", "--epoch-repeat", "1", "--no-progress", "--threads", "1"]
    assert cli.main(["pretrain", *tiny, "--epochs", "1"]) == 0  # two steps: 10 training videos, batch 5
    assert cli.main(["pretrain", *tiny, "--epochs", "2"]) == 0  # the same command, more epochs: resumed
    rows = [json.loads(line) for line in (runs / "colab-t4" / "metrics.jsonl").read_text().splitlines()]
    assert [(r["epoch"], r["step"]) for r in rows if r["kind"] == "epoch"] == [(1, 2), (2, 4)]
    assert cli.main(["finetune", *tiny, "--name", "ft", "--pretrained", str(runs / "colab-t4" / "last.pt"),
                     "--ft-epochs", "1", "--ft-epoch-repeat", "1", "--ft-batch-size", "5"]) == 0
    assert cli.main(["evaluate", "--checkpoint", str(runs / "ft" / "last.pt"), "--dataset", "ucf101",
                     "--root", str(prepared), "--out", str(tmp_path / "eval"), "--device", "cpu",
                     "--num-clips", "2", "--num-workers", "0"]) == 0
    result = json.loads((tmp_path / "eval" / "eval.json").read_text())
    assert result["num_videos"] == 10  # every test video the subset's split lists, and no other
