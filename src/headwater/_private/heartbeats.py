"""Heartbeats: this process tells its target, now and then, that its flow runs still run.

Every recorded flow run (top-level and subflow runs alike, from ``python
myflow.py``, ``serve`` or a worker) is registered here when it starts
(:func:`beat_for`, the one place that decides whether a run gets
heartbeats) and forgotten when it ends (:func:`forget`). Registering costs
a dictionary entry and one queued record:

- the run's first heartbeat, its liveness row (host, pid and process start
  token, :func:`~headwater._private.storage.processes.process_identity`,
  computed once per process), goes with the run's own records in the
  recorder's batch: the same SQLite transaction as the run's creation, or
  the same ``POST /api/records/batch`` request. A zombie check on this host
  knows from then on when the process is gone, and starting a run costs no
  write of its own;
- then one task on the background loop (no thread of its own, started once
  per process, parked while no run is live) sends, every
  ``HEADWATER_FLOW_RUN_HEARTBEAT_SECONDS`` (30; 0 turns heartbeats off), one
  heartbeat for all the live runs of each target at once: one statement on
  an embedded SQLite database (through the storage core,
  :mod:`~headwater._private.storage.liveness_sqlite`, on the io thread), one
  ``POST /api/flow_runs/heartbeat`` to a server (stamped with the server's
  time, so clocks of other hosts do not matter). A check anywhere calls a
  run dead after
  :data:`~headwater._private.storage.liveness_rules.MISSED_HEARTBEATS`
  missed ones.

A heartbeat that fails is tried again at the next one. A run that ends is
dropped from the registry at once; a heartbeat already on its way for it
changes nothing once its final state is stored (the store ignores
heartbeats of final runs).

Time comes from the clock of the context that registered the latest run
(`headwater._private.clock`), so a test drives the heartbeats with a
``FakeClock`` and :func:`tick`.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import logging
import os
import sqlite3
import threading
import uuid
from typing import TYPE_CHECKING, Any, Protocol

from headwater._private import background
from headwater._private.clock import SYSTEM_CLOCK, Clock, get_clock
from headwater._private.storage.processes import process_identity

if TYPE_CHECKING:
    from headwater._private.target import Target

__all__ = ["beat_for", "beating", "forget", "process_identity", "send_beats", "tick"]

_logger = logging.getLogger("headwater.heartbeats")
_lock = threading.Lock()
_runs: dict[uuid.UUID, Target] = {}  # the live runs: run id -> its target
_clock: Clock = SYSTEM_CLOCK  # the clock of the latest registration
_service: concurrent.futures.Future[None] | None = None  # the one task, once started
_parked = True  # the task waits for a run (no timeout): a registration must wake it
_ticks: list[concurrent.futures.Future[int]] = []  # tick() calls waiting for a look
_wake = background.Waker()


class Records(Protocol):
    """Where a starting run's liveness row is queued: the recorder (a layer above this one)."""

    def flow_run_live(self, run_id: uuid.UUID, interval: float) -> None:
        """Queue the run's liveness row with its records."""
        ...


def beat_for(flow_run_id: uuid.UUID, target: Target, recorder: Records) -> None:
    """Register a recorded flow run that starts: its liveness row, then heartbeats until `forget`.

    The one place that decides whether a run gets heartbeats (a switch that
    turns them off for some runs belongs here). Called just before the
    run's creation (or first state) is queued, so its liveness row goes in
    the same batch.
    """
    global _service, _clock
    interval = target.heartbeat_interval
    if interval <= 0:
        return
    recorder.flow_run_live(flow_run_id, interval)
    clock = get_clock()
    with _lock:
        _runs[flow_run_id] = target
        same_clock, _clock = clock is _clock, clock
        if _service is None or _service.done():
            _service = background.spawn(_serve, "heartbeats")
        elif not _parked and same_clock:
            return  # the task is counting down to the next heartbeat already
    _wake.set()


def forget(flow_run_id: uuid.UUID) -> None:
    """Stop the heartbeats of a flow run (it ended); idempotent."""
    with _lock:
        _runs.pop(flow_run_id, None)


def beating() -> list[uuid.UUID]:
    """The runs heartbeats are sent for (for tests and tools)."""
    with _lock:
        return list(_runs)


def tick(timeout: float = 30.0) -> int:
    """Have the heartbeat task look at its clock now; return how many heartbeats it sent.

    For tests that move a ``FakeClock``: the task sends the heartbeats that
    are due by that clock (one per target), then this returns. Not from the
    background loop's thread.
    """
    answer: concurrent.futures.Future[int] = concurrent.futures.Future()
    with _lock:
        if _service is None or _service.done():
            return 0
        _ticks.append(answer)
    _wake.set()
    return answer.result(timeout)


async def _serve() -> None:
    """The heartbeat task: one round per interval while runs are live, parked otherwise."""
    global _parked
    senders: dict[Target, _Sender] = {}
    due: float | None = None  # the clock's monotonic time of the next round
    counted_by: Clock | None = None  # the clock ``due`` is a time of
    while True:
        with _lock:
            ticks = _ticks[:]
            del _ticks[:]
            targets = set(_runs.values())
            clock = _clock
            _parked = not targets
        if clock is not counted_by:  # another clock (a test's): count from its now
            due, counted_by = None, clock
        sent = 0
        if not targets:
            due = None
            for sender in senders.values():
                await _close(sender)
            senders.clear()
        else:
            interval = min(t.heartbeat_interval for t in targets)
            now = clock.monotonic()
            if due is None:
                due = now + interval  # the runs' liveness rows went with their records
            elif now >= due:
                sent = await _round(senders, clock)
                due = now + interval
        for answer in ticks:
            if not answer.done():
                answer.set_result(sent)
        await _wake.wait(None if due is None else max(0.0, due - clock.monotonic()))


async def _round(senders: dict[Target, _Sender], clock: Clock) -> int:
    """One heartbeat for every live run, one write per target; return the writes done."""
    by_target: dict[Target, list[uuid.UUID]] = {}
    with _lock:
        for run_id, target in _runs.items():
            by_target.setdefault(target, []).append(run_id)
    sent = 0
    for target, ids in by_target.items():
        sender = senders.get(target)
        if sender is None:
            sender = senders[target] = _sender_for(target)
        try:
            await sender.send(ids, target.heartbeat_interval, clock.now())
        except Exception as exc:  # the next heartbeat tries again
            _logger.debug("Could not send heartbeats to %s: %r", target.where(), exc)
            continue
        sent += 1
    return sent


async def _close(sender: _Sender) -> None:
    try:
        await sender.close()
    except Exception as exc:
        _logger.debug("Closing a heartbeat sender failed: %r", exc)


class _Sender(Protocol):
    """Where one target's heartbeats go: the SQLite file, or the API."""

    async def send(self, ids: list[uuid.UUID], interval: float,
                   now: dt.datetime) -> list[uuid.UUID]:
        """Beat for ``ids`` at ``now``; return those the store has (not final)."""
        ...

    async def close(self) -> None:
        """Let go of connections."""
        ...


def _sender_for(target: Target) -> _Sender:
    if target.sqlite is not None:
        return _SqliteSender(target)
    return _ApiSender(target)


def send_beats(con: sqlite3.Connection, ids: list[uuid.UUID], interval: float,
               now: dt.datetime) -> list[uuid.UUID]:
    """Store one heartbeat per run on an embedded SQLite database; return the runs stored.

    A run already final stores nothing (its heartbeat changes nothing).
    """
    from headwater._private.storage import liveness_rules as rules
    from headwater._private.storage import liveness_sqlite

    host, pid, token = process_identity()
    beat = rules.Beat(tuple(ids), host, pid, token, interval, now)
    stored: list[uuid.UUID] = liveness_sqlite.run(con, rules.heartbeat(beat))
    return stored


class _SqliteSender:
    def __init__(self, target: Target) -> None:
        assert target.sqlite is not None
        self._path = target.sqlite
        self._con: sqlite3.Connection | None = None

    def _send(self, ids: list[uuid.UUID], interval: float,
              now: dt.datetime) -> list[uuid.UUID]:
        if self._con is None:
            if not self._path.exists():
                return []
            self._con = sqlite3.connect(f"{self._path.absolute().as_uri()}?mode=rw", uri=True,
                                        isolation_level=None, check_same_thread=False)
            self._con.execute("PRAGMA busy_timeout=30000")
            self._con.execute("PRAGMA synchronous=NORMAL")  # as the recorder (WAL)
        try:
            return send_beats(self._con, ids, interval, now)
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):  # the recorder has not created the schema yet
                return []
            raise

    async def send(self, ids: list[uuid.UUID], interval: float,
                   now: dt.datetime) -> list[uuid.UUID]:
        return await background.run_blocking(self._send, ids, interval, now)

    async def close(self) -> None:
        con, self._con = self._con, None
        if con is not None:
            await background.run_blocking(con.close)


class _ApiSender:
    def __init__(self, target: Target) -> None:
        self._target = target
        self._client: Any = None

    async def send(self, ids: list[uuid.UUID], interval: float,
                   now: dt.datetime) -> list[uuid.UUID]:
        # ``now`` is not sent: the server stamps heartbeats with its own clock.
        if self._client is None:
            self._client = self._target.client(timeout=10.0, retries=0)
        host, pid, token = process_identity()
        stored = await self._client.send_flow_run_heartbeats(
            ids, host=host, pid=pid, process_start=token, interval=interval)
        return [uuid.UUID(str(i)) for i in stored]

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


def _after_fork() -> None:
    """A forked child runs none of its parent's flow runs (and has no background loop yet)."""
    global _lock, _service, _wake, _parked, _clock
    _lock = threading.Lock()
    _runs.clear()
    _ticks.clear()
    _service = None
    _parked = True
    _clock = SYSTEM_CLOCK
    _wake = background.Waker()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
