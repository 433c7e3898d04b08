"""pause_flow_run / resume_flow_run in one process (another thread resumes)."""

from __future__ import annotations

import asyncio
import queue
import threading
import time
import uuid
from typing import Any

import pytest
from pydantic import BaseModel

from headwater import flow, runtime, task
from headwater._private.cancellation import close_scope, open_scope
from headwater.exceptions import (
    AsyncContextError,
    CancellationRequested,
    FlowPauseError,
    FlowPauseTimeout,
    MissingContextError,
    ObjectNotFound,
    RunInputError,
)
from headwater.pausing import (
    pause_flow_run,
    pause_flow_run_async,
    resume_flow_run,
    resume_flow_run_async,
)


class Approval(BaseModel):
    approved: bool
    note: str = ""


def _start(fn: Any) -> tuple[threading.Thread, queue.Queue[Any], queue.Queue[Any]]:
    """Run a flow in a thread; return (thread, ids queue, outcome queue)."""
    ids: queue.Queue[Any] = queue.Queue()
    out: queue.Queue[Any] = queue.Queue()

    def target() -> None:
        try:
            out.put(("ok", fn(ids)))
        except BaseException as exc:
            out.put(("error", exc))

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, ids, out


def _wait_paused(run_id: uuid.UUID | str) -> None:
    from headwater._private import pausing

    run_id = uuid.UUID(str(run_id))  # runtime.flow_run.id is a str, as in Prefect 2
    deadline = time.monotonic() + 30  # a hang guard, not a timing claim
    while run_id not in pausing._waiters:
        assert time.monotonic() < deadline
        time.sleep(0.001)


def test_resume_with_typed_input() -> None:
    states: list[str] = []

    @flow
    def publish(ids: queue.Queue[Any]) -> str:
        ids.put(runtime.flow_run.id)
        answer = pause_flow_run(wait_for_input=Approval, timeout=10)
        from headwater import get_run_context

        states.append(get_run_context().flow_run.state_name)  # type: ignore[union-attr]
        return f"{answer.approved}:{answer.note}"

    thread, ids, out = _start(lambda q: publish(q))
    run_id = ids.get(timeout=5)
    _wait_paused(run_id)
    with pytest.raises(RunInputError, match="approved"):
        resume_flow_run(run_id, run_input={"note": "missing field"})
    _wait_paused(run_id)  # bad input: still waiting
    resume_flow_run(str(run_id), run_input={"approved": True, "note": "ok"})
    thread.join(5)
    assert out.get_nowait() == ("ok", "True:ok")
    assert states == ["Running"]


def test_state_is_paused_while_waiting() -> None:
    seen: list[Any] = []

    @flow
    def waits(ids: queue.Queue[Any]) -> None:
        from headwater import get_run_context

        ids.put(get_run_context().flow_run)  # type: ignore[union-attr]
        pause_flow_run(timeout=10, key="approval")

    thread, ids, out = _start(lambda q: waits(q))
    run = ids.get(timeout=5)
    _wait_paused(run.id)
    seen.append(run.state)
    resume_flow_run(run.id)
    thread.join(5)
    assert seen[0].is_paused() and seen[0].state_details.pause_key == "approval"
    assert out.get_nowait()[0] == "ok"


def test_timeout_raises_and_fails_the_flow() -> None:
    @flow
    def waits() -> None:
        pause_flow_run(timeout=0.05)

    state = waits(return_state=True)
    assert state.is_failed()
    with pytest.raises(FlowPauseTimeout):
        state.result()


def test_input_when_none_is_awaited_is_rejected() -> None:
    @flow
    def waits(ids: queue.Queue[Any]) -> None:
        ids.put(runtime.flow_run.id)
        pause_flow_run(timeout=10)

    thread, ids, out = _start(lambda q: waits(q))
    run_id = ids.get(timeout=5)
    _wait_paused(run_id)
    with pytest.raises(RunInputError, match="does not wait for input"):
        resume_flow_run(run_id, {"x": 1})
    resume_flow_run(run_id)
    thread.join(5)
    assert out.get_nowait() == ("ok", None)


def test_keyed_pause_happens_once() -> None:
    @flow
    def twice(ids: queue.Queue[Any]) -> list[Any]:
        ids.put(runtime.flow_run.id)
        first = pause_flow_run(Approval, timeout=10, key="gate")
        second = pause_flow_run(Approval, timeout=10, key="gate")  # returns at once
        return [first, second]

    thread, ids, out = _start(lambda q: twice(q))
    run_id = ids.get(timeout=5)
    _wait_paused(run_id)
    resume_flow_run(run_id, Approval(approved=False))
    thread.join(5)
    kind, value = out.get_nowait()
    assert kind == "ok" and value[0] == value[1] == Approval(approved=False)


def test_resume_unknown_run() -> None:
    with pytest.raises(ObjectNotFound):
        resume_flow_run(uuid.uuid4())


def test_pause_outside_flow_or_inside_task() -> None:
    with pytest.raises(MissingContextError):
        pause_flow_run()

    @task
    def pauses() -> None:
        pause_flow_run(timeout=1)

    @flow
    def f() -> None:
        pauses()

    with pytest.raises(FlowPauseError, match="inside a task run"):
        f()


def test_cancelling_a_paused_run_wakes_it() -> None:
    @flow
    def waits(ids: queue.Queue[Any]) -> None:
        # The engine will open the scope before the body runs; the test does it here.
        ids.put(open_scope(uuid.UUID(runtime.flow_run.id)))
        try:
            pause_flow_run(timeout=10)
        finally:
            close_scope(uuid.UUID(runtime.flow_run.id))

    thread, ids, out = _start(lambda q: waits(q))
    scope = ids.get(timeout=5)
    _wait_paused(scope.flow_run_id)
    scope.cancel("stop")
    thread.join(5)
    kind, exc = out.get_nowait()
    assert kind == "error" and isinstance(exc, CancellationRequested)
    assert exc.reason == "stop"


def test_async_flow_pause_and_resume() -> None:
    @flow
    async def waits(ids: queue.Queue[Any]) -> bool:
        ids.put(runtime.flow_run.id)
        with pytest.raises(AsyncContextError, match="pause_flow_run_async"):
            pause_flow_run(timeout=1)
        answer = await pause_flow_run_async(Approval, timeout=10)
        return bool(answer.approved)

    thread, ids, out = _start(lambda q: asyncio.run(waits(q)))
    run_id = ids.get(timeout=5)
    _wait_paused(run_id)
    asyncio.run(resume_flow_run_async(run_id, {"approved": True}))
    thread.join(5)
    assert out.get_nowait() == ("ok", True)


def test_async_pause_timeout() -> None:
    @flow
    async def waits() -> None:
        await pause_flow_run_async(timeout=0.05)

    state = asyncio.run(waits(return_state=True))  # type: ignore[call-overload]
    with pytest.raises(FlowPauseTimeout):
        state.result()
