"""HeadwaterFuture and the functions that wait on many futures."""

from __future__ import annotations

import threading

import pytest

from headwater import as_completed, flow, task, wait
from headwater.futures import HeadwaterFuture, as_completed_async, wait_async
from headwater.states import State
from headwater.task_runners import ThreadPoolTaskRunner


@task
def add(x: int, y: int) -> int:
    return x + y


@task
def fail() -> None:
    raise ValueError("boom")


@task
def block(event: threading.Event, value: int = 0,
          started: threading.Event | None = None, patience: float = 3) -> int:
    if started is not None:
        started.set()
    assert event.wait(patience), "test event never set"
    return value


def submit_started(event: threading.Event, value: int = 0) -> HeadwaterFuture:
    """Submit ``block`` and return once a worker is running it."""
    started = threading.Event()
    future = block.submit(event, value, started)
    assert started.wait(10)
    return future


def in_flow(fn):
    return flow(fn, name="wrapper")()


def test_future_identity_and_state() -> None:
    def body():
        future = add.submit(1, 2)
        state = future.wait()
        assert isinstance(state, State) and state.is_completed()
        assert future.done()
        assert future.state is state and future.get_state() is state
        assert future.task_run_id == future.task_run.id
        assert future.task_run.name == "add-0"
        assert "add-0" in repr(future)
        return future.result()

    assert in_flow(body) == 3


def test_future_state_before_done_is_not_final() -> None:
    event = threading.Event()

    def body():
        future = block.submit(event)
        before = future.get_state()
        done_before = future.done()
        event.set()
        return before.is_final(), done_before, future.result()

    assert in_flow(body) == (False, False, 0)


def test_result_raises_the_task_error() -> None:
    def body():
        future = fail.submit()
        with pytest.raises(ValueError, match="boom"):
            future.result()
        error = future.result(raise_on_failure=False)
        return type(error).__name__

    assert in_flow(body) == "ValueError"


def test_wait_and_result_timeout() -> None:
    event = threading.Event()

    def body():
        future = submit_started(event)
        try:
            assert future.wait(timeout=0.05) is None
            with pytest.raises(TimeoutError, match="did not finish within"):
                future.result(timeout=0.05)
        finally:
            event.set()
        return future.result()

    assert in_flow(body) == 0


def test_add_done_callback_called_once_done() -> None:
    called: list[HeadwaterFuture] = []
    event = threading.Event()

    seen: list[HeadwaterFuture] = []
    late: list[HeadwaterFuture] = []

    def body():
        future = block.submit(event)
        future.add_done_callback(called.append)
        event.set()
        future.wait()
        future.add_done_callback(late.append)  # already done: called at once
        seen.append(future)

    in_flow(body)
    assert called == seen
    assert late == seen


def test_callback_errors_are_logged_not_raised(run_logs) -> None:
    def bad(_):
        raise RuntimeError("callback broke")

    def body():
        future = add.submit(1, 1)
        future.wait()
        future.add_done_callback(bad)
        return future.result()

    assert in_flow(body) == 2
    assert any("done callback raised" in r.getMessage() for r in run_logs.records)


def test_wait_function_splits_done_and_not_done() -> None:
    event = threading.Event()

    def body():
        quick = add.submit(1, 1)
        slow = submit_started(event)
        quick.wait()
        try:
            done, not_done = wait([quick, slow], timeout=0.05)
        finally:
            event.set()
        all_done = wait([quick, slow])
        return done == {quick}, not_done == {slow}, all_done.not_done == set()

    assert in_flow(body) == (True, True, True)


def test_as_completed_yields_first_finished_first() -> None:
    event = threading.Event()

    def body():
        slow = block.submit(event, 1)
        quick = add.submit(1, 1)
        order = []
        for future in as_completed([slow, quick]):
            order.append(future)
            event.set()
        return order == [quick, slow]

    assert in_flow(body)


def test_as_completed_timeout() -> None:
    event = threading.Event()

    def body():
        slow = submit_started(event)
        try:
            with pytest.raises(TimeoutError, match="unfinished"):
                list(as_completed([slow], timeout=0.05))
        finally:
            event.set()
        return True

    assert in_flow(body)


def test_future_list_helpers() -> None:
    def body():
        futures = add.map([1, 2, 3], 1)
        futures.wait()
        assert all(f.done() for f in futures)
        return futures.result()

    assert in_flow(body) == [2, 3, 4]




def test_future_is_not_awaitable_outside_async_flow() -> None:
    def body():
        future = add.submit(1, 2)
        with pytest.raises(Exception, match="not awaitable"):
            future.__await__()
        return future.result()

    assert in_flow(body) == 3


@pytest.mark.anyio
async def test_async_twins_in_async_flow() -> None:
    @flow
    async def body():
        futures = add.map([1, 2, 3], 10)
        one = await futures[0].result_async()
        state = await futures[1].wait_async()
        results = await futures.result_async()
        done, not_done = await wait_async(futures)
        seen = [f async for f in as_completed_async(futures)]
        return one, state.result(), results, len(done), len(not_done), len(seen)

    assert await body() == (11, 12, [11, 12, 13], 3, 0, 3)


@pytest.mark.anyio
async def test_wait_async_timeout() -> None:
    event = threading.Event()

    @flow
    async def body():
        started = threading.Event()
        future = block.submit(event, 0, started)
        try:
            assert await future.wait_async(timeout=0.05) is None
            with pytest.raises(TimeoutError):
                await future.result_async(timeout=0.05)
        finally:
            event.set()
        return await future.result_async()

    assert await body() == 0


def test_flow_returning_future_gives_its_state() -> None:
    @flow
    def f():
        return add.submit(40, 2)

    state = f()  # the future's final state, as in Prefect 2
    assert isinstance(state, State) and state.is_completed()
    assert state.result() == 42


def test_future_list_result_without_raising() -> None:
    def body():
        @task
        def invert(x: int) -> float:
            return 1 / x

        results = invert.map([1, 0]).result(raise_on_failure=False)
        return results[0], type(results[1]).__name__

    assert in_flow(body) == (1.0, "ZeroDivisionError")


@pytest.mark.parametrize("how", ["future.wait", "future.result", "wait()"])
def test_wait_with_timeout_on_queued_run_respects_timeout(how: str) -> None:
    """A run queued behind a busy worker: waiting with a timeout returns while it is queued.

    No bound on elapsed time: the busy run holds the only worker until the
    gate is set, and the gate is set only after the wait returned, so a wait
    that ignored its timeout could never see the run queued (it would wait
    until the busy run gave up, then see the queued run finished).
    """
    gate = threading.Event()
    queued_started = threading.Event()

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=1))
    def body():
        busy = submit_started(gate)          # occupies the only worker
        queued = block.submit(gate, 1, queued_started)  # waits in the queue
        try:
            if how == "future.wait":
                assert queued.wait(timeout=0.1) is None
            elif how == "future.result":
                with pytest.raises(TimeoutError):
                    queued.result(timeout=0.1)
            else:
                assert wait([queued], timeout=0.1).not_done == {queued}
            still_queued = not queued_started.is_set()
        finally:
            gate.set()
        return still_queued, busy.result(), queued.result()

    still_queued, *results = body()
    assert results == [0, 1]
    assert still_queued
