"""States: what a run is doing, or how it ended, and its result.

Example:
    >>> from headwater.states import Completed
    >>> Completed(data=42).result()
    42
"""

from headwater._private.states import (
    AwaitingRetry,
    Cancelled,
    Cancelling,
    Completed,
    Crashed,
    Failed,
    Late,
    Paused,
    Pending,
    Retrying,
    Running,
    Scheduled,
    State,
    StateDetails,
    StateType,
    Suspended,
    get_state_exception,
    is_state,
    is_state_iterable,
)

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
    "State",
    "StateDetails",
    "StateType",
    "Suspended",
    "get_state_exception",
    "is_state",
    "is_state_iterable",
]
