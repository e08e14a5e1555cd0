"""Killing a long-running command (SIGKILL or SIGTERM) leaves no process of it behind, and no temp file.

Each command is started as a user would (``python -m pacekit.cli ...``) with worker processes of its own: the
training loader's workers (``pretrain --num-workers 2 --backend pyav``; the memory backend loads in the process) and the drawing pool of ``make-synthetic`` (a worker per core).
It is killed once its workers run; then every process it started must end, and its output folder must hold no
temp file of an atomic write or a write probe. The pools' own kill tests are in ``tests/test_workers.py``, the
game server's in ``tests/test_game_command.py`` and ``tests/test_browser.py``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import alive, descendants, wait_until

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads the process table from /proc")



def _temp_files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if p.name.endswith(".tmp") or p.name.startswith(".pacekit-write-check."))


def _commands(flow, tmp_path) -> dict[str, tuple[list[str], Path, int]]:
    """``{name: (argv, its output folder, how many processes it runs below it once working)}``."""
    train = ["pretrain", "--preset", "cpu-tiny", "--dataset", "synthetic", "--root", str(flow["root"]),
             "--out-dir", str(tmp_path / "runs"), "--name", "r", "--frame-size", "64,80", "--crop", "64",
             "--clip-len", "8", "--epochs", "5000", "--epoch-repeat", "20", "--batch-size", "4", "--num-workers", "2",
             "--backend", "pyav", "--device", "cpu", "--threads", "1", "--no-progress"]
    draw = ["make-synthetic", "--out", str(tmp_path / "set"), "--classes", "10", "--videos-per-class", "20"]
    return {"pretrain": (train, tmp_path / "runs" / "r", 1), "make-synthetic": (draw, tmp_path / "set", 1)}


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
@pytest.mark.parametrize("command", ["pretrain", "make-synthetic"])
def test_a_killed_command_leaves_no_process_and_no_temp_file(flow, tmp_path, command, sig):
    from pacekit.machine import usable_cores

    if command == "make-synthetic" and usable_cores() < 2:
        pytest.skip("make-synthetic draws in its own process on one core: no pool to kill")
    argv, out, workers = _commands(flow, tmp_path)[command]
    proc = subprocess.Popen([sys.executable, "-m", "pacekit.cli", *argv], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert wait_until(lambda: len(descendants(proc.pid)) >= workers or proc.poll() is not None, 120), \
            "the command's workers never started"
        assert proc.poll() is None, f"the command ended before it was killed: {proc.stderr.read()}"
        time.sleep(1.0)  # its workers at work
        below = descendants(proc.pid)
        proc.send_signal(sig)
        proc.wait(timeout=60)
        assert wait_until(lambda: not any(alive(p) for p in below), 30), \
            f"still running after {command} was killed: {sorted(p for p in below if alive(p))}"
        assert _temp_files(out) == []
    finally:
        if proc.poll() is None:
            proc.kill()
        if proc.stderr is not None:
            proc.stderr.close()
