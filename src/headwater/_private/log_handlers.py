"""The API log handler referenced by ``logging.yml``, its sinks, and flushing.

The console handler lives in `headwater._private.log_console`.

:class:`APILogHandler` ships every record emitted inside a flow or task run
to a :class:`LogSink`. ``emit`` only formats the record and appends it to a
queue (a few microseconds, never blocking, never raising into user code); a
task on the background loop (`headwater._private.background`) ships the
queue in batches, by bytes and by interval, calling the sink's ``send``
there: a sink must not block (the recorder's sink only queues the batch).
:func:`flush_logs` waits until everything queued so far has been shipped; it
runs at the end of each top-level flow run and at interpreter exit.

Records go to the default sink set with :func:`set_default_log_sink`: the
recorder's while runs are recorded, else one that discards them.

Example:
    >>> import logging
    >>> from headwater.logging.handlers import APILogHandler, InMemoryLogSink, flush_logs
    >>> sink = InMemoryLogSink()
    >>> handler = APILogHandler(sink=sink)
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import concurrent.futures
import datetime
import logging
import os
import sys
import threading
import warnings
import weakref
from typing import Any, Protocol, TypedDict, runtime_checkable

from headwater._private import background
from headwater._private.context import flow_run_ctx, task_run_ctx

__all__ = [
    "APILogHandler",
    "InMemoryLogSink",
    "LogRecordDict",
    "LogSink",
    "NullLogSink",
    "flush_logs",
    "flush_logs_async",
    "get_default_log_sink",
    "set_default_log_sink",
]

TRUNCATION_MARKER = "... [truncated {n} bytes]"
# A record's size in a batch: its message plus a fixed allowance for the other fields.
_RECORD_OVERHEAD = 200


class LogRecordDict(TypedDict):
    """One log record as shipped to the API.

    Attributes:
        name: The logger's name.
        level: The numeric level (``logging.INFO`` is 20).
        message: The formatted message (with the traceback, if any).
        timestamp: When it was emitted, ISO 8601 in UTC.
        flow_run_id: The flow run it belongs to, if any.
        task_run_id: The task run it belongs to, if any.
    """

    name: str
    level: int
    message: str
    timestamp: str
    flow_run_id: str | None
    task_run_id: str | None


@runtime_checkable
class LogSink(Protocol):
    """Where the API log handler ships batches of records.

    ``send`` is called from the handler's worker thread, one batch at a time,
    in emission order; it may block (an HTTP request). An exception is
    reported on stderr and the batch is dropped, so a sink that can fail
    transiently should retry on its own.
    """

    def send(self, batch: list[LogRecordDict]) -> None:
        """Ship one batch of records."""


class NullLogSink:
    """A sink that discards records (the default until the API exists)."""

    def send(self, batch: list[LogRecordDict]) -> None:
        """Discard ``batch``."""


class InMemoryLogSink:
    """A sink that keeps every record in memory, for tests.

    Attributes:
        records: Every record received, in order.
        batches: How many batches were received.
    """

    def __init__(self) -> None:
        self.records: list[LogRecordDict] = []
        self.batches = 0
        self._lock = threading.Lock()

    def send(self, batch: list[LogRecordDict]) -> None:
        """Keep ``batch``."""
        with self._lock:
            self.records.extend(batch)
            self.batches += 1

    def messages(self) -> list[str]:
        """Return the messages received, in order."""
        with self._lock:
            return [r["message"] for r in self.records]

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self.records.clear()
            self.batches = 0


_default_sink: LogSink = NullLogSink()


def set_default_log_sink(sink: LogSink) -> LogSink:
    """Make ``sink`` receive the records of handlers created without a sink.

    Args:
        sink: The new default sink.

    Returns:
        The previous default sink, to restore later.
    """
    global _default_sink
    previous, _default_sink = _default_sink, sink
    return previous


def get_default_log_sink() -> LogSink:
    """Return the sink used by handlers created without a sink."""
    return _default_sink


# An item of the queue: (name, level, message, created, flow_run_id, task_run_id).
_Item = tuple[str, int, str, float, "str | None", "str | None"]


class _Worker:
    """The shipping task of one handler, on the background loop: drains its queue in batches.

    Invariant: records leave the queue in the order they entered it, and
    only the loop's thread takes them out (the task, or a flush run there),
    so a flush that returns has seen everything queued before it.
    """

    def __init__(self, sink: LogSink | None, batch_size: int, interval: float) -> None:
        self.sink = sink
        self.batch_size = batch_size
        self.interval = interval
        self.queue: collections.deque[_Item] = collections.deque()
        self.waker = background.Waker()
        self.pending = 0  # bytes queued since the last drain (a hint, updated without a lock)
        self.busy = False  # items taken out of the queue and not yet sent
        self.stopping = False
        self.service: concurrent.futures.Future[Any] | None = None
        self._start_lock = threading.Lock()

    def put(self, item: _Item, size: int) -> None:
        if self.stopping:
            return  # a closed handler (replaced by a new configuration) ships nothing more
        self.queue.append(item)
        if self.service is None:
            self._start()
        self.pending += size
        if self.pending >= self.batch_size:
            self.waker.set()

    def _start(self) -> None:
        with self._start_lock:
            if self.service is None:
                _register_exit_flush()
                self.service = background.spawn(self._run, "log shipper")

    async def _run(self) -> None:
        while not (self.stopping and not self.queue):
            await self.waker.wait(self.interval)
            self.drain()

    def drain(self) -> None:
        """Ship everything queued (on the loop's thread only)."""
        self.busy = True  # before the first item leaves the queue: see `idle`
        try:
            self._drain()
        finally:
            self.busy = False

    def idle(self) -> bool:
        """Nothing queued and nothing in flight (read from any thread)."""
        return not self.queue and not self.busy

    def _drain(self) -> None:
        self.pending = 0
        batch: list[LogRecordDict] = []
        size = 0
        queue = self.queue
        while queue:
            item = queue.popleft()
            batch.append(_to_dict(item))
            size += len(item[2]) + _RECORD_OVERHEAD
            if size >= self.batch_size:
                self._send(batch)
                batch, size = [], 0
        self._send(batch)

    def _send(self, batch: list[LogRecordDict]) -> None:
        if not batch:
            return
        sink = self.sink if self.sink is not None else _default_sink
        try:
            sink.send(batch)
        except Exception as exc:  # a broken sink must not stop the worker
            try:
                sys.stderr.write(f"headwater: a log sink failed ({exc!r}); "
                                 f"{len(batch)} log records were not shipped.\n")
            except Exception:
                pass

    def _start_flush(self) -> bool | concurrent.futures.Future[None]:
        """Start draining on the loop; or the answer when there is nothing to wait for."""
        if self.service is None or self.idle():
            return not self.queue
        if background.in_loop_thread():
            self.drain()  # the task cannot be mid-drain: it runs on this same thread
            return True
        return background.submit(self._drain_now)

    def flush(self, timeout: float | None) -> bool:
        started = self._start_flush()
        if isinstance(started, bool):
            return started
        try:
            started.result(timeout)
        except concurrent.futures.TimeoutError:
            return False
        return True

    async def flush_async(self, timeout: float | None) -> bool:
        started = self._start_flush()
        if isinstance(started, bool):
            return started
        try:
            await asyncio.wait_for(asyncio.wrap_future(started), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    async def _drain_now(self) -> None:
        self.drain()

    def stop(self, timeout: float | None) -> None:
        self.stopping = True
        self.flush(timeout)
        self.waker.set()


_second: tuple[int, str] = (-1, "")  # the last whole second formatted, and its text


def iso_timestamp(created: float) -> str:
    """Return ``created`` (seconds since the epoch) as ISO 8601 in UTC, to the microsecond."""
    global _second
    whole = int(created)
    cached = _second  # one tuple, swapped whole: safe across worker threads
    if cached[0] != whole:
        text = datetime.datetime.fromtimestamp(whole, datetime.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%S")
        cached = _second = (whole, text)
    micros = min(int((created - whole) * 1_000_000), 999_999)
    return f"{cached[1]}.{micros:06d}+00:00"


def _to_dict(item: _Item) -> LogRecordDict:
    name, level, message, created, flow_run_id, task_run_id = item
    return {"name": name, "level": level, "message": message,
            "timestamp": iso_timestamp(created), "flow_run_id": flow_run_id,
            "task_run_id": task_run_id}


_handlers: weakref.WeakSet[APILogHandler] = weakref.WeakSet()
_exit_registered = False


def _register_exit_flush() -> None:
    global _exit_registered
    if not _exit_registered:
        _exit_registered = True
        atexit.register(flush_logs, 10.0)


def _after_fork() -> None:
    # The worker threads do not exist in a forked child: start afresh there.
    for handler in list(_handlers):
        handler._worker = _Worker(handler._worker.sink, handler._worker.batch_size,
                                  handler._worker.interval)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def flush_logs(timeout: float | None = None) -> bool:
    """Block until every record queued so far by any API handler has been shipped.

    Cheap when nothing is queued. Called at the end of top-level flow runs and
    at interpreter exit.

    Args:
        timeout: Seconds to wait at most; None waits as long as it takes.

    Returns:
        True if everything was shipped, False if the timeout expired first.
    """
    results = [handler.flush_records(timeout) for handler in list(_handlers)]  # flush them all
    return all(results)


async def flush_logs_async(timeout: float | None = None) -> bool:
    """Like :func:`flush_logs`, awaiting the background loop so the caller's loop stays free."""
    results = [await handler._worker.flush_async(timeout) for handler in list(_handlers)]
    return all(results)


def _run_ids(record: logging.LogRecord) -> tuple[str | None, str | None]:
    flow_run_id = getattr(record, "flow_run_id", None)
    task_run_id = getattr(record, "task_run_id", None)
    if flow_run_id is None and task_run_id is None:
        # Records from extra loggers and plain loggers: the run is the one
        # current in the emitting thread (contexts follow worker threads,
        # async tasks and subflows).
        task_ctx = task_run_ctx.get()
        if task_ctx is not None:
            task_run_id = str(task_ctx.task_run.id)
        flow_ctx = flow_run_ctx.get()
        if flow_ctx is not None:
            flow_run_id = str(flow_ctx.flow_run.id)
    return flow_run_id, task_run_id


class APILogHandler(logging.Handler):
    """Ship records emitted inside flow and task runs, in batches, from a background thread.

    Records carry ``flow_run_id`` / ``task_run_id`` from their ``extra`` (run
    loggers) or from the run current where they were emitted. A record outside
    any run is handled per ``HEADWATER_LOGGING_TO_API_WHEN_MISSING_FLOW``:
    ``warn`` (a warning, the record is not shipped), ``ignore``, or ``error``
    (raises :class:`~headwater.exceptions.MissingContextError`: the only case
    where ``emit`` raises). Records with ``send_to_api=False`` in ``extra``
    are skipped. Messages longer than ``max_log_size`` bytes are truncated
    with a marker, never dropped.

    Args:
        level: The handler's level.
        sink: Where batches go; None: the default sink at the time of sending.
        batch_size: Ship once this many bytes are queued (default: setting).
        batch_interval: Seconds between shipments (default: setting).
        max_log_size: Longest message in bytes (default: setting).
        when_missing_flow: ``warn``, ``error`` or ``ignore`` (default: setting).
        enabled: False makes the handler do nothing (default: setting).
    """

    def __init__(self, level: int | str = logging.NOTSET, *, sink: LogSink | None = None,
                 batch_size: int | None = None, batch_interval: float | None = None,
                 max_log_size: int | None = None, when_missing_flow: str | None = None,
                 enabled: bool | None = None) -> None:
        super().__init__(level)
        if None in (batch_size, batch_interval, max_log_size, when_missing_flow, enabled):
            from headwater._private.settings import get_current_settings

            config = get_current_settings().logging.to_api
            batch_size = config.batch_size if batch_size is None else batch_size
            batch_interval = config.batch_interval if batch_interval is None else batch_interval
            max_log_size = config.max_log_size if max_log_size is None else max_log_size
            when_missing_flow = when_missing_flow or config.when_missing_flow
            enabled = config.enabled if enabled is None else enabled
        assert batch_size is not None and batch_interval is not None
        assert max_log_size is not None and when_missing_flow is not None
        if when_missing_flow not in ("warn", "error", "ignore"):
            raise ValueError(f"when_missing_flow must be 'warn', 'error' or 'ignore', got "
                             f"{when_missing_flow!r}.")
        self.enabled = bool(enabled)
        self.max_log_size = max_log_size
        self.when_missing_flow = when_missing_flow
        # Messages up to this many characters cannot exceed max_log_size bytes in UTF-8.
        self._safe_chars = max_log_size // 4
        self._worker = _Worker(sink, batch_size, batch_interval)
        self._message_only = True
        _handlers.add(self)

    def setFormatter(self, fmt: logging.Formatter | None) -> None:
        """Set the formatter (``%(message)s``-only formatters take a faster path)."""
        super().setFormatter(fmt)
        self._message_only = fmt is None or (
            type(fmt) is logging.Formatter
            and getattr(fmt, "_fmt", None) in (None, "%(message)s")
            and isinstance(getattr(fmt, "_style", None), logging.PercentStyle))

    def handle(self, record: logging.LogRecord) -> bool:
        """Filter and emit ``record`` without taking the handler lock (``emit`` is thread-safe)."""
        result: Any = self.filter(record)
        if isinstance(result, logging.LogRecord):  # Python 3.12+: a filter may swap records
            record = result
        if result:
            self.emit(record)
        return bool(result)

    @property
    def sink(self) -> LogSink | None:
        """The handler's own sink (None: the default sink)."""
        return self._worker.sink

    def emit(self, record: logging.LogRecord) -> None:
        """Queue ``record`` for shipping (microseconds; never blocks)."""
        if not self.enabled or not getattr(record, "send_to_api", True):
            return
        if self._worker.sink is None and type(_default_sink) is NullLogSink:
            return  # nothing records them (recording off): no work on the hot path
        try:
            flow_run_id, task_run_id = _run_ids(record)
            if flow_run_id is None and task_run_id is None:
                self._missing_run(record)
                return
            if self._message_only and not (record.exc_info or record.exc_text
                                           or record.stack_info):
                message = record.getMessage()  # what format() returns here, minus its overhead
            else:
                message = self.format(record)
            if len(message) > self._safe_chars:
                message = self._truncate(message)
            if self._worker.stopping:
                self._revive()
            self._worker.put((record.name, record.levelno, message, record.created,
                              flow_run_id, task_run_id), len(message) + _RECORD_OVERHEAD)
        except Exception:
            self.handleError(record)

    def _missing_run(self, record: logging.LogRecord) -> None:
        if getattr(record, "headwater_extra_logger", False) or self.when_missing_flow == "ignore":
            return  # extra loggers are shipped inside runs only, silently
        message = (f"Logger {record.name!r} attempted to send logs to the API without a flow "
                   "or task run: the record was not shipped. Log inside a run, or set "
                   "HEADWATER_LOGGING_TO_API_WHEN_MISSING_FLOW=ignore.")
        if self.when_missing_flow == "warn":
            warnings.warn(message, RuntimeWarning, stacklevel=2)
            return
        from headwater.exceptions import MissingContextError

        raise MissingContextError(message)

    def handleError(self, record: logging.LogRecord) -> None:
        """Re-raise :class:`MissingContextError` (``when_missing_flow="error"``), report others."""
        exc = sys.exc_info()[1]
        from headwater.exceptions import MissingContextError

        if isinstance(exc, MissingContextError):
            raise exc
        super().handleError(record)

    def _truncate(self, message: str) -> str:
        data = message.encode("utf-8", "replace")
        if len(data) <= self.max_log_size:
            return message
        marker = TRUNCATION_MARKER.format(n=len(data) - self.max_log_size)
        keep = max(self.max_log_size - len(marker.encode()), 0)
        removed = len(data) - keep
        marker = TRUNCATION_MARKER.format(n=removed)
        return data[:keep].decode("utf-8", "ignore") + marker

    def has_pending(self) -> bool:
        """Return True if records are queued or being shipped."""
        return not self._worker.idle()

    def flush_records(self, timeout: float | None = None) -> bool:
        """Block until every record queued so far has been shipped.

        Args:
            timeout: Seconds to wait at most; None waits as long as it takes.

        Returns:
            True if everything was shipped, False if the timeout expired first.
        """
        return self._worker.flush(timeout)

    def flush(self) -> None:
        """Ship queued records now (``logging.Handler.flush``; waits up to 10 s)."""
        self._worker.flush(10.0)

    def close(self) -> None:
        """Ship what is queued and stop shipping (until the handler is used again)."""
        self._worker.stop(10.0)
        _handlers.discard(self)
        super().close()

    def _revive(self) -> None:
        """Start shipping again after `close`, for a handler still attached to a logger.

        ``logging.config.dictConfig`` (a user's, or uvicorn's) closes every
        existing handler but detaches only those of the loggers it
        configures: headwater's stay on their loggers, closed. A closed
        handler that still receives records ships them, as a closed
        ``StreamHandler`` still writes.
        """
        worker = self._worker
        self._worker = _Worker(worker.sink, worker.batch_size, worker.interval)
        _handlers.add(self)
