"""How a flow run's final state is decided (Prefect 2's rules)."""

from __future__ import annotations

import threading

import pytest

from headwater import flow, task
from headwater.exceptions import FailedRun
from headwater.states import Completed, Failed, State, StateType


@task
def ok(x: int = 1) -> int:
    return x


@task
def bad() -> None:
    raise ValueError("task broke")


def test_returned_value_completes() -> None:
    @flow
    def f() -> int:
        return 5

    state = f(return_state=True)
    assert state.is_completed() and state.result() == 5
    assert f() == 5


def test_exception_fails_and_reraises() -> None:
    @flow
    def f() -> None:
        raise ValueError("flow broke")

    state = f(return_state=True)
    assert state.is_failed()
    assert state.message == "Flow run encountered an exception. ValueError: flow broke"
    with pytest.raises(ValueError, match="flow broke"):
        f()


def test_returned_state_is_the_final_state() -> None:
    @flow
    def f() -> State:
        return Failed(message="decided to fail")

    state = f(return_state=True)
    assert state.is_failed() and state.message == "decided to fail"
    with pytest.raises(FailedRun, match="decided to fail"):
        f()


def test_returned_completed_state_gives_its_data() -> None:
    @flow
    def f() -> State:
        return Completed(data="payload")

    assert f() == "payload"


def test_returned_failed_future_fails_flow() -> None:
    @flow
    def f():
        return bad.submit()

    state = f(return_state=True)
    assert state.is_failed()
    with pytest.raises(ValueError, match="task broke"):
        f()


def test_returned_list_of_futures_is_aggregated() -> None:
    @flow
    def f():
        return [ok.submit(), bad.submit()]

    state = f(return_state=True)
    assert state.is_failed()
    assert state.message == "1/2 states failed."


def test_returned_list_all_completed() -> None:
    @flow
    def f():
        return [ok.submit(1), ok.submit(2)]

    state = f(return_state=True)
    assert state.is_completed()
    assert state.message == "All states completed."


def test_none_aggregates_children() -> None:
    @flow
    def f() -> None:
        ok.submit()
        ok()
        bad.submit()

    state = f(return_state=True)
    assert state.is_failed()
    assert state.message == "1/3 states failed."
    with pytest.raises(ValueError, match="task broke"):
        f()


def test_none_with_completed_children_returns_child_states() -> None:
    @flow
    def f() -> None:
        ok.submit()
        ok.map([1, 2])

    state = f(return_state=True)
    assert state.is_completed()
    assert state.message == "All states completed."
    children = state.result()
    assert len(children) == 3
    assert all(isinstance(s, State) and s.type is StateType.COMPLETED for s in children)
    assert [s.result() for s in children] == [1, 1, 2]


def test_none_without_children_is_none() -> None:
    @flow
    def f() -> None:
        pass

    state = f(return_state=True)
    assert state.is_completed()
    assert f() is None


def test_returned_value_wins_over_failed_children() -> None:
    @flow
    def f() -> str:
        bad.submit()
        return "fine"

    assert f() == "fine"


def test_flow_waits_for_submitted_work() -> None:
    release = threading.Event()
    finished: list[int] = []

    @task
    def slow() -> None:
        assert release.wait(5)
        finished.append(1)

    @flow
    def f() -> str:
        slow.submit()
        release.set()
        return "returned"

    assert f() == "returned"
    assert finished == [1]


def test_flow_waits_for_work_submitted_by_tasks() -> None:
    finished: list[str] = []

    @task
    def leaf() -> None:
        finished.append("leaf")

    @task
    def spawner() -> None:
        leaf.submit()

    @flow
    def f() -> None:
        spawner.submit()

    f()
    assert finished == ["leaf"]


def test_caught_task_failure_still_counts_for_none_flow() -> None:
    @flow
    def f() -> None:
        try:
            bad()
        except ValueError:
            pass

    state = f(return_state=True)
    assert state.is_failed()
    assert state.message == "1/1 states failed."


def test_flow_run_state_on_run_record() -> None:
    from headwater import runtime

    seen = {}

    def on_completion(flow, flow_run, state):
        seen["run"] = flow_run
        seen["state"] = state

    @flow(on_completion=[on_completion])
    def f() -> str:
        return runtime.flow_run.name

    name = f()
    assert seen["run"].name == name
    assert seen["run"].state is seen["state"]
    assert seen["run"].end_time is not None and seen["run"].start_time is not None
    assert seen["run"].run_count == 1
