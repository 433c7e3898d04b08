"""The `State` object and how its result is read (`State.result`, `get_state_result`).

States are plain slotted objects rather than pydantic models: the engine
creates three or more of them per task run, and that must cost well under a
microsecond each. The API layer converts them to its own schemas.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from headwater._private.states.details import StateDetails
from headwater._private.storage.state_types import TERMINAL_TYPES as TERMINAL_TYPES
from headwater._private.storage.state_types import StateType as StateType
from headwater.exceptions import (
    AsyncContextError,
    CancelledRun,
    CrashedRun,
    FailedRun,
    MissingResult,
    PausedRun,
    UnfinishedRun,
)

__all__ = [
    "BAD_TYPES",
    "FREED",
    "FreedResult",
    "ResultRef",
    "State",
    "get_state_exception",
    "get_state_result",
    "is_state",
    "is_state_iterable",
    "now",
]

R = TypeVar("R")

_utc = _dt.timezone.utc
_now = _dt.datetime.now


def now() -> _dt.datetime:
    """Return the current time, timezone-aware, in UTC."""
    return _now(_utc)


BAD_TYPES = frozenset({StateType.FAILED, StateType.CRASHED, StateType.CANCELLED})


class FreedResult:
    """Marker for a result that the engine let go of; says why when it is read.

    Args:
        why: The explanation ``result()`` gives in its ``MissingResult``,
            after "The result of this <name> state was freed".
    """

    __slots__ = ("why",)

    def __init__(self, why: str) -> None:
        self.why = why

    def __repr__(self) -> str:
        return "<result freed>"


FREED: Any = FreedResult(
    "when its run finished, because nothing held it (headwater frees results nobody "
    "holds, so memory stays flat). To keep a result, hold the future returned by "
    ".submit()/.map() or return the value from the flow."
)


class ResultRef:
    """Base of references to results stored elsewhere (``ResultRecord``).

    A completed state whose data is a ResultRef returns ``data.load()`` from
    ``result()``, so callers never see the reference.
    """

    __slots__ = ()

    def load(self) -> Any:
        """Return the referenced result."""
        raise NotImplementedError




class State(Generic[R]):
    """The state of a flow or task run at one moment, with its result once final.

    Args:
        type: The kind of state.
        name: A refinement of the type (``Cached``, ``Retrying``...); defaults to
            the type's name in title case.
        message: A human-readable reason.
        data: The result (completed) or exception (failed, crashed, cancelled).
        state_details: Run ids, schedule and cache facts.
        timestamp: When the state was created; now by default.
    """

    __slots__ = ("data", "message", "name", "state_details", "timestamp", "type")

    def __init__(
        self,
        type: StateType,
        name: str | None = None,
        message: str | None = None,
        data: Any = None,
        state_details: StateDetails | None = None,
        timestamp: _dt.datetime | None = None,
    ) -> None:
        self.type = type
        self.name = name if name is not None else _DEFAULT_NAMES[type]
        self.message = message
        self.data = data
        self.state_details = state_details if state_details is not None else StateDetails()
        self.timestamp = timestamp if timestamp is not None else _now(_utc)

    # ------------------------------------------------------------------ predicates
    def is_scheduled(self) -> bool:
        """Return True for SCHEDULED states (``Scheduled``, ``AwaitingRetry``, ``Late``)."""
        return self.type is StateType.SCHEDULED

    def is_pending(self) -> bool:
        """Return True for PENDING states (``Pending``, ``NotReady``)."""
        return self.type is StateType.PENDING

    def is_running(self) -> bool:
        """Return True for RUNNING states (``Running``, ``Retrying``)."""
        return self.type is StateType.RUNNING

    def is_completed(self) -> bool:
        """Return True for COMPLETED states (``Completed``, ``Cached``)."""
        return self.type is StateType.COMPLETED

    def is_failed(self) -> bool:
        """Return True for FAILED states (``Failed``, ``TimedOut``)."""
        return self.type is StateType.FAILED

    def is_crashed(self) -> bool:
        """Return True for CRASHED states."""
        return self.type is StateType.CRASHED

    def is_cancelled(self) -> bool:
        """Return True for CANCELLED states."""
        return self.type is StateType.CANCELLED

    def is_cancelling(self) -> bool:
        """Return True for CANCELLING states."""
        return self.type is StateType.CANCELLING

    def is_paused(self) -> bool:
        """Return True for PAUSED states (``Paused``, ``Suspended``)."""
        return self.type is StateType.PAUSED

    def is_final(self) -> bool:
        """Return True when the run has ended: completed, failed, crashed or cancelled."""
        return self.type in TERMINAL_TYPES

    # ------------------------------------------------------------------ results
    def result(self, raise_on_failure: bool = True, fetch: bool | None = None) -> Any:
        """Return the run's result, or raise the exception it failed with.

        Args:
            raise_on_failure: If False, a failed state returns its exception
                instead of raising it.
            fetch: Accepted for Prefect 2 compatibility. In async code, use
                ``await state.result_async()`` instead of
                ``await state.result(fetch=True)``.

        Returns:
            The result of a completed run; the exception of a failed run when
            ``raise_on_failure`` is False.

        Raises:
            MissingResult: The result was freed or never stored.
            UnfinishedRun: The run has not finished.
        """
        if fetch and _in_event_loop() and not in_sync_run():
            raise AsyncContextError(
                "'await state.result(fetch=True)' is the Prefect 2 idiom; in headwater "
                "State.result() is synchronous. Use 'await state.result_async()' in async "
                "code, or 'state.result()' without await."
            )
        return get_state_result(self, raise_on_failure)

    async def result_async(self, raise_on_failure: bool = True) -> Any:
        """Async twin of `result`; never blocks the event loop."""
        if self.type is StateType.COMPLETED and isinstance(self.data, ResultRef):
            # Reading a persisted result is I/O: do it off the loop.
            return await asyncio.get_running_loop().run_in_executor(
                None, get_state_result, self, raise_on_failure)
        return get_state_result(self, raise_on_failure)

    # ------------------------------------------------------------------ misc
    def copy(self, **changes: Any) -> State[R]:
        """Return a copy with some attributes replaced."""
        new = State.__new__(State)
        for name in self.__slots__:
            object.__setattr__(new, name, changes.get(name, getattr(self, name)))
        return new

    def without_data(self, marker: Any) -> State[R]:
        """Return a copy whose data is ``marker`` (the engine's cheap summary of a run)."""
        new: State[R] = State.__new__(State)
        new.type = self.type
        new.name = self.name
        new.message = self.message
        new.data = marker
        new.state_details = self.state_details
        new.timestamp = self.timestamp
        return new

    def __repr__(self) -> str:
        if self.type in BAD_TYPES or self.message:
            msg = f"{self.message!r}" if self.message is not None else ""
            return f"{self.name}({msg})"
        return f"{self.name}()"

    def __str__(self) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, State):
            return NotImplemented
        return (
            self.type == other.type
            and self.name == other.name
            and self.message == other.message
            and self.timestamp == other.timestamp
        )

    __hash__ = None  # type: ignore[assignment]


_DEFAULT_NAMES = {t: t.value.title() for t in StateType}


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _outside_runs() -> bool:
    return False


in_sync_run: Callable[[], bool] = _outside_runs
"""Whether the caller is a sync flow or task body: ``context.in_sync_run``, set by
``context`` when imported (states sit below it; before it no run can exist)."""


def is_state(obj: Any) -> bool:
    """Return True when ``obj`` is a `State`."""
    return isinstance(obj, State)


def is_state_iterable(obj: Any) -> bool:
    """Return True for a non-empty list, tuple or set made only of States."""
    if isinstance(obj, (list, tuple, set, frozenset)) and obj:
        return all(isinstance(o, State) for o in obj)
    return False


def get_state_exception(state: State[Any]) -> BaseException:
    """Return the exception that a failed, crashed or cancelled state stands for."""
    data = state.data
    if isinstance(data, BaseException):
        return data
    if isinstance(data, State):
        return get_state_exception(data)
    if is_state_iterable(data):
        for sub in data:
            if sub.type in BAD_TYPES:
                return get_state_exception(sub)
    cls: type[Exception] = {
        StateType.FAILED: FailedRun,
        StateType.CRASHED: CrashedRun,
        StateType.CANCELLED: CancelledRun,
    }.get(state.type, FailedRun)
    return cls(state.message or f"Run is in a {state.type.value} state.")


def get_state_result(state: State[Any], raise_on_failure: bool = True) -> Any:
    """Implement `State.result` (shared by the sync and async methods)."""
    kind = state.type
    if kind is StateType.COMPLETED:
        if isinstance(state.data, FreedResult):
            raise MissingResult(f"The result of this {state.name} state was freed "
                                f"{state.data.why}")
        if isinstance(state.data, ResultRef):
            return state.data.load()
        return state.data
    if kind in BAD_TYPES:
        if raise_on_failure:
            raise get_state_exception(state)
        data = state.data
        if isinstance(data, State) or is_state_iterable(data):
            return data  # the state(s) a run returned, as in Prefect 2
        return get_state_exception(state)
    if kind is StateType.PAUSED:
        if raise_on_failure:
            raise PausedRun(state.message or "Run is paused; its result is not available.")
        return None
    if isinstance(state.data, BaseException):
        # NotReady and friends carry the reason they never ran.
        if raise_on_failure:
            raise state.data
        return state.data
    raise UnfinishedRun(f"Run is in {kind.value} state, its result is not available.")
