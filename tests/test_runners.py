"""Task runners: order, bounded pools without deadlocks, real concurrency."""

from __future__ import annotations

import asyncio
import threading

import pytest

from conftest import run_in_thread
from headwater import flow, get_run_context, task
from headwater.task_runners import SequentialTaskRunner, TaskRunner, ThreadPoolTaskRunner


@task
def inc(x: int) -> int:
    return x + 1


def test_sequential_runner_runs_each_submit_to_completion() -> None:
    order: list[int] = []

    @task
    def record(i: int) -> None:
        order.append(i)

    @flow(task_runner=SequentialTaskRunner())
    def f() -> list[int]:
        seen = []
        for i in range(5):
            future = record.submit(i)
            seen.append(len(order))
            assert future.done()
        return seen

    assert f() == [1, 2, 3, 4, 5]
    assert order == [0, 1, 2, 3, 4]


def test_sequential_runner_runs_in_the_flow_thread() -> None:
    @task
    def thread_id() -> int:
        return threading.get_ident()

    @flow(task_runner=SequentialTaskRunner())
    def f() -> tuple[int, int]:
        return threading.get_ident(), thread_id.submit().result()

    flow_thread, task_thread = f()
    assert flow_thread == task_thread


@pytest.mark.anyio
async def test_sequential_runner_orders_async_tasks() -> None:
    order: list[int] = []

    @task
    async def record(i: int) -> None:
        await asyncio.sleep(0.01 * (5 - i))  # later ones would finish first if concurrent
        order.append(i)

    @flow(task_runner=SequentialTaskRunner())
    async def f() -> None:
        await record.map(range(5)).wait_async()

    await f()
    assert order == [0, 1, 2, 3, 4]


def test_single_worker_chain_does_not_deadlock() -> None:
    @flow(task_runner=ThreadPoolTaskRunner(max_workers=1))
    def chain() -> int:
        future = inc.submit(0)
        for _ in range(49):
            future = inc.submit(future)
        return future.result()

    assert run_in_thread(chain) == 50


def test_single_worker_nested_submit_does_not_deadlock() -> None:
    @task
    def outer(x: int) -> int:
        return inc.submit(x).result() * 10

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=1))
    def f() -> list[int]:
        return outer.map([1, 2, 3]).result()

    assert run_in_thread(f) == [20, 30, 40]


def test_single_worker_waiting_on_mapped_futures() -> None:
    @task
    def total(xs: list[int]) -> int:
        return sum(xs)

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=1))
    def f() -> int:
        return total.submit(inc.map(range(20))).result()

    assert run_in_thread(f) == sum(range(1, 21))


def test_default_runner_runs_tasks_concurrently() -> None:
    barrier = threading.Barrier(4, timeout=10)

    @task
    def meet(_: int) -> bool:
        barrier.wait()  # only passes if four runs are in flight at once
        return True

    @flow
    def f() -> list[bool]:
        return meet.map(range(4)).result()

    assert run_in_thread(f) == [True] * 4


def test_runner_is_duplicated_per_flow_run() -> None:
    runner = ThreadPoolTaskRunner(max_workers=3)

    @flow(task_runner=runner)
    def f() -> TaskRunner:
        return get_run_context().task_runner

    used = f()
    assert used is not runner
    assert isinstance(used, ThreadPoolTaskRunner) and used.max_workers == 3
    assert f() is not used


def test_task_runner_is_abstract() -> None:
    with pytest.raises(TypeError):
        TaskRunner()


def test_custom_task_runner() -> None:
    submitted: list[str] = []

    class InlineTaskRunner(TaskRunner):
        def submit(self, job) -> None:
            submitted.append(job.run.name)
            if job.try_claim():
                job.execute()

    @flow(task_runner=InlineTaskRunner())
    def f() -> list[int]:
        return inc.map([1, 2]).result()

    assert f() == [2, 3]
    assert submitted == ["inc-0", "inc-1"]
    assert InlineTaskRunner().name == "inline"


def test_runner_context_manager_and_repr() -> None:
    with ThreadPoolTaskRunner(max_workers=2) as runner:
        assert repr(runner) == "ThreadPoolTaskRunner(max_workers=2)"
    assert repr(SequentialTaskRunner()) == "SequentialTaskRunner()"


def test_max_workers_from_environment(monkeypatch) -> None:
    monkeypatch.setenv("HEADWATER_TASK_RUNNER_THREAD_POOL_MAX_WORKERS", "1")
    names: set[str] = set()

    @task
    def where(_: int) -> None:
        names.add(threading.current_thread().name)

    @flow
    def f() -> None:
        where.map(range(10)).wait()

    run_in_thread(f)
    pool_threads = {n for n in names if n.startswith("headwater-task")}
    assert len(pool_threads) <= 1
