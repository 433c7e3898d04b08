"""The watcher in one process: what it acts on, what it leaves alone, when it runs.

``act`` is fed recorded states directly (as a reader would return them), so
these tests need no polling and no second process; see
``test_cross_process_control.py`` for the whole path.
"""

from __future__ import annotations

import os
import queue
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from headwater import flow, get_run_context, runtime, task
from headwater._private import flow_run_watch
from headwater._private.flow_run_readers import Observed
from headwater.pausing import pause_flow_run
from headwater.settings import temporary_settings
from headwater.states import StateType


class Approval(BaseModel):
    approved: bool


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for key in list(os.environ):
        if key.startswith("HEADWATER_"):
            monkeypatch.delenv(key)
    with temporary_settings(HEADWATER_HOME=str(tmp_path / "home"),
                            HEADWATER_FLOW_RUN_WATCH_INTERVAL="0.05"):
        yield tmp_path / "home"


def _in_thread(fn: Any) -> tuple[threading.Thread, queue.Queue[Any]]:
    out: queue.Queue[Any] = queue.Queue()

    def target() -> None:
        try:
            out.put(("ok", fn()))
        except BaseException as exc:
            out.put(("error", exc))

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, out


def _run_id() -> uuid.UUID:
    """The current flow run's id as the internals key it (runtime gives a str, as Prefect 2)."""
    return uuid.UUID(runtime.flow_run.id)


def _wait_paused(run_id: uuid.UUID) -> None:
    from headwater._private.pausing import paused_flow_run_ids

    deadline = time.monotonic() + 30  # a hang guard, not a timing claim
    while run_id not in paused_flow_run_ids():
        assert time.monotonic() < deadline
        time.sleep(0.005)


def running(details: dict[str, Any], run_id: uuid.UUID, state_id: str = "s") -> Observed:
    return Observed(run_id, "RUNNING", state_id, None, details)


def test_only_a_resume_of_the_current_pause_releases_it(home: Path) -> None:
    ids: queue.Queue[uuid.UUID] = queue.Queue()

    @flow
    def waits() -> tuple[bool, bool]:
        ids.put(_run_id())
        first = pause_flow_run(wait_for_input=Approval, timeout=20)
        ids.put(_run_id())
        second = pause_flow_run(wait_for_input=Approval, timeout=20)
        return first.approved, second.approved

    thread, out = _in_thread(waits)
    run_id = ids.get(timeout=10)
    _wait_paused(run_id)
    # The run's own RUNNING states carry no pause key: stale, never a resume.
    flow_run_watch.act([running({"flow_run_id": str(run_id)}, run_id)])
    flow_run_watch.act([running({"pause_key": "2", "run_input": {"approved": True}}, run_id)])
    assert out.empty()
    flow_run_watch.act([running({"pause_key": "1", "run_input": {"approved": False}}, run_id,
                                "r1")])
    ids.get(timeout=10)
    _wait_paused(run_id)  # the second pause
    # The first resume is still the stored state until the new Paused is written.
    flow_run_watch.act([running({"pause_key": "1", "run_input": {"approved": False}}, run_id,
                                "r1")])
    assert out.empty()
    flow_run_watch.act([running({"pause_key": "2", "run_input": {"approved": True}}, run_id,
                                "r2")])
    thread.join(10)
    assert out.get_nowait() == ("ok", (False, True))


def test_invalid_input_is_rejected_once_and_the_run_stays_paused(home: Path,
                                                                 run_logs: Any) -> None:
    ids: queue.Queue[Any] = queue.Queue()

    @flow
    def waits() -> bool:
        ids.put(get_run_context().flow_run)
        return bool(pause_flow_run(wait_for_input=Approval, timeout=20).approved)

    thread, out = _in_thread(waits)
    run = ids.get(timeout=10)
    _wait_paused(run.id)
    bad = running({"pause_key": "1", "run_input": {"approved": "perhaps"}}, run.id, "bad")
    flow_run_watch.act([bad])
    flow_run_watch.act([bad])  # polled again before the new Paused state is stored
    assert run.state.type is StateType.PAUSED
    assert "does not match Approval" in run.state.message
    errors = [r for r in run_logs.records if "does not match Approval" in r.getMessage()]
    assert len(errors) == 1
    flow_run_watch.act([running({"pause_key": "1", "run_input": {"approved": True}}, run.id,
                                "good")])
    thread.join(10)
    assert out.get_nowait() == ("ok", True)


def test_cancelling_is_acted_on_once_and_cascades_to_subflows(home: Path) -> None:
    hooks: list[tuple[str, str]] = []
    ids: queue.Queue[uuid.UUID] = queue.Queue()

    def on_cancellation(flow: Any, flow_run: Any, state: Any) -> None:
        hooks.append((flow.name, state.message))

    @task
    def step() -> None:
        time.sleep(0.01)

    @flow(on_cancellation=[on_cancellation])
    def inner() -> None:
        ids.put(_run_id())
        while True:
            step()

    @flow(on_cancellation=[on_cancellation])
    def outer() -> None:
        ids.put(_run_id())
        inner()

    thread, out = _in_thread(lambda: outer(return_state=True))
    top, _ = ids.get(timeout=10), ids.get(timeout=10)
    flow_run_watch.act([Observed(uuid.uuid4(), "CANCELLING", "x", None, {})])  # not here
    cancelling = Observed(top, "CANCELLING", "c", "from afar", {})
    flow_run_watch.act([cancelling])
    flow_run_watch.act([cancelling])  # polled again before Cancelled is stored
    thread.join(10)
    kind, state = out.get_nowait()
    assert kind == "ok" and state.is_cancelled() and state.message == "from afar"
    assert sorted(hooks) == [("inner", "from afar"), ("outer", "from afar")]


def test_a_recorded_flow_is_watched_and_the_watcher_stops_after(home: Path) -> None:
    seen: list[bool] = []

    @flow
    def quick() -> None:
        seen.append(_run_id() in flow_run_watch._watched)
        seen.append(flow_run_watch.watching())

    quick()
    assert seen == [True, True]
    deadline = time.monotonic() + 30  # a hang guard, not a timing claim
    while flow_run_watch.watching():  # ends at its next wake-up (0.05 s)
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_nothing_is_watched_without_recording(home: Path) -> None:
    seen: list[bool] = []

    @flow
    def quick() -> None:
        seen.append(_run_id() in flow_run_watch._watched)

    with temporary_settings(HEADWATER_API_ENABLE_RECORDING="false"):
        quick()
    assert seen == [False]
