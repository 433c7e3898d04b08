"""Signals and triggers as pure functions (the engine wiring is tested with @task later)."""

from __future__ import annotations

import datetime as _dt
import pickle
from typing import Any

import pytest

from headwater.exceptions import HeadwaterException, TriggerFailed, UpstreamTaskError
from headwater.signals import Fail, Pause, Retry, Signal, Skip, Success, signal_to_state
from headwater.states import Cancelled, Completed, Crashed, Failed, Pending, State, StateType
from headwater.triggers import (
    TriggerOutcome,
    all_failed,
    all_finished,
    all_successful,
    always_run,
    any_failed,
    any_successful,
    evaluate_trigger,
    manual_only,
    none_failed,
)

NOW = _dt.datetime(2024, 1, 1, 12, tzinfo=_dt.timezone.utc)


def skipped() -> State[Any]:
    return Completed(None, name="Skipped")


# ---------------------------------------------------------------------- signals
def test_signals_are_headwater_exceptions_caught_by_except_exception() -> None:
    for cls in (Fail, Success, Skip, Retry, Pause):
        assert issubclass(cls, Signal) and issubclass(cls, HeadwaterException)
        assert cls.__module__ == "headwater.signals"
    with pytest.raises(Skip):
        try:
            raise Skip("nothing to do")
        except Signal:
            raise
        except Exception:  # pragma: no cover - the documented trap
            pytest.fail("except Signal: raise must come first")


def test_signals_pickle_and_carry_message_and_result() -> None:
    sig = pickle.loads(pickle.dumps(Success("done", result=3)))
    assert type(sig) is Success and str(sig) == "done"
    assert Success("done", result=3).result == 3
    assert repr(Fail("no")) == "Fail('no')"


def test_signal_from_a_nested_function_is_the_same_object() -> None:
    def inner() -> None:
        raise Fail("deep")

    def outer() -> None:
        inner()

    with pytest.raises(Fail, match="deep"):
        outer()


def test_success_and_skip() -> None:
    out = signal_to_state(Success("early", result=7), run_count=1, retries=0)
    assert out.state.type is StateType.COMPLETED and out.state.result() == 7
    assert not out.retry and not out.counts_as_retry
    skip = signal_to_state(Skip("holiday"), run_count=1, retries=0).state
    assert (skip.type, skip.name, skip.message) == (StateType.COMPLETED, "Skipped", "holiday")
    assert skip.result() is None


def test_fail_is_an_ordinary_failure() -> None:
    sig = Fail("bad data")
    out = signal_to_state(sig, run_count=1, retries=3)
    assert out.state.type is StateType.FAILED and out.state.message == "bad data"
    assert out.consults_retries and not out.retry
    with pytest.raises(Fail):
        out.state.result()


def test_pause() -> None:
    out = signal_to_state(Pause("wait for a human", timeout=60), run_count=1, retries=0)
    assert out.state.type is StateType.PAUSED and out.state.state_details.pause_timeout


def test_retry_counts_against_retries() -> None:
    out = signal_to_state(Retry("later", delay=5), run_count=1, retries=2, current_time=NOW)
    assert out.retry and out.counts_as_retry and out.delay == 5
    assert out.state.name == "AwaitingRetry"
    assert out.state.state_details.scheduled_time == NOW + _dt.timedelta(seconds=5)
    last = signal_to_state(Retry("later"), run_count=3, retries=2, current_time=NOW)
    assert not last.retry and last.state.type is StateType.FAILED
    assert "no retries are left (2 allowed): later" in (last.state.message or "")


def test_retry_without_delay_uses_the_task_delay() -> None:
    out = signal_to_state(Retry(), run_count=1, retries=1, default_delay=12, current_time=NOW)
    assert out.delay == 12


def test_retry_with_start_time_polls_without_counting() -> None:
    when = NOW + _dt.timedelta(minutes=1)
    out = signal_to_state(Retry("poll", start_time=when), run_count=99, retries=0,
                          current_time=NOW)
    assert out.retry and not out.counts_as_retry and out.delay == 60
    past = signal_to_state(Retry(start_time=NOW - _dt.timedelta(1)), run_count=1, retries=0,
                           current_time=NOW)
    assert past.delay == 0


def test_retry_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        Retry(delay=-1)
    with pytest.raises(ValueError):
        Retry(delay=1, start_time=NOW)


# ---------------------------------------------------------------------- triggers
def test_all_successful() -> None:
    assert all_successful({"a": Completed(1), "b": Completed(2)})
    result = all_successful({"extract": Failed(), "b": Completed()})
    assert result.outcome is TriggerOutcome.FAIL
    assert result.message == "TriggerFailed: all_successful, upstream 'extract' Failed"
    assert all_successful({}).outcome is TriggerOutcome.RUN


def test_all_successful_skips_after_a_skipped_upstream() -> None:
    result = all_successful({"a": skipped(), "b": Completed()})
    assert result.outcome is TriggerOutcome.SKIP
    state = result.to_state()
    assert state is not None and state.name == "Skipped" and state.is_completed()


def test_all_failed_message_names_trigger_and_upstream() -> None:
    result = all_failed({"extract": Completed()})
    assert not result
    assert result.message == "TriggerFailed: all_failed, upstream 'extract' Completed"
    state = result.to_state()
    assert state is not None and state.type is StateType.PENDING and state.name == "NotReady"
    with pytest.raises(TriggerFailed) as info:
        state.result()
    assert isinstance(info.value, UpstreamTaskError)
    assert all_failed({"a": Failed(), "b": Crashed()})


def test_any_successful_and_any_failed() -> None:
    assert any_successful([("a", Failed()), ("b", Completed())])
    none_ok = any_successful([("a", Failed()), ("a", Cancelled())])
    assert none_ok.message == "TriggerFailed: any_successful, upstreams 'a' Failed, 'a' Cancelled"
    assert any_failed({"a": Completed(), "b": Failed()})
    assert not any_failed({"a": Completed()})
    assert any_successful({}) and any_failed({})


def test_all_finished_always_runs() -> None:
    assert all_finished({"a": Failed(), "b": Crashed(), "c": Cancelled()})
    assert always_run is all_finished


def test_manual_only_pauses() -> None:
    result = manual_only({"a": Completed()})
    assert result.outcome is TriggerOutcome.PAUSE
    state = result.to_state()
    assert state is not None and state.is_paused()


def test_none_failed() -> None:
    assert none_failed({"a": Completed(), "b": skipped()})
    assert not none_failed({"a": Cancelled()})
    assert not none_failed({"a": Pending(name="NotReady")})


def test_long_messages_are_capped() -> None:
    result = all_failed([(f"t-{i}", Completed()) for i in range(8)])
    assert result.message is not None and result.message.endswith("and 3 more")


def test_evaluate_prefect1_style_user_triggers() -> None:
    def at_least_two(upstreams: list[tuple[str, State[Any]]]) -> bool:
        return sum(s.is_completed() for _, s in upstreams) >= 2

    ups = {"a": Completed(), "b": Failed()}
    result = evaluate_trigger(at_least_two, ups)
    assert result.outcome is TriggerOutcome.FAIL
    assert result.message == "TriggerFailed: at_least_two, upstreams 'a' Completed, 'b' Failed"

    def skipper(_: object) -> bool:
        raise Skip("not today")

    assert evaluate_trigger(skipper, ups).outcome is TriggerOutcome.SKIP

    def broken(_: object) -> bool:
        raise KeyError("x")

    assert evaluate_trigger(broken, ups).message == "TriggerFailed: broken (KeyError: 'x')"
    assert evaluate_trigger(all_failed, {"a": Failed()}).outcome is TriggerOutcome.RUN
