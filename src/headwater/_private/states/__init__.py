"""States: the `State` object, its details, constructors and aggregation rules.

One module per job; this package re-exports them, so callers import from
``headwater._private.states`` (and users from ``headwater.states``):

* `model`: `State`, reading its result (`get_state_result`), the freed-result
  markers `FREED`/`FreedResult` and `ResultRef`;
* `sizing`: `approx_size`, a constant-time estimate of a result's memory;
* `details`: `StateDetails`;
* `constructors`: `Completed`, `Failed`, `Scheduled`, `Paused`... ;
* `aggregation`: Prefect 2's rules for the state standing for many.
"""

from headwater._private.states.aggregation import aggregate_counts, aggregate_states
from headwater._private.states.constructors import (
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
    Suspended,
)
from headwater._private.states.details import StateDetails
from headwater._private.states.model import (
    BAD_TYPES,
    FREED,
    FreedResult,
    ResultRef,
    State,
    get_state_exception,
    get_state_result,
    is_state,
    is_state_iterable,
    now,
)
from headwater._private.storage.state_types import TERMINAL_TYPES, StateType

__all__ = [
    "BAD_TYPES",
    "FREED",
    "FreedResult",
    "TERMINAL_TYPES",
    "AwaitingRetry",
    "Cancelled",
    "Cancelling",
    "Completed",
    "Crashed",
    "Failed",
    "Late",
    "Paused",
    "Pending",
    "ResultRef",
    "Retrying",
    "Running",
    "Scheduled",
    "State",
    "StateDetails",
    "StateType",
    "Suspended",
    "aggregate_counts",
    "aggregate_states",
    "get_state_exception",
    "get_state_result",
    "is_state",
    "is_state_iterable",
    "now",
]
