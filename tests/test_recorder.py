"""The recorder batches run records off the hot path and survives a failing transport."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from headwater import flow, get_run_logger, task
from headwater._private import recording
from headwater._private.recording import Recorder
from headwater._private.recording.recorder import FLOW_RUN, TASK_RUN
from recording_helpers import active


class MemoryTransport:
    """A transport that stores batches, and can be told to fail."""

    def __init__(self) -> None:
        self.batches: list[dict[str, Any]] = []
        self.failing = False
        self.lock = threading.Lock()

    async def send(self, batch: dict[str, Any]) -> None:
        if self.failing:
            raise ConnectionError("server down")
        json.dumps(batch)  # batches must be plain JSON
        with self.lock:
            self.batches.append(batch)

    async def close(self) -> None:
        pass

    def column(self, table: str, name: str) -> list[Any]:
        return [row.get(name) for row in self.rows(table)]

    def rows(self, table: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for b in self.batches:
            part = b[table]
            if isinstance(part, dict):  # columns: one list per field
                out.extend(dict(zip(part, values, strict=True))
                           for values in zip(*part.values(), strict=True))
            else:
                out.extend(part)
        return out


@pytest.fixture
def transport() -> Iterator[MemoryTransport]:
    mem = MemoryTransport()

    async def factory() -> MemoryTransport:
        return mem

    with recording_to(mem, interval=0.05):
        yield mem


@task
def double(x: int) -> int:
    get_run_logger().info("doubling %s", x)
    return 2 * x


def test_every_run_and_state_is_recorded_when_the_flow_returns(transport) -> None:
    @flow
    def mapped(n: int) -> int:
        return sum(double.map(range(n)).result())

    state = mapped(50, return_state=True)
    assert state.result() == 2 * sum(range(50))
    flow_runs = transport.rows("flow_runs")
    assert [r["id"] for r in flow_runs] == [str(state.state_details.flow_run_id)]
    task_ids = transport.column("task_runs", "id")
    assert len(task_ids) == len(set(task_ids)) == 50
    # Full history per task run: Pending, Running, Completed.
    by_run: dict[str, list[str]] = {}
    for run_id, name in zip(transport.column("states", "run_id"),
                            transport.column("states", "name"), strict=True):
        by_run.setdefault(run_id, []).append(name)
    assert all(by_run[t] == ["Pending", "Running", "Completed"] for t in task_ids)
    assert by_run[flow_runs[0]["id"]] == ["Pending", "Running", "Completed"]
    # Logs travel with their runs, carrying the run ids.
    logs = [r for r in transport.rows("logs") if r["message"].startswith("doubling")]
    assert len(logs) == 50
    assert {r["task_run_id"] for r in logs} == set(task_ids)


def test_retries_record_the_whole_history(transport) -> None:
    attempts = []

    @task(retries=2)
    def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise ValueError("not yet")
        return "ok"

    @flow
    def f() -> str:
        return flaky()

    assert f() == "ok"
    names = transport.column("states", "name")
    kinds = transport.column("states", "run_kind")
    task_states = [n for n, k in zip(names, kinds, strict=True) if k == "task"]
    assert task_states == ["Pending", "Running", "AwaitingRetry", "Retrying", "AwaitingRetry",
                           "Retrying", "Completed"]
    assert len(attempts) == 3


def test_a_failing_transport_does_not_fail_runs_and_catches_up(transport, run_logs) -> None:
    recording.ACTIVE.flush(5)  # type: ignore[union-attr]
    transport.batches.clear()
    transport.failing = True

    @flow
    def f() -> int:
        return double(21)

    assert f() == 42
    assert f() == 42
    warnings = {id(r) for r in run_logs.records if "Could not record runs" in r.getMessage()}
    assert len(warnings) == 1  # said once, not per batch
    assert transport.batches == []
    transport.failing = False
    recording.ACTIVE.flush(5)  # type: ignore[union-attr]
    assert len(transport.rows("flow_runs")) == 2


def test_buffer_spills_to_files_and_ships_them_in_order(tmp_path: Path) -> None:
    mem = MemoryTransport()
    mem.failing = True

    async def factory() -> MemoryTransport:
        return mem

    recorder = Recorder(factory, interval=0.05, max_buffered=1, spool_dir=tmp_path / "spool")
    with active(recorder):
        @flow
        def f(i: int) -> int:
            return double(i)

        for i in range(3):
            assert f(i) == 2 * i
        spilled = list((tmp_path / "spool").glob("*.json"))
        assert spilled, "records over the bound go to the spool folder"
        mem.failing = False
        assert recorder.flush(5)
        names = [r["parameters"]["i"] for r in mem.rows("flow_runs")]
        assert names == [0, 1, 2]
        assert not list((tmp_path / "spool").glob("*.json"))


def test_recording_off_costs_nothing_and_records_nothing(tmp_path: Path) -> None:
    from headwater.settings import temporary_settings

    @flow
    def f() -> int:
        return double(1)

    recording.deactivate()
    recording._configured_from = None  # as at start-up: the settings choose
    with temporary_settings(HEADWATER_API_ENABLE_RECORDING="false",
                            HEADWATER_HOME=str(tmp_path)):
        assert f() == 2
        assert recording.ACTIVE is None
    assert not (tmp_path / "headwater.db").exists()


class StagedTransport(MemoryTransport):
    """A transport with the two-step interface (stage, then send_staged), slow to write."""

    def __init__(self) -> None:
        super().__init__()
        self.staged: list[tuple[Any, ...]] = []  # items stored through send_staged
        self.fail_next_staged = False
        self.writing = threading.Event()

    def stage(self, items: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        return list(items)

    async def send_staged(self, staged: list[tuple[Any, ...]]) -> None:
        import asyncio

        self.writing.set()
        try:
            await asyncio.sleep(0.05)  # a write in flight while the next batch is staged
            if self.fail_next_staged:
                self.fail_next_staged = False
                raise ConnectionError("disk full")
            with self.lock:
                self.staged.extend(staged)
        finally:
            self.writing.clear()

    def count(self, kind: int, table: str) -> int:
        """Records of one kind stored through either path."""
        return sum(1 for item in self.staged if item[0] == kind) + len(self.rows(table))


@contextlib.contextmanager
def recording_to(transport: MemoryTransport, **options: float) -> Iterator[Recorder]:
    """A recorder over ``transport``, active for the block, then closed."""
    async def factory() -> MemoryTransport:
        return transport

    with active(Recorder(factory, **{"interval": 0.005, **options})) as recorder:
        yield recorder


def test_flush_waits_for_the_write_in_flight() -> None:
    mem = StagedTransport()
    with recording_to(mem):
        @flow
        def f(n: int) -> int:
            return sum(double.map(range(n)).result())

        assert f(50) == 2450
        # When the flow returns, its records are written, not merely staged.
        assert not mem.writing.is_set()
        assert mem.count(FLOW_RUN, "flow_runs") == 1
        assert mem.count(TASK_RUN, "task_runs") == 50
        assert mem.batches == []  # all went the staged way


def test_a_failed_staged_write_is_sent_again_in_the_api_shape_once(run_logs) -> None:
    mem = StagedTransport()
    mem.fail_next_staged = True
    with recording_to(mem) as recorder:
        @flow
        def f(i: int) -> int:
            return double(i)

        assert f(7) == 14
        assert recorder.flush(5)
        assert f(8) == 16
        assert recorder.flush(5)
        # The failed batch went through ``send`` in the API's shape once the
        # transport answered again; every record is stored exactly once.
        assert mem.batches, "the failed batch was resent as JSON"
        assert mem.count(FLOW_RUN, "flow_runs") == 2
        assert mem.count(TASK_RUN, "task_runs") == 2
        assert any("Could not record runs" in r.getMessage() for r in run_logs.records)


def test_the_transport_tidies_up_once_per_quiet_period() -> None:
    import time

    class Tidy(MemoryTransport):
        idles = 0

        async def idle(self) -> None:
            self.idles += 1

    mem = Tidy()

    with recording_to(mem, interval=0.002, idle_interval=0.02):
        @flow
        def f(i: int) -> int:
            return double(i)

        def wait_for(n: int) -> None:
            deadline = time.monotonic() + 30  # a hang guard, not a timing claim
            while mem.idles < n and time.monotonic() < deadline:
                time.sleep(0.01)

        f(1)
        wait_for(1)
        time.sleep(0.2)  # many quiet looks at the queue, one tidy-up
        assert mem.idles == 1
        f(2)
        wait_for(2)
        assert mem.idles == 2


def test_a_batch_the_transport_cannot_stage_still_arrives(run_logs) -> None:
    class Broken(StagedTransport):
        def stage(self, items: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
            raise ValueError("cannot stage this")

    mem = Broken()
    with recording_to(mem) as recorder:
        @flow
        def f(i: int) -> int:
            return double(i)

        assert f(3) == 6
        assert recorder.flush(5)
        # Sent in the API's shape instead; the recorder's thread lives on.
        assert mem.count(TASK_RUN, "task_runs") == 1
        assert f(4) == 8
        assert mem.count(FLOW_RUN, "flow_runs") == 2
        assert any("Could not prepare a batch" in r.getMessage() for r in run_logs.records)
