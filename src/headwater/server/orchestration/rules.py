"""Transition rules, as pure functions of the current and the proposed state.

The server is the referee when several processes drive the same run (two
workers picking up one run, a retry racing a cancel). Rules, in order:

1. ``force=True`` accepts anything.
2. ``expected_state_version`` set and stale: ABORT (someone moved the run first).
3. Out of a terminal state (COMPLETED, FAILED, CANCELLED, CRASHED): REJECT,
   except the retry transitions FAILED -> SCHEDULED named ``AwaitingRetry``
   and FAILED -> RUNNING named ``Retrying``.
4. RUNNING while already RUNNING: ABORT: only one writer may start a run.
5. PENDING while already PENDING, RUNNING or CANCELLING: ABORT (as Prefect's
   ``PreventPendingTransitions``): a second writer lost the race to start.

The records batch does not go through these rules: it stores what an engine
already decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from headwater.server.schemas.core import TERMINAL_TYPES, StateType

__all__ = ["Decision", "decide"]

_RETRIES = frozenset({
    (StateType.SCHEDULED, "AwaitingRetry"),
    (StateType.RUNNING, "Retrying"),
})
_BLOCKS_PENDING = frozenset({StateType.PENDING, StateType.RUNNING, StateType.CANCELLING})


@dataclass(frozen=True)
class Decision:
    """The verdict on a proposed state: ``status`` and, unless ACCEPT, why."""

    status: Literal["ACCEPT", "REJECT", "ABORT"]
    reason: str | None = None


_ACCEPT = Decision("ACCEPT")


def decide(
    current: StateType | None,
    proposed: StateType,
    proposed_name: str | None,
    *,
    force: bool = False,
    version: int = 0,
    expected_version: int | None = None,
) -> Decision:
    """Judge the transition ``current -> proposed`` (see the module docstring).

    Args:
        current: The run's current state type, or None for a new run.
        proposed: The proposed state type.
        proposed_name: The proposed state's name (retries are recognised by name).
        force: Accept whatever the rules say.
        version: The run's current ``state_version``.
        expected_version: The version the proposer last saw, if it says.

    Returns:
        The decision.
    """
    if force:
        return _ACCEPT
    if expected_version is not None and expected_version != version:
        return Decision("ABORT", f"The run's state changed (state_version is {version}, "
                                 f"expected {expected_version}).")
    if current is None:
        return _ACCEPT
    if current in TERMINAL_TYPES:
        if current is StateType.FAILED and (proposed, proposed_name) in _RETRIES:
            return _ACCEPT
        return Decision("REJECT", f"This run is already in terminal state {current.value}; "
                                  "pass force=True to change it.")
    if proposed is StateType.RUNNING and current is StateType.RUNNING:
        return Decision("ABORT", "This run is already RUNNING.")
    if proposed is StateType.PENDING and current in _BLOCKS_PENDING:
        return Decision("ABORT", f"This run is already {current.value}; it cannot be PENDING.")
    return _ACCEPT
