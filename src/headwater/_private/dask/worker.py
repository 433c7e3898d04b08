"""The Dask worker's side: run one task run with the engine, send back its outcome.

:func:`run_on_worker` is what the runner submits to Dask. Each worker process
takes the flow process's settings (so its recorder writes to the same
database or API), runs the task machine (:func:`~headwater._private.engine.remote.run_remote`),
and returns the pickled outcome. Log lines of the run are stamped with the
worker's address, stored by this process's recorder, and sent to the flow's
process (a Dask event on the topic :func:`log_topic`) to be printed there;
they are not printed a second time on the worker's own console.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any

import cloudpickle

from headwater._private.dask.shipping import unpicklable_result_error
from headwater._private.engine.remote import RemoteCall, RemoteOutcome, record_final, run_remote
from headwater._private.runners import SequentialTaskRunner
from headwater._private.states import Failed, StateType

_lock = threading.Lock()
_applied: tuple[tuple[str, str], ...] | None = None
_settings_block: contextlib.ExitStack | None = None
_unpickled_cache: dict[bytes, Any] = {}
_MAX_CACHED = 256
_runner = SequentialTaskRunner()

FORWARDED = "headwater_dask_forwarded"
"""Set on a record sent to the flow's process (the worker's console skips it)."""


def log_topic(flow_run_id: str) -> str:
    """The Dask event topic carrying a flow run's log lines to its process."""
    return f"headwater-logs-{flow_run_id}"


def run_on_worker(task_bytes: bytes, flow_run_bytes: bytes | None, call_bytes: bytes,
                  settings: tuple[tuple[str, str], ...]) -> bytes:
    """Run one task run here and return its pickled :class:`RemoteOutcome`.

    The task and the flow run record come pickled apart (the same bytes for
    every run of a task, of a flow run); each is unpickled once per process.
    """
    worker = _current_worker()
    _prepare(settings, worker)
    task = _unpickled(task_bytes)
    call: RemoteCall = cloudpickle.loads(call_bytes)
    if flow_run_bytes is not None:
        call.flow_run = _unpickled(flow_run_bytes)
    outcome = run_remote(call, task, _runner, _DaskTaskScope(worker))
    try:
        return cloudpickle.dumps(outcome)  # type: ignore[no-any-return]
    except Exception as exc:
        return cloudpickle.dumps(_picklable(outcome, call, task.name, exc))  # type: ignore[no-any-return]


def _picklable(outcome: RemoteOutcome, call: RemoteCall, task_name: str,
               error: Exception) -> RemoteOutcome:
    """Replace a result (or an exception) that cannot travel back with a clear failure."""
    state = outcome.state
    if state.type is StateType.COMPLETED:
        failure = unpicklable_result_error(task_name, state.data, error)
        state = record_final(call.run, Failed(
            data=failure, message=f"Task run encountered an exception SerializationError: "
                                  f"{failure}"))
        logging.getLogger("headwater.task_runs").error(
            str(failure), extra=_extra(call))
    else:  # an exception that cannot be pickled: send its type and message
        data = state.data
        state = state.copy(data=RuntimeError(f"{type(data).__name__}: {data}"))
    return RemoteOutcome(state, outcome.run_count, outcome.start_time, call.run._end_time)


def _extra(call: RemoteCall) -> dict[str, Any]:
    run = call.run
    extra = {"task_run_id": str(run.id), "task_run_name": run.name, "task_name": run.task_name}
    if call.flow_run is not None:
        extra.update(flow_run_id=str(call.flow_run.id), flow_run_name=call.flow_run.name,
                     flow_name=call.flow_run.flow_name)
    return extra


def _current_worker() -> Any:
    from distributed import get_worker

    return get_worker()


def _unpickled(data: bytes) -> Any:
    """``cloudpickle.loads(data)``, cached by the bytes (tasks and flow runs recur)."""
    found = _unpickled_cache.get(data)
    if found is None:
        found = cloudpickle.loads(data)
        with _lock:
            if len(_unpickled_cache) >= _MAX_CACHED:
                _unpickled_cache.clear()
            _unpickled_cache[data] = found
    return found


def _prepare(settings: tuple[tuple[str, str], ...], worker: Any) -> None:
    """Take the flow process's settings, its recorder and logging (once per settings)."""
    global _applied, _settings_block
    if settings == _applied:
        return
    with _lock:
        if settings == _applied:
            return
        from headwater._private import recording
        from headwater._private.run_logging import ensure_logging_configured
        from headwater._private.settings.current import temporary_settings

        if _settings_block is not None:
            _settings_block.close()
        block = contextlib.ExitStack()
        block.enter_context(temporary_settings(dict(settings)))
        _settings_block = block
        recording.ensure_recorder()
        ensure_logging_configured()
        _install_log_forwarding(worker)
        _applied = settings


def _install_log_forwarding(worker: Any) -> None:
    label = f"dask worker {worker.address}"
    for name in ("headwater.task_runs", "headwater.flow_runs"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _WorkerLines) for f in logger.filters):
            logger.addFilter(_WorkerLines(label, worker))
    for handler in logging.getLogger("headwater").handlers:
        if not any(isinstance(f, _SkipForwarded) for f in handler.filters):
            handler.addFilter(_SkipForwarded())


class _WorkerLines(logging.Filter):
    """Stamp a run's log line with the worker's address and send it to the flow's process."""

    def __init__(self, label: str, worker: Any) -> None:
        super().__init__()
        self.label = label
        self.worker = worker

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, FORWARDED, False):
            return True
        record.msg = f"[{self.label}] {record.getMessage()}"
        record.args = None
        setattr(record, FORWARDED, True)
        flow_run_id = getattr(record, "flow_run_id", None)
        if flow_run_id is not None:
            with contextlib.suppress(Exception):  # a closing worker: the line stays here
                self.worker.log_event(log_topic(flow_run_id), _wire(record))
        return True


def _wire(record: logging.LogRecord) -> dict[str, Any]:
    """A record as a msgpack-able dict (its traceback as text)."""
    wire = {key: getattr(record, key, None) for key in (
        "name", "levelno", "levelname", "msg", "created", "msecs", "flow_run_id",
        "flow_run_name", "flow_name", "task_run_id", "task_run_name", "task_name")}
    if record.exc_info:
        wire["exc_text"] = logging.Formatter().formatException(record.exc_info)
    elif record.exc_text:
        wire["exc_text"] = record.exc_text
    return wire


class _SkipForwarded(logging.Filter):
    """On a worker's own console: skip lines printed by the flow's process instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(record, FORWARDED, False)


class _DaskTaskScope:
    """A cancel scope for a run on a worker: cancelled once Dask cancelled its task.

    It reads the worker's own state (no message to the scheduler), so the
    machine's checkpoints (before each attempt) cost a dictionary lookup.
    """

    __slots__ = ("key", "worker")

    reason = "The flow run was cancelled."

    def __init__(self, worker: Any) -> None:
        self.worker = worker
        self.key = worker.get_current_task()

    @property
    def cancelled(self) -> bool:
        """True once the scheduler cancelled (released) this run's Dask task."""
        task = self.worker.state.tasks.get(self.key)
        return task is None or task.state in ("cancelled", "released", "forgotten")

    def check(self) -> None:
        """Raise ``CancellationRequested`` once the run's Dask task was cancelled."""
        if self.cancelled:
            from headwater.exceptions import CancellationRequested

            raise CancellationRequested(None, self.reason)


def flush_worker(timeout: float = 30.0) -> bool:
    """Store everything this worker's recorder and log handlers hold (at a flow run's end)."""
    from headwater._private import recording
    from headwater._private.log_handlers import flush_logs

    logs = flush_logs(timeout)
    recorder = recording.ACTIVE
    return (recorder.flush(timeout) if recorder is not None else True) and logs
