"""Concurrency limits through the API: slots shared by processes, leases that expire.

Processes share the embedded SQLite database of one ``HEADWATER_HOME`` (with
``HEADWATER_API_ENABLE_RECORDING`` on), so these tests start real
subprocesses: tag limits hold across them, and a process killed with
SIGKILL frees its slots when its lease expires, not before. The children
take slots in the file directly (embedded mode's default); this process
takes them through the embedded API or directly (``backend`` runs both).
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from concurrency_helpers import (
    WORKER,
    CountingTransport,
    child_env,
    make_backend,
    max_overlap,
    spawn,
)
from headwater import cancel_flow_run, flow, get_run_context, task
from headwater._private.concurrency import (
    get_slot_manager,
    remote,
    reset_slot_manager,
    use_slot_manager,
)
from headwater._private.concurrency.remote import APIConcurrencyBackend
from headwater.concurrency import concurrency
from headwater.exceptions import AcquireConcurrencySlotTimeoutError


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture(params=["api", "direct"])
def backend(request: pytest.FixtureRequest, home: Path) -> Iterator[APIConcurrencyBackend]:
    """This process's backend: slots through the embedded API, or in the file directly."""
    backend = make_backend(home, lease_duration=1.0, direct=request.param == "direct")
    with use_slot_manager(backend):
        yield backend
    backend.close()


@pytest.mark.slow
def test_tag_limit_holds_across_processes(tmp_path: Path, home: Path,
                                          backend: APIConcurrencyBackend) -> None:
    backend.set_limit("tag:db", 2)
    log = tmp_path / "runs.log"
    children = [spawn(tmp_path, home, WORKER, str(log), "5", "0.15") for _ in range(3)]
    for child in children:
        _, err = child.communicate(timeout=50)
        assert child.returncode == 0, err
    lines = log.read_text().splitlines()
    assert len(lines) == 15 and len({line.split()[0] for line in lines}) == 3
    assert max_overlap(lines) == 2
    status = backend.read_limit("tag:db")
    assert status is not None and status.active_slots == 0


HOLDER = """
    import time
    from headwater.concurrency import concurrency

    with concurrency("res"):
        print("held", flush=True)
        time.sleep(50)
"""


@pytest.mark.slow
def test_a_killed_process_frees_its_slot_when_its_lease_expires(
        tmp_path: Path, home: Path, backend: APIConcurrencyBackend) -> None:
    backend.set_limit("res", 1)
    child = spawn(tmp_path, home, HOLDER, lease_duration=1.0)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        # A live holder renews its 1 s lease: the slot stays taken well past it.
        with pytest.raises(AcquireConcurrencySlotTimeoutError):
            backend.acquire(["res"], timeout=1.6)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.communicate(timeout=10)  # reaps it and closes the pipes
    killed = time.monotonic()
    lease = backend.acquire(["res"], timeout=10)
    waited = time.monotonic() - killed
    assert lease is not None
    # Last renewal <= 1/3 s before the kill: the slot stays taken until the
    # lease expires, 0.67-1 s after it (how long after that is the machine's speed).
    assert waited >= 0.5, waited
    lease.release()


def test_a_freed_slot_is_picked_up_fast_in_process(backend: APIConcurrencyBackend,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # Retries a minute apart: only the release itself can wake the waiter in time.
    monkeypatch.setattr(remote, "MIN_BACKOFF", 60.0)
    monkeypatch.setattr(remote, "MAX_BACKOFF", 60.0)
    backend.set_limit("w", 1)
    held = backend.acquire(["w"])
    assert held is not None
    got: list[bool] = []

    def waiter() -> None:
        lease = backend.acquire(["w"], timeout=30)
        got.append(lease is not None)
        assert lease is not None
        lease.release()

    thread = threading.Thread(target=waiter)
    thread.start()
    time.sleep(0.3)  # let it queue (if it has not, it takes the free slot: no harm)
    held.release()
    thread.join(30)
    assert got == [True]


def test_slots_are_released_when_a_task_fails(backend: APIConcurrencyBackend) -> None:
    backend.set_limit("tag:db", 1)

    @task(tags=["db"])
    def boom() -> None:
        raise ValueError("no")

    @flow
    def f() -> None:
        for _ in range(3):
            boom(return_state=True)

    assert f(return_state=True).is_failed()
    status = backend.read_limit("tag:db")
    assert status is not None and status.active_slots == 0


@pytest.mark.anyio
async def test_slots_are_released_when_the_flow_run_is_cancelled(
        backend: APIConcurrencyBackend) -> None:
    backend.set_limit("tag:db", 1)
    started: list[int] = []
    ids: list[Any] = []

    @task(tags=["db"])
    async def slow(i: int) -> int:
        started.append(i)
        await asyncio.sleep(5)
        return i

    @flow
    async def f() -> list[int]:
        ids.append(get_run_context().flow_run.id)  # type: ignore[union-attr]
        return await slow.map(range(3)).result_async()

    async def cancel_soon() -> None:
        while not started:
            await asyncio.sleep(0.01)
        cancel_flow_run(ids[0])

    canceller = asyncio.create_task(cancel_soon())
    state = await f(return_state=True)
    await canceller
    assert state.is_cancelled()
    status = await asyncio.to_thread(backend.read_limit, "tag:db")
    assert status is not None and status.active_slots == 0 and status.waiting == 0


def test_a_grant_in_flight_for_a_request_given_up_is_not_counted(home: Path) -> None:
    # A waiter gives up (timeout, cancelled run) while the API is granting it
    # slots: the grant goes back at once, and this process's own reads of the
    # limit wait for that rather than count the slots as held.
    counter: list[CountingTransport] = []
    backend = make_backend(home, counter=counter)
    try:
        backend.set_limit("tag:db", 1)
        first = backend.acquire(["tag:db"])
        assert first is not None
        gave_up = threading.Event()

        def waiter() -> None:
            with pytest.raises(AcquireConcurrencySlotTimeoutError):
                backend.acquire(["tag:db"], timeout=0.5)
            gave_up.set()

        thread = threading.Thread(target=waiter)
        thread.start()
        time.sleep(0.1)  # queued, and told "not yet" once
        (transport,) = counter
        transport.holding = True
        first.release()  # the waiter's next try is granted; the answer is held
        assert transport.held.wait(5)
        thread.join(5)
        assert gave_up.is_set()
        threading.Timer(0.2, setattr, (transport, "holding", False)).start()
        status = backend.read_limit("tag:db")
        assert status is not None and (status.active_slots, status.holders) == (0, ())
    finally:
        backend.close()


def test_async_acquire_and_timeout(backend: APIConcurrencyBackend) -> None:
    backend.set_limit("w", 1)

    async def main() -> None:
        async with concurrency("w"):
            with pytest.raises(AcquireConcurrencySlotTimeoutError):
                async with concurrency("w", timeout_seconds=0.2):
                    pass
        async with concurrency("w", timeout_seconds=1):
            pass

    asyncio.run(main())
    status = backend.read_limit("w")
    assert status is not None and status.active_slots == 0 and status.waiting == 0


def test_names_without_a_limit_cost_no_api_call(home: Path) -> None:
    counters: list[CountingTransport] = []
    backend = make_backend(home, counter=counters)

    @task(tags=["db", "io"])
    def work(i: int) -> int:
        with concurrency("nothing"):
            return i

    @flow
    def f() -> int:
        return sum(work.map(range(50)).result())

    try:
        with use_slot_manager(backend):
            assert f() == sum(range(50))
        # One read of the limit list (cached for a second), no slot taken.
        assert counters[0].paths == Counter({"/api/concurrency_limits/status": 1})
    finally:
        backend.close()


def test_the_api_backend_is_the_default_when_recording_is_on(
        home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in child_env(home).items():
        # Not the logging level: the CLI applies it to this process's logging.
        if key.startswith("HEADWATER_") and key != "HEADWATER_LOGGING_LEVEL":
            monkeypatch.setenv(key, value)
    reset_slot_manager()
    try:
        assert isinstance(get_slot_manager(), APIConcurrencyBackend)
        monkeypatch.setenv("HEADWATER_API_ENABLE_RECORDING", "false")
        assert not isinstance(get_slot_manager(), APIConcurrencyBackend)
    finally:
        reset_slot_manager()


def test_the_cli_manages_limits_through_the_api(home: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from headwater.cli import app

    for key in list(os.environ):
        if key.startswith("HEADWATER_"):
            monkeypatch.delenv(key)
    for key, value in child_env(home).items():
        # Not the logging level: the CLI applies it to this process's logging.
        if key.startswith("HEADWATER_") and key != "HEADWATER_LOGGING_LEVEL":
            monkeypatch.setenv(key, value)
    reset_slot_manager()
    runner = CliRunner()

    def cli(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, ["concurrency-limit", *args])
        assert result.exit_code == code, result.output
        return result.output

    try:
        assert "Created concurrency limit for tag 'db': 2" in cli("create", "db", "2")
        assert "Updated" in cli("create", "db", "3")
        other = make_backend(home)  # another process, same database
        try:
            lease = other.acquire(["tag:db"], holder="run-1")
            assert lease is not None
            shown = cli("inspect", "db")
            assert "concurrency_limit: 3" in shown and "active_slots: 1" in shown
            assert "run-1" in shown and "db" in cli("ls")
            assert "every slot is free" in cli("reset", "db")
            assert "Deleted" in cli("delete", "db")
            assert "No concurrency limit for tag 'db'" in cli("inspect", "db", code=1)
            assert not (home / "concurrency_limits.json").exists()
        finally:
            other.close()
    finally:
        reset_slot_manager()


@pytest.mark.slow
@pytest.mark.parametrize("paths", [("api", "api"), ("direct", "api"), ("direct", "direct")])
def test_two_processes_under_load_never_exceed_the_limit(home: Path,
                                                         paths: tuple[str, str]) -> None:
    # Two backends with their own app and database engine on one file: what
    # two processes are, short of forking (they only learn of each other's
    # releases by asking the API, or reading the file).
    first, second = (make_backend(home, direct=path == "direct") for path in paths)
    first.set_limit("w", 3)
    lock = threading.Lock()
    running, peak, done = [0], [0], [0]

    def worker(backend: APIConcurrencyBackend) -> None:
        for _ in range(10):
            lease = backend.acquire(["w"], timeout=30)
            assert lease is not None
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            time.sleep(0.03)
            with lock:
                running[0] -= 1
                done[0] += 1
            lease.release()

    threads = [threading.Thread(target=worker, args=(b,)) for b in (first, second) * 6]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(40)
        assert done[0] == 120 and peak[0] == 3
        first.read_limit("w")  # waits for its releases to be sent
        status = second.read_limit("w")
        assert status is not None and status.active_slots == 0
    finally:
        first.close()
        second.close()
