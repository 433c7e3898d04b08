"""Turn a signal raised by a task (`headwater.signals`) into the run's next state.

Pure functions: no engine, no clock, no I/O. The engine calls
:func:`signal_to_state` when a task's function raised a `Signal` and carries
out the outcome (set the state, sleep ``delay``, call the function again).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any

from headwater._private.states import (
    AwaitingRetry,
    Completed,
    Failed,
    Paused,
    State,
    StateDetails,
    now,
)
from headwater.exceptions import Pause, Retry, Signal, Skip, Success

__all__ = ["SignalOutcome", "retry_delay_for", "signal_to_state"]


@dataclass(frozen=True)
class SignalOutcome:
    """What a signal asks of the engine.

    Attributes:
        state: The state to set. For a retry, an ``AwaitingRetry`` state whose
            ``scheduled_time`` is when the next attempt starts; otherwise the
            run's final (or ``Paused``) state.
        retry: True when the engine should call the function again after
            ``delay`` seconds (setting ``Retrying`` first, as for any retry).
        delay: Seconds to wait before the next attempt (0 when not retrying).
        counts_as_retry: True when this attempt uses up one of the task's
            ``retries``. False for ``Retry(start_time=...)`` (sensor polling)
            and for every non-retry outcome.
        consults_retries: True for ``Fail``: the state is an ordinary failure,
            and the engine applies ``retries``/``retry_condition_fn`` to it as
            it does to any exception.
    """

    state: State[Any]
    retry: bool = False
    delay: float = 0.0
    counts_as_retry: bool = False
    consults_retries: bool = False


def signal_to_state(
    signal: Signal,
    *,
    run_count: int,
    retries: int,
    default_delay: float = 0.0,
    details: StateDetails | None = None,
    current_time: _dt.datetime | None = None,
) -> SignalOutcome:
    """Return the state and follow-up a signal raised by a run's function asks for.

    Args:
        signal: The signal the function raised.
        run_count: Attempts so far that counted against ``retries``, this one
            included (the run's ``run_count`` minus earlier attempts that ended
            in ``Retry(start_time=...)``).
        retries: The task's ``retries`` option.
        default_delay: The delay the task's ``retry_delay_seconds`` gives for
            this attempt (the engine computes it, jitter included); used by a
            ``Retry`` without ``delay`` or ``start_time``.
        details: State details pointing at the run (ids are stamped on the state).
        current_time: Now, in UTC; tests pass a fixed time.

    Returns:
        A `SignalOutcome`. ``Success`` -> ``Completed(result)``; ``Skip`` ->
        ``Completed(result)`` named ``Skipped``; ``Fail`` -> ``Failed`` (retries
        apply as for any failure); ``Pause`` -> ``Paused``; ``Retry`` ->
        ``AwaitingRetry`` (or ``Failed`` when it counts and no retry is left).
    """
    message = signal.message
    if isinstance(signal, Success):
        return SignalOutcome(Completed(signal.result, message=message, state_details=details))
    if isinstance(signal, Skip):
        return SignalOutcome(Completed(signal.result, name="Skipped",
                                       message=message or "Skipped by the task.",
                                       state_details=details))
    if isinstance(signal, Pause):
        return SignalOutcome(Paused(signal.timeout, message=message or "Paused by the task.",
                                    state_details=details))
    if isinstance(signal, Retry):
        return _retry_outcome(signal, run_count, retries, default_delay, details,
                              current_time or now())
    # Fail, and any other Signal subclass: an ordinary failure.
    text = message or f"Task run raised {type(signal).__name__}."
    return SignalOutcome(Failed(signal, message=text, state_details=details),
                         consults_retries=True)


def _retry_outcome(signal: Retry, run_count: int, retries: int, default_delay: float,
                   details: StateDetails | None, current: _dt.datetime) -> SignalOutcome:
    counts = signal.start_time is None
    if counts and run_count > retries:
        text = (f"Retry requested but no retries are left ({retries} allowed)"
                + (f": {signal.message}" if signal.message else "."))
        return SignalOutcome(Failed(signal, message=text, state_details=details))
    delay = retry_delay_for(signal, default_delay, current)
    when = current + _dt.timedelta(seconds=delay)
    text = signal.message or "Retry requested by the task."
    return SignalOutcome(AwaitingRetry(when, message=text, state_details=details),
                         retry=True, delay=delay, counts_as_retry=counts)


def retry_delay_for(signal: Retry, default_delay: float, current: _dt.datetime) -> float:
    """Return the seconds a `Retry` asks to wait, never negative.

    Args:
        signal: The retry signal.
        default_delay: Used when the signal names neither delay nor start time.
        current: Now, timezone-aware.
    """
    if signal.start_time is not None:
        start = signal.start_time
        if start.tzinfo is None:
            start = start.astimezone()  # naive means local time, as datetime.now() gives
        return max(0.0, (start - current).total_seconds())
    if signal.delay is not None:
        return float(signal.delay)
    return max(0.0, float(default_delay))
