"""Triggers: decide from the final states of a task's upstreams whether it runs.

Pure functions over ``(name, State)`` pairs; no engine imports. The engine
calls :func:`evaluate_trigger` once every upstream (data dependencies and
``wait_for``) is final, and acts on the `TriggerResult`: run the task, or
give it the result's state (``NotReady`` named in the message, ``Skipped``
or ``Paused``).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from headwater._private.states import Completed, Paused, State, StateDetails, StateType
from headwater.exceptions import Pause, Signal, Skip, TriggerFailed

__all__ = [
    "TriggerOutcome",
    "TriggerResult",
    "Upstreams",
    "all_failed",
    "all_finished",
    "all_successful",
    "always_run",
    "any_failed",
    "any_successful",
    "evaluate_trigger",
    "manual_only",
    "none_failed",
]

Upstreams = Mapping[str, State[Any]] | Iterable[tuple[str, State[Any]]]
"""Upstream states by task run name: a dict, or ``(name, state)`` pairs (names may repeat)."""

_SHOWN = 5  # upstreams named in a message; the rest are counted


class TriggerOutcome(str, enum.Enum):
    """What a trigger decided."""

    RUN = "RUN"
    """Run the task."""
    FAIL = "FAIL"
    """Do not run; the task ends ``NotReady`` (PENDING) with a ``TriggerFailed`` error."""
    SKIP = "SKIP"
    """Do not run; the task ends ``Skipped`` (COMPLETED), like its upstream."""
    PAUSE = "PAUSE"
    """Do not run; the task ends ``Paused`` (``manual_only``)."""


@dataclass(frozen=True)
class TriggerResult:
    """The decision of a trigger.

    Attributes:
        outcome: Run, fail, skip or pause.
        trigger: The trigger's name (``all_failed``).
        message: Why, for every outcome but RUN: ``"TriggerFailed: all_failed,
            upstream 'extract' Completed"``.
    """

    outcome: TriggerOutcome
    trigger: str
    message: str | None = None

    def __bool__(self) -> bool:
        return self.outcome is TriggerOutcome.RUN

    def to_state(self, details: StateDetails | None = None) -> State[Any] | None:
        """Return the state a task gets when it does not run; None when it runs.

        Args:
            details: State details pointing at the task run.
        """
        outcome = self.outcome
        if outcome is TriggerOutcome.RUN:
            return None
        if outcome is TriggerOutcome.SKIP:
            return Completed(None, name="Skipped", message=self.message, state_details=details)
        if outcome is TriggerOutcome.PAUSE:
            return Paused(message=self.message, state_details=details)
        return State(StateType.PENDING, name="NotReady", message=self.message,
                     data=TriggerFailed(self.message), state_details=details)


def _pairs(upstreams: Upstreams) -> list[tuple[str, State[Any]]]:
    if isinstance(upstreams, Mapping):
        return list(upstreams.items())
    return list(upstreams)


def _describe(trigger: str, offenders: list[tuple[str, State[Any]]]) -> str:
    shown = ", ".join(f"{name!r} {state.name}" for name, state in offenders[:_SHOWN])
    more = len(offenders) - _SHOWN
    suffix = f" and {more} more" if more > 0 else ""
    noun = "upstream" if len(offenders) == 1 else "upstreams"
    return f"TriggerFailed: {trigger}, {noun} {shown}{suffix}"


def _run(trigger: str) -> TriggerResult:
    return TriggerResult(TriggerOutcome.RUN, trigger)


def _fail(trigger: str, offenders: list[tuple[str, State[Any]]]) -> TriggerResult:
    return TriggerResult(TriggerOutcome.FAIL, trigger, _describe(trigger, offenders))


def _ok(state: State[Any]) -> bool:
    return state.type is StateType.COMPLETED


def _skipped(state: State[Any]) -> bool:
    return state.type is StateType.COMPLETED and state.name == "Skipped"


def _bad(state: State[Any]) -> bool:
    return state.type in (StateType.FAILED, StateType.CRASHED)


def all_successful(upstreams: Upstreams) -> TriggerResult:
    """Run when every upstream completed (the default trigger).

    An upstream that was ``Skipped`` skips this task too, as in Prefect 1 and
    Airflow; use `none_failed` to run after skipped upstreams.
    """
    pairs = _pairs(upstreams)
    offenders = [(n, s) for n, s in pairs if not _ok(s)]
    if offenders:
        return _fail("all_successful", offenders)
    skipped = [(n, s) for n, s in pairs if _skipped(s)]
    if skipped:
        names = ", ".join(repr(n) for n, _ in skipped[:_SHOWN])
        return TriggerResult(TriggerOutcome.SKIP, "all_successful",
                             f"Skipped because upstream {names} was skipped.")
    return _run("all_successful")


def all_failed(upstreams: Upstreams) -> TriggerResult:
    """Run when every upstream failed or crashed (clean-up and alerting tasks)."""
    offenders = [(n, s) for n, s in _pairs(upstreams) if not _bad(s)]
    return _fail("all_failed", offenders) if offenders else _run("all_failed")


def any_successful(upstreams: Upstreams) -> TriggerResult:
    """Run when at least one upstream completed (or there are none)."""
    pairs = _pairs(upstreams)
    if not pairs or any(_ok(s) for _, s in pairs):
        return _run("any_successful")
    return _fail("any_successful", pairs)


def any_failed(upstreams: Upstreams) -> TriggerResult:
    """Run when at least one upstream failed or crashed (or there are none)."""
    pairs = _pairs(upstreams)
    if not pairs or any(_bad(s) for _, s in pairs):
        return _run("any_failed")
    return _fail("any_failed", pairs)


def all_finished(upstreams: Upstreams) -> TriggerResult:
    """Always run, whatever the upstreams' final states (also named `always_run`)."""
    del upstreams
    return _run("all_finished")


always_run = all_finished


def manual_only(upstreams: Upstreams) -> TriggerResult:
    """Never run on its own: the task ends ``Paused`` until someone resumes it."""
    del upstreams
    return TriggerResult(TriggerOutcome.PAUSE, "manual_only",
                         "Trigger is manual_only: the task waits to be resumed.")


def none_failed(upstreams: Upstreams) -> TriggerResult:
    """Run when every upstream completed or was skipped (none failed, crashed or was cancelled).

    Unlike `all_successful`, a skipped upstream does not skip this task.
    """
    offenders = [(n, s) for n, s in _pairs(upstreams) if not _ok(s)]
    return _fail("none_failed", offenders) if offenders else _run("none_failed")


Trigger = Callable[[Any], Any]


def evaluate_trigger(trigger: Trigger, upstreams: Upstreams) -> TriggerResult:
    """Call a trigger, built-in or the user's, and return its decision.

    User triggers may be written Prefect 1 style: return a bool, or raise a
    signal (``Skip`` -> skip, ``Pause`` -> pause, any other exception ->
    the trigger fails with its message).

    Args:
        trigger: The task's ``trigger`` option.
        upstreams: The final upstream states, by task run name.

    Returns:
        The decision; never raises for an ``Exception`` raised by the trigger.
    """
    name = getattr(trigger, "__name__", type(trigger).__name__)
    pairs = _pairs(upstreams)
    try:
        verdict = trigger(pairs)
    except Skip as exc:
        return TriggerResult(TriggerOutcome.SKIP, name, exc.message or f"Skipped by {name}.")
    except Pause as exc:
        return TriggerResult(TriggerOutcome.PAUSE, name, exc.message or f"Paused by {name}.")
    except Exception as exc:
        text = exc.message if isinstance(exc, Signal) else str(exc)
        detail = f" ({type(exc).__name__}: {text})" if text else f" ({type(exc).__name__})"
        return TriggerResult(TriggerOutcome.FAIL, name, f"TriggerFailed: {name}{detail}")
    if isinstance(verdict, TriggerResult):
        return verdict
    if verdict:
        return _run(name)
    return _fail(name, pairs) if pairs else TriggerResult(
        TriggerOutcome.FAIL, name, f"TriggerFailed: {name}")
