"""Run and state objects, at Prefect 2's ``prefect.client.schemas.objects`` path.

`FlowRun` and `TaskRun` are the read-only records that hooks receive and
``get_run_context()`` holds; `State`, `StateType` and `StateDetails` are
`headwater.states`'. The client's ``read_*`` methods return plain dicts.

Example:
    >>> from headwater.client.schemas.objects import FlowRun, State
    >>> def on_failure(flow: object, flow_run: FlowRun, state: State) -> None:
    ...     print(flow_run.name, state.message)
"""

from headwater._private.run_records import FlowRun, TaskRun
from headwater._private.states import State, StateDetails, StateType

__all__ = ["FlowRun", "State", "StateDetails", "StateType", "TaskRun"]

for _record in (FlowRun, TaskRun):
    _record.__module__ = __name__
del _record
