"""Results nobody holds are let go of; held ones are kept."""

from __future__ import annotations

import gc
import weakref

import pytest

from headwater import flow, task
from headwater.exceptions import MissingResult


class Payload:
    """A result object we can hold a weak reference to."""


refs: list[weakref.ref] = []


@task
def make_payload(_: int = 0) -> Payload:
    payload = Payload()
    refs.append(weakref.ref(payload))
    return payload


@pytest.fixture
def payload_refs():
    refs.clear()
    yield refs
    refs.clear()


def all_collected(refs_: list[weakref.ref]) -> bool:
    gc.collect()
    return all(r() is None for r in refs_)


def test_submitted_results_nobody_holds_are_freed(payload_refs) -> None:
    @flow
    def f() -> None:
        for _ in range(3):
            make_payload.submit()

    f()
    assert len(payload_refs) == 3
    assert all_collected(payload_refs)


def test_mapped_results_nobody_holds_are_freed(payload_refs) -> None:
    @flow
    def f() -> None:
        make_payload.map(range(5))

    state = f(return_state=True)
    assert state.is_completed()
    assert len(payload_refs) == 5
    assert all_collected(payload_refs)


def test_called_results_dropped_by_the_flow_are_freed(payload_refs) -> None:
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


def test_completed_child_state_of_none_flow_raises_missing_result() -> None:
    @flow
    def f() -> None:
        make_payload.submit()

    children = f()
    assert len(children) == 1 and children[0].is_completed()
    with pytest.raises(MissingResult) as info:
        children[0].result()
    message = str(info.value)
    assert "freed" in message
    assert "hold the future" in message
    assert "return the value from the flow" in message


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
