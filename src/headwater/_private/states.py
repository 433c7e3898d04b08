"""The State model: what a run is doing, or how it ended, plus its result.

States are plain slotted objects rather than pydantic models: the engine
creates three or more of them per task run, and that must cost well under a
microsecond each. The API layer converts them to its own schemas.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import uuid
from collections.abc import Iterable
from typing import Any, Generic, TypeVar

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

R = TypeVar("R")

_utc = _dt.timezone.utc
_now = _dt.datetime.now


def now() -> _dt.datetime:
    """Return the current time, timezone-aware, in UTC."""
    return _now(_utc)


BAD_TYPES = frozenset({StateType.FAILED, StateType.CRASHED, StateType.CANCELLED})


class _Freed:
    """Marker for a result that the engine let go of because nobody held it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<result freed>"


FREED: Any = _Freed()


class ResultRef:
    """Base of references to results stored elsewhere (``ResultRecord``).

    A completed state whose data is a ResultRef returns ``data.load()`` from
    ``result()``, so callers never see the reference.
    """

    __slots__ = ()

    def load(self) -> Any:
        """Return the referenced result."""
        raise NotImplementedError


class StateDetails:
    """Facts about a state that tie it to runs and schedules.

    Attributes mirror Prefect's ``StateDetails``; unset ones are ``None``.
    """

    __slots__ = (
        "cache_expiration",
        "cache_key",
        "flow_run_id",
        "pause_key",
        "pause_reschedule",
        "pause_timeout",
        "refresh_cache",
        "retriable",
        "scheduled_time",
        "task_run_id",
        "untrackable_result",
    )

    def __init__(
        self,
        *,
        flow_run_id: uuid.UUID | None = None,
        task_run_id: uuid.UUID | None = None,
        scheduled_time: _dt.datetime | None = None,
        cache_key: str | None = None,
        cache_expiration: _dt.datetime | None = None,
        pause_timeout: _dt.datetime | None = None,
        pause_reschedule: bool = False,
        pause_key: str | None = None,
        refresh_cache: bool | None = None,
        retriable: bool | None = None,
        untrackable_result: bool = False,
    ) -> None:
        self.flow_run_id = flow_run_id
        self.task_run_id = task_run_id
        self.scheduled_time = scheduled_time
        self.cache_key = cache_key
        self.cache_expiration = cache_expiration
        self.pause_timeout = pause_timeout
        self.pause_reschedule = pause_reschedule
        self.pause_key = pause_key
        self.refresh_cache = refresh_cache
        self.retriable = retriable
        self.untrackable_result = untrackable_result

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name in self.__slots__
            if getattr(self, name) not in (None, False)
        )
        return f"StateDetails({fields})"


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
        if fetch and _in_event_loop() and not _in_sync_run():
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


def _in_sync_run() -> bool:
    from headwater._private.context import in_sync_run

    return in_sync_run()


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
        if state.data is FREED:
            raise MissingResult(
                f"The result of this {state.name} state was freed when its run finished, "
                "because nothing held it (headwater frees results nobody holds, so memory "
                "stays flat). To keep a result, hold the future returned by .submit()/.map() "
                "or return the value from the flow."
            )
        if isinstance(state.data, ResultRef):
            return state.data.load()
        return state.data
    if kind in BAD_TYPES:
        exc = get_state_exception(state)
        if raise_on_failure:
            raise exc
        return exc
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


# ---------------------------------------------------------------------- constructors
def _make(
    type: StateType,
    name: str | None,
    message: str | None,
    data: Any,
    details: StateDetails | None,
    extra: dict[str, Any],
) -> State[Any]:
    if extra:
        details = details if details is not None else StateDetails()
        for key, value in extra.items():
            setattr(details, key, value)
    return State(type, name=name, message=message, data=data, state_details=details)


def Scheduled(
    scheduled_time: _dt.datetime | None = None,
    *,
    name: str | None = None,
    message: str | None = None,
    data: Any = None,
    state_details: StateDetails | None = None,
) -> State[Any]:
    """Return a SCHEDULED state, due at ``scheduled_time`` (now by default)."""
    return _make(
        StateType.SCHEDULED,
        name,
        message,
        data,
        state_details,
        {"scheduled_time": scheduled_time or now()},
    )


def Pending(*, name: str | None = None, message: str | None = None, data: Any = None,
            state_details: StateDetails | None = None) -> State[Any]:
    """Return a PENDING state."""
    return _make(StateType.PENDING, name, message, data, state_details, {})


def Running(*, name: str | None = None, message: str | None = None, data: Any = None,
            state_details: StateDetails | None = None) -> State[Any]:
    """Return a RUNNING state."""
    return _make(StateType.RUNNING, name, message, data, state_details, {})


def Completed(data: Any = None, *, name: str | None = None, message: str | None = None,
              state_details: StateDetails | None = None) -> State[Any]:
    """Return a COMPLETED state holding ``data`` as its result."""
    return _make(StateType.COMPLETED, name, message, data, state_details, {})


def Failed(data: Any = None, *, name: str | None = None, message: str | None = None,
           state_details: StateDetails | None = None) -> State[Any]:
    """Return a FAILED state; ``data`` is usually the exception."""
    return _make(StateType.FAILED, name, message, data, state_details, {})


def Crashed(data: Any = None, *, name: str | None = None, message: str | None = None,
            state_details: StateDetails | None = None) -> State[Any]:
    """Return a CRASHED state: the run was stopped by its environment, not its code."""
    return _make(StateType.CRASHED, name, message, data, state_details, {})


def Cancelled(data: Any = None, *, name: str | None = None, message: str | None = None,
              state_details: StateDetails | None = None) -> State[Any]:
    """Return a CANCELLED state."""
    return _make(StateType.CANCELLED, name, message, data, state_details, {})


def Cancelling(*, name: str | None = None, message: str | None = None, data: Any = None,
               state_details: StateDetails | None = None) -> State[Any]:
    """Return a CANCELLING state: cancellation was asked for and is under way."""
    return _make(StateType.CANCELLING, name, message, data, state_details, {})


def Paused(
    timeout_seconds: float | None = None,
    pause_expiration_time: _dt.datetime | None = None,
    reschedule: bool = False,
    pause_key: str | None = None,
    *,
    name: str | None = None,
    message: str | None = None,
    data: Any = None,
    state_details: StateDetails | None = None,
) -> State[Any]:
    """Return a PAUSED state, expiring after ``timeout_seconds`` or at a set time."""
    if timeout_seconds is not None and pause_expiration_time is not None:
        raise ValueError("Give timeout_seconds or pause_expiration_time, not both.")
    expiry = pause_expiration_time
    if timeout_seconds is not None:
        expiry = now() + _dt.timedelta(seconds=timeout_seconds)
    return _make(
        StateType.PAUSED,
        name,
        message,
        data,
        state_details,
        {"pause_timeout": expiry, "pause_reschedule": reschedule, "pause_key": pause_key},
    )


def Suspended(
    timeout_seconds: float | None = None,
    pause_expiration_time: _dt.datetime | None = None,
    pause_key: str | None = None,
    *,
    message: str | None = None,
    data: Any = None,
) -> State[Any]:
    """Return a PAUSED state named ``Suspended``: the run will be rescheduled to resume."""
    return Paused(
        timeout_seconds,
        pause_expiration_time,
        True,
        pause_key,
        name="Suspended",
        message=message,
        data=data,
    )


def AwaitingRetry(scheduled_time: _dt.datetime | None = None, *, message: str | None = None,
                  data: Any = None, state_details: StateDetails | None = None) -> State[Any]:
    """Return a SCHEDULED state named ``AwaitingRetry``: a retry is due at ``scheduled_time``."""
    return Scheduled(scheduled_time, name="AwaitingRetry", message=message, data=data,
                     state_details=state_details)


def Retrying(*, message: str | None = None, data: Any = None,
             state_details: StateDetails | None = None) -> State[Any]:
    """Return a RUNNING state named ``Retrying``."""
    return Running(name="Retrying", message=message, data=data, state_details=state_details)


def Late(scheduled_time: _dt.datetime | None = None, *, message: str | None = None,
         data: Any = None, state_details: StateDetails | None = None) -> State[Any]:
    """Return a SCHEDULED state named ``Late``: the run missed its start time."""
    return Scheduled(scheduled_time, name="Late", message=message, data=data,
                     state_details=state_details)


# ---------------------------------------------------------------------- aggregation
def aggregate_counts(
    counts: dict[StateType, int], total: int, bad: Iterable[State[Any]]
) -> tuple[StateType, str]:
    """Apply Prefect 2's rules to a summary of many states.

    Args:
        counts: How many states of each type.
        total: How many states in all.
        bad: The states worth keeping for their exceptions (failed first come first).

    Returns:
        The aggregate state type and its message (``"1/2 states failed."``).
    """
    del bad
    completed = counts.get(StateType.COMPLETED, 0)
    cancelled = counts.get(StateType.CANCELLED, 0)
    failed = counts.get(StateType.FAILED, 0) + counts.get(StateType.CRASHED, 0)
    paused = counts.get(StateType.PAUSED, 0)
    final = sum(counts.get(t, 0) for t in TERMINAL_TYPES)
    if completed == total:
        return StateType.COMPLETED, "All states completed."
    if cancelled:
        return StateType.CANCELLED, f"{cancelled}/{total} states cancelled."
    if failed:
        return StateType.FAILED, f"{failed}/{total} states failed."
    if paused:
        return StateType.PAUSED, f"{paused}/{total} states paused."
    if final < total:
        return StateType.RUNNING, f"{total - final}/{total} states are not final."
    parts = ", ".join(f"{n} {t.value}" for t, n in counts.items() if n)
    return StateType.COMPLETED, f"Given states: {parts}"


def aggregate_states(states: list[State[Any]]) -> State[Any]:
    """Return one state standing for a list of states, with the list as its data."""
    counts: dict[StateType, int] = {}
    for s in states:
        counts[s.type] = counts.get(s.type, 0) + 1
    kind, message = aggregate_counts(counts, len(states), ())
    return State(kind, message=message, data=states)
