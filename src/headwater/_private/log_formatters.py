"""Log formatters referenced by ``logging.yml``."""

from __future__ import annotations

import datetime
import json
import logging
from typing import Any

__all__ = ["JsonFormatter", "RunFormatter"]


class RunFormatter(logging.Formatter):
    """A formatter that labels records with their run: ``Task run 'add-3'``.

    Records from run loggers carry ``task_run_name`` / ``flow_run_name`` in
    their ``extra``; other records are labelled with their logger name. The
    label is available to format strings as ``%(run_label)s``.
    """

    def __init__(self, fmt: str | None = None, datefmt: str | None = None,
                 style: Any = "%", **kwargs: Any) -> None:
        super().__init__(fmt=fmt, datefmt=datefmt, style=style, **kwargs)

    def format(self, record: logging.LogRecord) -> str:
        """Set ``record.run_label`` and format as usual."""
        record.run_label = run_label(record)
        return super().format(record)


def run_label(record: logging.LogRecord) -> str:
    """Return ``Task run 'name'``, ``Flow run 'name'`` or the logger name for a record."""
    task_run_name = getattr(record, "task_run_name", None)
    if task_run_name is not None:
        return f"Task run {task_run_name!r}"
    flow_run_name = getattr(record, "flow_run_name", None)
    return f"Flow run {flow_run_name!r}" if flow_run_name is not None else record.name


# Attributes of every LogRecord; anything else on a record came from ``extra``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "run_label", "taskName"}


class JsonFormatter(logging.Formatter):
    """Format records as one JSON object per line, for machines.

    Keys: ``timestamp`` (ISO 8601, UTC), ``level``, ``logger``, ``message``,
    the run fields when present (``flow_run_id``, ``flow_run_name``,
    ``flow_name``, ``task_run_id``, ``task_run_name``, ``task_name``), other
    ``extra`` fields, and ``exc_info`` with the formatted traceback.

    Args:
        fmt: Ignored (accepted so ``logging.yml`` can pass ``format``).
        datefmt: Ignored.
        style: Ignored.
        kwargs: Ignored.
    """

    def __init__(self, fmt: str | None = None, datefmt: str | None = None,
                 style: Any = "%", **kwargs: Any) -> None:
        super().__init__()

    def format(self, record: logging.LogRecord) -> str:
        """Return ``record`` as a JSON line."""
        data: dict[str, Any] = {
            "timestamp": datetime.datetime.fromtimestamp(
                record.created, datetime.timezone.utc).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        data.update({key: value for key, value in vars(record).items()
                     if key not in _STANDARD and not key.startswith("_")})
        if record.exc_info:
            data["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            data["exc_info"] = record.exc_text
        if record.stack_info:
            data["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(data, default=str)
