"""pacekit.parallel: tasks run after what they wait for, lowest priority first, each on the threads asked for."""

import math
import operator
import time

import pytest
import torch

from pacekit.parallel import Task, run_tasks, torch_threads


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


def test_an_interrupt_stops_the_running_workers_at_once():
    def interrupt(task, result):
        raise KeyboardInterrupt

    tasks = [Task("slow", time.sleep, (60,)), Task("quick", abs, (-1,), priority=1)]
    started = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        run_tasks(tasks, jobs=2, threads=1, on_done=interrupt)
    assert time.perf_counter() - started < 30  # not the 60 s the sleeping task would take to finish


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
