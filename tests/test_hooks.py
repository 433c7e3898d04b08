"""State hooks of tasks and flows: who is called, with what, and error handling."""

from __future__ import annotations

import pytest

from headwater import flow, task
from headwater.exceptions import InvalidOptionError
from headwater.states import StateType


def recorder(log: list, label: str):
    def hook(obj, run, state):
        log.append((label, obj.name, run.name, state.type))

    return hook


def test_task_on_completion() -> None:
    log: list = []

    @task(on_completion=[recorder(log, "done")], on_failure=[recorder(log, "failed")])
    def ok() -> int:
        return 1

    @flow
    def f() -> int:
        return ok()

    f()
    assert log == [("done", "ok", "ok-0", StateType.COMPLETED)]


def test_task_on_failure() -> None:
    log: list = []

    @task(on_completion=[recorder(log, "done")], on_failure=[recorder(log, "failed")])
    def bad() -> None:
        raise ValueError("x")

    @flow
    def f() -> None:
        bad.submit().wait()

    f(return_state=True)
    assert log == [("failed", "bad", "bad-0", StateType.FAILED)]


def test_task_failure_hook_runs_once_after_retries() -> None:
    from headwater.testing import FakeClock, use_clock

    log: list = []

    @task(retries=2, on_failure=[recorder(log, "failed")])
    def bad() -> None:
        raise ValueError("x")

    @flow
    def f() -> None:
        bad(return_state=True)

    with use_clock(FakeClock()):
        f(return_state=True)
    assert len(log) == 1


def test_flow_hooks_by_state() -> None:
    log: list = []
    hooks = {"on_completion": [recorder(log, "done")], "on_failure": [recorder(log, "failed")],
             "on_running": [recorder(log, "running")]}

    @flow(name="good", flow_run_name="good-run", **hooks)
    def good() -> None:
        pass

    @flow(name="bad", flow_run_name="bad-run", **hooks)
    def bad() -> None:
        raise ValueError("x")

    good()
    bad(return_state=True)
    assert log == [
        ("running", "good", "good-run", StateType.RUNNING),
        ("done", "good", "good-run", StateType.COMPLETED),
        ("running", "bad", "bad-run", StateType.RUNNING),
        ("failed", "bad", "bad-run", StateType.FAILED),
    ]


def test_hooks_run_in_order() -> None:
    log: list = []

    @flow(on_completion=[recorder(log, "first"), recorder(log, "second")])
    def f() -> None:
        pass

    f()
    assert [entry[0] for entry in log] == ["first", "second"]


def test_single_callable_is_accepted() -> None:
    log: list = []

    @flow(on_completion=recorder(log, "only"))
    def f() -> None:
        pass

    f()
    assert len(log) == 1


def test_hook_errors_are_logged_and_do_not_change_state(run_logs) -> None:
    def broken(flow_, run, state):
        raise RuntimeError("hook broke")

    @flow(on_completion=[broken])
    def f() -> int:
        return 3

    state = f(return_state=True)
    assert state.is_completed() and state.result() == 3
    messages = [r.getMessage() for r in run_logs.records]
    assert any("An error was encountered while running hook 'broken'" in m for m in messages)


def test_task_hook_errors_do_not_change_state(run_logs) -> None:
    def broken(task_, run, state):
        raise RuntimeError("hook broke")

    @task(on_failure=[broken])
    def bad() -> None:
        raise ValueError("real error")

    @flow
    def f():
        return bad(return_state=True).result(raise_on_failure=False)

    error = f()
    assert isinstance(error, ValueError)
    assert any("running hook 'broken'" in r.getMessage() for r in run_logs.records)


def test_async_hooks_on_sync_flow_and_task() -> None:
    log: list = []

    async def async_hook(obj, run, state):
        log.append(obj.name)

    @task(on_completion=[async_hook])
    def t() -> None:
        pass

    @flow(on_completion=[async_hook])
    def f() -> None:
        t()

    f()
    assert log == ["t", "f"]


@pytest.mark.anyio
async def test_async_hooks_on_async_flow() -> None:
    log: list = []

    async def async_hook(obj, run, state):
        log.append((obj.name, state.type))

    @task(on_completion=[async_hook])
    async def t() -> None:
        pass

    @flow(on_completion=[async_hook])
    async def f() -> None:
        await t()

    await f()
    assert log == [("t", StateType.COMPLETED), ("f", StateType.COMPLETED)]


def test_hooks_readable_as_options() -> None:
    def hook(*_):
        pass

    @task(on_completion=[hook])
    def t() -> None:
        pass

    assert t.on_completion == [hook]
    assert t.on_failure == []


@pytest.mark.parametrize("option", ["on_completion", "on_failure"])
def test_non_callable_task_hook_rejected(option: str) -> None:
    with pytest.raises(InvalidOptionError, match=f"{option}.*not callable"):
        task(**{option: ["nope"]})(noop)


@pytest.mark.parametrize(
    "option", ["on_completion", "on_failure", "on_cancellation", "on_crashed", "on_running"])
def test_non_callable_flow_hook_rejected(option: str) -> None:
    with pytest.raises(InvalidOptionError, match=f"{option}.*not callable"):
        flow(**{option: [1]})(noop)


def noop() -> None:
    """A function to decorate."""
