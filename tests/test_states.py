"""State constructors, predicates, results and aggregation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater import flow
from headwater.exceptions import (
    CancelledRun,
    CrashedRun,
    FailedRun,
    MissingResult,
    PausedRun,
    UnfinishedRun,
)
from headwater.states import (
    AwaitingRetry,
    Cancelled,
    Cancelling,
    Completed,
    Crashed,
    Failed,
    Late,
    Paused,
    Pending,
    Retrying,
    Running,
    Scheduled,
    State,
    StateType,
    Suspended,
    get_state_exception,
    is_state,
    is_state_iterable,
)


@pytest.mark.parametrize(
    ("state", "type_", "name"),
    [
        (Scheduled(), StateType.SCHEDULED, "Scheduled"),
        (Pending(), StateType.PENDING, "Pending"),
        (Running(), StateType.RUNNING, "Running"),
        (Completed(), StateType.COMPLETED, "Completed"),
        (Failed(), StateType.FAILED, "Failed"),
        (Crashed(), StateType.CRASHED, "Crashed"),
        (Cancelled(), StateType.CANCELLED, "Cancelled"),
        (Cancelling(), StateType.CANCELLING, "Cancelling"),
        (Paused(), StateType.PAUSED, "Paused"),
        (Suspended(), StateType.PAUSED, "Suspended"),
        (Retrying(), StateType.RUNNING, "Retrying"),
        (AwaitingRetry(), StateType.SCHEDULED, "AwaitingRetry"),
        (Late(), StateType.SCHEDULED, "Late"),
    ],
)
def test_constructors_set_type_and_name(state: State, type_: StateType, name: str) -> None:
    assert state.type is type_
    assert state.name == name


@pytest.mark.parametrize(
    ("state", "final"),
    [(Completed(), True), (Failed(), True), (Crashed(), True), (Cancelled(), True),
     (Pending(), False), (Running(), False), (Scheduled(), False), (Paused(), False),
     (Cancelling(), False)],
)
def test_is_final(state: State, final: bool) -> None:
    assert state.is_final() is final


def test_predicates_match_type() -> None:
    assert Completed().is_completed() and not Completed().is_failed()
    assert Failed().is_failed() and Crashed().is_crashed() and Cancelled().is_cancelled()
    assert Pending().is_pending() and Running().is_running() and Scheduled().is_scheduled()
    assert Paused().is_paused() and Cancelling().is_cancelling()
    assert Retrying().is_running() and AwaitingRetry().is_scheduled()


def test_completed_result() -> None:
    assert Completed(data=42).result() == 42
    assert Completed().result() is None


def test_failed_result_raises_its_exception() -> None:
    error = ValueError("boom")
    with pytest.raises(ValueError, match="boom"):
        Failed(data=error).result()
    assert Failed(data=error).result(raise_on_failure=False) is error


@pytest.mark.parametrize(
    ("factory", "exc_type"),
    [(Failed, FailedRun), (Crashed, CrashedRun), (Cancelled, CancelledRun)],
)
def test_bad_state_without_exception_raises_run_error(factory, exc_type) -> None:
    with pytest.raises(exc_type, match="the reason"):
        factory(message="the reason").result()


def test_unfinished_state_result_raises() -> None:
    with pytest.raises(UnfinishedRun, match="RUNNING"):
        Running().result()
    with pytest.raises(UnfinishedRun, match="PENDING"):
        Pending().result()


def test_paused_result_raises() -> None:
    with pytest.raises(PausedRun):
        Paused().result()
    assert Paused().result(raise_on_failure=False) is None


def test_paused_rejects_timeout_and_expiration_together() -> None:
    from datetime import datetime, timezone

    with pytest.raises(ValueError, match="not both"):
        Paused(timeout_seconds=1, pause_expiration_time=datetime.now(timezone.utc))


def test_paused_timeout_sets_expiry() -> None:
    state = Paused(timeout_seconds=60)
    assert state.state_details.pause_timeout is not None


@pytest.mark.anyio
async def test_result_async() -> None:
    assert await Completed(data="x").result_async() == "x"
    with pytest.raises(KeyError):
        await Failed(data=KeyError("k")).result_async()


def test_repr() -> None:
    assert repr(Completed()) == "Completed()"
    assert repr(Failed(message="oops")) == "Failed('oops')"
    assert repr(Failed()) == "Failed()"
    assert str(Completed(message="done")) == "Completed('done')"


def test_states_are_unhashable_and_compare_by_fields() -> None:
    state = Completed(data=1)
    assert state == state.copy()
    assert state != Failed()
    with pytest.raises(TypeError):
        hash(state)


def test_copy_replaces_attributes() -> None:
    state = Completed(data=1, message="a")
    copy = state.copy(data=2)
    assert copy.result() == 2 and copy.message == "a"
    assert state.result() == 1


def test_is_state_helpers() -> None:
    assert is_state(Completed()) and not is_state(1)
    assert is_state_iterable([Completed(), Failed()])
    assert not is_state_iterable([])
    assert not is_state_iterable([Completed(), 1])


def test_get_state_exception_finds_nested_failure() -> None:
    error = RuntimeError("inner")
    outer = Failed(data=[Completed(), Failed(data=error)])
    assert get_state_exception(outer) is error
    assert isinstance(get_state_exception(Crashed(message="x")), CrashedRun)


def test_state_type_str() -> None:
    assert str(StateType.COMPLETED) == "COMPLETED"


def _state_for(kind: str) -> State:
    return {"c": Completed(data=1), "f": Failed(data=ValueError("f")),
            "x": Cancelled(message="x"), "k": Crashed(message="k")}[kind]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from("cfxk"), min_size=1, max_size=8))
def test_flow_returning_states_aggregates(kinds: list[str]) -> None:
    @flow
    def returns_states():
        return [_state_for(k) for k in kinds]

    state = returns_states(return_state=True)
    total = len(kinds)
    cancelled = kinds.count("x")
    failed = kinds.count("f") + kinds.count("k")
    if cancelled == 0 and failed == 0:
        assert state.is_completed()
        assert state.message == "All states completed."
    elif cancelled:
        assert state.is_cancelled()
        assert state.message == f"{cancelled}/{total} states cancelled."
    else:
        assert state.is_failed()
        assert state.message == f"{failed}/{total} states failed."


def test_freed_result_raises_missing_result() -> None:
    @flow
    def child_runs() -> None:
        from headwater import task

        task(lambda: 1, name="one")()

    from headwater.settings import temporary_settings

    with temporary_settings(HEADWATER_FLOW_RUN_RESULT_BUDGET=0):
        states = child_runs()
    assert [s.type for s in states] == [StateType.COMPLETED]
    with pytest.raises(MissingResult, match="freed"):
        states[0].result()
    assert child_runs()[0].result() == 1  # within the default budget: kept
