"""pacekit writes only into what it owns (pacekit.owned): every writer of a dataset, a run or a cache marks the folder
it makes and refuses, before any work and whatever the flags, a folder holding files it did not write.

The commands' one-line refusals of a user's folder are rows of tests/test_fault_corpus.py, each of which also checks
that no file of the folder changed. Here: the rule itself, each writer on a user's copy of UCF101 (byte for byte
unchanged), the folders a pacekit older than the marks wrote (still pacekit's: they resume and are reused), and
``--overwrite``, which deletes only what a run wrote.
"""

from __future__ import annotations

import json

import pytest
from helpers import TINY_FLAGS, make_users_ucf101, tree_bytes

from pacekit.cli import main as cli_main
from pacekit.config import Config
from pacekit.data.prepare import PREPARED_FOLDER, prepare_dataset
from pacekit.data.synthetic import check_synthetic_folder, ensure_companion, make_synthetic
from pacekit.owned import MARKER, ForeignFolderError, Kind, check_folder, mark_folder
from pacekit.study.claims import check_seeds, record_seeds
from pacekit.study.quickstart import check_quickstart_folders
from pacekit.teaching.notebook import load_or_train, reusable_checkpoint
from pacekit.training.checkpoint import load_checkpoint
from pacekit.training.loop import RUN_FOLDER, claim_run_folder

KIND = Kind("pacekit-test", "a test folder", files=(r"out\.json", r"sub/[^/]+\.bin"))


def _mark(folder) -> dict:
    return json.loads((folder / MARKER).read_text())


# ------------------------------------------------------------------------------------------------ the rule


def test_a_new_or_empty_folder_is_free_and_a_marked_one_is_pacekits(tmp_path):
    assert check_folder(tmp_path / "new", KIND, "Choose another.") is False
    (tmp_path / "empty").mkdir()
    assert check_folder(tmp_path / "empty", KIND, "Choose another.") is False
    (tmp_path / "empty" / "Basketball").mkdir()  # a folder of folders is no empty folder: it looks like a dataset's
    with pytest.raises(ForeignFolderError, match=r"\(Basketball/\)"):
        check_folder(tmp_path / "empty", KIND, "Choose another.")
    mark_folder(tmp_path / "new", KIND)
    assert _mark(tmp_path / "new")["format"] == "pacekit-test" and "pacekit" in _mark(tmp_path / "new")["written_by"]
    (tmp_path / "new" / "notes.txt").write_text("added by the user later")
    assert check_folder(tmp_path / "new", KIND, "Choose another.") is True


def test_a_folder_holding_only_what_pacekit_writes_there_is_pacekits_from_before_the_mark(tmp_path):
    (tmp_path / "out.json").write_text("{}")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.bin").write_bytes(b"")
    assert check_folder(tmp_path, KIND, "Choose another.") is True
    (tmp_path / "sub" / "b.txt").write_text("not pacekit's")
    with pytest.raises(ForeignFolderError, match=r"\(sub/\)"):
        check_folder(tmp_path, KIND, "Choose another.")


def test_a_users_folder_is_refused_in_one_line_naming_a_few_of_its_entries(tmp_path):
    root = make_users_ucf101(tmp_path / "ucf101")
    with pytest.raises(ForeignFolderError) as caught:
        check_folder(root, KIND, "Choose another folder.")
    message = str(caught.value)
    assert "\n" not in message and isinstance(caught.value, FileExistsError)
    assert message == (f"{root} already holds files and no pacekit.json, so pacekit did not write it (ApplyEyeMakeup/, "
                       "ApplyLipstick/, Archery/, ...); pacekit writes a test folder only into a new or empty folder, "
                       "or one it wrote before. Choose another folder.")


def test_a_folder_of_another_kind_or_a_file_is_refused(tmp_path):
    mark_folder(tmp_path / "run", RUN_FOLDER)
    with pytest.raises(ForeignFolderError, match="is pacekit's folder of a training run .*, not of a test folder"):
        check_folder(tmp_path / "run", KIND, "Choose another.")
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="is a file; give a folder for a test folder"):
        check_folder(tmp_path / "file", KIND, "Choose another.")


# ------------------------------------------------------------------------------------------------ run folders


@pytest.mark.parametrize("resume,overwrite", [(False, False), (True, False), (False, True), (True, True)])
def test_a_users_folder_is_no_run_folder_whatever_the_flags(tmp_path, resume, overwrite):
    root = make_users_ucf101(tmp_path / "ucf101")
    (root / "last.pt").write_bytes(b"the user's own checkpoint, under a name pacekit writes too")
    before = tree_bytes(root)
    with pytest.raises(ForeignFolderError, match="--name or --out-dir"):
        claim_run_folder(root, resume, overwrite)
    assert tree_bytes(root) == before



def test_a_file_named_like_a_runs_is_no_run_without_its_metrics(tmp_path):
    (tmp_path / "last.pt").write_bytes(b"a checkpoint of another program")
    with pytest.raises(ForeignFolderError, match=r"\(last.pt\)"):
        claim_run_folder(tmp_path, resume=False, overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]
    assert (tmp_path / "last.pt").read_bytes() == b"a checkpoint of another program"

def _pretrain(flow, tmp_path, *extra):
    return cli_main(["pretrain", "--preset", "cpu-tiny", "--dataset", "synthetic", "--root", str(flow["root"]),
                     "--out-dir", str(tmp_path), *TINY_FLAGS, "--epochs", "1", "--epoch-repeat", "1", "--batch-size",
                     "4", "--threads", "1", *extra])


def test_a_run_folder_from_before_the_mark_is_resumed_and_reused(flow, tmp_path, capsys):
    assert _pretrain(flow, tmp_path, "--name", "old") == 0
    run = tmp_path / "old"
    assert _mark(run)["format"] == "pacekit-run"
    (run / MARKER).unlink()  # the folder as a pacekit older than the mark left it
    cfg = Config.from_dict(load_checkpoint(run / "last.pt")["config"])
    assert reusable_checkpoint(cfg, "pretrain") == run / "last.pt"
    assert load_or_train(cfg).checkpoint == run / "last.pt"  # loaded, not trained: nothing written
    assert not (run / MARKER).exists()
    assert _pretrain(flow, tmp_path, "--name", "old", "--resume", "--epochs", "2") == 0
    assert load_checkpoint(run / "last.pt")["epoch"] == 2 and _mark(run)["format"] == "pacekit-run"


def test_overwrite_deletes_only_what_the_run_wrote(flow, tmp_path, capsys):
    assert _pretrain(flow, tmp_path, "--name", "run") == 0
    run = tmp_path / "run"
    (run / "notes.txt").write_text("my notes on this run")
    assert _pretrain(flow, tmp_path, "--name", "run", "--overwrite") == 0
    assert (run / "notes.txt").read_text() == "my notes on this run" and (run / "last.pt").is_file()
    # without the mark, notes.txt is a file pacekit did not write: the folder is not taken for a run
    (run / MARKER).unlink()
    before = tree_bytes(run)
    capsys.readouterr()
    assert _pretrain(flow, tmp_path, "--name", "run", "--overwrite") == 2
    err = capsys.readouterr().err
    assert "pacekit did not write it (notes.txt)" in err and "Traceback" not in err and len(err.splitlines()) == 1
    assert tree_bytes(run) == before


# ------------------------------------------------------------------------------------------------ data sets


def test_prepare_marks_its_copy_and_completes_one_from_before_the_mark(ucf_root, tmp_path):
    out = tmp_path / "prepared"
    first = prepare_dataset(ucf_root, out, short_side=32, workers=1, progress=False)
    assert _mark(out)["format"] == "pacekit-prepared" and first.converted == 12
    (out / MARKER).unlink()
    (out / "prepare_failures.txt").write_text("UCF-101/x.avi\tbroken\n")  # left by an earlier run
    sorted(out.rglob("*.jpack"))[0].unlink()
    again = prepare_dataset(ucf_root, out, short_side=32, workers=1, progress=False)
    assert (again.converted, again.skipped) == (1, 11) and _mark(out)["format"] == "pacekit-prepared"
    (out / MARKER).unlink()
    (out / "notes.txt").write_text("mine")
    before = tree_bytes(out)
    with pytest.raises(ForeignFolderError, match=r"\(notes.txt\).*Choose another --out"):
        prepare_dataset(ucf_root, out, short_side=32, workers=1, progress=False)
    assert tree_bytes(out) == before


def test_prepare_never_writes_into_a_users_ucf101(ucf_root, tmp_path):
    mine = make_users_ucf101(tmp_path / "ucf101", videos_folder=True)  # the very layout prepare writes
    before = tree_bytes(mine)
    with pytest.raises(ForeignFolderError, match=r"\(UCF-101/, ucfTrainTestlist/\)"):
        prepare_dataset(ucf_root, mine, short_side=32, workers=1, progress=False)
    assert tree_bytes(mine) == before


def test_a_prepared_copy_of_a_synthetic_set_is_no_synthetic_set_to_rewrite(tmp_path):
    copy = tmp_path / "prepared"
    copy.mkdir()
    (copy / "synthetic.json").write_text(json.dumps({"format": "pacekit-synthetic", "version": 4, "params": {},
                                                     "videos": []}))  # copied by prepare from the set
    mark_folder(copy, PREPARED_FOLDER)
    with pytest.raises(ForeignFolderError, match="is pacekit's folder of a prepared copy of a dataset, not of a synthetic"):
        check_synthetic_folder(copy)


def test_a_companion_beside_the_set_is_never_written_into_a_users_folder(tmp_path):
    root = make_synthetic(tmp_path / "data", num_classes=2, videos_per_class=2, width=32, height=32, duration=0.2,
                          workers=1, progress=False)
    mine = make_users_ucf101(tmp_path / "data_spread1")
    before = tree_bytes(mine)
    with pytest.raises(ForeignFolderError) as caught:
        ensure_companion(root, 1, workers=1, progress=False)
    assert f"The companion of {root} with speed spread 1 is written beside it, in {mine}" in str(caught.value)
    assert tree_bytes(mine) == before


# ------------------------------------------------------------------------------------------------ results


def test_a_ledger_folder_is_marked_by_its_seeds_and_an_older_one_resumes(tmp_path):
    record_seeds(tmp_path / "new", [0, 1], ["C1"])
    recorded = json.loads((tmp_path / "new" / "seeds.json").read_text())
    assert recorded["format"] == "pacekit-claims" and recorded["seeds"] == [0, 1]
    old = tmp_path / "old"
    old.mkdir()
    (old / "seeds.json").write_text(json.dumps({"seeds": [0, 1], "claims": ["C1"]}))  # before the format was recorded
    (old / "ledger.md").write_text("# ledger")
    assert check_seeds(old, [0, 1]) is True
    mine = make_users_ucf101(tmp_path / "ucf101")
    before = tree_bytes(mine)
    with pytest.raises(ForeignFolderError, match="a claims ledger"):
        record_seeds(mine, [0], ["C1"])
    assert tree_bytes(mine) == before


def test_a_quickstart_folder_from_before_the_mark_is_pacekits(tmp_path):
    out = tmp_path / "q"
    for rel in ("report.md", "result.json", "pace_strip.png", "pretrain/epoch_2.pt", "pretrain/last.pt",
                "pretrain/metrics.jsonl", "fine-tuned_random_s0/last.pt", "fine-tuned_random_s0/pacekit.json",
                "linear_probe_random_s0/eval_synthetic_test1/eval.json"):
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(b"")
    check_quickstart_folders(out, tmp_path / "data")
    (out / "pretrain" / "notes.txt").write_text("mine")
    with pytest.raises(ForeignFolderError, match=r"\(pretrain/\).*Choose another --out"):
        check_quickstart_folders(out, tmp_path / "data")


# ------------------------------------------------------------------------- real dataset roots (../shared/data)


def _real_root(shared, tmp_path, dataset: str):
    """A user's real copy of UCF101 or HMDB51 in its official layout, made from the sample clips and the official
    split files beside the repository: videos under ``<class>/`` and the split folder as published."""
    import shutil

    root = tmp_path / dataset
    videos = sorted((shared / "videos" / dataset).glob("*.avi"))
    for video in videos:
        if dataset == "ucf101":  # v_<Class>_gGG_cCC.avi
            name = video.name.split("_")[1]
        else:  # <source>_<action>_<tags>.avi: the action is the word before the visibility tags
            words = video.stem.split("_")
            name = words[next(i for i, w in enumerate(words) if w in ("f", "h", "u", "l")) - 1]
        (root / name).mkdir(parents=True, exist_ok=True)
        shutil.copy(video, root / name / video.name)
    if dataset == "ucf101":
        shutil.copytree(shared / "splits" / "ucf101", root / "ucfTrainTestlist")
    else:
        shutil.copytree(shared / "splits" / "hmdb51" / "testTrainMulti_7030_splits", root / "testTrainMulti_7030_splits")
    return root


@pytest.mark.parametrize("dataset", ["ucf101", "hmdb51"])
def test_every_writer_refuses_a_real_dataset_root_and_leaves_it_byte_for_byte(shared_data, ucf_root, tmp_path, capsys,
                                                                              dataset):
    root = _real_root(shared_data, tmp_path, dataset)
    before = tree_bytes(root)
    assert len(before) > 10
    small = ["--synthetic-classes", "2", "--synthetic-videos", "2", "--no-progress"]
    commands = {
        "make-synthetic --out": ["make-synthetic", "--out", str(root), "--classes", "2", "--videos-per-class", "2",
                                 "--width", "32", "--height", "32"],
        "quickstart --data": ["quickstart", "--out", str(tmp_path / "q"), "--data", str(root), *small],
        "quickstart --out": ["quickstart", "--out", str(root), "--data", str(tmp_path / "data"), *small],
        "claims --data": ["claims", "--out", str(tmp_path / "ledger"), "--data", str(root), "--claims", "C1",
                          "--seeds", "1", "--jobs", "1", *small],
        "claims --out": ["claims", "--out", str(root), "--data", str(tmp_path / "data"), "--claims", "C1",
                         "--seeds", "1", "--jobs", "1", *small],
        "game --data": ["game", "--no-browser", "--data", str(root)],
        "prepare --out": ["prepare", "--root", str(ucf_root), "--out", str(root), "--workers", "1"],
        "pretrain --name": ["pretrain", "--preset", "cpu-tiny", "--dataset", "ucf101", "--root", str(ucf_root),
                            "--out-dir", str(tmp_path), "--name", dataset, "--overwrite", "--device", "cpu",
                            "--num-workers", "0", "--no-progress"],
    }
    for what, argv in commands.items():
        assert cli_main(argv) == 2, what
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "Traceback" not in err[0], (what, err)
        assert str(root) in err[0] and "pacekit did not write it" in err[0], (what, err[0])
        assert tree_bytes(root) == before, f"{what} changed the user's {dataset}"
