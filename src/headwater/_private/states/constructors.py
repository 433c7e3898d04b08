"""The state constructors: `Completed`, `Failed`, `Scheduled`, `Paused`... one per state name.

Each returns a `State` whose type and name say which; the ones that take a
time or pause settings write them into the state's `StateDetails`.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from headwater._private.states.details import StateDetails
from headwater._private.states.model import State, now
from headwater._private.storage.state_types import StateType

__all__ = [
    "AwaitingRetry",
    "Cancelled",
    "Cancelling",
    "Completed",
    "Crashed",
    "Failed",
    "Late",
    "Paused",
    "Pending",
    "Retrying",
    "Running",
    "Scheduled",
    "Suspended",
]


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
