"""pacekit.workers: a pool's workers end with the process that started them, however it ends."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from helpers import alive, descendants, wait_until

from pacekit.workers import spawn_pool, stop_pool

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads the process table from /proc")



@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killing_the_command_takes_its_workers_and_the_resource_tracker_with_it(tmp_path, sig):
    script = textwrap.dedent("""
        import sys, time
        from pacekit.workers import spawn_pool
        pool = spawn_pool(2)
        futures = [pool.submit(time.sleep, 600) for _ in range(2)]
        time.sleep(2)  # both workers started
        print("ready", flush=True)
        time.sleep(600)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        below = descendants(proc.pid)
        assert len(below) >= 2  # the two workers (and multiprocessing's resource tracker)
        proc.send_signal(sig)
        proc.wait()
        assert wait_until(lambda: not any(alive(p) for p in below)), \
            f"still running after the command ended: {sorted(p for p in below if alive(p))}"
    finally:
        if proc.poll() is None:
            proc.kill()


def test_stop_pool_ends_the_workers_without_waiting_for_their_tasks(tmp_path):
    pool = spawn_pool(1)
    future = pool.submit(time.sleep, 600)
    wait_until(lambda: bool(descendants(os.getpid())))
    workers = [p.pid for p in pool._processes.values()]
    stop_pool(pool)
    assert workers and not any(alive(p) for p in workers)
    assert future.done()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL])
def test_the_game_server_ends_with_pacekit_game_and_its_page_folder_goes(tmp_path, sig):
    """``pacekit game`` (no page loaded) killed each way: Voila ends with it; its page folder is removed at
    once on SIGTERM / SIGHUP, and by the next start after a SIGKILL."""
    pytest.importorskip("voila")
    import tempfile

    from pacekit.commands.game import PAGE_FOLDER_PREFIX, _remove_stale_page_folders

    env = dict(os.environ, PACEKIT_FAST="1")
    proc = subprocess.Popen([sys.executable, "-m", "pacekit.cli", "game", "--no-browser", "--data",
                             str(tmp_path / "set"), "--runs", str(tmp_path / "runs")],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        assert "pacekit game:" in proc.stdout.readline()
        assert wait_until(lambda: len(descendants(proc.pid)) >= 1)
        time.sleep(1)
        below = descendants(proc.pid)
        pages = list(Path(tempfile.gettempdir()).glob(f"{PAGE_FOLDER_PREFIX}{proc.pid}-*"))
        assert len(pages) == 1
        proc.send_signal(sig)
        proc.wait(timeout=60)
        assert wait_until(lambda: not any(alive(p) for p in below)), "Voila outlived pacekit game"
        if sig == signal.SIGKILL:
            assert pages[0].exists()  # a killed process cleans nothing up itself
            _remove_stale_page_folders()
        assert not pages[0].exists()
    finally:
        if proc.poll() is None:
            proc.kill()
