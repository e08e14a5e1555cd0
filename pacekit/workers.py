"""Process pools whose workers never outlive the command that started them.

Every process pool of pacekit is made by :func:`spawn_pool`: ``spawn`` workers (a fork of a process whose
torch or FFmpeg threads hold locks can deadlock its children) that leave Ctrl-C to the parent and end
with it however it ends. On Linux the kernel sends each worker SIGTERM when the parent dies
(``PR_SET_PDEATHSIG``, so a ``kill -9`` of the command takes its workers with it); elsewhere, and as a
second guard, a thread in each worker notices within half a second that its parent is gone. A worker's
SIGTERM runs the pool's ``on_exit`` (for example, removing the temp file it was writing) and exits at once.
:func:`stop_pool` ends the workers now, without waiting for the tasks in flight.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Optional

from .console import show_messages_from_now

_on_exit: Optional[Callable[[], None]] = None


def _exit_now(signum=None, frame=None) -> None:
    try:
        if _on_exit is not None:
            _on_exit()
    finally:
        os._exit(1)


def set_parent_death_signal(sig: int) -> bool:
    """Linux: have the kernel send ``sig`` to this process when its parent dies (PR_SET_PDEATHSIG)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(1, int(sig), 0, 0, 0) == 0  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return False


def _watch_parent(parent_pid: int, interval: float = 0.5) -> None:
    while True:
        if os.getppid() != parent_pid:
            _exit_now()
        time.sleep(interval)


def _start_worker(parent_pid: int, on_exit, initializer, initargs) -> None:
    global _on_exit
    _on_exit = on_exit
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_now)
    set_parent_death_signal(signal.SIGTERM)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True, name="pacekit-parent-watch").start()
    if os.getppid() != parent_pid:  # the parent died before the signal was set up
        _exit_now()
    show_messages_from_now()  # a worker's pacekit messages reach the terminal as its parent's do
    if initializer is not None:
        initializer(*initargs)


def spawn_pool(workers: int, initializer: Optional[Callable] = None, initargs: tuple = (),
               on_exit: Optional[Callable[[], None]] = None) -> ProcessPoolExecutor:
    """A ``ProcessPoolExecutor`` of ``workers`` spawned processes that end with this one; ``initializer``
    runs in each worker after the guards are set; ``on_exit`` runs in a worker that is told to stop.
    ``initializer`` and ``on_exit`` must be importable module-level functions."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start_worker, initargs=(os.getpid(), on_exit, initializer, initargs))


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """End ``pool`` now: cancel the tasks not started and terminate the workers (SIGTERM, which runs the
    pool's ``on_exit`` in each), then wait for them to be gone."""
    if hasattr(pool, "terminate_workers"):  # Python 3.14
        pool.terminate_workers()
    else:
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            try:
                process.terminate()
            except (OSError, ValueError, AttributeError):
                pass
    pool.shutdown(wait=True, cancel_futures=True)


__all__ = ["set_parent_death_signal", "spawn_pool", "stop_pool"]
