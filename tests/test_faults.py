"""Runs that never lie: faults a run can meet, and what pacekit does about each (one row per case).

Every case drives the tiny backbone on the session's tiny synthetic set (conftest's ``flow``) on the CPU.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import stat

import pytest
import torch
from helpers import TINY_FLAGS

from pacekit.cli import main as cli_main
from pacekit.config import get_config
from pacekit.owned import mark_folder
from pacekit.recipes.train import PaceStep, pretrain
from pacekit.training.checkpoint import (
    CheckpointError,
    CheckpointSaveError,
    NonFiniteError,
    TransferError,
    load_checkpoint,
    save_checkpoint,
)
from pacekit.training.loading import load_model
from pacekit.training.loop import RUN_FOLDER, RunFolderError, _prune_epoch_checkpoints

PRETRAIN_FLAGS = ["--epochs", "1", "--epoch-repeat", "1", "--batch-size", "4", "--threads", "1"]


def cli(flow, tmp_path, command, *extra):
    """Run ``pacekit <command>`` on the flow's data with tiny flags, runs under ``tmp_path``."""
    args = [command, "--preset", "cpu-tiny", "--dataset", "synthetic", "--root", str(flow["root"]),
            "--out-dir", str(tmp_path), *TINY_FLAGS, *PRETRAIN_FLAGS, "--no-eval" if command == "finetune" else None,
            *extra]
    return cli_main([a for a in args if a is not None])


def tiny_cfg(flow, tmp_path, **kw):
    return flow["cfg"].replace(out_dir=str(tmp_path), threads=1, **kw)


def edited_copy(src, dst, edit):
    """``src``'s checkpoint with ``edit(state)`` applied, written with plain torch.save (no checks)."""
    state = load_checkpoint(src)
    edit(state)
    torch.save(state, dst)
    return dst


def poison(state):
    state["model"] = {k: (v * float("nan") if v.is_floating_point() else v) for k, v in state["model"].items()}


def drop_backbone_half(state):
    keys = [k for k in state["model"] if k.startswith("backbone.")]
    for k in keys[: len(keys) // 2]:
        del state["model"][k]


# ------------------------------------------------------------------------ 1. non-finite losses and weights


def test_a_diverging_run_stops_with_an_error_and_writes_no_nan_checkpoint(flow, tmp_path, capsys):
    assert cli(flow, tmp_path, "pretrain", "--name", "boom", "--lr", "1e6") == 2
    err = capsys.readouterr().err
    assert "stopped" in err and "at step" in err and "no checkpoint was written" in err and "--lr" in err
    for path in (tmp_path / "boom").glob("*.pt"):
        state = load_checkpoint(path)
        assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point()), path


def test_a_nan_in_a_later_epoch_names_the_last_good_checkpoint(flow, tmp_path, monkeypatch):
    calls = {"n": 0}
    original = PaceStep.__call__

    def nan_after_first_epoch(self, net, batch, generator):
        loss, correct, clips = original(self, net, batch, generator)
        calls["n"] += 1
        return (loss * float("nan") if calls["n"] > 3 else loss), correct, clips  # 3 steps per epoch

    monkeypatch.setattr(PaceStep, "__call__", nan_after_first_epoch)
    with pytest.raises(NonFiniteError, match=r"step 4 \(epoch 2, batch 1.*last good checkpoint is .*epoch_1\.pt"):
        pretrain(tiny_cfg(flow, tmp_path, name="late", epochs=2))
    assert not (tmp_path / "late" / "last.pt").exists()
    assert torch.isfinite(load_checkpoint(tmp_path / "late" / "epoch_1.pt")["model"]["head.weight"]).all()


@pytest.mark.parametrize("use", ["save", "finetune", "evaluate"])
def test_non_finite_weights_are_never_saved_or_used(flow, tmp_path, capsys, use):
    if use == "save":
        state = load_checkpoint(flow["pre"])
        poison(state)
        with pytest.raises(NonFiniteError, match="refusing to save"):
            save_checkpoint(tmp_path / "nan.pt", state)
        assert not list(tmp_path.iterdir())
    elif use == "finetune":
        bad = edited_copy(flow["pre"], tmp_path / "nan_pre.pt", poison)
        assert cli(flow, tmp_path, "finetune", "--name", "ft", "--pretrained", str(bad)) == 2
        assert "NaN or infinity" in capsys.readouterr().err
    else:
        bad = edited_copy(flow["ft"], tmp_path / "nan_ft.pt", poison)
        with pytest.raises(NonFiniteError, match="nan_ft.pt.*NaN or infinity"):
            load_model(bad)


# ------------------------------------------------------------------------ 2. one run per folder, honest resume


RUN_FOLDER_CASES = [
    # (flags of the second run, exit status, words its error must hold)
    ([], 2, ["already holds a run", "--resume", "--overwrite"]),
    (["--overwrite"], 0, []),
    (["--resume", "--lr", "0.5"], 2, [f"lr: {get_config('cpu-tiny').lr} -> 0.5", "--name"]),
    (["--resume", "--epochs", "2", "--num-workers", "0", "--no-progress"], 0, []),
]


@pytest.mark.parametrize("flags,status,words", RUN_FOLDER_CASES)
def test_a_run_folder_belongs_to_one_run(flow, tmp_path, capsys, flags, status, words):
    assert cli(flow, tmp_path, "pretrain", "--name", "run") == 0
    first = load_checkpoint(tmp_path / "run" / "last.pt")
    first_rows = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    capsys.readouterr()
    assert cli(flow, tmp_path, "pretrain", "--name", "run", *flags) == status
    err = capsys.readouterr().err
    for word in words:
        assert word in err
    if status == 2:  # refused: the first run's checkpoint is untouched
        assert torch.equal(load_checkpoint(tmp_path / "run" / "last.pt")["model"]["head.weight"],
                           first["model"]["head.weight"])
    if "--epochs" in flags:
        assert load_checkpoint(tmp_path / "run" / "last.pt")["epoch"] == 2
    if "--overwrite" in flags:  # the old run's log is gone, not appended to: one run's rows remain
        assert len((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()) == len(first_rows)


def test_pruning_touches_only_this_runs_epochs(tmp_path):
    for k in (1, 2, 3, 9):
        (tmp_path / f"epoch_{k}.pt").write_bytes(b"x")
    _prune_epoch_checkpoints(tmp_path, keep=2, upto=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch_2.pt", "epoch_3.pt", "epoch_9.pt"]


def test_a_damaged_last_checkpoint_falls_back_to_the_newest_intact_epoch(flow, tmp_path, caplog):
    cfg = tiny_cfg(flow, tmp_path, name="dmg", epochs=2)
    pretrain(cfg)
    (tmp_path / "dmg" / "last.pt").write_bytes(b"truncated")
    with caplog.at_level(logging.WARNING, logger="pacekit.training"):
        resumed = pretrain(cfg.replace(resume=True, epochs=3))
    assert "falling back to" in caplog.text and "epoch_2.pt" in caplog.text
    assert resumed.resumed_from if hasattr(resumed, "resumed_from") else True
    assert load_checkpoint(resumed.checkpoint)["epoch"] == 3



def test_a_resume_finds_its_run_however_the_data_folder_is_typed(flow, tmp_path, monkeypatch, capsys):
    """A run's identity is what its paths resolve to (pacekit.config.run_differences): ``--resume`` with the data
    folder typed relative, with ``./`` and ``/``, or through a symbolic link continues the run; another folder
    holding a copy of the same set is another run, refused."""
    root = flow["root"]
    monkeypatch.chdir(root.parent)
    assert cli(flow, tmp_path, "pretrain", "--name", "run") == 0  # recorded with the absolute path
    (tmp_path / "link").symlink_to(root, target_is_directory=True)
    for epochs, typed in enumerate((f"./{root.name}/", root.name, str(tmp_path / "link")), start=2):
        flags = ["--name", "run", "--resume", "--epochs", str(epochs), "--root", typed]
        assert cli(flow, tmp_path, "pretrain", *flags) == 0
        assert load_checkpoint(tmp_path / "run" / "last.pt")["epoch"] == epochs
    shutil.copytree(root, tmp_path / "copy")
    capsys.readouterr()
    assert cli(flow, tmp_path, "pretrain", "--name", "run", "--resume", "--epochs", "9", "--root",
               str(tmp_path / "copy")) == 2
    err = capsys.readouterr().err
    assert "was started with another config (root:" in err and "copy" in err
    assert load_checkpoint(tmp_path / "run" / "last.pt")["epoch"] == 4


def test_a_notebook_reuses_its_run_however_the_data_folder_is_typed(flow, tmp_path, monkeypatch, capsys):
    from pacekit.config import Config
    from pacekit.teaching.notebook import reusable_checkpoint

    root = flow["root"]
    monkeypatch.chdir(root.parent)
    cfg = Config.from_dict(load_checkpoint(flow["pre"])["config"])
    for typed in (f"./{root.name}/", root.name, str(root)):
        assert reusable_checkpoint(cfg.replace(root=typed), "pretrain") == flow["pre"], typed
    shutil.copytree(root, tmp_path / "copy")
    assert reusable_checkpoint(cfg.replace(root=str(tmp_path / "copy")), "pretrain") is None
    assert "different root" in capsys.readouterr().out


def test_a_claims_cell_is_read_back_however_the_data_folder_is_typed(tmp_path, monkeypatch):
    from pacekit.study.claims.cells import saved_cell

    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "other").mkdir()

    def identity(root):
        cfg = get_config("claims", root=root)
        return {"init": "pretrained", "pretrain": cfg.to_dict(), "transfer": cfg.to_dict(), "metrics": ["pretext"],
                "attention_videos": 8}

    metrics = {"pretext": {"value": 0.5, "chance": 0.25}}
    cell = tmp_path / "cell.json"
    cell.write_text(json.dumps({"identity": identity("data"), "metrics": metrics, "seconds": 1.0}))
    for typed in ("./data/", str(tmp_path / "data")):
        assert saved_cell(cell, identity(typed)) == metrics, typed
    assert saved_cell(cell, identity("other")) is None


# ------------------------------------------------------------------------ 3. strict transfer, complete checkpoints


def test_a_partial_transfer_is_refused_unless_allowed(flow, tmp_path, capsys):
    partial = edited_copy(flow["pre"], tmp_path / "partial.pt", drop_backbone_half)
    assert cli(flow, tmp_path, "finetune", "--name", "strict", "--pretrained", str(partial)) == 2
    err = capsys.readouterr().err
    assert "only part of the backbone" in err and "missing" in err and "--allow-partial-load" in err
    assert cli(flow, tmp_path, "finetune", "--name", "lenient", "--pretrained", str(partial),
               "--allow-partial-load") == 0
    assert "missing" in capsys.readouterr().out


@pytest.mark.parametrize("source,entry", [("ft", "classes"), ("ft", "model"), ("pre", "rng"), ("pre", "optimizer")])
def test_a_checkpoint_missing_an_entry_is_named(flow, tmp_path, source, entry):
    if source == "ft":
        bad = edited_copy(flow[source], tmp_path / "bad.pt", lambda s: s.pop(entry))
        with pytest.raises(CheckpointError, match=f"lacks '{entry}'"):
            load_model(bad)
    else:
        mark_folder(tmp_path / "pre", RUN_FOLDER)  # a run folder, its checkpoint damaged
        edited_copy(flow[source], tmp_path / "pre" / "last.pt", lambda s: s.pop(entry))
        with pytest.raises(CheckpointError, match=f"lacks '{entry}'.*resuming"):
            pretrain(tiny_cfg(flow, tmp_path, name="pre", resume=True))


# ------------------------------------------------------------------------ 4. save errors and file modes


SAVE_FAULTS = [
    ("fsync", OSError(errno.ENOSPC, "No space left on device"), "the disk is full"),
    ("mkstemp", PermissionError(errno.EACCES, "Permission denied"), "permission denied"),
]


@pytest.mark.parametrize("where,error,words", SAVE_FAULTS)
def test_save_errors_name_the_path_and_keep_the_previous_file(tmp_path, monkeypatch, where, error, words):
    path = tmp_path / "last.pt"
    save_checkpoint(path, {"model": {"w": torch.ones(2)}})

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(os if where == "fsync" else __import__("tempfile"), where, fail)
    with pytest.raises(CheckpointSaveError, match=f"{path}.*{words}"):
        save_checkpoint(path, {"model": {"w": torch.zeros(2)}})
    monkeypatch.undo()
    assert torch.equal(load_checkpoint(path)["model"]["w"], torch.ones(2))
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]  # no temp file left behind


def test_checkpoints_are_written_with_the_users_umask(tmp_path):
    old = os.umask(0o022)
    try:
        path = save_checkpoint(tmp_path / "a.pt", {"model": {}})
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_transfer_errors_are_pacekit_errors():
    from pacekit.errors import PacekitError

    for kind in (CheckpointSaveError, NonFiniteError, TransferError, RunFolderError):
        assert issubclass(kind, PacekitError)


# ------------------------------------------------------------------------ 5. the authors' checkpoints


def authors_checkpoint(path, classes=4, width=0.125):
    """A fake checkpoint as the authors' train.py saves it (their key layout), of a narrow R3D."""
    from test_authors_checkpoint import authors_file

    from pacekit.models import build_model
    from pacekit.models.authors import to_authors_state_dict

    torch.save(authors_file(to_authors_state_dict(build_model("r3d", num_classes=classes, width=width), "r3d")), path)
    return path


def test_finetuning_from_the_authors_checkpoint_feeds_their_input(flow, tmp_path, capsys):
    theirs = authors_checkpoint(tmp_path / "r3d_pace.pth.tar")
    flags = ["--backbone", "r3d", "--width", "0.125", "--input-mode", "rgb"]
    assert cli(flow, tmp_path, "finetune", "--name", "ft", "--pretrained", str(theirs), *flags) == 0
    assert "missing 0" in capsys.readouterr().out
    state = load_checkpoint(tmp_path / "ft" / "last.pt")
    assert state["authors_input"] is True
    loaded = load_model(tmp_path / "ft" / "last.pt")
    assert loaded.stage == "finetune" and loaded.authors_input
    assert loaded.transform().__class__.__name__ == "AuthorsClipEval"
    # Their backbone with another pacekit backbone or input mode is refused with the flag to pass.
    assert cli(flow, tmp_path, "finetune", "--name", "ft2", "--pretrained", str(theirs)) == 2
    assert "--backbone r3d" in capsys.readouterr().err


def test_the_authors_training_input_is_bgr_0_to_255():
    from pacekit.data import ClipAugment
    from pacekit.recipes.train import AuthorsInput

    red = torch.zeros(1, 4, 8, 8, 3, dtype=torch.uint8)
    red[..., 0] = 255
    out = AuthorsInput(ClipAugment(size=None, crop=8, flip=False, jitter=None))(red)
    assert out.shape == (1, 3, 4, 8, 8)
    assert torch.allclose(out[:, 2], torch.tensor(255.0)) and out[:, 0].abs().max() < 1e-3  # BGR, 0..255


@pytest.mark.parametrize("classes,stage", [(3, "pretrain"), (4, "pretrain"), (5, "pretrain"), (101, "finetune")])
def test_an_authors_pace_head_of_any_size_is_a_pretraining_head(tmp_path, classes, stage):
    loaded = load_model(authors_checkpoint=authors_checkpoint(tmp_path / "a.pth", classes=classes), width=0.125)
    assert loaded.stage == stage
    if stage == "pretrain":
        assert [int(p) for p in loaded.paces] == list(range(1, classes + 1))
