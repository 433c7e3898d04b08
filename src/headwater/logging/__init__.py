"""Run loggers and logging helpers.

Example:
    >>> from headwater import flow
    >>> from headwater.logging import get_run_logger
    >>> @flow
    ... def hello():
    ...     get_run_logger().info("hi")
"""

from headwater._private.log_handlers import APILogHandler, flush_logs, flush_logs_async
from headwater._private.run_logging import RunLogger, disable_run_logger, get_run_logger

__all__ = [
    "APILogHandler",
    "RunLogger",
    "disable_run_logger",
    "flush_logs",
    "flush_logs_async",
    "get_run_logger",
]
