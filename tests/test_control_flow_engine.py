"""Triggers, signals, tag concurrency limits and cancellation, through @task and @flow."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from collections.abc import Iterator

import pytest

from headwater import cancel_flow_run, flow, get_run_context, task
from headwater.concurrency import delete_concurrency_limit, set_concurrency_limit
from headwater.exceptions import CancelledRun
from headwater.signals import Fail, Pause, Retry, Skip, Success
from headwater.task_runners import ThreadPoolTaskRunner
from headwater.testing import FakeClock, use_clock
from headwater.triggers import all_failed, all_finished, any_failed, manual_only, none_failed


@pytest.fixture(autouse=True)
def isolated_limits(tmp_path, monkeypatch) -> Iterator[None]:
    # Tag limits persist under HEADWATER_HOME: keep each test's to itself.
    monkeypatch.setenv("HEADWATER_HOME", str(tmp_path / "home"))
    from headwater._private.concurrency import reset_slot_manager

    reset_slot_manager()
    yield
    reset_slot_manager()


# ---------------------------------------------------------------------- triggers
@task
def extract(ok: bool) -> int:
    if not ok:
        raise ValueError("source down")
    return 1


@task
def load(x: int) -> str:
    return "loaded"


@task(trigger=all_failed)
def alert(x: object) -> str:
    return f"alerted about {type(x).__name__}"


@flow(reference_tasks=[extract, load])
def pipeline(ok: bool) -> None:
    a = extract.submit(ok)
    load.submit(a)
    alert.submit(a)


def test_prefect_1_pattern_b_if_a_succeeds_c_if_a_fails() -> None:
    # A succeeds: B runs, C's trigger does not pass; the reference tasks
    # (the main path) decide, so the unused alert branch does not fail the run.
    state = pipeline(True, return_state=True)
    assert state.is_completed()
    names = sorted(s.name for s in state.data)
    assert names == ["Completed", "Completed"]
    # A fails: B is NotReady, C alerts; the run fails on its main path.
    state = pipeline(False, return_state=True)
    assert state.is_failed()


def test_without_reference_tasks_an_untriggered_branch_keeps_the_run_from_completing() -> None:
    state = pipeline.with_options(reference_tasks=[])(True, return_state=True)
    assert not state.is_completed()


def test_all_failed_trigger_runs_when_upstream_failed_and_names_upstreams_otherwise() -> None:
    @flow
    def g(ok: bool) -> dict:
        a = extract.submit(ok)
        return {"alert": alert.submit(a).wait()}

    state = g(False)["alert"]
    assert state.is_completed() and state.result() == "alerted about ValueError"
    state = g.with_options(reference_tasks=[extract])(True)["alert"]
    assert state.name == "NotReady"
    assert "all_failed" in state.message and "'extract-0' Completed" in state.message


@pytest.mark.parametrize(
    ("trigger", "upstream_ok", "runs"),
    [(any_failed, [True, False], True), (any_failed, [True, True], False),
     (all_finished, [False, False], True), (none_failed, [True, True], True),
     (none_failed, [True, False], False)],
)
def test_triggers_decide_on_final_upstream_states(trigger, upstream_ok, runs) -> None:
    @task(trigger=trigger)
    def downstream(*xs: object) -> str:
        return "ran"

    @flow
    def f() -> dict:
        ups = [extract.submit(ok) for ok in upstream_ok]
        return {"down": downstream.submit(*ups).wait()}

    state = _run_for_state(f)
    assert (state.is_completed() and state.result() == "ran") is runs


def test_manual_only_pauses() -> None:
    @task(trigger=manual_only)
    def approve() -> str:
        return "never"

    @flow
    def f() -> dict:
        return {"approve": approve.submit(wait_for=[extract.submit(True)]).wait()}

    assert _run_for_state(f, "approve").is_paused()


def _run_for_state(f, key: str = "down"):
    """Run a flow returning {key: state} and give that state, whatever the flow's own."""
    state = f(return_state=True)
    return state.data[key]


# ---------------------------------------------------------------------- signals
def test_signals_set_matching_states() -> None:
    @task
    def signalling(kind: str) -> str:
        def nested() -> None:
            if kind == "skip":
                raise Skip("nothing to do")
            if kind == "success":
                raise Success("done early", result=42)
            if kind == "fail":
                raise Fail("bad data")
            raise Pause("wait for a human")

        nested()  # signals bubble up from nested functions
        return "unreachable"

    @flow
    def f() -> dict:
        return {k: signalling(k, return_state=True) for k in ("skip", "success", "fail", "pause")}

    states = f(return_state=True).data
    assert states["skip"].name == "Skipped" and states["skip"].is_completed()
    assert states["success"].is_completed() and states["success"].result() == 42
    assert states["fail"].is_failed() and "bad data" in states["fail"].message
    assert states["pause"].is_paused()


def test_retry_signal_with_start_time_polls_without_using_retries() -> None:
    polls = []

    @task(retries=0)
    def sensor() -> str:
        polls.append(1)
        if len(polls) < 4:
            raise Retry("not ready yet",
                        start_time=dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=5))
        return "ready"

    @flow
    def f() -> str:
        return sensor()

    clock = FakeClock()
    with use_clock(clock):
        assert f() == "ready"
    assert len(polls) == 4
    assert len(clock.sleeps) == 3 and all(4 <= s <= 5 for s in clock.sleeps)


def test_retry_signal_counts_against_retries() -> None:
    attempts = []

    @task(retries=2)
    def flaky() -> str:
        attempts.append(1)
        raise Retry("again", delay=1)

    @flow
    def f() -> dict:
        return {"s": flaky(return_state=True)}

    clock = FakeClock()
    with use_clock(clock):
        state = f(return_state=True).data["s"]
    assert state.is_failed()
    assert len(attempts) == 3
    assert clock.sleeps == [1.0, 1.0]


# ---------------------------------------------------------------------- concurrency
@pytest.fixture
def in_process_slots() -> Iterator[None]:
    """Slots kept by this process (recording off): the API's leases are another test's."""
    from headwater.settings import temporary_settings

    with temporary_settings(HEADWATER_API_ENABLE_RECORDING="false"):
        yield


@pytest.mark.usefixtures("in_process_slots")
def test_tag_limit_holds_across_500_tasks_without_deadlock_in_a_small_pool() -> None:
    set_concurrency_limit("db", 3)
    lock = threading.Lock()
    running = [0]
    peak = [0]

    @task(tags=["db"])
    def query(i: int) -> int:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.0005)
        with lock:
            running[0] -= 1
        return i

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=4))
    def f() -> int:
        return sum(query.map(range(500)).result())

    assert f() == sum(range(500))
    assert peak[0] == 3
    delete_concurrency_limit("db")


def test_limit_of_zero_fails_the_run_with_a_clear_error() -> None:
    set_concurrency_limit("off", 0)

    @task(tags=["off"])
    def blocked() -> None:
        pass

    @flow
    def f() -> dict:
        return {"s": blocked(return_state=True)}

    state = f(return_state=True).data["s"]
    assert state.is_failed()
    assert "off" in state.message


# ---------------------------------------------------------------------- cancellation
def test_cancelling_a_flow_cascades_through_nested_subflows() -> None:
    started = []
    finished = []
    hooks = []
    gate = threading.Event()

    @task
    def work(i: int) -> int:
        started.append(i)
        gate.wait(5)
        finished.append(i)
        return i

    @flow(on_cancellation=[lambda f, r, s: hooks.append(r.name)])
    def leaf() -> list:
        futures = work.map(range(3))
        return [fut.result() for fut in futures] + [work(99)]

    @flow(on_cancellation=[lambda f, r, s: hooks.append(r.name)])
    def middle() -> list:
        return leaf()

    @flow(on_cancellation=[lambda f, r, s: hooks.append(r.name)])
    def top() -> list:
        return middle()

    ids = []

    def canceller() -> None:
        while not started:
            time.sleep(0.01)
        ids.append(get_top_id())
        cancel_flow_run(ids[0], reason="user asked")
        gate.set()

    holder = {}

    def get_top_id():
        while "id" not in holder:
            time.sleep(0.001)
        return holder["id"]

    def record_id(f, r, s):
        holder["id"] = r.id

    top_running = top.with_options(on_running=[record_id])
    thread = threading.Thread(target=canceller)
    thread.start()
    state = top_running(return_state=True)
    thread.join(5)
    assert state.is_cancelled()
    assert "user asked" in state.message
    assert 99 not in started  # nothing new started after the cancel
    time.sleep(0.05)
    assert sorted(finished) == sorted(i for i in started)  # the running ones ended
    assert len(hooks) == 3
    with pytest.raises(CancelledRun):
        state.result()


@pytest.mark.anyio
async def test_cancelling_an_async_flow_stops_its_async_tasks_at_their_next_await() -> None:
    # No bound on elapsed time: each task waits far longer than the test's
    # timeout, so the flow ends only if the cancel interrupts their awaits,
    # and each one records that it was interrupted there.
    started: list[int] = []
    interrupted: list[int] = []
    reached = []

    @task
    async def slow(i: int) -> int:
        started.append(i)
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            interrupted.append(i)
            raise
        reached.append(i)
        return i

    @flow
    async def f() -> list:
        futures = slow.map(range(3))
        return await futures.result_async()

    async def cancel_once_all_wait() -> None:
        while len(started) < 3:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0)  # they are at their await now
        cancel_flow_run(_running_flow_ids()[0])

    canceller = asyncio.create_task(cancel_once_all_wait())
    state = await f(return_state=True)
    await canceller
    assert state.is_cancelled()
    assert sorted(interrupted) == [0, 1, 2]
    assert reached == []


def _running_flow_ids() -> list:
    from headwater._private import cancellation

    return list(cancellation._scopes)  # type: ignore[attr-defined]


def test_get_run_context_is_available_to_hooks() -> None:
    @flow
    def f() -> str:
        return get_run_context().flow_run.name

    assert f()
