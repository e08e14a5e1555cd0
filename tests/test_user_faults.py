"""Faults a user causes that need more than one row of ``tests/test_fault_corpus.py`` (where the table of
faults lives): a port held by another program while the game starts, and a data folder that must stay
untouched after the refusal.

No test may print a traceback; each fault names what is wrong and how to fix it.
"""

from __future__ import annotations

import pytest

from pacekit.cli import main as cli_main


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and "looks like a bug" not in err, err
    return err.splitlines()[-1]


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
