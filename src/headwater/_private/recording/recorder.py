"""The recorder: run records leave the hot path as tuples and reach the API in batches.

The engine calls ``flow_run_created``, ``task_run_created`` and ``state_set``;
each appends one small tuple to a deque (well under a microsecond, no lock,
no I/O). A task on the background loop (`headwater._private.background`)
wakes every ``interval`` seconds (or when a flush is asked for), turns what
is queued into one batch in the
``POST /api/records/batch`` shape and hands it to a transport: the embedded
app (SQLite, in process), a remote server, or a test double.

When the transport fails (server down), batches are kept in memory up to a
bound, then spilled to files under ``HEADWATER_HOME/spool``, and shipped in
order once the transport works again; a warning says so once. Nothing the
engine does ever waits on this, except ``flush()`` at the end of a top-level
flow run, which waits (bounded) until everything queued so far is stored.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import concurrent.futures
import contextlib
import json
import logging
import os
import threading
import uuid
import weakref
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from headwater._private import background
from headwater._private.files import write_atomic

if TYPE_CHECKING:
    from headwater._private.run_records import FlowRun, TaskRun
    from headwater._private.states import State

_log = logging.getLogger("headwater.recording")

_EXIT_TIMEOUT = 10.0  # seconds the interpreter's exit waits for records to be stored

# Queue items are tuples whose first element says what they are:
#   (FLOW_RUN, run, name, parameters)
#   (TASK_RUN, id, flow_run_id, task_key, task_name, dynamic_key, name, tags, expected_start)
#   (STATE, run_id, is_task, type, name, message, timestamp, details or None)
#   (LOGS, records)
#   (LIVE, run_id, heartbeat_interval): a flow run starting, whose liveness row
#       (host, pid, process start token) goes with its records: no write of its own
# A run's creation is followed by its first state. Ids are ``UUID.int``, the
# type is the enum's text, tags a tuple, and details only when they carry
# more than run ids. Why: the items wait a few milliseconds for the
# recorder, long enough to outlive a young collection, and an item holding
# a UUID, a State or a frozenset keeps it alive with it; thousands of those
# made Python's collector run a full collection of the whole heap every
# thousand task runs or so (~10 ms each). Tuples of ints, strings and
# datetimes are dropped from the collector's books at its first look.
FLOW_RUN, TASK_RUN, STATE, LOGS, LIVE = 0, 1, 2, 3, 4


class _Marker:
    """A flush marker an event loop can await: set once everything queued before it is stored."""

    __slots__ = ("future",)

    def __init__(self) -> None:
        self.future: concurrent.futures.Future[None] = concurrent.futures.Future()

    def set(self) -> None:
        if not self.future.done():
            self.future.set_result(None)


def has_details(details: Any) -> bool:
    """Whether state details carry more than run ids (most do not)."""
    return (details.scheduled_time is not None or details.cache_key is not None
            or details.pause_timeout is not None or details.retriable is not None
            or details.result_record is not None)


class Transport(Protocol):
    """Where batches go. ``send`` raises on failure; the recorder keeps the batch.

    A transport may also take the queued tuples themselves, in two steps:
    ``stage(items)`` (plain CPU work, run in the recorder's thread) and
    ``send_staged(staged)`` (the I/O). The recorder stages the next batch
    (on the background loop) while the previous one is being written (on the
    io thread), so a transport whose I/O releases the GIL (SQLite) overlaps
    the two. Without them, items are
    turned into the API's JSON shape for ``send``.
    """

    async def send(self, batch: dict[str, Any]) -> None:
        """Store one batch (idempotently: a batch may be sent again after a failure)."""

    async def close(self) -> None:
        """Release connections."""


class _Staged:
    """A batch staged by its transport, with its items kept for a retry in the API's shape."""

    __slots__ = ("items", "staged")

    def __init__(self, items: list[tuple[Any, ...]], staged: Any) -> None:
        self.items = items
        self.staged = staged


_Batch = list[tuple[Any, ...]] | dict[str, Any] | _Staged


class Recorder:
    """Batches run records on the background loop and ships them through a transport.

    Args:
        transport_factory: Builds the transport on the background loop (so an
            API client, or an embedded app, lives on that loop).
        interval: Seconds between batches while records keep coming. When a
            wake finds nothing, the wait doubles, up to ``idle_interval``; a
            new flow run wakes the recorder at once.
        idle_interval: The longest wait between two looks at the queue.
        max_buffered: Records kept in memory while the transport fails;
            beyond that, batches are spilled to ``spool_dir``.
        spool_dir: Where spilled batches go (one JSON file each).
    """

    def __init__(self, transport_factory: Callable[[], Awaitable[Transport]], *,
                 interval: float = 0.2, idle_interval: float = 1.0,
                 max_buffered: int = 200_000,
                 spool_dir: Path | None = None) -> None:
        self._factory = transport_factory
        self._interval = interval
        self._idle_interval = max(interval, idle_interval)
        self._max_buffered = max_buffered
        self._spool_dir = spool_dir
        self._queue: collections.deque[Any] = collections.deque()
        # Batches not stored yet, oldest first: queued items (maybe staged), or
        # API-shaped JSON once a send failed.
        self._pending: list[_Batch] = []
        self._round: asyncio.Future[None] | None = None  # the sends in flight
        self._pending_records = 0
        self._warned = False
        self._warned_set_aside = False
        self.records_set_aside = 0  # refused for what they hold, kept aside alone
        self.records_spooled = 0  # written to the spool by this process
        self._failing = False
        self._service: concurrent.futures.Future[Any] | None = None  # the loop task, once started
        self._waker = background.Waker()
        self._start_lock = threading.Lock()
        self._closed = False
        self.batches_sent = 0
        _LIVE.add(self)

    def _forget_parent(self) -> None:
        """Start afresh in a forked child (called by the ``fork`` hook below).

        The parent's background loop and database connection do not exist
        here (using an inherited SQLite connection corrupts databases), and
        what it had queued is the parent's to store: storing it here too would
        store it twice. The child's own runs start the recorder again.
        """
        self._queue = collections.deque()
        self._pending = []
        self._pending_records = 0
        self._round = None
        self._service = None
        self._waker = background.Waker()
        self._start_lock = threading.Lock()  # it may have been held at the fork
        self._failing = False

    # ------------------------------------------------------------------ hot path
    def flow_run_created(self, run: FlowRun) -> None:
        """Queue the creation of a flow run (and its first state)."""
        self._queue.append((FLOW_RUN, run, run.name, dict(run.parameters)))
        if run._state is not None:
            self.state_set(run.id, False, run._state)
        self._ensure_started()
        self._poke()  # the recorder may be in a long idle wait

    def flow_run_adopted(self, run: FlowRun, record_state: bool) -> None:
        """Queue the first state of a flow run stored before (created by a deployment).

        No creation is queued: the stored row is the run, and its new states
        are folded into it by both write paths (``record_statements`` on
        SQLite, the records batch on the API). ``record_state`` is False when
        the stored run is in that state already (claimed Pending).
        """
        if record_state and run._state is not None:
            self.state_set(run.id, False, run._state)
        self._ensure_started()
        self._poke()

    def flow_run_live(self, run_id: uuid.UUID, interval: float) -> None:
        """Queue the liveness row of a flow run starting (see ``heartbeats.beat_for``).

        Queued just before the run's creation (or first state), which wakes
        the recorder: both go in one batch, one transaction.
        """
        self._queue.append((LIVE, run_id.int, interval))

    def task_run_created(self, run: TaskRun) -> None:
        """Queue the creation of a task run (and its first state)."""
        flow_run_id = run._flow_run_id
        self._queue.append((TASK_RUN, run._id.int, flow_run_id.int if flow_run_id else None,
                            run._task_key, run._task_name, run._dynamic_key, run._name,
                            tuple(run._tags) if run._tags else (), run._expected_start_time))
        if run._state is not None:
            self.state_set(run._id, True, run._state)
        if self._service is None:
            self._ensure_started()

    def state_set(self, run_id: uuid.UUID, is_task: bool, state: State[Any]) -> None:
        """Queue a state transition of a run."""
        details = state.state_details
        self._queue.append((STATE, run_id.int, is_task, state.type._value_, state.name,
                            state.message, state.timestamp,
                            details if has_details(details) else None))

    def logs(self, records: list[Any]) -> None:
        """Queue log records (dicts in the LogRecordDict shape) for the next batch."""
        self._queue.append((LOGS, records))
        self._ensure_started()

    # ------------------------------------------------------------------ lifecycle
    def _ensure_started(self) -> None:
        if self._service is not None or self._closed:
            return
        with self._start_lock:
            if self._service is None:
                atexit.register(self._at_exit)
                self._service = background.spawn(self._main, "run recorder")

    async def _main(self) -> None:
        transport: Transport | None = None
        wait = self._interval
        busy = False
        while True:
            await self._waker.wait(wait)
            # Streaming while records come (their writes overlap the runs),
            # backing off when idle so an idle process does not spin.
            wait = self._interval if self._queue else min(wait * 2, self._idle_interval)
            if transport is None:
                try:
                    transport = await self._factory()
                except Exception as exc:
                    self._transport_failed(exc)
            if await self._ship(transport):
                busy = True
            elif busy and wait >= self._idle_interval and not self._pending:
                # Quiet for a while: the transport may tidy up (SQLite checkpoints
                # its write-ahead log here rather than in the middle of a flow).
                busy = False
                await self._end_round()
                idle = getattr(transport, "idle", None)
                if idle is not None:
                    with contextlib.suppress(Exception):
                        await idle()
            if self._closed and not self._queue:
                await self._end_round()
                if transport is not None:
                    await transport.close()
                return

    async def _ship(self, transport: Transport | None) -> bool:
        """Drain and stage what is queued, then start sending it once the last round is done.

        Staging (CPU work, here) overlaps the previous round's writes (I/O,
        in the transport); rounds run one at a time, so batches are stored
        in the order they were queued. Returns whether there were records.
        """
        markers: list[_Marker] = []
        batch = self._drain(markers)
        drained = batch is not None
        if batch is not None:
            self._pending_records += _count(batch)
            self._pending.append(self._staged(transport, batch))
        # Queued items hold run objects (and so, for a moment, their results):
        # once stored, nothing here may keep them past the flush it answers.
        del batch
        await self._end_round()
        self._round = asyncio.ensure_future(self._send_round(transport, markers))
        return drained

    def _staged(self, transport: Transport | None, items: list[tuple[Any, ...]]) -> _Batch:
        """``items`` staged by the transport, or as they are (no staging, or it failed).

        Items left as they are go the slow way (``send_items``, or the API's
        JSON shape), whose failures the sending round handles: a staging bug
        must not stop the recorder's thread.
        """
        stage = getattr(transport, "stage", None)
        if stage is None or self._failing:
            return items
        try:
            return _Staged(items, stage(items))
        except Exception:
            _log.exception("Could not prepare a batch of run records; sending it as it is.")
            return items

    async def _end_round(self) -> None:
        round_, self._round = self._round, None
        if round_ is not None:
            try:
                await round_
            except Exception:  # e.g. the spool folder is not writable: keep recording
                _log.exception("A round of run records failed; the recorder goes on.")

    async def _send_round(self, transport: Transport | None,
                          markers: list[_Marker]) -> None:
        try:
            if transport is not None:
                await self._send_pending(transport)
            if self._pending_records > self._max_buffered or (
                    self._failing and self._spool_dir is not None):
                # While the API is unreachable, batches go to disk at once: a
                # short-lived process must not take them with it when it exits.
                self._spill()
        finally:
            for marker in markers:
                marker.set()

    async def _send_pending(self, transport: Transport) -> None:
        try:
            await self._send_spooled(transport)
        except Exception as exc:
            self._transport_failed(exc)
            return
        while self._pending:
            batch = self._pending[0]
            if isinstance(batch, list) and getattr(transport, "send_items", None) is None:
                # Built once and kept: a failed send may have stored part of the
                # batch (runs but not logs), so a retry must carry the same ids.
                batch = self._pending[0] = self._as_json(batch)
            try:
                await _send(transport, batch)
            except Exception as exc:
                as_json = batch if isinstance(batch, dict) else self._as_json(batch)
                # Kept for a retry, maybe on disk: in the API's shape from now on.
                self._pending[0] = as_json
                if not _is_permanent(exc):
                    self._transport_failed(exc)
                    return
                # Refused for what it holds: store what can be stored, set
                # aside alone what cannot (never the whole batch).
                try:
                    await self._store_isolating(transport, as_json)
                except Exception as outage:  # an outage meanwhile: keep the batch, retry
                    self._transport_failed(outage)
                    return
            self._pending_records -= _count(self._pending.pop(0))
            self.batches_sent += 1
        if self._failing:
            self._failing = False
            _log.warning("The headwater API is reachable again; buffered run records were "
                         "shipped.")

    async def _store_isolating(self, transport: Transport, batch: dict[str, Any]) -> None:
        """Store a refused batch unit by unit (`isolation.store_isolating`); raises on an outage."""
        from headwater._private.recording.isolation import store_isolating

        await store_isolating(transport.send, batch, is_permanent=_is_permanent,
                              set_aside=self._set_aside)

    def _set_aside(self, unit: dict[str, Any], refusal: BaseException) -> None:
        """Keep a record the store refused alone, with its reason, and say so (once)."""
        from headwater._private.recording.spool import REJECTED, count_records, entry_name

        count = count_records(unit)
        self.records_set_aside += count
        reason = f"{type(refusal).__name__}: {refusal}"
        where = "it was dropped (no spool folder)"
        if self._spool_dir is not None:
            name = entry_name()
            folder = self._spool_dir / REJECTED
            write_atomic(folder / f"{name}.json", json.dumps(unit))
            write_atomic(folder / f"{name}.reason", reason + "\n")
            where = f"it was set aside in {folder} ('headwater records ls' lists it)"
        level = logging.DEBUG if self._warned_set_aside else logging.ERROR
        self._warned_set_aside = True
        _log.log(level, "A run record could not be stored (%s); %s. The other records of its "
                 "batch were stored.", reason, where)

    def _as_json(self, items: list[tuple[Any, ...]] | _Staged) -> dict[str, Any]:
        """Queued items in the API's shape, with the buffered count kept exact."""
        batch = _json_batch(items.items if isinstance(items, _Staged) else items)
        self._pending_records += _count(batch) - _count(items)
        return batch

    def _transport_failed(self, exc: BaseException) -> None:
        self._failing = True
        if self._warned:
            return
        self._warned = True
        if _is_refused_key(exc):
            _log.warning(
                "The headwater API refused this process's API key (HTTP %s), so runs are not "
                "recorded there. Set HEADWATER_API_KEY to the key the server was started with "
                "(its HEADWATER_SERVER_API_KEY). Runs go on; their records are kept%s and "
                "shipped once the key is accepted.", getattr(exc, "status_code", "?"),
                f" in {self._spool_dir}" if self._spool_dir is not None else " in memory")
            return
        _log.warning(
            "Could not record runs to the headwater API (%s: %s). Runs go on; records are "
            "buffered and shipped when it is back.", type(exc).__name__, exc)

    def _spill(self) -> None:
        if self._spool_dir is None:
            # Without a spool folder, keep the newest records within the bound.
            while self._pending and self._pending_records > self._max_buffered:
                self._pending_records -= _count(self._pending.pop(0))
            return
        from headwater._private.recording.spool import entry_name

        self._spool_dir.mkdir(parents=True, exist_ok=True)
        while self._pending:
            pending = self._pending.pop(0)
            self._pending_records -= _count(pending)
            batch = pending if isinstance(pending, dict) else _json_batch(
                pending.items if isinstance(pending, _Staged) else pending)
            write_atomic(self._spool_dir / f"{entry_name()}.json", json.dumps(batch))
            self.records_spooled += _count(pending)

    async def _send_spooled(self, transport: Transport) -> None:
        """Ship the spool first, in order; an outage raises (stop here, try again next time).

        A batch the API refuses for itself is set aside (``spool/rejected``)
        by `ship_spool`, so it never holds up the ones behind it.
        """
        if self._spool_dir is None:
            return
        from headwater._private.recording.spool import ship_spool

        report = await ship_spool(self._spool_dir, transport)
        if report.error is not None:
            raise report.error

    # ------------------------------------------------------------------ batches
    def _drain(self, markers: list[_Marker]) -> list[tuple[Any, ...]] | None:
        queue = self._queue
        if not queue:
            return None
        items: list[tuple[Any, ...]] = []
        popleft, append = queue.popleft, items.append
        while queue:
            item = popleft()
            if isinstance(item, _Marker):
                markers.append(item)
            else:
                append(item)
        return items or None

    def _flush_marker(self, blocking: bool) -> bool | _Marker:
        """Queue a flush marker and return it, or the answer when there is nothing to wait for.

        A blocking flush on the loop that stores the records cannot wait (it
        would stop that loop): it answers whether everything is stored; an
        async one awaits its marker there like anywhere else.
        """
        if self._service is None and not self._queue:
            return True
        if ((self._closed and (self._service is None or self._service.done()))
                or (blocking and background.in_loop_thread())):
            return not self._queue and not self._pending
        marker = _Marker()
        self._queue.append(marker)
        self._ensure_started()
        self._poke()
        return marker

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Block until every record queued so far is stored (or buffered on failure).

        Returns:
            True when the records were handed over within ``timeout``.
        """
        marker = self._flush_marker(blocking=True)
        if isinstance(marker, bool):
            return marker
        try:
            marker.future.result(timeout)
        except concurrent.futures.TimeoutError:
            return False
        return True

    async def flush_async(self, timeout: float | None = 30.0) -> bool:
        """`flush` for async code: the caller's loop stays free while it waits."""
        marker = self._flush_marker(blocking=False)
        if isinstance(marker, bool):
            return marker
        try:
            await asyncio.wait_for(asyncio.wrap_future(marker.future), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    def _at_exit(self) -> None:
        # The loop's thread is a daemon: hand over (or spill) what is queued
        # before the interpreter stops it.
        if not self._closed:
            self.flush(_EXIT_TIMEOUT)
        from headwater._private.recording.spool import report_left_at_exit

        report_left_at_exit(self._spool_dir, self.records_spooled, self._pending_records)

    def _poke(self) -> None:
        self._waker.set()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called (records queued now would never be stored)."""
        return self._closed

    def close(self, timeout: float | None = 10.0) -> None:
        """Flush, then end the recorder's task and close its transport (idempotent)."""
        if not self._closed:
            self.flush(timeout)
            self._closed = True
            self._poke()
        service = self._service
        if service is not None and not background.in_loop_thread():
            with contextlib.suppress(Exception):  # logged by the loop when it failed
                service.result(timeout)


_LIVE: weakref.WeakSet[Recorder] = weakref.WeakSet()


def _after_fork() -> None:
    for recorder in list(_LIVE):
        recorder._forget_parent()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def _is_refused_key(exc: BaseException) -> bool:
    """The API refused the key (401/403): the records are fine, the key is wrong."""
    return getattr(exc, "status_code", None) in (401, 403)


def _is_permanent(exc: BaseException) -> bool:
    """The store refused the batch itself: sending it again cannot help (see `is_refusal`).

    Not an outage (no answer, 5xx, 408, 429) and not a refused key (401,
    403): those keep the batch, since a fixed key or a server back up
    stores it as it is.
    """
    from headwater._private.recording.spool import is_refusal

    return is_refusal(exc)


async def _send(transport: Transport, batch: _Batch) -> None:
    if isinstance(batch, dict):
        await transport.send(batch)
    elif isinstance(batch, _Staged):
        await transport.send_staged(batch.staged)  # type: ignore[attr-defined]
    elif (send_items := getattr(transport, "send_items", None)) is not None:
        await send_items(batch)
    else:
        await transport.send(_json_batch(batch))


def _json_batch(items: list[tuple[Any, ...]]) -> dict[str, Any]:
    """Queued items in the ``POST /api/records/batch`` shape (plain JSON types)."""
    from headwater._private.recording.payload import PayloadBuilder

    builder = PayloadBuilder()
    for item in items:
        builder.add(item)
    return builder.build() or {}


def _count(batch: _Batch) -> int:
    """How many records a batch holds (queued items, row lists and columnar tables alike)."""
    if isinstance(batch, _Staged):
        batch = batch.items
    if isinstance(batch, list):
        return sum(len(item[1]) if item[0] == LOGS else 1 for item in batch)
    from headwater._private.recording.spool import count_records

    return count_records(batch)
