"""timeout_seconds on sync and async tasks and flows (small real timeouts)."""

from __future__ import annotations

import asyncio
import time

import pytest

from headwater import flow, runtime, task
from headwater.exceptions import FlowRunTimeoutError, InvalidOptionError, TaskRunTimeoutError

SLEEP = 1.5      # what the slow function would take
LIMIT = 0.1      # its timeout
MOVED_ON = 1.0   # the caller must be back well before SLEEP


def test_sync_task_times_out() -> None:
    @task(timeout_seconds=LIMIT)
    def slow() -> str:
        time.sleep(SLEEP)
        return "too late"

    @flow
    def f():
        start = time.monotonic()
        state = slow(return_state=True)
        return state, time.monotonic() - start

    state, elapsed = f()
    assert state.is_failed()
    assert state.name == "TimedOut"
    assert state.message == "Task run exceeded timeout of 0.1 second(s)"
    assert elapsed < MOVED_ON
    with pytest.raises(TaskRunTimeoutError):
        state.result()


def test_task_timeout_error_is_a_timeout_error() -> None:
    @task(timeout_seconds=LIMIT)
    def slow() -> None:
        time.sleep(SLEEP)

    @flow
    def f() -> None:
        slow()

    with pytest.raises(TimeoutError, match="exceeded timeout"):
        f()


def test_sync_task_within_timeout_returns() -> None:
    @task(timeout_seconds=5)
    def quick() -> str:
        return runtime.task_run.name

    @flow
    def f() -> str:
        return quick()

    assert f() == "quick-0"


def test_async_task_times_out() -> None:
    @task(timeout_seconds=LIMIT)
    async def slow() -> str:
        await asyncio.sleep(SLEEP)
        return "too late"

    @flow
    def f():
        start = time.monotonic()
        state = slow(return_state=True)
        return state, time.monotonic() - start

    state, elapsed = f()
    assert state.name == "TimedOut" and state.is_failed()
    assert elapsed < MOVED_ON


@pytest.mark.anyio
async def test_async_task_in_async_flow_times_out() -> None:
    @task(timeout_seconds=LIMIT)
    async def slow() -> None:
        await asyncio.sleep(SLEEP)

    @flow
    async def f():
        start = time.monotonic()
        state = await slow(return_state=True)
        return state, time.monotonic() - start

    state, elapsed = await f()
    assert state.name == "TimedOut"
    assert elapsed < MOVED_ON


def test_submitted_sync_task_times_out() -> None:
    @task(timeout_seconds=LIMIT)
    def slow() -> None:
        time.sleep(SLEEP)

    @flow
    def f():
        start = time.monotonic()
        state = slow.submit().wait()
        return state, time.monotonic() - start

    state, elapsed = f()
    assert state.name == "TimedOut"
    assert elapsed < MOVED_ON


def test_sync_flow_times_out() -> None:
    @flow(timeout_seconds=LIMIT)
    def slow() -> str:
        time.sleep(SLEEP)
        return "too late"

    start = time.monotonic()
    state = slow(return_state=True)
    elapsed = time.monotonic() - start
    assert state.is_failed() and state.name == "TimedOut"
    assert state.message == "Flow run exceeded timeout of 0.1 second(s)"
    assert elapsed < MOVED_ON
    with pytest.raises(FlowRunTimeoutError):
        state.result()


@pytest.mark.anyio
async def test_async_flow_times_out() -> None:
    @flow(timeout_seconds=LIMIT)
    async def slow() -> None:
        await asyncio.sleep(SLEEP)

    start = time.monotonic()
    with pytest.raises(FlowRunTimeoutError, match="exceeded timeout"):
        await slow()
    assert time.monotonic() - start < MOVED_ON


def test_timed_out_task_is_retried() -> None:
    from headwater.testing import FakeClock, use_clock

    @task(timeout_seconds=LIMIT, retries=1)
    def slow_first() -> int:
        if runtime.task_run.run_count == 1:
            time.sleep(SLEEP)
        return runtime.task_run.run_count

    @flow
    def f() -> int:
        return slow_first()

    with use_clock(FakeClock()):
        assert f() == 2


def test_timed_out_flow_runs_failure_hook() -> None:
    seen = []

    @flow(timeout_seconds=LIMIT, on_failure=[lambda f, r, s: seen.append(s.name)])
    def slow() -> None:
        time.sleep(SLEEP)

    slow(return_state=True)
    assert seen == ["TimedOut"]


@pytest.mark.parametrize("bad", [0, -1, "1", True])
def test_timeout_must_be_positive_number(bad) -> None:
    with pytest.raises(InvalidOptionError, match="timeout_seconds"):
        task(timeout_seconds=bad)(noop)
    with pytest.raises(InvalidOptionError, match="timeout_seconds"):
        flow(timeout_seconds=bad)(noop)


def noop() -> None:
    """A function to decorate."""
