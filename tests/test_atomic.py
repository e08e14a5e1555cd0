"""Results files are written whole or not at all (pacekit.atomic), and the files pacekit reads back use it."""

import json
import os
import stat

import pytest

from pacekit import atomic
from pacekit.atomic import write_bytes_atomic, write_text_atomic


def test_writes_creates_parents_and_replaces(tmp_path):
    path = tmp_path / "a" / "b" / "cell.json"
    assert write_text_atomic(path, '{"x": 1}') == path
    assert json.loads(path.read_text()) == {"x": 1}
    write_bytes_atomic(path, b'{"x": 2}')
    assert json.loads(path.read_text()) == {"x": 2}
    assert [p.name for p in path.parent.iterdir()] == ["cell.json"]  # no temp file left


def test_permissions_follow_the_umask_like_a_plain_open(tmp_path):
    old = os.umask(0o027)
    try:
        write_text_atomic(tmp_path / "f.txt", "x")
        with open(tmp_path / "g.txt", "w") as f:
            f.write("x")
    finally:
        os.umask(old)
    mode = lambda name: stat.S_IMODE((tmp_path / name).stat().st_mode)  # noqa: E731
    assert mode("f.txt") == mode("g.txt") == 0o640


def test_a_failed_write_keeps_the_previous_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "ledger.json"
    write_text_atomic(path, "old")

    def disk_full(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", disk_full)
    with pytest.raises(OSError, match="No space"):
        write_text_atomic(path, "new")
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["ledger.json"]


def test_an_interrupted_write_is_never_seen_half_written(tmp_path, monkeypatch):
    # Interrupt after the data reached the temp file but before the rename: the reader sees the old file.
    path = tmp_path / "experiment.json"
    write_text_atomic(path, json.dumps({"done": 1}))
    monkeypatch.setattr(atomic.os, "replace", lambda src, dst: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        write_text_atomic(path, json.dumps({"done": 2, "more": "x" * 10_000}))
    assert json.loads(path.read_text()) == {"done": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["experiment.json"]


@pytest.mark.parametrize("module", ["study.claims.cells", "study.claims.ledger", "study.experiment", "recipes.linear_probe",
                                    "study.quickstart", "evaluation.recognition", "teaching.shipped",
                                    "commands.train", "commands.probe", "commands.retrieval"])
def test_the_files_pacekit_reads_back_are_written_atomically(module):
    import importlib
    import inspect

    source = inspect.getsource(importlib.import_module(f"pacekit.{module}"))
    assert "write_text_atomic(" in source or "write_json_atomic(" in source
    assert ".write_text(" not in source.replace("write_text_atomic(", "")
    assert "json.dumps(" not in source or module in ("study.claims.cells", "teaching.shipped", "recipes.linear_probe")


def test_result_files_carry_their_layout_version_and_read_it_back(tmp_path):
    path = atomic.write_json_atomic(tmp_path / "r.json", {"top1": 0.5}, indent=1)
    assert list(json.loads(path.read_text())) == ["schema_version", "top1"]
    assert json.loads(path.read_text())["schema_version"] == atomic.RESULT_SCHEMA
    assert atomic.read_result_json(path, "fix it") == {"top1": 0.5}
    # a file written before the field existed has version 1's layout
    path.write_text(json.dumps({"top1": 0.5}))
    assert atomic.read_result_json(path, "fix it", keys={"top1": float}) == {"top1": 0.5}
    path.write_text(json.dumps({"schema_version": atomic.RESULT_SCHEMA + 1, "top1": 0.5}))
    with pytest.raises(atomic.DamagedFileError, match=r"a newer pacekit\); upgrade pacekit to read it, or fix it"):
        atomic.read_result_json(path, "fix it")
