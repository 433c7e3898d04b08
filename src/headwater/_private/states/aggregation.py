"""Prefect 2's rules for the one state that stands for many (a flow's final state)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from headwater._private.states.model import State
from headwater._private.storage.state_types import TERMINAL_TYPES, StateType

__all__ = ["aggregate_counts", "aggregate_states"]


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
