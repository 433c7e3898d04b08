"""Heartbeats: this process tells its target, now and then, that its flow runs still run.

Every recorded flow run (top-level and subflow runs alike, from ``python
myflow.py``, ``serve`` or a worker) is registered here when it starts and
forgotten when it ends. One task on the background loop (no thread of its
own) sends, for all of them at once:

- a first heartbeat as soon as a run is registered: it records the run's
  host, pid and process start token (:mod:`~headwater._private.storage.processes`),
  so a zombie check on this host knows at once when the process is gone;
- then one every ``HEADWATER_FLOW_RUN_HEARTBEAT_SECONDS`` (30; 0 turns
  heartbeats off), so a check anywhere calls the run dead after
  :data:`~headwater._private.storage.liveness_rules.MISSED_HEARTBEATS`
  missed ones.

Embedded mode on SQLite writes through the storage core
(:mod:`~headwater._private.storage.liveness_sqlite`, on the io thread); a
server gets ``POST /api/flow_runs/heartbeat`` (one request for all the
runs; the server stamps its own time, so clocks of other hosts do not
matter). A heartbeat that fails is tried again at the next one; one for a
run the target does not know yet (its records are still on their way) is
repeated a second later. The task ends at its first wake-up with no run
left, like the flow-run watcher.
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

if TYPE_CHECKING:
    from headwater._private.target import Target

__all__ = ["beat_for", "forget", "process_identity", "send_beats"]

_logger = logging.getLogger("headwater.heartbeats")
_lock = threading.Lock()
_runs: dict[uuid.UUID, tuple[Target, float]] = {}  # run id -> (target, interval)
_confirmed: set[uuid.UUID] = set()  # runs whose first heartbeat was stored
_service: concurrent.futures.Future[None] | None = None
_wake = background.Waker()
_RETRY_SECONDS = 1.0  # a first heartbeat not stored yet is tried again this soon


def process_identity() -> tuple[str, int, str | None]:
    """This process's host, pid and start token."""
    from headwater._private.storage.processes import local_host, process_start_token

    pid = os.getpid()
    return local_host(), pid, process_start_token(pid)


def beat_for(flow_run_id: uuid.UUID, target: Target) -> None:
    """Send heartbeats for a recorded flow run until `forget` (the first one at once)."""
    global _service
    interval = target.heartbeat_interval
    if interval <= 0:
        return
    with _lock:
        _runs[flow_run_id] = (target, interval)
        if _service is None:
            _service = background.spawn(_serve, "heartbeats")
    _wake.set()


def forget(flow_run_id: uuid.UUID) -> None:
    """Stop the heartbeats of a flow run (it ended); idempotent."""
    with _lock:
        _runs.pop(flow_run_id, None)
        _confirmed.discard(flow_run_id)


def beating() -> list[uuid.UUID]:
    """The runs heartbeats are sent for (for tests and tools)."""
    with _lock:
        return list(_runs)


async def _serve() -> None:
    global _service
    senders: dict[Target, _Sender] = {}
    try:
        while True:
            with _lock:
                if not _runs:
                    _service = None  # under the lock: beat_for() starts a new task after this
                    return
                by_target: dict[Target, list[uuid.UUID]] = {}
                for run_id, (target, _interval) in _runs.items():
                    by_target.setdefault(target, []).append(run_id)
                interval = min(i for _t, i in _runs.values())
            for target, ids in by_target.items():
                sender = senders.get(target)
                if sender is None:
                    sender = senders[target] = _sender_for(target)
                try:
                    stored = await sender.send(ids, target.heartbeat_interval)
                except Exception as exc:  # the next heartbeat tries again
                    _logger.debug("Could not send heartbeats to %s: %r", target.where(), exc)
                    continue
                with _lock:
                    _confirmed.update(i for i in stored if i in _runs)
            with _lock:
                pending = any(i not in _confirmed for i in _runs)
            await _wake.wait(min(interval, _RETRY_SECONDS) if pending else interval)
    finally:
        for sender in senders.values():
            await _close(sender)


async def _close(sender: _Sender) -> None:
    try:
        await sender.close()
    except Exception as exc:
        _logger.debug("Closing a heartbeat sender failed: %r", exc)


class _Sender(Protocol):
    """Where one target's heartbeats go: the SQLite file, or the API."""

    async def send(self, ids: list[uuid.UUID], interval: float) -> list[uuid.UUID]:
        """Beat for ``ids``; return those the store has (recorded runs)."""
        ...

    async def close(self) -> None:
        """Let go of connections."""
        ...


def _sender_for(target: Target) -> _Sender:
    if target.sqlite is not None:
        return _SqliteSender(target)
    return _ApiSender(target)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


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

    def _send(self, ids: list[uuid.UUID], interval: float) -> list[uuid.UUID]:
        if self._con is None:
            if not self._path.exists():
                return []
            self._con = sqlite3.connect(f"{self._path.absolute().as_uri()}?mode=rw", uri=True,
                                        isolation_level=None, check_same_thread=False)
            self._con.execute("PRAGMA busy_timeout=30000")
            self._con.execute("PRAGMA synchronous=NORMAL")  # as the recorder (WAL)
        try:
            return send_beats(self._con, ids, interval, _utc_now())
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):  # the recorder has not created the schema yet
                return []
            raise

    async def send(self, ids: list[uuid.UUID], interval: float) -> list[uuid.UUID]:
        return await background.run_blocking(self._send, ids, interval)

    async def close(self) -> None:
        con, self._con = self._con, None
        if con is not None:
            await background.run_blocking(con.close)


class _ApiSender:
    def __init__(self, target: Target) -> None:
        self._target = target
        self._client: Any = None

    async def send(self, ids: list[uuid.UUID], interval: float) -> list[uuid.UUID]:
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
    """A forked child runs none of its parent's flow runs."""
    global _lock, _service, _wake
    _lock = threading.Lock()
    _runs.clear()
    _confirmed.clear()
    _service = None
    _wake = background.Waker()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)

