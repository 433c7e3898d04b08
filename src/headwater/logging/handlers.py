"""The handlers named in ``logging.yml``, log sinks and flushing (re-exported from ``_private``).

:class:`APILogHandler` ships every record emitted inside a flow or task run
to a :class:`LogSink` from the background loop; :func:`flush_logs` waits
until everything queued so far has been shipped.

Example:
    >>> from headwater.logging.handlers import APILogHandler, InMemoryLogSink
    >>> sink = InMemoryLogSink()
    >>> handler = APILogHandler(sink=sink)
"""

from headwater._private.log_console import ConsoleHandler
from headwater._private.log_handlers import (
    APILogHandler,
    InMemoryLogSink,
    LogRecordDict,
    LogSink,
    NullLogSink,
    flush_logs,
    flush_logs_async,
    get_default_log_sink,
    set_default_log_sink,
)

__all__ = [
    "APILogHandler",
    "ConsoleHandler",
    "InMemoryLogSink",
    "LogRecordDict",
    "LogSink",
    "NullLogSink",
    "flush_logs",
    "flush_logs_async",
    "get_default_log_sink",
    "set_default_log_sink",
]
