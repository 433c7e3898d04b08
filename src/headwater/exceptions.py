"""Every exception headwater raises, in one place.

The hierarchy::

    BaseException
     +-- ExternalSignal               a signal from outside the process
     |    +-- TerminationSignal       the process got SIGTERM during a run
     +-- HeadwaterSignal              Prefect 2's orchestration signals (never raised)
     |    +-- Abort
     +-- CancellationRequested        the flow run was cancelled (engine checkpoints)
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
               |    +-- InvalidNameError     a flow or task name with a character names cannot have
               |    +-- InvalidHookError     (also a TypeError) a hook that is not callable
               +-- ReservedArgumentError     (also a TypeError)
               +-- SignatureMismatchError    (also a TypeError)
               +-- SettingsError             (also a ValueError)
               +-- MissingResult
               +-- UnfinishedRun             also what a NotReady run's result() raises
               +-- UpstreamTaskError
               |    +-- TriggerFailed        (also an UnfinishedRun) a task's trigger did not pass
               +-- FailedRun
               +-- CrashedRun
               +-- CancelledRun
               +-- PausedRun
               +-- TaskRunTimeoutError       (also a TimeoutError)
               +-- FlowRunTimeoutError       (also a TimeoutError)
               +-- SerializationError        (also a ValueError)
               +-- UnhashableInputError      (also a TypeError)
               +-- FlowPauseTimeout          (also a TimeoutError)
               +-- FlowPauseError            (also a RuntimeError)
               +-- RunInputError             (also a ValueError)
               +-- ObjectNotFound            (also a LookupError)
               +-- FlowRunStateError         (also a RuntimeError)
               |    +-- NotPausedError       resume_flow_run of a run that is not paused
               +-- VersionLockError          (also a RuntimeError) a locked run started twice
               +-- ConcurrencySlotAcquisitionError  (also a ValueError)
               +-- AcquireConcurrencySlotTimeoutError  (also a TimeoutError)
               +-- RecordsRefusedError       (also a ValueError)
               +-- FlowRunWaitTimeout        (also a TimeoutError)
               +-- MissingProfileError       (also a ValueError)
               +-- ObjectAlreadyExists, ScriptError, FlowScriptError, MissingFlowError,
               |   UnspecifiedFlowError, InfrastructureError, InfrastructureNotAvailable,
               |   InfrastructureNotFound, BlockMissingCapabilities, ProtectedBlockError,
               |   InvalidRepositoryURLError     Prefect 2 names for features headwater
               |                                 does not have yet; never raised
               +-- Signal                    raised in a task to choose its state
                    +-- Fail, Success, Skip, Retry, Pause   (public in headwater.signals)

Names match Prefect 2's where Prefect has the same error, so ``except``
clauses carry over after the rename: every public name of Prefect 2.20's
``prefect.exceptions`` exists here, ``HeadwaterHTTPStatusError`` (an
``httpx.HTTPStatusError``) included. Where headwater raises its own,
better-worded exception for a misuse, that exception subclasses the built-in
class Prefect 2 raises in the same spot (``InvalidHookError`` is a
``TypeError``).

Signals derive from ``Exception`` (through ``HeadwaterException``) as Prefect
1's did: the engine's call step already reports every ``Exception`` raised
by a task as an outcome to decide on, while ``BaseException`` means "stop
everything" (interrupts, cancellation). The price is that a bare ``except
Exception`` in task code catches a signal; re-raise it with ``except Signal:
raise`` first. Cancellation, in contrast, derives from ``BaseException`` so
user code cannot swallow it by accident.
"""

from __future__ import annotations

import datetime as _dt
import signal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from headwater._private.http_errors import HeadwaterHTTPStatusError

__all__ = [
    "Abort",
    "AcquireConcurrencySlotTimeoutError",
    "AsyncContextError",
    "BlockMissingCapabilities",
    "CancellationRequested",
    "CancelledRun",
    "ConcurrencySlotAcquisitionError",
    "CrashedRun",
    "DeadlockError",
    "ExternalSignal",
    "FailedRun",
    "FlowPauseError",
    "FlowPauseTimeout",
    "FlowRunStateError",
    "FlowRunTimeoutError",
    "FlowRunWaitTimeout",
    "FlowScriptError",
    "HeadwaterException",
    "HeadwaterHTTPStatusError",
    "HeadwaterSignal",
    "InfrastructureError",
    "InfrastructureNotAvailable",
    "InfrastructureNotFound",
    "InvalidHookError",
    "InvalidNameError",
    "InvalidOptionError",
    "InvalidRepositoryURLError",
    "MappingLengthMismatch",
    "MappingMissingIterable",
    "MissingContextError",
    "MissingFlowError",
    "MissingProfileError",
    "MissingResult",
    "NotPausedError",
    "NotYetSupportedWarning",
    "ObjectAlreadyExists",
    "ObjectNotFound",
    "ParameterBindError",
    "ParameterTypeError",
    "PausedRun",
    "ProtectedBlockError",
    "RecordsRefusedError",
    "ReservedArgumentError",
    "RunInputError",
    "ScriptError",
    "SerializationError",
    "SettingsError",
    "Signal",
    "SignatureMismatchError",
    "TaskRunTimeoutError",
    "TerminationSignal",
    "TriggerFailed",
    "UnfinishedRun",
    "UnhashableInputError",
    "UnspecifiedFlowError",
    "UpstreamTaskError",
    "VersionLockError",
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


class InvalidNameError(InvalidOptionError):
    """Raised when a flow or task name contains a character names may not have."""


class InvalidHookError(InvalidOptionError, TypeError):
    """Raised when a state hook (``on_completion=[...]``...) is not callable."""


class ReservedArgumentError(HeadwaterException, TypeError):
    """Raised when a flow or task function has a parameter ``return_state`` or ``wait_for``."""


class SignatureMismatchError(HeadwaterException, TypeError):
    """Raised when a function's signature does not fit what it must match."""


class SettingsError(HeadwaterException, ValueError):
    """Raised when a setting has a value it cannot take, or a name no setting has."""


class MissingResult(HeadwaterException):
    """Raised when a state's result is not available (freed, or never set)."""


class UnfinishedRun(HeadwaterException):
    """Raised when the result of a run that has not finished is requested."""


class UpstreamTaskError(HeadwaterException):
    """Raised when a task did not run because an upstream task did not complete."""


class TriggerFailed(UpstreamTaskError, UnfinishedRun):
    """Raised when the result of a task whose trigger did not pass is requested."""


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


class FlowPauseTimeout(HeadwaterException, TimeoutError):
    """Raised in a paused flow run when nobody resumed it before its timeout."""


class FlowPauseError(HeadwaterException, RuntimeError):
    """Raised when ``pause_flow_run`` is called where a flow run cannot pause (inside a task)."""


class RunInputError(HeadwaterException, ValueError):
    """Raised when ``resume_flow_run`` input does not validate against the awaited model."""


class ObjectNotFound(HeadwaterException, LookupError):
    """Raised when a flow run, concurrency limit or other named object does not exist here."""


class FlowRunStateError(HeadwaterException, RuntimeError):
    """Raised when a flow run's state does not allow a request (cancelling a finished run)."""


class NotPausedError(FlowRunStateError):
    """Raised when ``resume_flow_run`` is called for a flow run that is not paused."""


class VersionLockError(HeadwaterException, RuntimeError):
    """Raised when a run whose version lock is on is started a second time.

    The run was Running (held by another process), Cancelling or final, or
    another starter won the race; this start did not run the body. The
    attributes say which run, what it is and who holds it.
    """

    def __init__(self, message: str, *, run_id: Any = None, kind: str = "flow_run",
                 state_type: str | None = None, host: str | None = None,
                 pid: int | None = None) -> None:
        super().__init__(message)
        self.run_id = run_id
        self.kind = kind
        self.state_type = state_type
        self.host = host
        self.pid = pid

    def __reduce__(self) -> Any:  # pickled back from a Dask worker whole
        return (_rebuild_version_lock_error,
                (str(self), self.run_id, self.kind, self.state_type, self.host, self.pid))


def _rebuild_version_lock_error(message: str, run_id: Any, kind: str, state_type: str | None,
                                host: str | None, pid: int | None) -> VersionLockError:
    return VersionLockError(message, run_id=run_id, kind=kind, state_type=state_type,
                            host=host, pid=pid)


class ConcurrencySlotAcquisitionError(HeadwaterException, ValueError):
    """Raised when slots can never be acquired (more than the limit, or a rate limit misused)."""


class AcquireConcurrencySlotTimeoutError(HeadwaterException, TimeoutError):
    """Raised when concurrency slots were not free before ``timeout_seconds``."""


class RecordsRefusedError(HeadwaterException, ValueError):
    """Raised when the store refuses run records for what they hold (resending cannot help).

    ``status_code`` is 422, as the API answers such a batch, so the recorder
    treats a refusal by the local database and by a server alike.
    """

    status_code = 422


class Signal(HeadwaterException):
    """Base of the signals a task raises to choose its own state (see `headwater.signals`).

    Args:
        message: Why; becomes the state's message.
        result: For ``Success`` and ``Skip``, the run's result; for ``Fail``, an
            optional payload kept on the exception.
    """

    def __init__(self, message: str | None = None, *, result: Any = None) -> None:
        super().__init__(message if message is not None else "")
        self.message = message
        self.result = result

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class Fail(Signal):
    """Raised by a task to fail at once (retries still apply, as for any failure)."""


class Success(Signal):
    """Raised by a task to complete at once, with ``result`` as its result."""


class Skip(Signal):
    """Raised by a task to end ``Skipped`` (a COMPLETED state), with ``result`` as its result."""


class Retry(Signal):
    """Raised by a task to run again after ``delay`` seconds or at ``start_time``.

    A retry with a ``start_time`` does not count against ``retries``, so a
    task can poll (sensor style) for as long as it likes; a retry without
    one uses up a retry, and fails the run when none are left.

    Args:
        message: Why; becomes the state's message.
        delay: Seconds to wait; None uses the task's ``retry_delay_seconds``.
        start_time: When to run again (a naive datetime is local time).
    """

    def __init__(self, message: str | None = None, *, delay: float | None = None,
                 start_time: _dt.datetime | None = None) -> None:
        if delay is not None and start_time is not None:
            raise ValueError("Give Retry a delay or a start_time, not both.")
        if delay is not None and delay < 0:
            raise ValueError(f"Retry delay must be zero or more, got {delay!r}.")
        super().__init__(message)
        self.delay = delay
        self.start_time = start_time


class Pause(Signal):
    """Raised by a task to end ``Paused``; ``timeout`` seconds go in the state's details."""

    def __init__(self, message: str | None = None, *, timeout: float | None = None) -> None:
        super().__init__(message)
        self.timeout = timeout


class CancellationRequested(BaseException):
    """Raised at an engine checkpoint when the run's flow run (or a parent) was cancelled.

    It derives from ``BaseException`` so that ``except Exception`` in user
    code does not swallow a request to stop.

    Args:
        flow_run_id: The flow run that was cancelled (the one asked, maybe a parent).
        reason: Why, if the canceller said.
    """

    def __init__(self, flow_run_id: Any = None, reason: str | None = None) -> None:
        text = reason or "The flow run was cancelled."
        super().__init__(text)
        self.flow_run_id = flow_run_id
        self.reason = reason


class ExternalSignal(BaseException):
    """Base of the signals a process gets from outside (SIGTERM)."""


class HeadwaterSignal(BaseException):
    """Prefect 2's base of orchestration signals; headwater raises none of them."""


class Abort(HeadwaterSignal):
    """Prefect 2's signal to abort orchestration; headwater never raises it."""


class TerminationSignal(ExternalSignal):
    """Raised in the main thread when the process receives SIGTERM during a run.

    It derives from ``BaseException`` so that ``except Exception`` in user
    code does not swallow a request to stop.
    """

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        super().__init__(f"Received signal {signal.Signals(signum).name}")
        self.signal = signum


class NotYetSupportedWarning(UserWarning):
    """Warned when an option is accepted for Prefect 2 compatibility but has no effect yet."""


class SerializationError(HeadwaterException, ValueError):
    """Raised when a result cannot be serialized for storage, or read back from it."""


class UnhashableInputError(HeadwaterException, TypeError):
    """Raised when a task input has no stable hash, so no cache key can be made from it."""


class FlowRunWaitTimeout(HeadwaterException, TimeoutError):
    """Raised when waiting for a flow run to finish took longer than allowed."""


class MissingProfileError(HeadwaterException, ValueError):
    """Raised when a settings profile that does not exist is asked for."""


class ObjectAlreadyExists(HeadwaterException):
    """Raised when an object that should be new already exists."""


class ScriptError(HeadwaterException):
    """Raised when a user script fails to run (Prefect 2's name; not raised yet)."""


class FlowScriptError(HeadwaterException):
    """Raised when a flow script fails to load (Prefect 2's name; not raised yet)."""


class MissingFlowError(HeadwaterException):
    """Raised when no flow is found where one was expected (not raised yet)."""


class UnspecifiedFlowError(HeadwaterException):
    """Raised when several flows are found and none was named (not raised yet)."""


class InfrastructureError(HeadwaterException):
    """Prefect 2's infrastructure failure; headwater has no infrastructure blocks yet."""


class InfrastructureNotAvailable(HeadwaterException):
    """Prefect 2's infrastructure error; headwater has no infrastructure blocks yet."""


class InfrastructureNotFound(HeadwaterException):
    """Prefect 2's infrastructure error; headwater has no infrastructure blocks yet."""


class BlockMissingCapabilities(HeadwaterException):
    """Prefect 2's block error; headwater has no blocks yet."""


class ProtectedBlockError(HeadwaterException):
    """Prefect 2's block error; headwater has no blocks yet."""


class InvalidRepositoryURLError(HeadwaterException):
    """Prefect 2's deployment storage error; headwater has no deployments yet."""


def __getattr__(name: str) -> Any:
    # httpx is imported only when this name is used: nothing heavy on import.
    if name == "HeadwaterHTTPStatusError":
        from headwater._private.http_errors import HeadwaterHTTPStatusError

        return HeadwaterHTTPStatusError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
