"""Log formatters referenced by ``logging.yml``."""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["RunFormatter"]


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
        task_run_name = getattr(record, "task_run_name", None)
        if task_run_name is not None:
            record.run_label = f"Task run {task_run_name!r}"
        else:
            flow_run_name = getattr(record, "flow_run_name", None)
            record.run_label = (
                f"Flow run {flow_run_name!r}" if flow_run_name is not None else record.name
            )
        return super().format(record)
