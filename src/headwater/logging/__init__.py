"""Run loggers and logging helpers.

Example:
    >>> from headwater import flow
    >>> from headwater.logging import get_run_logger
    >>> @flow
    ... def hello():
    ...     get_run_logger().info("hi")
"""

from headwater._private.run_logging import RunLogger, disable_run_logger, get_run_logger
from headwater.logging.handlers import APILogHandler, flush_logs, flush_logs_async

__all__ = [
    "APILogHandler",
    "RunLogger",
    "disable_run_logger",
    "flush_logs",
    "flush_logs_async",
    "get_run_logger",
]
