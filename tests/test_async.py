"""Async flows and tasks, and the errors that point async code at the ``_async`` twins."""

from __future__ import annotations

import asyncio
import inspect
import threading

import anyio
import pytest

from headwater import flow, task
from headwater.exceptions import AsyncContextError


@task
async def async_double(x: int) -> int:
    await asyncio.sleep(0)
    return 2 * x


@task
def sync_double(x: int) -> int:
    return 2 * x


@flow
async def async_flow(x: int) -> int:
    return await async_double(x)


def test_async_flow_run_with_anyio_run() -> None:
    assert anyio.run(async_flow, 4) == 8


def test_async_flow_run_with_asyncio_run() -> None:
    assert asyncio.run(async_flow(5)) == 10


@pytest.mark.anyio
async def test_async_task_called_in_async_flow_returns_coroutine() -> None:
    @flow
    async def f():
        pending = async_double(3)
        is_coroutine = inspect.iscoroutine(pending)
        return is_coroutine, await pending

    assert await f() == (True, 6)


def test_async_task_in_sync_flow_returns_result() -> None:
    @flow
    def f() -> int:
        return async_double(21)

    assert f() == 42


def test_async_task_submitted_from_sync_flow() -> None:
    @flow
    def f() -> list[int]:
        return async_double.map([1, 2, 3]).result()

    assert f() == [2, 4, 6]


@pytest.mark.anyio
async def test_async_return_state() -> None:
    @flow
    async def f():
        return await async_double(1, return_state=True)

    state = await f(return_state=True)
    # The flow's result is the task's State, as in Prefect 2.
    assert state.is_completed() and state.result().result() == 2


@pytest.mark.anyio
async def test_awaiting_submit_raises_with_advice() -> None:
    @flow
    async def f() -> str:
        with pytest.raises(AsyncContextError, match="drop the 'await'") as info:
            await async_double.submit(1)
        return str(info.value)

    message = await f()
    assert "result_async" in message


@pytest.mark.anyio
async def test_blocking_result_in_async_flow_names_result_async() -> None:
    @flow
    async def f() -> None:
        future = sync_double.submit(1)
        with pytest.raises(AsyncContextError, match=r"await future\.result_async\(\)"):
            future.result()
        with pytest.raises(AsyncContextError, match=r"await future\.wait_async\(\)"):
            future.wait()
        assert await future.result_async() == 2

    await f()


@pytest.mark.anyio
async def test_await_state_result_fetch_raises() -> None:
    @flow
    async def f() -> None:
        state = await sync_double.submit(1).wait_async()
        with pytest.raises(AsyncContextError, match=r"state\.result_async\(\)"):
            await state.result(fetch=True)
        assert await state.result_async() == 2

    await f()


@pytest.mark.anyio
async def test_submit_return_state_in_async_flow_raises() -> None:
    @flow
    async def f() -> None:
        with pytest.raises(AsyncContextError, match="wait_async"):
            sync_double.submit(1, return_state=True)

    await f()


@pytest.mark.anyio
async def test_sync_task_called_in_async_flow_runs_inline() -> None:
    @flow
    async def f() -> int:
        return sync_double(5)

    assert await f() == 10


@pytest.mark.anyio
async def test_async_tasks_run_concurrently() -> None:
    started: list[int] = []
    all_started = asyncio.Event()

    @task
    async def nap(i: int) -> None:
        # Each nap waits until all five have started: one after another, the
        # first would wait in vain and time out, however fast the machine.
        started.append(i)
        if len(started) == 5:
            all_started.set()
        await asyncio.wait_for(all_started.wait(), 10)

    @flow
    async def f() -> None:
        await nap.map(range(5)).result_async()

    await f()
    assert sorted(started) == [0, 1, 2, 3, 4]


@pytest.mark.anyio
async def test_web_app_loop_stays_responsive() -> None:
    """A heartbeat on the same loop keeps ticking while sync tasks block in threads.

    No bound on the gaps between ticks: the sync tasks block until the
    heartbeat has ticked five times while all of them were blocked, which
    can only happen if the loop runs while they block.
    """
    n_tasks = 4
    blocked = threading.Semaphore(0)
    release = threading.Event()

    @task
    def blocking_io(i: int) -> int:
        blocked.release()
        assert release.wait(30), "the loop did not tick while sync tasks were blocked"
        return i

    @flow
    async def handler() -> list[int]:
        futures = blocking_io.map(range(n_tasks))
        return [await f.result_async() for f in futures]

    ticks_while_blocked = 0

    async def heartbeat() -> None:
        nonlocal ticks_while_blocked
        waiting = n_tasks
        while ticks_while_blocked < 5:
            await anyio.sleep(0.01)
            while waiting and blocked.acquire(blocking=False):
                waiting -= 1
            if not waiting:
                ticks_while_blocked += 1
        release.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(heartbeat)
        result = await handler()

    assert result == [0, 1, 2, 3]
    assert ticks_while_blocked == 5


@pytest.mark.anyio
async def test_async_subflow_in_async_flow() -> None:
    @flow
    async def parent() -> int:
        return await async_flow(3) + 1

    assert await parent() == 7


@pytest.mark.anyio
async def test_async_flow_exception_reraises() -> None:
    @flow
    async def bad() -> None:
        raise KeyError("async failure")

    state = await bad(return_state=True)
    assert state.is_failed()
    with pytest.raises(KeyError):
        await bad()


@pytest.mark.anyio
async def test_async_task_submitted_in_async_flow_runs_on_flow_loop() -> None:
    @task
    async def which_loop() -> int:
        return id(asyncio.get_running_loop())

    @flow
    async def f() -> tuple[int, int]:
        return id(asyncio.get_running_loop()), await which_loop.submit().result_async()

    flow_loop, task_loop = await f()
    assert flow_loop == task_loop
