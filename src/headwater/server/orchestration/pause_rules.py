"""Prefect 2's rules for pausing and resuming flow runs, as pure functions.

Entering PAUSED (Prefect 2's ``HandlePausingFlows``), in this order:

1. a run with no state: ABORT (``Cannot pause flows with no state.``);
2. a run that is not RUNNING: REJECT (``... not currently running.``);
3. a pause key that fired before in this run (a PAUSED state with that
   ``pause_key`` is in its history): REJECT (``This pause has already
   fired.``): the run stays RUNNING, which tells a resumed run's code that
   this pause is behind it;
4. a rescheduled pause (``pause_reschedule``, which suspensions always are)
   of a subflow run, or of a run without a deployment: ABORT, since nothing
   could start the run again.

Leaving PAUSED (``HandleResumingPausedFlows``): only to RUNNING, SCHEDULED
or a final state (REJECT otherwise); a rescheduled pause needs a deployment;
past its ``pause_timeout`` the run ends FAILED instead (``The flow was
<name> and never resumed.``, with the proposed state's name lower-cased, as
Prefect 2 words it).

The verb is ``suspend`` when the proposed state is named ``Suspended``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from headwater.server.orchestration.rules import Decision
from headwater.server.schemas.core import TERMINAL_TYPES, StateType

__all__ = ["PausedRun", "judge_leaving_pause", "judge_pause"]


@dataclass(frozen=True)
class PausedRun:
    """The facts of a flow run the pause rules read."""

    is_subflow: bool
    has_deployment: bool
    fired_keys: Collection[str] = ()


def judge_pause(current: StateType | None, proposed_name: str | None, pause_key: str | None,
                reschedule: bool, run: PausedRun) -> Decision | None:
    """Judge a proposed PAUSED state; None when the pause rules accept it."""
    verb = "suspend" if proposed_name == "Suspended" else "pause"
    if current is None:
        return Decision("ABORT", f"Cannot {verb} flows with no state.")
    if current is not StateType.RUNNING:
        return Decision("REJECT", f"Cannot {verb} flows that are not currently running.")
    if pause_key is not None and pause_key in run.fired_keys:
        return Decision("REJECT", f"This {verb} has already fired.")
    if reschedule:
        if run.is_subflow:
            return Decision("ABORT", f"Cannot {verb} subflows.")
        if not run.has_deployment:
            return Decision("ABORT", f"Cannot {verb} flows without a deployment.")
    return None


def judge_leaving_pause(proposed: StateType, proposed_name: str, reschedule: bool,
                        pause_timeout: dt.datetime | None, has_deployment: bool,
                        now: dt.datetime) -> tuple[Decision | None, str | None]:
    """Judge a move out of PAUSED.

    Returns:
        ``(None, None)`` to accept; ``(decision, None)`` to refuse; or
        ``(REJECT, message)`` when the pause timed out: the run must end
        FAILED with ``message``.
    """
    if not (proposed in (StateType.RUNNING, StateType.SCHEDULED) or proposed in TERMINAL_TYPES):
        return Decision("REJECT", f"This run cannot transition to the {proposed.value} state "
                                  "from the PAUSED state."), None
    verb = "suspend" if proposed_name == "Suspended" else "pause"
    if reschedule and not has_deployment:
        return Decision("REJECT", f"Cannot reschedule a {proposed_name.lower()} flow run "
                                  "without a deployment."), None
    if pause_timeout is not None and pause_timeout < now:
        return (Decision("REJECT", f"The flow run {verb} has timed out and can no longer "
                                   "resume."),
                f"The flow was {proposed_name.lower()} and never resumed.")
    return None, None
