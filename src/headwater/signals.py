"""Signals: exceptions a task raises to choose its own state (Prefect 1's ``signals``).

Raise one anywhere inside a task, in nested function calls too; the task run
ends in the matching state:

| Signal | State |
|--------|-------|
| ``Fail(message)`` | ``Failed`` (``retries`` apply, as for any exception) |
| ``Success(message, result=x)`` | ``Completed`` with result ``x`` |
| ``Skip(message, result=None)`` | ``Completed`` named ``Skipped`` |
| ``Retry(message, delay=None, start_time=None)`` | ``AwaitingRetry``, then run again |
| ``Pause(message, timeout=None)`` | ``Paused`` |

``Retry`` uses up one of the task's ``retries`` unless it names a
``start_time``, which makes sensor-style polling possible.

Signals derive from ``Exception``: a bare ``except Exception`` in task code
catches them, so put ``except Signal: raise`` before it.

Example:
    >>> from headwater import task
    >>> from headwater.signals import Retry, Skip
    >>> @task(retries=3)
    ... def fetch(day: str) -> bytes:
    ...     if is_holiday(day):
    ...         raise Skip("no data on holidays")
    ...     if not ready(day):
    ...         raise Retry("not published yet", delay=60)
    ...     return download(day)
"""

from headwater._private.signal_states import SignalOutcome, signal_to_state
from headwater.exceptions import Fail, Pause, Retry, Signal, Skip, Success

__all__ = ["Fail", "Pause", "Retry", "Signal", "SignalOutcome", "Skip", "Success",
           "signal_to_state"]


def _fix_module_names() -> None:
    """Make signals say ``headwater.signals.X`` in reprs, docs and pickles."""
    for public in (Fail, Pause, Retry, Skip, Success):
        public.__module__ = "headwater.signals"


_fix_module_names()
