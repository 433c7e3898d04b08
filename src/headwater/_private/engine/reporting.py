"""Carrying out ``Record`` and ``Log``: what the outside world hears about a run.

A state goes to the recorder when recording is on; a log line goes to the
run logger (``headwater.task_runs`` or ``headwater.flow_runs``) with the
run's ids and names in ``extra``, as ``get_run_logger()`` stamps them.
Both are cheap when off: one global read, one cached level check.
"""

from __future__ import annotations

from typing import Any

from headwater._private import recording
from headwater._private.engine.specs import FlowRunSpec, TaskRunSpec
from headwater._private.engine.steps import Log, Record
from headwater._private.run_logging import FLOW_RUNS, TASK_RUNS
from headwater._private.run_records import FlowRun

_ENGINE_DIR = __file__.rsplit("/", 1)[0].rsplit("\\", 1)[0]


def record(step: Record) -> None:
    """Carry out ``Record``: hand the state to the recorder, then log its line, if any."""
    recorder = recording.ACTIVE
    about = step.about
    if recorder is not None:
        recorder.state_set(about.run._id, type(about) is TaskRunSpec, step.state)
    if step.level:
        log_for(about, step.level, step.message, step.exc, step.state)


def log(step: Log) -> None:
    """Carry out ``Log``."""
    log_for(step.about, step.level, step.message, step.exc)


def log_for(about: TaskRunSpec | FlowRunSpec, level: int, message: str | None,
            exc: BaseException | None = None, state: Any = None) -> None:
    """Log ``message`` (None: "Finished in state <state>") for a run, if ``level`` is on."""
    logger = TASK_RUNS if type(about) is TaskRunSpec else FLOW_RUNS
    if not logger.isEnabledFor(level):
        return
    if message is None:
        message = f"Finished in state {state!r}"
    logger.log(level, message, exc_info=user_exc_info(exc), extra=run_extra(about))


def run_extra(about: TaskRunSpec | FlowRunSpec) -> dict[str, Any]:
    """The ``extra`` fields of a run's log records (ids, names; the flow run's for a task)."""
    if isinstance(about, FlowRunSpec):
        return _flow_extra(about.run)
    run = about.run
    extra = {"task_run_id": str(run.id), "task_run_name": run.name, "task_name": run.task_name}
    if about.flow_run is not None:
        extra.update(_flow_extra(about.flow_run))
    return extra


def _flow_extra(run: FlowRun) -> dict[str, Any]:
    return {"flow_run_id": str(run.id), "flow_run_name": run.name, "flow_name": run.flow_name}


def user_exc_info(exc: BaseException | None) -> Any:
    """Return ``exc_info`` for logging with the engine's own frames cut from the top."""
    if exc is None:
        return None
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_ENGINE_DIR):
        tb = tb.tb_next
    return (type(exc), exc, tb or exc.__traceback__)


__all__ = ["log", "log_for", "record", "run_extra", "user_exc_info"]
