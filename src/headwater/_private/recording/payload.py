"""Turn queued record tuples into one ``POST /api/records/batch`` body.

Runs in the recorder's thread, never on the hot path. The body is plain JSON
types only (ids and times as strings), so it can be sent again unchanged
after a failure, or spilled to a file.
"""

from __future__ import annotations

import datetime as _dt
import os
import random
import uuid
from typing import Any

from headwater._private.recording.recorder import FLOW_RUN, LOGS, STATE, TASK_RUN

_DETAIL_FIELDS = ("scheduled_time", "cache_key", "cache_expiration", "pause_timeout",
                  "pause_reschedule", "pause_key", "refresh_cache", "retriable")


def _time(value: _dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _json_safe(value: Any) -> Any:
    """Parameters are user data: keep what JSON can carry, describe the rest."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_json_safe(v) for v in value]
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
    return out


_id_random = random.Random()
os.register_at_fork(after_in_child=_id_random.seed)


def _state_id() -> int:
    """A random 63-bit id for a state row: unique enough, cheap, and stable on re-send."""
    return _id_random.getrandbits(63)


def _has_details(details: Any) -> bool:
    # Most states carry only run ids; skip the field walk for them.
    return (details.scheduled_time is not None or details.cache_key is not None
            or details.pause_timeout is not None or details.retriable is not None)


TASK_RUN_COLUMNS = ("id", "flow_run_id", "task_key", "task_name", "dynamic_key", "name",
                    "tags", "expected_start_time")
STATE_COLUMNS = ("id", "run_id", "run_kind", "type", "name", "message", "timestamp",
                 "state_details", "run_count")


class PayloadBuilder:
    """Accumulates queued items into one batch.

    Task runs and states, the bulk of every batch, are *columnar* (a list per
    field): building and parsing them costs a fraction of one dict per row.
    Times in columns are POSIX timestamps (float seconds, UTC).
    """

    def __init__(self) -> None:
        self.flows: dict[str, dict[str, Any]] = {}
        self.flow_runs: list[dict[str, Any]] = []
        self.task_runs: dict[str, list[Any]] = {c: [] for c in TASK_RUN_COLUMNS}
        self.states: dict[str, list[Any]] = {c: [] for c in STATE_COLUMNS}
        self.logs: list[dict[str, Any]] = []
        self._ids: dict[uuid.UUID, str] = {}
        s = self.states
        self._state_columns = (s["id"], s["run_id"], s["run_kind"], s["type"], s["name"],
                               s["message"], s["timestamp"], s["state_details"], s["run_count"])

    def _id(self, run_id: uuid.UUID) -> str:
        text = self._ids.get(run_id)
        if text is None:
            text = self._ids[run_id] = str(run_id)
        return text

    def add(self, item: tuple[Any, ...]) -> None:
        """Add one queued item."""
        kind = item[0]
        if kind == STATE:
            self._state(item[1], item[2], item[3], item[4], item[5], item[6], item[7], item[8])
        elif kind == TASK_RUN:
            self._task_run(item)
        elif kind == FLOW_RUN:
            self._flow_run(item[1], item[2], item[3], item[4])
        elif kind == LOGS:
            self.logs.extend(item[1])

    def _state(self, run_id: uuid.UUID, is_task: bool, type_: Any, name: str,
               message: str | None, timestamp: _dt.datetime, details: Any,
               run_count: int) -> None:
        ids, runs, kinds, types, names, messages, times, detail_col, counts = (
            self._state_columns)
        ids.append(_state_id())
        runs.append(self._id(run_id))
        kinds.append("task" if is_task else "flow")
        types.append(type_.value)
        names.append(name)
        messages.append(message)
        times.append(timestamp.timestamp())
        detail_col.append(state_details_dict(details) if _has_details(details) else None)
        counts.append(run_count)

    def _task_run(self, item: tuple[Any, ...]) -> None:
        (_, run_id, flow_run_id, task_key, task_name, dynamic_key, name, tags, expected,
         state) = item
        col = self.task_runs
        col["id"].append(self._id(run_id))
        col["flow_run_id"].append(self._id(flow_run_id) if flow_run_id else None)
        col["task_key"].append(task_key)
        col["task_name"].append(task_name)
        col["dynamic_key"].append(dynamic_key)
        col["name"].append(name)
        col["tags"].append(sorted(tags) if tags else [])
        col["expected_start_time"].append(expected.timestamp())
        if state is not None:
            self._state(run_id, True, state.type, state.name, state.message, state.timestamp,
                        state.state_details, 0)

    def _flow_run(self, run: Any, name: str, parameters: dict[str, Any], state: Any) -> None:
        self.flows.setdefault(run.flow_name, {"name": run.flow_name})
        self.flow_runs.append({
            "id": str(run.id), "flow_name": run.flow_name, "name": name,
            "parameters": _json_safe(parameters), "tags": run.tags,
            "parent_flow_run_id": _str(run.parent_flow_run_id),
            "parent_task_run_id": _str(run.parent_task_run_id),
            "expected_start_time": run.expected_start_time.isoformat(),
        })
        if state is not None:
            self._state(run.id, False, state.type, state.name, state.message, state.timestamp,
                        state.state_details, 0)

    def build(self) -> dict[str, Any] | None:
        """Return the batch body, or None when nothing was added."""
        if not (self.flow_runs or self.task_runs["id"] or self.states["id"] or self.logs):
            return None
        return {"version": 1, "flows": list(self.flows.values()),
                "flow_runs": self.flow_runs, "task_runs": self.task_runs,
                "states": self.states, "logs": self.logs}


def _str(value: Any) -> str | None:
    return str(value) if value is not None else None
