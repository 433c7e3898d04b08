"""A resumed flow run's earlier task runs: the completed ones it reuses instead of running.

A suspended run starts again from the top in a new process. As in Prefect 2,
a task run that completed in an earlier process, with its result persisted,
is not run again: the task run of the same task key and dynamic key (the
n-th call of that task in the run) is read from the API, and its recorded
result reference (``state_details.result_record``) stands for the result.
A task whose result was not persisted runs again, as the same task run (its row,
with its run count going up): nothing is created twice.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from headwater._private.run_records import TaskRun
    from headwater._private.states import State
    from headwater.client import HeadwaterClient

__all__ = ["Earlier", "Reusable", "earlier_task_runs"]

Reusable = dict[tuple[str, int], "tuple[TaskRun, State[Any]]"]
Earlier = dict[tuple[str, int], uuid.UUID]
_PAGE = 200


async def earlier_task_runs(client: HeadwaterClient,
                            flow_run_id: uuid.UUID) -> tuple[Reusable, Earlier]:
    """The flow run's task runs so far, by (task key, dynamic key): the completed ones with
    persisted results (reused), and the ids of the others (run again *as the same task
    run*: a second row with the same key would not be stored)."""
    reusable: Reusable = {}
    earlier: Earlier = {}
    offset = 0
    while True:
        page = await client.read_task_runs(flow_run_id=flow_run_id, limit=_PAGE, offset=offset)
        for row in page:
            entry = _reusable(row, flow_run_id)
            if entry is not None:
                reusable[(entry[0]._task_key, int(entry[0]._dynamic_key))] = entry
            elif str(row.get("dynamic_key", "")).isdigit():
                earlier[(str(row["task_key"]), int(row["dynamic_key"]))] = uuid.UUID(
                    str(row["id"]))
        if len(page) < _PAGE:
            return reusable, earlier
        offset += _PAGE


def _reusable(row: dict[str, Any], flow_run_id: uuid.UUID) -> tuple[TaskRun, State[Any]] | None:
    from headwater._private.results.records import ResultRecord
    from headwater._private.run_records import TaskRun
    from headwater._private.states import Completed, StateDetails

    state = row.get("state") or {}
    details = state.get("state_details") or {}
    record = details.get("result_record")
    if state.get("type") != "COMPLETED" or not isinstance(record, dict):
        return None
    try:
        dynamic = int(row["dynamic_key"])
        reference = ResultRecord.from_metadata(record)
    except (KeyError, TypeError, ValueError):
        return None  # not a key the engine makes, or a reference it cannot read
    run_id = uuid.UUID(str(row["id"]))
    started = row.get("expected_start_time")
    run = TaskRun(run_id, str(row.get("name") or ""), str(row.get("task_name") or ""),
                  str(row["task_key"]), str(dynamic), flow_run_id,
                  frozenset(row.get("tags") or ()),
                  dt.datetime.fromisoformat(started) if started
                  else dt.datetime.now(dt.timezone.utc))
    completed: State[Any] = Completed(
        data=reference, message=state.get("message"),
        state_details=StateDetails(task_run_id=run_id, flow_run_id=flow_run_id))
    completed.state_details.result_record = reference
    run._state = completed
    return run, completed
