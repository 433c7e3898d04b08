"""Turn queued record tuples into one ``POST /api/records/batch`` body.

Runs in the recorder's thread, never on the hot path. The body is plain JSON
types only (ids and times as strings), so it can be sent again unchanged
after a failure, or spilled to a file.
"""

from __future__ import annotations

import datetime as _dt
import uuid
from typing import Any

from headwater._private.ids import new_id_text
from headwater._private.recording.isolation import MAX_DEPTH
from headwater._private.recording.recorder import FLOW_RUN, LIVE, LOGS, STATE, TASK_RUN

_DETAIL_FIELDS = ("scheduled_time", "cache_key", "cache_expiration", "pause_timeout",
                  "pause_reschedule", "pause_key", "refresh_cache", "retriable")


def _time(value: _dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def json_safe(value: Any, depth: int = 0) -> Any:
    """Parameters are user data: keep what JSON can carry, describe the rest.

    Nesting deeper than ``isolation.MAX_DEPTH`` is described, not copied: a
    value 2,000 levels deep would otherwise stop the recorder with a
    ``RecursionError`` here, or in ``json.dumps`` later.
    """
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (dict, list, tuple, set, frozenset)) and depth >= MAX_DEPTH:
        return f"<{type(value).__name__} nested deeper than {MAX_DEPTH} levels: not stored>"
    if isinstance(value, dict):
        return {str(k): json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(v, depth + 1) for v in value]
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    text = repr(value)
    return text if len(text) <= 1000 else text[:997] + "..."


def state_details_dict(details: Any) -> dict[str, Any]:
    """Return the JSON form of a StateDetails (unset fields left out)."""
    out: dict[str, Any] = {}
    for name in _DETAIL_FIELDS:
        value = getattr(details, name, None)
        if value is None or value is False:
            continue
        out[name] = _time(value) if isinstance(value, _dt.datetime) else value
    record = getattr(details, "result_record", None)
    if record is not None:
        out["result_record"] = record.metadata()
    return out


TASK_RUN_COLUMNS = ("id", "flow_run_id", "task_key", "task_name", "dynamic_key", "name", "tags",
                    "expected_start_time")
STATE_COLUMNS = ("id", "run_id", "run_kind", "type", "name", "message", "timestamp",
                 "state_details")


class PayloadBuilder:
    """Accumulates queued items into one batch, in the ``/api/records/batch`` shape.

    Task runs and states, the bulk of a batch, are sent as columns (one list
    per field, ``null`` for a field not given); flow runs and logs as rows.
    Every record carries its id (states and logs get one here), so a batch
    sent again after a failure stores nothing twice.
    """

    def __init__(self) -> None:
        self.flows: dict[str, dict[str, Any]] = {}
        self.flow_runs: list[dict[str, Any]] = []
        self.task_runs: dict[str, list[Any]] = {name: [] for name in TASK_RUN_COLUMNS}
        self.states: dict[str, list[Any]] = {name: [] for name in STATE_COLUMNS}
        self.logs: list[dict[str, Any]] = []
        self.liveness: list[dict[str, Any]] = []
        self._ids: dict[int, str] = {}  # run id texts by UUID.int
        s = self.states
        self._s_add = (s["id"].append, s["run_id"].append, s["run_kind"].append,
                       s["type"].append, s["name"].append, s["message"].append,
                       s["timestamp"].append, s["state_details"].append)
        r = self.task_runs
        self._t_add = (r["id"].append, r["flow_run_id"].append, r["task_key"].append,
                       r["task_name"].append, r["dynamic_key"].append, r["name"].append,
                       r["tags"].append, r["expected_start_time"].append)

    def _id(self, run_id: int) -> str:
        text = self._ids.get(run_id)
        if text is None:
            text = self._ids[run_id] = str(uuid.UUID(int=run_id))
        return text

    def add(self, item: tuple[Any, ...]) -> None:
        """Add one queued item."""
        kind = item[0]
        if kind == STATE:
            self._state(item[1], item[2], item[3], item[4], item[5], item[6], item[7])
        elif kind == TASK_RUN:
            self._task_run(item)
        elif kind == FLOW_RUN:
            self._flow_run(item[1], item[2], item[3])
        elif kind == LOGS:
            for record in item[1]:
                self.logs.append({**record, "id": new_id_text()})
        elif kind == LIVE:
            from headwater._private.storage.processes import process_identity

            host, pid, token = process_identity()
            self.liveness.append({"flow_run_id": self._id(item[1]), "host": host, "pid": pid,
                                  "process_start": token, "heartbeat_interval": item[2]})

    def _state(self, run_id: int, is_task: bool, type_: str, name: str,
               message: str | None, timestamp: _dt.datetime, details: Any) -> None:
        a_id, a_run, a_kind, a_type, a_name, a_message, a_ts, a_details = self._s_add
        a_id(new_id_text())
        text = self._ids.get(run_id)
        a_run(text if text is not None else self._id(run_id))
        a_kind("task" if is_task else "flow")
        a_type(type_)
        a_name(name)
        a_message(message)
        a_ts(timestamp.isoformat())
        a_details(state_details_dict(details) if details is not None else None)

    def _task_run(self, item: tuple[Any, ...]) -> None:
        _, run_id, flow_run_id, task_key, task_name, dynamic_key, name, tags, expected = item
        a_id, a_flow, a_key, a_task_name, a_dynamic, a_name, a_tags, a_expected = self._t_add
        a_id(self._id(run_id))
        a_flow(self._id(flow_run_id) if flow_run_id is not None else None)
        a_key(task_key)
        a_task_name(task_name)
        a_dynamic(dynamic_key)
        a_name(name)
        a_tags(sorted(tags) if tags else [])
        a_expected(expected.isoformat())

    def _flow_run(self, run: Any, name: str, parameters: dict[str, Any]) -> None:
        self.flows.setdefault(run.flow_name, {"name": run.flow_name})
        self.flow_runs.append({
            "id": self._id(run.id.int), "flow_name": run.flow_name, "name": name,
            "parameters": json_safe(parameters), "tags": run.tags,
            "parent_flow_run_id": _str(run.parent_flow_run_id),
            "parent_task_run_id": _str(run.parent_task_run_id),
            "expected_start_time": run.expected_start_time.isoformat(),
        })

    def build(self) -> dict[str, Any] | None:
        """Return the batch body, or None when nothing was added."""
        if not (self.flow_runs or self.task_runs["id"] or self.states["id"] or self.logs
                or self.liveness):
            return None
        batch: dict[str, Any] = {
            "flows": list(self.flows.values()), "flow_runs": self.flow_runs,
            "task_runs": self.task_runs, "states": self.states, "logs": self.logs}
        if self.liveness:  # only when there is any: a batch without keeps its old shape
            batch["liveness"] = self.liveness
        return batch


def _str(value: Any) -> str | None:
    return str(value) if value is not None else None
