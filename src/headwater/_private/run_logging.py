"""Run loggers, the default log configuration, and print() capture.

Nothing is configured on import: `ensure_logging_configured` applies
``logging.yml`` the first time a run starts, and only touches headwater's own
loggers.
"""

from __future__ import annotations

import builtins
import contextvars
import logging
import sys
import threading
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from headwater._private import caching
from headwater._private.context import FlowRunContext, TaskRunContext, flow_run_ctx, task_run_ctx
from headwater.exceptions import MissingContextError

FLOW_RUNS = logging.getLogger("headwater.flow_runs")
TASK_RUNS = logging.getLogger("headwater.task_runs")

_configured = False
_config_lock = threading.Lock()
_disabled: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "headwater_run_logger_disabled", default=False
)


class RunLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """A logger adapter that stamps run ids and names on every record."""

    def process(self, msg: Any, kwargs: MutableMapping[str, Any],
                ) -> tuple[Any, MutableMapping[str, Any]]:
        extra = kwargs.get("extra")
        kwargs["extra"] = {**self.extra, **extra} if extra else self.extra  # type: ignore[dict-item]
        return msg, kwargs


def flow_run_extra(ctx: FlowRunContext) -> dict[str, Any]:
    """Return the ``extra`` fields for records of a flow run."""
    run = ctx.flow_run
    return {"flow_run_id": str(run.id), "flow_run_name": run.name, "flow_name": run.flow_name}


def task_run_extra(ctx: TaskRunContext, flow_ctx: FlowRunContext | None) -> dict[str, Any]:
    """Return the ``extra`` fields for records of a task run."""
    run = ctx.task_run
    extra = {"task_run_id": str(run.id), "task_run_name": run.name, "task_name": run.task_name}
    if flow_ctx is not None:
        extra.update(flow_run_extra(flow_ctx))
    return extra


def get_run_logger(**extra: Any) -> logging.LoggerAdapter:  # type: ignore[type-arg]
    """Return a logger for the current flow or task run.

    Records carry the run's id and name (``flow_run_id``, ``task_run_name``...)
    in ``extra``, so handlers can route them and the console shows
    ``Task run 'add-3' - message``.

    Args:
        extra: More fields to stamp on every record.

    Raises:
        MissingContextError: Called outside a flow or task run.
    """
    if _disabled.get():
        return logging.LoggerAdapter(_null_logger(), {})
    task_ctx = task_run_ctx.get()
    flow_ctx = flow_run_ctx.get()
    if task_ctx is not None:
        return RunLogger(TASK_RUNS, {**task_run_extra(task_ctx, flow_ctx), **extra})
    if flow_ctx is not None:
        return RunLogger(FLOW_RUNS, {**flow_run_extra(flow_ctx), **extra})
    raise MissingContextError(
        "There is no active flow or task run: get_run_logger() must be called inside one. "
        "Outside runs, use logging.getLogger(__name__)."
    )


# Caching sits below the run loggers; ``task_input_hash`` warns through this hook.
caching.run_logger = get_run_logger


def _null_logger() -> logging.Logger:
    logger = logging.getLogger("headwater.null")
    logger.disabled = True
    return logger


@contextmanager
def disable_run_logger() -> Iterator[None]:
    """Make ``get_run_logger()`` return a silent logger inside the block.

    For unit tests that call ``task.fn(...)`` or ``flow.fn(...)`` directly,
    where there is no run context.
    """
    token = _disabled.set(True)
    try:
        yield
    finally:
        _disabled.reset(token)


def default_logging_config_path() -> Path:
    """Return the packaged ``logging.yml`` (or the source tree's, in editable installs)."""
    from importlib import resources

    packaged = resources.files("headwater").joinpath("logging.yml")
    if packaged.is_file():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[3] / "logging.yml"


def logging_configured() -> bool:
    """Return True once the default logging configuration has been applied."""
    return _configured


def ensure_logging_configured() -> None:
    """Apply headwater's logging configuration once per process (entry points only).

    The packaged ``logging.yml``, the user's file and ``HEADWATER_LOGGING_*``
    overrides are merged by ``logging_config.setup_logging``; see there.
    """
    global _configured
    if _configured:
        return
    with _config_lock:
        if _configured:
            return
        from headwater._private.logging_config import setup_logging

        setup_logging()
        _configured = True


# ---------------------------------------------------------------------- print capture
_original_print = builtins.print
_print_lock = threading.Lock()


def _capturing_print(*args: Any, sep: str | None = " ", end: str | None = "\n",
                     file: Any = None, flush: bool = False) -> None:
    if file is None or file is sys.stdout:
        ctx: TaskRunContext | FlowRunContext | None = task_run_ctx.get() or flow_run_ctx.get()
        if ctx is not None and ctx.log_prints and not _disabled.get():
            message = (sep if sep is not None else " ").join(str(a) for a in args)
            get_run_logger().info(message, extra={"send_to_api": True, "is_print": True})
            return
    _original_print(*args, sep=sep, end=end, file=file, flush=flush)


def install_print_capture() -> None:
    """Route ``print()`` to run loggers in runs with ``log_prints=True``.

    Installed once, the first time such a run starts; outside those runs (and
    for ``print(..., file=f)``) it behaves exactly like the builtin.
    """
    with _print_lock:
        if builtins.print is not _capturing_print:
            builtins.print = _capturing_print
