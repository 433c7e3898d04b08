"""Prefect 2's pausing arguments: reschedule, suspend_flow_run, flow_run_id, typed input.

Pauses that end the process need a deployment, which headwater does not have
yet: they raise Prefect 2's error for a run without one, after its other
checks, in its order.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import uuid
from typing import Any

import pydantic
import pytest

from headwater import flow, pause_flow_run, resume_flow_run, runtime, suspend_flow_run, task
from headwater.exceptions import FlowPauseError, MissingContextError, ObjectNotFound
from headwater.input import (
    RunInput,
    RunInputMetadata,
    keyset_from_base_key,
    keyset_from_paused_state,
)
from headwater.pausing import pause_flow_run_async, suspend_flow_run_async
from headwater.states import Completed, Paused, Suspended

NO_DEPLOYMENT = "Flow run cannot be paused: Cannot pause flows without a deployment."


def _resume_when_paused(run_id: str, run_input: Any = None) -> threading.Thread:
    from headwater._private import pausing

    def go() -> None:
        target = uuid.UUID(run_id)
        while target not in pausing.paused_flow_run_ids():
            threading.Event().wait(0.001)
        resume_flow_run(run_id, run_input=run_input)

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    return thread


def test_reschedule_needs_a_deployment() -> None:
    @flow
    def f() -> str:
        with pytest.raises(FlowPauseError) as info:
            pause_flow_run(timeout=5, reschedule=True)
        assert isinstance(info.value, RuntimeError)
        message = str(info.value)
        assert message.startswith(NO_DEPLOYMENT)
        assert "pause_flow_run() without reschedule" in message
        return "went on"

    assert f() == "went on"


def test_reschedule_in_a_subflow_is_refused_as_a_subflow() -> None:
    @flow
    def child() -> None:
        with pytest.raises(FlowPauseError, match=r"^Flow run cannot be paused: Cannot pause "
                                                 r"subflows."):
            pause_flow_run(reschedule=True)

    @flow
    def parent() -> None:
        child()

    parent()


def test_a_resumed_key_returns_before_the_reschedule_check() -> None:
    @flow
    def f() -> tuple[Any, Any]:
        _resume_when_paused(runtime.flow_run.id, {"value": 7})
        first = pause_flow_run(wait_for_input=int, timeout=5, key="k")
        second = pause_flow_run(wait_for_input=int, reschedule=True, key="k")
        third = suspend_flow_run(key="k")
        return first, (second, third)

    assert f() == (7, (7, 7))


@pytest.mark.parametrize(("options", "message"), [
    ({}, "Cannot pause flows without a deployment."),
    ({"wait_for_input": int}, "Cannot wait for input when pausing out of process."),
    ({"reschedule": True}, "Pausing a flow run out of process requires the `reschedule` option"),
])
def test_pausing_another_run(options: dict[str, Any], message: str) -> None:
    @flow
    def f() -> None:
        with pytest.raises(FlowPauseError) as info:
            pause_flow_run(flow_run_id=runtime.flow_run.id, **options)
        assert str(info.value).startswith(message)

    f()


def test_suspending_where_prefect2_refuses() -> None:
    @task
    def in_task() -> None:
        with pytest.raises(FlowPauseError, match=r"^Cannot suspend task runs."):
            suspend_flow_run()

    @flow
    def child() -> None:
        with pytest.raises(FlowPauseError, match=r"Cannot suspend subflows."):
            suspend_flow_run()

    @flow
    def f() -> str:
        with pytest.raises(FlowPauseError, match=r"^Flow run cannot be suspended: Cannot "
                                                 r"suspend flows without a deployment."):
            suspend_flow_run(timeout=60, key="once")
        with pytest.raises(FlowPauseError, match=r"Cannot suspend flows without a deployment."):
            suspend_flow_run(flow_run_id=runtime.flow_run.id)
        in_task()
        child()
        return "went on"

    with pytest.raises(MissingContextError, match=r"only be suspended from within a flow run"):
        suspend_flow_run()
    assert f() == "went on"


def test_suspending_a_run_paused_here_does_nothing_as_in_prefect2() -> None:
    ids: queue.Queue[str] = queue.Queue()
    done: queue.Queue[Any] = queue.Queue()

    @flow
    def waits() -> str:
        ids.put(runtime.flow_run.id)
        pause_flow_run(timeout=5)
        return "resumed"

    thread = threading.Thread(target=lambda: done.put(waits()), daemon=True)
    thread.start()
    run_id = ids.get(timeout=5)
    from headwater._private import pausing

    while uuid.UUID(run_id) not in pausing.paused_flow_run_ids():
        threading.Event().wait(0.001)
    assert suspend_flow_run(flow_run_id=run_id) is None
    with pytest.raises(FlowPauseError, match=r"^Cannot pause flows that are not currently"):
        pause_flow_run(flow_run_id=run_id)
    resume_flow_run(run_id)
    thread.join(5)
    assert done.get_nowait() == "resumed"


def test_suspending_an_unknown_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("HEADWATER_HOME", str(tmp_path))
    with pytest.raises(ObjectNotFound):
        suspend_flow_run(flow_run_id=uuid.uuid4())


def test_async_twins_refuse_the_same_way() -> None:
    @flow
    async def f() -> str:
        with pytest.raises(FlowPauseError, match=NO_DEPLOYMENT):
            await pause_flow_run_async(reschedule=True)
        with pytest.raises(FlowPauseError, match=r"Cannot suspend flows without a deployment."):
            await suspend_flow_run_async()
        with pytest.raises(FlowPauseError, match=r"Cannot pause flows without a deployment."):
            await pause_flow_run_async(flow_run_id=runtime.flow_run.id)
        return "went on"

    assert asyncio.run(f()) == "went on"


@pytest.mark.parametrize("run_input", [{"value": 42}, 42, "42"])
def test_a_builtin_type_takes_prefect2s_value_wrapper_or_the_bare_value(run_input: Any) -> None:
    @flow
    def ask() -> int:
        _resume_when_paused(runtime.flow_run.id, run_input)
        answer: int = pause_flow_run(wait_for_input=int, timeout=5)
        return answer

    assert ask() == 42


class UserName(RunInput):
    name: str


def test_run_input_with_initial_data() -> None:
    model = UserName.with_initial_data(description="Who?", name="anon", age=3)
    assert issubclass(model, UserName) and model.__name__ == "UserName"
    assert model().name == "anon" and model(name="Ada").age == 3  # type: ignore[attr-defined]
    assert model._description == "Who?"
    with pytest.raises(pydantic.ValidationError):
        UserName(name="Ada", extra=1)  # type: ignore[call-arg]

    @flow
    def greet() -> str:
        _resume_when_paused(runtime.flow_run.id, {"name": "Ada"})
        user = pause_flow_run(wait_for_input=model, timeout=5)
        assert isinstance(user, UserName)
        return f"{user.name} {user.age}"  # type: ignore[attr-defined]

    assert greet() == "Ada 3"


def test_keysets() -> None:
    assert keyset_from_base_key("b") == {"description": "b-description",
                                         "response": "b-response", "schema": "b-schema"}
    assert UserName.keyset_from_type()["schema"] == "username-schema"
    assert keyset_from_paused_state(Paused(pause_key="3"))["response"] == "paused-3-response"
    assert keyset_from_paused_state(Suspended(pause_key="k"))["description"] == (
        "suspended-k-description")
    with pytest.raises(RuntimeError, match=r"'COMPLETED' is unsupported"):
        keyset_from_paused_state(Completed())
    meta = RunInputMetadata(key="k", sender=None, receiver=uuid.uuid4())
    assert meta.key == "k"
