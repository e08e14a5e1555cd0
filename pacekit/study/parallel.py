"""Several small CPU runs side by side: a dependency-aware process pool whose workers use a fixed number of
torch threads each.

Two cells side by side on one thread each keep both cores of a 2-core CPU busy (the data path of one
run fills the core the other's model step leaves); docs/lab-notebook.md has the measurements.

Values: a run's numbers depend on its torch thread count (two threads sum in another order than one), not
on which process runs it or beside what. :func:`run_tasks` sets the same thread count in every worker and,
with ``jobs=1``, in this process for the duration, so a result does not depend on ``jobs``.

Workers are started with ``spawn`` (a fork of a process whose OpenMP threads are running can hang), so a
task's function must be importable at module level and its arguments picklable.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Iterator, Optional, Sequence

import torch

from ..workers import spawn_pool, stop_pool


@dataclass(frozen=True)
class Task:
    """One unit of work: ``fn(*args)`` once the tasks keyed ``after`` have finished.

    Among the tasks that are ready, a lower ``priority`` starts first (then the order given): put the longest
    tasks first so that no core idles at the end waiting for one of them.
    """

    key: Hashable
    fn: Callable[..., Any]
    args: tuple = ()
    after: tuple = ()
    priority: int = 0


@contextlib.contextmanager
def torch_threads(threads: Optional[int]) -> Iterator[None]:
    """torch's intra-op threads set to ``threads`` inside the block (None: left as they are), then put back."""
    if threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(int(threads))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _start_worker(threads: Optional[int]) -> None:
    if threads is not None:
        torch.set_num_threads(int(threads))


def _check_graph(tasks: Sequence[Task]) -> None:
    keys = [t.key for t in tasks]
    if len(set(keys)) != len(keys):
        raise ValueError("task keys must be unique")
    known = set(keys)
    for t in tasks:
        missing = [k for k in t.after if k not in known]
        if missing:
            raise ValueError(f"task {t.key!r} waits for {missing!r}, which no task has as its key")


def _ready(pending: list, done: set) -> list:
    """The pending tasks whose dependencies are done, lowest priority first (stable)."""
    return sorted((t for t in pending if all(k in done for k in t.after)), key=lambda t: t.priority)


def run_tasks(tasks: Sequence[Task], jobs: int = 1, threads: Optional[int] = None,
              on_done: Optional[Callable[[Task, Any], None]] = None) -> dict:
    """Run ``tasks`` with at most ``jobs`` at a time and return ``{key: result}``.

    ``jobs=1`` runs them one after the other in this process; more start ``jobs`` worker processes. Every
    task runs with ``threads`` torch threads (None: torch's default; a worker process would then use every
    core, and ``jobs`` of them would contend). ``on_done(task, result)`` is called in this process as each
    task finishes, in the order they finish. The first task that raises stops the run: tasks not yet started
    are cancelled, those running are left to finish, and its exception is raised here (a worker's with the
    worker's traceback attached). An interrupt (Ctrl-C) terminates the workers at once: a task's results are
    whatever it had written when it was stopped (pacekit's runs write atomically and resume). Dependencies must
    name tasks of the same call and form no cycle.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    _check_graph(tasks)
    pending, done, results = list(tasks), set(), {}

    def finish(task: Task, result: Any) -> None:
        done.add(task.key)
        results[task.key] = result
        if on_done is not None:
            on_done(task, result)

    if jobs == 1:
        with torch_threads(threads):
            while pending:
                ready = _ready(pending, done)
                if not ready:
                    raise ValueError(f"tasks {[t.key for t in pending]!r} wait on each other (a cycle)")
                task = ready[0]
                pending.remove(task)
                finish(task, task.fn(*task.args))
        return results

    pool = spawn_pool(jobs, initializer=_start_worker, initargs=(threads,))
    running: dict[Future, Task] = {}
    try:
        while pending or running:
            for task in _ready(pending, done)[:jobs - len(running)]:
                pending.remove(task)
                running[pool.submit(task.fn, *task.args)] = task
            if not running:
                raise ValueError(f"tasks {[t.key for t in pending]!r} wait on each other (a cycle)")
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                finish(running.pop(future), future.result())
    except BaseException as error:
        if not isinstance(error, Exception):  # Ctrl-C: stop the running tasks now, not when they finish
            stop_pool(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return results


__all__ = ["Task", "run_tasks", "torch_threads"]
