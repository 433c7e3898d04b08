"""State types: the one enum the engine and the API server share.

Standard library only: the server imports it without the engine, the engine
without the server.
"""

from __future__ import annotations

import enum

__all__ = ["TERMINAL_TYPES", "StateType"]


class StateType(str, enum.Enum):
    """The kind of a state; the name of a state refines it (``Cached`` is COMPLETED)."""

    SCHEDULED = "SCHEDULED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    CANCELLING = "CANCELLING"
    CRASHED = "CRASHED"
    PAUSED = "PAUSED"

    def __str__(self) -> str:
        return self.value


#: The types that end a run.
TERMINAL_TYPES = frozenset(
    {StateType.COMPLETED, StateType.FAILED, StateType.CANCELLED, StateType.CRASHED}
)
