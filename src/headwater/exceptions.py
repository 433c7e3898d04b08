"""Every exception headwater raises, in one place.

The hierarchy::

    BaseException
     +-- TerminationSignal            the process got SIGTERM during a run
     +-- Warning
          +-- NotYetSupportedWarning  an accepted option has no effect yet
     +-- Exception
          +-- HeadwaterException      base of everything below
               +-- MissingContextError       (also a RuntimeError)
               +-- AsyncContextError         (also a RuntimeError)
               +-- DeadlockError             (also a RuntimeError)
               +-- ParameterBindError        (also a TypeError)
               +-- ParameterTypeError        (also a TypeError)
               +-- MappingLengthMismatch     (also a ValueError)
               +-- MappingMissingIterable    (also a ValueError)
               +-- InvalidOptionError        (also a ValueError)
               +-- SettingsError             (also a ValueError)
               +-- MissingResult
               +-- UnfinishedRun
               +-- UpstreamTaskError
               +-- FailedRun
               +-- CrashedRun
               +-- CancelledRun
               +-- PausedRun
               +-- TaskRunTimeoutError       (also a TimeoutError)
               +-- FlowRunTimeoutError       (also a TimeoutError)

Names match Prefect 2's where Prefect has the same error, so ``except``
clauses carry over after the rename.
"""

from __future__ import annotations

import signal

__all__ = [
    "AsyncContextError",
    "CancelledRun",
    "CrashedRun",
    "DeadlockError",
    "FailedRun",
    "FlowRunTimeoutError",
    "HeadwaterException",
    "InvalidOptionError",
    "MappingLengthMismatch",
    "MappingMissingIterable",
    "MissingContextError",
    "MissingResult",
    "NotYetSupportedWarning",
    "ParameterBindError",
    "ParameterTypeError",
    "PausedRun",
    "SettingsError",
    "TaskRunTimeoutError",
    "TerminationSignal",
    "UnfinishedRun",
    "UpstreamTaskError",
]


class HeadwaterException(Exception):
    """Base class of every error headwater raises (except process signals)."""


class MissingContextError(HeadwaterException, RuntimeError):
    """Raised when a run context is needed but no flow or task run is active."""


class AsyncContextError(HeadwaterException, RuntimeError):
    """Raised when a blocking method is called from async run code; the message names the twin."""


class DeadlockError(HeadwaterException, RuntimeError):
    """Raised when a blocking wait would wait on work that needs the waiting thread."""


class ParameterBindError(HeadwaterException, TypeError):
    """Raised when call arguments do not fit the function's signature."""


class ParameterTypeError(HeadwaterException, TypeError):
    """Raised when a flow parameter fails validation against its type hint."""


class MappingLengthMismatch(HeadwaterException, ValueError):
    """Raised when ``Task.map`` receives iterables of different lengths."""


class MappingMissingIterable(HeadwaterException, ValueError):
    """Raised when ``Task.map`` receives no iterable argument to map over."""


class InvalidOptionError(HeadwaterException, ValueError):
    """Raised when a flow or task option has a value it cannot take."""


class SettingsError(HeadwaterException, ValueError):
    """Raised when a setting has a value it cannot take, or a name no setting has."""


class MissingResult(HeadwaterException):
    """Raised when a state's result is not available (freed, or never set)."""


class UnfinishedRun(HeadwaterException):
    """Raised when the result of a run that has not finished is requested."""


class UpstreamTaskError(HeadwaterException):
    """Raised when a task did not run because an upstream task did not complete."""


class FailedRun(HeadwaterException):
    """Raised for a failed state whose data is not an exception of its own."""


class CrashedRun(HeadwaterException):
    """Raised for a crashed state whose data is not an exception of its own."""


class CancelledRun(HeadwaterException):
    """Raised when the result of a cancelled run is requested."""


class PausedRun(HeadwaterException):
    """Raised when the result of a paused run is requested."""


class TaskRunTimeoutError(HeadwaterException, TimeoutError):
    """Raised when a task run exceeds its ``timeout_seconds``."""


class FlowRunTimeoutError(HeadwaterException, TimeoutError):
    """Raised when a flow run exceeds its ``timeout_seconds``."""


class TerminationSignal(BaseException):
    """Raised in the main thread when the process receives SIGTERM during a run.

    It derives from ``BaseException`` so that ``except Exception`` in user
    code does not swallow a request to stop.
    """

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        super().__init__(f"Received signal {signal.Signals(signum).name}")
        self.signal = signum


class NotYetSupportedWarning(UserWarning):
    """Warned when an option is accepted for Prefect 2 compatibility but has no effect yet."""
