"""Calling tasks directly inside flows: results, states, names, arguments."""

from __future__ import annotations

import dataclasses

import pytest

from headwater import allow_failure, flow, quote, runtime, task
from headwater.exceptions import InvalidOptionError, UnfinishedRun
from headwater.futures import HeadwaterFuture
from headwater.states import Completed, Failed, State


@task
def add(x: int, y: int) -> int:
    return x + y


@task
def fail(message: str = "boom") -> None:
    raise ValueError(message)


@task
def run_name() -> str:
    return runtime.task_run.name


def test_call_returns_result() -> None:
    @flow
    def adds() -> int:
        return add(1, 2)

    assert adds() == 3


def test_call_with_return_state() -> None:
    seen: list[State] = []

    @flow
    def adds() -> None:
        seen.append(add(1, 2, return_state=True))

    adds()
    assert isinstance(seen[0], State)
    assert seen[0].is_completed() and seen[0].result() == 3


def test_failed_call_raises_in_flow() -> None:
    @flow
    def fails():
        with pytest.raises(ValueError, match="boom"):
            fail()
        return "caught"

    assert fails() == "caught"


def test_failed_call_with_return_state() -> None:
    @flow
    def fails() -> State:
        return fail("bad", return_state=True)

    state = fails(return_state=True)
    assert state.is_failed()
    inner = state.result(raise_on_failure=False)  # the task's state, as in Prefect 2
    assert isinstance(inner, State) and inner.is_failed()
    assert isinstance(inner.result(raise_on_failure=False), ValueError)
    with pytest.raises(ValueError, match="bad"):
        state.result()


def test_failed_task_state_message() -> None:
    @flow
    def fails():
        state = fail("bad", return_state=True)
        return state.message, state.is_failed()

    message, is_failed = fails()
    assert is_failed
    assert message == "Task run encountered an exception ValueError: bad"


def test_task_run_names_count_within_flow() -> None:
    @flow
    def names() -> list[str]:
        return [run_name() for _ in range(3)]

    assert names() == ["run_name-0", "run_name-1", "run_name-2"]
    assert names() == ["run_name-0", "run_name-1", "run_name-2"]  # per flow run


def test_task_run_name_template() -> None:
    @task(task_run_name="add-{x}-and-{y}")
    def named(x: int, y: int) -> str:
        return runtime.task_run.name

    @flow
    def f() -> str:
        return named(1, y=2)

    assert f() == "add-1-and-2"


def test_task_run_name_callable_reads_runtime() -> None:
    def namer() -> str:
        return f"run-{runtime.task_run.parameters['x']}"

    @task(task_run_name=namer)
    def named(x: int) -> str:
        return runtime.task_run.name

    @flow
    def f() -> str:
        return named(7)

    assert f() == "run-7"


def test_task_run_name_template_with_unknown_field() -> None:
    @task(task_run_name="{nope}")
    def named(x: int) -> int:
        return x

    @flow
    def f() -> int:
        return named(1)

    with pytest.raises(InvalidOptionError, match="nope"):
        f()


def test_task_fn_and_name() -> None:
    def plain(x: int) -> int:
        """Double it."""
        return 2 * x

    wrapped = task(plain)
    assert wrapped.fn is plain
    assert wrapped.fn(2) == 4
    assert wrapped.name == "plain"
    assert wrapped.description == "Double it."
    assert wrapped.__name__ == "plain"


def test_task_called_outside_flow_runs() -> None:
    assert add(2, 2) == 4


def test_nested_futures_in_arguments_are_resolved() -> None:
    @dataclasses.dataclass
    class Box:
        value: object

    @task
    def echo(x):
        return x

    @flow
    def f():
        a = add.submit(1, 1)
        b = add.submit(2, 2)
        return echo({"a": [a, (b,)], "box": Box(a), "set": {1}})

    result = f()
    assert result == {"a": [2, (4,)], "box": Box(2), "set": {1}}


def test_states_in_arguments_are_resolved() -> None:
    @flow
    def f() -> int:
        return add(Completed(data=5), 1)

    assert f() == 6


def test_flow_returning_not_ready_fails() -> None:
    @flow
    def f():
        bad = fail.submit()
        return add(bad, 1, return_state=True)

    state = f(return_state=True)
    assert state.is_failed()
    assert state.message == "1/1 states are not final."
    with pytest.raises(UnfinishedRun, match="Upstream task run 'fail-0'"):  # as in Prefect 2
        state.result()


def test_not_ready_state_details() -> None:
    seen = {}

    @flow
    def f() -> None:
        bad = fail.submit()
        state = add(bad, 1, return_state=True)
        seen["state"] = state

    f(return_state=True)
    state = seen["state"]
    assert state.name == "NotReady"
    assert state.is_pending()
    assert "fail-0" in state.message
    with pytest.raises(UnfinishedRun):
        state.result()


def test_allow_failure_passes_the_exception() -> None:
    @task
    def describe(x) -> str:
        return f"{type(x).__name__}: {x}"

    @flow
    def f() -> str:
        bad = fail.submit("kaput")
        return describe(allow_failure(bad))

    assert f() == "ValueError: kaput"


def test_quote_skips_traversal() -> None:
    @task
    def kinds(xs) -> list[str]:
        return [type(x).__name__ for x in xs]

    @flow
    def f() -> list[str]:
        future = add.submit(1, 2)
        future.wait()
        return kinds(quote([future]))

    assert f() == ["HeadwaterFuture"]


def test_wait_for_orders_runs() -> None:
    order: list[str] = []

    @task
    def record(name: str) -> None:
        order.append(name)

    @flow
    def f() -> None:
        first = record.submit("first")
        record("second", wait_for=[first])

    f()
    assert order == ["first", "second"]


def test_task_returning_failed_state_fails() -> None:
    @task
    def returns_failed() -> State:
        return Failed(message="chose to fail")

    @flow
    def f() -> State:
        return returns_failed(return_state=True)

    state = f(return_state=True)
    assert state.is_failed()
    assert state.message == "1/1 states failed."  # the aggregate rule, as in Prefect 2
    assert state.result(raise_on_failure=False).message == "chose to fail"


def test_task_returning_future_gives_the_future() -> None:
    @task
    def outer() -> HeadwaterFuture:
        return add.submit(20, 22)

    @flow
    def f() -> int:
        future = outer()  # a future is data for a task, as in Prefect 2
        assert isinstance(future, HeadwaterFuture)
        return future.result()

    assert f() == 42


def test_task_parameters_recorded() -> None:
    @task
    def params(x: int, y: int = 5) -> dict:
        return runtime.task_run.parameters

    @flow
    def f() -> dict:
        return params(1)

    assert f() == {"x": 1, "y": 5}


def test_quote_is_unwrapped_for_plain_values() -> None:
    @task
    def echo(x):
        return x

    @flow
    def f():
        return echo(quote([1, 2, 3]))

    assert f() == [1, 2, 3]


def test_allow_failure_is_unwrapped_for_plain_values() -> None:
    @task
    def echo(x):
        return x

    @flow
    def f():
        return echo(allow_failure(5))

    assert f() == 5
