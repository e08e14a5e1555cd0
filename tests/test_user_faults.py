"""Faults a user causes, one row each: the command, what goes wrong, the exit code and the one line it prints.

No row may print a traceback; each names what is wrong and how to fix it.
"""

from __future__ import annotations

import errno
import os

import pytest

from pacekit.cli import main as cli_main


def _refuse_temp_files(monkeypatch, err):
    """Every temp file pacekit tries to create fails with ``err`` (a read-only or full disk, no permission)."""
    import tempfile

    def refuse(*args, **kwargs):
        raise OSError(err, os.strerror(err), kwargs.get("dir") or (args[2] if len(args) > 2 else None))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and "looks like a bug" not in err, err
    return err.splitlines()[-1]


GAME_ROWS = [
    (["--port", "-5"], "expected a port number 0..65535"),
    (["--port", "70000"], "expected a port number 0..65535"),
    (["--port", "http"], "expected a port number 0..65535"),
    (["--host", "nohost.invalid"], "not an address of this machine"),
    (["--host", "0.0.0.0"], "add --allow-remote"),
]


@pytest.mark.parametrize("flags,message", GAME_ROWS, ids=[" ".join(f) for f, _ in GAME_ROWS])
def test_game_refuses_a_bad_address_before_serving(tmp_path, capsys, flags, message):
    try:
        rc = cli_main(["game", "--no-browser", "--data", str(tmp_path / "set"), *flags])
    except SystemExit as exit_:  # argparse's own refusal
        rc = exit_.code
    assert rc == 2
    assert message in _one_line(capsys)


def test_game_refuses_a_port_in_use(tmp_path, capsys):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert cli_main(["game", "--no-browser", "--data", str(tmp_path / "set"), "--port", str(port)]) == 2
    assert f"port {port} is in use" in _one_line(capsys)


@pytest.mark.parametrize("kind", ["a file", "a user's dataset"])
def test_game_refuses_data_it_may_not_write(tmp_path, capsys, kind):
    target = tmp_path / "target"
    if kind == "a file":
        target.write_text("not a folder")
    else:
        (target / "ucfTrainTestlist").mkdir(parents=True)
        (target / "ucfTrainTestlist" / "classInd.txt").write_text("1 ApplyEyeMakeup\n")
    assert cli_main(["game", "--no-browser", "--data", str(target)]) == 2
    line = _one_line(capsys)
    assert "--data" in line and ("is a file" in line or "pacekit did not write it" in line)
    if kind != "a file":
        assert (target / "ucfTrainTestlist" / "classInd.txt").read_text() == "1 ApplyEyeMakeup\n"


@pytest.mark.parametrize("device", ["tpu", "xla", "cuda:x", "meta"])
def test_an_unknown_device_is_one_line(flow, tmp_path, capsys, device):
    rc = cli_main(["pretrain", "--preset", "cpu-tiny", "--dataset", "synthetic", "--root", str(flow["root"]),
                   "--out-dir", str(tmp_path), "--device", device, "--no-progress"])
    assert rc == 2
    assert "--device" in _one_line(capsys)


OS_FAULTS = [(errno.EROFS, "read-only"), (errno.ENOSPC, "disk is full"), (errno.EACCES, "permission denied")]


@pytest.mark.parametrize("err,words", OS_FAULTS, ids=[w for _, w in OS_FAULTS])
def test_evaluate_checks_its_output_folder_before_computing(flow, tmp_path, capsys, monkeypatch, err, words):
    import pacekit.commands.evaluate as evaluate_command

    computed = []
    monkeypatch.setattr(evaluate_command, "evaluate_videos", lambda *a, **k: computed.append(1))
    _refuse_temp_files(monkeypatch, err)
    rc = cli_main(["evaluate", "--checkpoint", str(flow["ft"]), "--dataset", "synthetic",
                   "--root", str(flow["root"]), "--out", str(tmp_path / "eval"), "--device", "cpu"])
    assert rc == 2 and not computed  # refused before the evaluation, not after it
    line = _one_line(capsys)
    assert words in line and str(tmp_path / "eval") in line


@pytest.mark.parametrize("err,words", OS_FAULTS, ids=[w for _, w in OS_FAULTS])
def test_an_os_fault_at_any_write_is_the_users_one_line(tmp_path, capsys, monkeypatch, err, words):
    """A write deep in a command (here the synthetic set's first file) meets the fault: rc 2, the path,
    the cause and the fix, no traceback."""
    def refuse(path, data):
        raise OSError(err, os.strerror(err), str(path))

    monkeypatch.setattr("pacekit.data.synthetic.writer.write_bytes_atomic", refuse)
    rc = cli_main(["make-synthetic", "--out", str(tmp_path / "set"), "--classes", "2", "--videos-per-class", "2"])
    assert rc == 2
    line = _one_line(capsys)
    assert words in line and "synthetic.json" in line
