"""timeout_seconds on sync and async tasks and flows (small real timeouts)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from headwater import flow, runtime, task
from headwater.exceptions import FlowRunTimeoutError, InvalidOptionError, TaskRunTimeoutError

LIMIT = 0.1  # the slow function's timeout
HANG = 30.0  # the slow function blocks this long at most: until the test ends (`release`)


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """What a slow sync function waits on, set when the test ends.

    A test that gets its timed-out state while the function is still blocked
    proves the caller moved on without waiting for it, on any machine.
    """
    event = threading.Event()
    yield event
    event.set()


def test_sync_task_times_out(release: threading.Event) -> None:
    @task(timeout_seconds=LIMIT)
    def slow() -> str:
        release.wait(HANG)
        return "too late"

    @flow
    def f():
        state = slow(return_state=True)
        return {"state": state}  # a value: a returned State would become the flow's

    state = f()["state"]
    assert state.is_failed()
    assert state.name == "TimedOut"
    assert state.message == "Task run exceeded timeout of 0.1 seconds TimeoutError: "
    with pytest.raises(TaskRunTimeoutError):
        state.result()


def test_task_timeout_error_is_a_timeout_error(release: threading.Event) -> None:
    @task(timeout_seconds=LIMIT)
    def slow() -> None:
        release.wait(HANG)

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
        await asyncio.sleep(HANG)
        return "too late"

    @flow
    def f():
        state = slow(return_state=True)
        return {"state": state}  # a value: a returned State would become the flow's

    state = f()["state"]
    assert state.name == "TimedOut" and state.is_failed()


@pytest.mark.anyio
async def test_async_task_in_async_flow_times_out() -> None:
    @task(timeout_seconds=LIMIT)
    async def slow() -> None:
        await asyncio.sleep(HANG)

    @flow
    async def f():
        state = await slow(return_state=True)
        return {"state": state}  # a value: a returned State would become the flow's

    state = (await f())["state"]
    assert state.name == "TimedOut"


def test_submitted_sync_task_times_out(release: threading.Event) -> None:
    @task(timeout_seconds=LIMIT)
    def slow() -> None:
        release.wait(HANG)

    @flow
    def f():
        state = slow.submit().wait()
        return {"state": state}  # a value: a returned State would become the flow's

    state = f()["state"]
    assert state.name == "TimedOut"


def test_sync_flow_times_out(release: threading.Event) -> None:
    @flow(timeout_seconds=LIMIT)
    def slow() -> str:
        release.wait(HANG)
        return "too late"

    state = slow(return_state=True)
    assert state.is_failed() and state.name == "TimedOut"
    assert state.message == "Flow run exceeded timeout of 0.1 seconds TimeoutError: "
    with pytest.raises(FlowRunTimeoutError):
        state.result()


@pytest.mark.anyio
async def test_async_flow_times_out() -> None:
    @flow(timeout_seconds=LIMIT)
    async def slow() -> None:
        await asyncio.sleep(HANG)

    with pytest.raises(FlowRunTimeoutError, match="exceeded timeout"):
        await slow()


def test_timed_out_task_is_retried(release: threading.Event) -> None:
    from headwater.testing import FakeClock, use_clock

    @task(timeout_seconds=LIMIT, retries=1)
    def slow_first() -> int:
        if runtime.task_run.run_count == 1:
            release.wait(HANG)
        return runtime.task_run.run_count

    @flow
    def f() -> int:
        return slow_first()

    with use_clock(FakeClock()):
        assert f() == 2


def test_timed_out_flow_runs_failure_hook(release: threading.Event) -> None:
    seen = []

    @flow(timeout_seconds=LIMIT, on_failure=[lambda f, r, s: seen.append(s.name)])
    def slow() -> None:
        release.wait(HANG)

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
