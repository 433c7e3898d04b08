"""The task and flow state machines, driven step by step with made-up answers.

No driver, thread, event loop or database: each test builds a run
description by hand, sends the machine the answer each step would get, and
checks the steps it asks for and the states it records.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Generator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater import flow, task
from headwater._private.caching import effective_policy
from headwater._private.context import RunTracker
from headwater._private.engine.flow_machine import flow_machine
from headwater._private.engine.specs import FlowRunSpec, TaskRunSpec
from headwater._private.engine.steps import (
    Call,
    ComputeCacheKey,
    LoadCached,
    Log,
    PlanResult,
    Record,
    Sleep,
    WaitChildren,
)
from headwater._private.engine.task_machine import task_machine
from headwater._private.results.io import CacheLookup
from headwater._private.results.plan import ResultPlan
from headwater._private.run_records import FlowRun, TaskRun
from headwater._private.states import Paused, State, StateType, now
from headwater.exceptions import CancellationRequested, Pause, TaskRunTimeoutError

Answer = Callable[[Any], Any]


def task_spec(fn: Callable[..., Any] | None = None, **options: Any) -> TaskRunSpec:
    """A task run description outside any flow, for a task with ``options``."""
    task_ = task(**options)(fn or (lambda: None))
    run = TaskRun(uuid.uuid4(), "t-0", task_.name, task_.task_key, "0", None, frozenset(), now())
    return TaskRunSpec(task_, run)


def flow_spec(body: Callable[..., Any] | None = None, scope: Any = None,
              **options: Any) -> FlowRunSpec:
    """A flow run description (parameters not validated: no pydantic needed)."""
    flow_ = flow(validate_parameters=False, **options)(body or (lambda: None))
    run = FlowRun(uuid.uuid4(), "f-0", flow_.name, frozenset(), {}, None, None, now())
    return FlowRunSpec(flow_, run, flow_.fn, RunTracker(), scope)


def drive(machine: Generator[Any, Any, State[Any]],
          answer: Answer) -> tuple[list[Any], State[Any]]:
    """Send each step ``answer(step)`` until the machine ends; return the steps and the state."""
    steps: list[Any] = []
    reply: Any = None
    while True:
        try:
            step = machine.send(reply)
        except StopIteration as done:
            return steps, done.value
        steps.append(step)
        reply = answer(step)


def calls_answered(*outcomes: tuple[bool, Any]) -> Answer:
    """Answer the Call steps with ``outcomes`` in order, every other step with None."""
    pending = list(outcomes)

    def answer(step: Any) -> Any:
        return pending.pop(0) if isinstance(step, Call) else None

    return answer


def recorded(steps: list[Any]) -> list[str | None]:
    """The names of the states the machine asked to record, in order."""
    return [step.state.name for step in steps if isinstance(step, Record)]


def test_success_yields_record_call_record() -> None:
    spec = task_spec(lambda x: x + 1)
    steps, state = drive(task_machine(spec, (1,), {}), calls_answered((True, 2)))
    assert [type(s) for s in steps] == [Record, Call, Record]
    assert steps[1].args == (1,)
    assert recorded(steps) == ["Running", "Completed"]
    assert steps[2].level == logging.DEBUG and steps[2].message is None  # "Finished in state"
    assert state.type is StateType.COMPLETED and state.data == 2
    assert spec.run.state is state and spec.run.run_count == 1


def test_failure_logs_the_exception_and_ends_failed() -> None:
    error = ValueError("boom")
    steps, state = drive(task_machine(task_spec(), (), {}), calls_answered((False, error)))
    assert [type(s) for s in steps] == [Record, Call, Log, Record]
    assert steps[2].exc is error and steps[2].level == logging.ERROR
    assert state.type is StateType.FAILED
    assert state.message == "Task run encountered an exception ValueError: boom"
    # ERROR, as in Prefect 2: a task run that ends other than Completed
    assert steps[-1].state is state and steps[-1].level == logging.ERROR


@settings(max_examples=40, deadline=None)
@given(retries=st.integers(0, 4), failures=st.integers(0, 6), delay=st.integers(0, 30))
def test_retries_give_the_exact_state_sequence(retries: int, failures: int, delay: int) -> None:
    spec = task_spec(retries=retries, retry_delay_seconds=delay)
    outcomes = [(False, ValueError(f"failure {n}")) for n in range(failures)] + [(True, "ok")]
    steps, state = drive(task_machine(spec, (), {}), calls_answered(*outcomes))
    assert state.type is (StateType.COMPLETED if failures <= retries else StateType.FAILED)
    retried = min(failures, retries)
    assert recorded(steps) == (["Running"] + ["AwaitingRetry", "Retrying"] * retried
                               + ["Completed" if failures <= retries else "Failed"])
    sleeps = [step.seconds for step in steps if isinstance(step, Sleep)]
    assert sleeps == ([float(delay)] * retried if delay else [])
    assert sum(isinstance(step, Call) for step in steps) == retried + 1
    assert spec.run.run_count == retried + 1


def test_retry_delays_from_a_list_are_the_sleeps() -> None:
    spec = task_spec(retries=3, retry_delay_seconds=[1, 5, 9])
    failures = [(False, ValueError("no"))] * 3
    steps, state = drive(task_machine(spec, (), {}), calls_answered(*failures, (True, 1)))
    assert [s.seconds for s in steps if isinstance(s, Sleep)] == [1.0, 5.0, 9.0]
    assert state.type is StateType.COMPLETED


def test_timeout_answered_with_the_timeout_error_ends_timed_out() -> None:
    spec = task_spec(timeout_seconds=2)
    machine = task_machine(spec, (), {})
    assert isinstance(next(machine), Record)
    call = machine.send(None)
    assert isinstance(call, Call) and call.timeout == 2 and call.on_timeout is not None
    error = call.on_timeout()
    assert isinstance(error, TaskRunTimeoutError)
    final = machine.send((False, error))
    assert isinstance(final, Record) and final.state.name == "TimedOut"
    with pytest.raises(StopIteration) as done:
        machine.send(None)
    state = done.value.value
    assert state.type is StateType.FAILED
    assert state.message == "Task run exceeded timeout of 2.0 seconds TimeoutError: "


def test_cache_hit_completes_cached_without_calling() -> None:
    spec = task_spec(cache_key_fn=lambda ctx, args: "key", persist_result=False)
    plan = ResultPlan(effective_policy(spec.task.options), False, None, None, None, True)

    def answer(step: Any) -> Any:
        if isinstance(step, PlanResult):
            return True, plan
        if isinstance(step, ComputeCacheKey):
            return "key", None
        if isinstance(step, LoadCached):
            assert step.key == "key" and step.storage is None  # the in-process cache
            return CacheLookup(True, 42)
        return None

    steps, state = drive(task_machine(spec, (), {}), answer)
    assert [type(s) for s in steps] == [PlanResult, ComputeCacheKey, LoadCached, Record]
    assert state.name == "Cached" and state.data == 42
    assert state.state_details.cache_key == "key"


def test_an_ordinary_task_asks_for_no_plan_and_no_cache() -> None:
    steps, _ = drive(task_machine(task_spec(), (), {}), calls_answered((True, None)))
    assert not any(isinstance(s, (PlanResult, ComputeCacheKey, LoadCached)) for s in steps)


@pytest.mark.parametrize(("thrown", "kind"), [
    (asyncio.CancelledError(), StateType.CANCELLED),
    (KeyboardInterrupt(), StateType.CRASHED),
])
def test_an_error_thrown_in_is_recorded_then_re_raised(thrown: BaseException,
                                                       kind: StateType) -> None:
    spec = task_spec()
    machine = task_machine(spec, (), {})
    next(machine)
    assert isinstance(machine.send(None), Call)
    final = machine.throw(thrown)
    assert isinstance(final, Record) and final.state.type is kind
    assert final.level == logging.ERROR
    with pytest.raises(type(thrown)):
        machine.send(None)
    assert spec.run.state.type is kind


class CancelledScope:
    """A cancel scope whose flow run was cancelled."""

    cancelled = True
    reason = "stop it"

    def check(self) -> None:
        raise CancellationRequested(None, self.reason)


def test_cancelled_flow_run_cancels_the_task_before_it_starts() -> None:
    spec = task_spec()
    spec = TaskRunSpec(spec.task, spec.run, scope=CancelledScope())  # type: ignore[arg-type]
    machine = task_machine(spec, (), {})
    final = next(machine)
    assert isinstance(final, Record) and final.state.type is StateType.CANCELLED
    assert final.state.message == "stop it"
    with pytest.raises(CancellationRequested):
        machine.send(None)


def test_a_pause_signal_ends_the_task_paused() -> None:
    steps, state = drive(task_machine(task_spec(), (), {}),
                         calls_answered((False, Pause("wait"))))
    assert state.type is StateType.PAUSED and recorded(steps)[-1] == state.name


def test_flow_success_waits_for_children_then_completes() -> None:
    spec = flow_spec(lambda: 5)
    steps, state = drive(flow_machine(spec), calls_answered((True, 5)))
    assert [type(s) for s in steps] == [Record, Call, WaitChildren, Record]
    assert steps[2].tracker is spec.tracker
    assert recorded(steps) == ["Running", "Completed"]
    assert state.type is StateType.COMPLETED and state.data == 5


def test_flow_retries_sleep_then_complete() -> None:
    spec = flow_spec(retries=1, retry_delay_seconds=7)
    steps, state = drive(flow_machine(spec), calls_answered((False, ValueError("x")),
                                                           (True, 1)))
    assert recorded(steps) == ["Running", "AwaitingRetry", "Retrying", "Completed"]
    assert [s.seconds for s in steps if isinstance(s, Sleep)] == [7.0]
    assert state.type is StateType.COMPLETED


def test_flow_failure_names_the_exception() -> None:
    _, state = drive(flow_machine(flow_spec()), calls_answered((False, KeyError("k"))))
    assert state.type is StateType.FAILED
    assert state.message == "Flow run encountered an exception. KeyError: 'k'"


def test_flow_returning_a_paused_state_fails_as_not_final() -> None:
    paused = Paused(timeout_seconds=10, pause_key="1")
    _, state = drive(flow_machine(flow_spec()), calls_answered((True, paused)))
    assert state.type is StateType.FAILED
    assert state.message is not None
    assert state.message.startswith("Flow run did not reach a final state")


def test_flow_cancelled_while_its_body_ran_is_cancelled() -> None:
    spec = flow_spec(scope=CancelledScope())
    steps, state = drive(flow_machine(spec), calls_answered((True, None)))
    assert isinstance(steps[2], WaitChildren)  # its children stop first
    assert state.type is StateType.CANCELLED and state.message == "stop it"
