"""Results nobody holds are let go of, beyond a flow run's result budget; held ones are kept.

A flow run keeps its children's results up to ``HEADWATER_FLOW_RUN_RESULT_BUDGET``
bytes so that a flow returning None hands back child states whose ``result()``
works (Prefect 2's documented examples); beyond the budget, and once the flow run
is over and nothing holds its states, they are freed.
"""

from __future__ import annotations

import gc
import weakref

import pytest

from headwater import flow, task
from headwater.exceptions import MissingResult
from headwater.settings import temporary_settings
from headwater.states import State


class Payload:
    """A result object we can hold a weak reference to."""


refs: list[weakref.ref] = []


@task
def make_payload(_: int = 0) -> Payload:
    payload = Payload()
    refs.append(weakref.ref(payload))
    return payload


@pytest.fixture
def no_budget():
    with temporary_settings(HEADWATER_FLOW_RUN_RESULT_BUDGET=0):
        yield


@pytest.fixture
def payload_refs():
    refs.clear()
    yield refs
    refs.clear()


def all_collected(refs_: list[weakref.ref]) -> bool:
    gc.collect()
    return all(r() is None for r in refs_)


def test_submitted_results_nobody_holds_are_freed(payload_refs, no_budget) -> None:
    @flow
    def f() -> None:
        for _ in range(3):
            make_payload.submit()

    f()
    assert len(payload_refs) == 3
    assert all_collected(payload_refs)


def test_mapped_results_nobody_holds_are_freed(payload_refs, no_budget) -> None:
    @flow
    def f() -> None:
        make_payload.map(range(5))

    state = f(return_state=True)
    assert state.is_completed()
    assert len(payload_refs) == 5
    assert all_collected(payload_refs)


def test_called_results_dropped_by_the_flow_are_freed(payload_refs, no_budget) -> None:
    @flow
    def f() -> None:
        make_payload()

    f()
    assert all_collected(payload_refs)


def test_held_future_keeps_its_result(payload_refs) -> None:
    @flow
    def f() -> bool:
        future = make_payload.submit()
        future.wait()
        gc.collect()
        return payload_refs[0]() is not None and future.result() is payload_refs[0]()

    assert f() is True


def test_returned_result_is_kept(payload_refs) -> None:
    @flow
    def f() -> Payload:
        return make_payload.submit()

    result = f().result()  # the flow's result is the future's State
    gc.collect()
    assert payload_refs[0]() is result


def test_future_does_not_hold_task_inputs() -> None:
    @task
    def consume(payload: Payload) -> int:
        return 1

    @flow
    def f() -> bool:
        payload = Payload()
        ref = weakref.ref(payload)
        future = consume.submit(payload)
        future.wait()
        del payload
        gc.collect()
        return ref() is None and future.result() == 1

    assert f() is True


def test_kept_results_are_freed_once_a_flow_returning_a_value_ends(payload_refs) -> None:
    @flow
    def f() -> int:
        for i in range(3):
            make_payload.submit(i)
        return 3

    assert f() == 3
    assert len(payload_refs) == 3
    assert all_collected(payload_refs)


def test_child_results_of_a_none_flow_are_readable_in_creation_order() -> None:
    @task
    def double(x: int) -> int:
        return 2 * x

    @flow
    def f() -> None:
        double.submit(1)
        double(2)
        double.map([3, 4, 5])

    assert [s.result() for s in f()] == [2, 4, 6, 8, 10]


def test_child_results_beyond_the_budget_are_freed_with_the_setting_named() -> None:
    @task
    def blob(i: int) -> bytes:
        return bytes(100_000)

    @flow
    def f() -> None:
        for i in range(6):
            blob(i)

    with temporary_settings(HEADWATER_FLOW_RUN_RESULT_BUDGET=250_000):
        children = f()
    assert [s.is_completed() for s in children] == [True] * 6
    assert [len(s.result()) for s in children[:2]] == [100_000, 100_000]
    for child in children[2:]:
        with pytest.raises(MissingResult) as info:
            child.result()
    message = str(info.value)
    assert "HEADWATER_FLOW_RUN_RESULT_BUDGET=250000 bytes" in message
    assert "hold the futures" in message


def test_a_zero_budget_keeps_no_result(no_budget) -> None:
    @flow
    def f() -> None:
        make_payload.submit()

    children = f()
    assert len(children) == 1 and children[0].is_completed()
    with pytest.raises(MissingResult, match="HEADWATER_FLOW_RUN_RESULT_BUDGET is 0"):
        children[0].result()


def test_subflow_states_come_after_task_states_with_their_children() -> None:
    @task
    def one() -> int:
        return 1

    @flow
    def child() -> None:
        one()

    @flow
    def parent() -> None:
        child()
        one()

    first, second = parent()
    assert first.result() == 1  # the task run, created first of the task runs
    (grandchild,) = second.result()  # then the subflow, whose result is its child states
    assert isinstance(grandchild, State) and grandchild.result() == 1


def test_flow_retry_keeps_a_fresh_budget() -> None:
    attempts = []

    @task
    def blob() -> bytes:
        return bytes(100_000)

    @flow(retries=1)
    def f() -> None:
        blob()
        blob()
        attempts.append(1)
        if len(attempts) == 1:
            raise ValueError("again")

    with temporary_settings(HEADWATER_FLOW_RUN_RESULT_BUDGET=250_000):
        children = f()
    assert len(attempts) == 2
    assert [len(s.result()) for s in children] == [100_000, 100_000]


def test_failed_child_keeps_its_exception() -> None:
    @task
    def bad() -> None:
        raise ValueError("kept")

    @flow
    def f() -> None:
        bad.submit()

    state = f(return_state=True)
    (child,) = state.data
    with pytest.raises(ValueError, match="kept"):
        child.result()
