"""pacekit.study.parallel: tasks run after what they wait for, lowest priority first, each on the threads asked for."""

import math
import operator
import os
import time
from pathlib import Path

import pytest
import torch
from helpers import alive

from pacekit.study.parallel import Task, run_tasks, torch_threads


def test_one_job_runs_in_order_of_dependencies_then_priority_and_restores_threads():
    before = torch.get_num_threads()
    order = []
    tasks = [Task("c", operator.add, (1, 2), after=("a",), priority=0),
             Task("a", operator.mul, (3, 4), priority=5),
             Task("b", torch.get_num_threads, priority=1),
             Task("d", operator.sub, (9, 1), after=("c", "b"), priority=0)]
    results = run_tasks(tasks, jobs=1, threads=1, on_done=lambda task, result: order.append(task.key))
    # b (priority 1) before a (5); c waits for a; d for c and b
    assert order == ["b", "a", "c", "d"]
    assert results == {"a": 12, "b": 1, "c": 3, "d": 8}
    assert torch.get_num_threads() == before


def test_workers_use_the_threads_asked_for_and_return_every_result():
    tasks = [Task(("t", k), torch.get_num_threads) for k in range(3)] + [
        Task("f", math.factorial, (10,), after=(("t", 0),))]
    results = run_tasks(tasks, jobs=2, threads=1)
    assert results == {("t", 0): 1, ("t", 1): 1, ("t", 2): 1, "f": 3628800}


def test_a_failing_task_stops_the_run_with_its_own_error():
    tasks = [Task("bad", math.sqrt, (-1.0,)), Task("after", math.sqrt, (4.0,), after=("bad",))]
    done = []
    with pytest.raises(ValueError, match="math domain error"):
        run_tasks(tasks, jobs=2, threads=1, on_done=lambda task, result: done.append(task.key))
    assert done == []
    with pytest.raises(ValueError, match="math domain error"):
        run_tasks(tasks, jobs=1)


def _note_pid_sleep_then_mark(folder: str) -> None:
    """A long task: writes its pid, sleeps, then writes ``done`` (which a stopped worker never reaches)."""
    Path(folder, "pid").write_text(str(os.getpid()))
    time.sleep(20)
    Path(folder, "done").write_text("finished")


def _wait_for_pid_file(folder: str) -> None:
    while not Path(folder, "pid").exists():
        time.sleep(0.05)


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads the process table from /proc")
def test_an_interrupt_stops_the_running_workers_at_once(tmp_path):
    def interrupt(task, result):
        raise KeyboardInterrupt

    # "quick" ends once "slow" has started, so the interrupt comes while "slow" sleeps.
    tasks = [Task("slow", _note_pid_sleep_then_mark, (str(tmp_path),)),
             Task("quick", _wait_for_pid_file, (str(tmp_path),), priority=1)]
    with pytest.raises(KeyboardInterrupt):
        run_tasks(tasks, jobs=2, threads=1, on_done=interrupt)
    assert not alive(int((tmp_path / "pid").read_text()))
    assert not (tmp_path / "done").exists()  # run_tasks did not wait for the sleeping task to finish


def test_bad_graphs_are_refused():
    with pytest.raises(ValueError, match="no task has"):
        run_tasks([Task("a", abs, (1,), after=("x",))])
    with pytest.raises(ValueError, match="unique"):
        run_tasks([Task("a", abs, (1,)), Task("a", abs, (2,))])
    with pytest.raises(ValueError, match="cycle"):
        run_tasks([Task("a", abs, (1,), after=("b",)), Task("b", abs, (2,), after=("a",))])
    with pytest.raises(ValueError, match="cycle"):
        run_tasks([Task("a", abs, (1,), after=("b",)), Task("b", abs, (2,), after=("a",))], jobs=2)
    with pytest.raises(ValueError, match="jobs"):
        run_tasks([], jobs=0)


def test_torch_threads_sets_and_restores():
    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with torch_threads(None):
        assert torch.get_num_threads() == before
