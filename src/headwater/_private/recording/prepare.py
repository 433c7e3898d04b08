"""Queued record tuples straight to SQLite's stored values (embedded mode).

The embedded transport writes :class:`~headwater.server.database.sqlite_records.Prepared`
records, made here in one pass over the recorder's queue: no API-shaped
JSON in between (that shape is made only when a batch must be kept on
disk, see ``payload.py``). Runs in the recorder's thread; the cost per task
run (one run, three states) is a few microseconds, and it is the part of
recording that holds the GIL, so it is kept to plain loops and local names.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterable
from typing import Any

from headwater._private.ids import new_hex_id, new_id_block
from headwater._private.recording.payload import has_details, json_safe, state_details_dict
from headwater._private.recording.recorder import FLOW_RUN, LOGS, STATE, TASK_RUN
from headwater.server.database.sqlite_records import Prepared, stored_time

__all__ = ["prepare_items"]


def _time(value: _dt.datetime) -> str:
    text = value.isoformat(" ", "microseconds")
    # The engine's times are UTC: cut the offset; any other zone is converted.
    return text[:26] if len(text) == 32 and text.endswith("+00:00") else stored_time(value)


def _details(details: Any) -> str:
    # Most states carry only run ids: skip the field walk for them.
    if not has_details(details):
        return "{}"
    return json.dumps(state_details_dict(details)) or "{}"


_RUNNING, _TERMINAL = "RUNNING", frozenset({"COMPLETED", "FAILED", "CANCELLED", "CRASHED"})


class _Run:
    """A run's bookkeeping over the states of one batch, kept as they are queued."""

    __slots__ = ("hex", "last", "last_time", "last_type", "n", "run_count", "start", "total")

    def __init__(self, run_hex: str) -> None:
        self.hex = run_hex
        self.last = -1  # index of the current state
        self.last_time: _dt.datetime | None = None
        self.last_type: Any = None
        self.n = self.run_count = 0
        self.start = -1  # index of the first RUNNING state
        self.total = 0.0


def prepare_items(items: Iterable[tuple[Any, ...]]) -> Prepared:
    """Turn queued items (see ``recorder.py``) into stored values, in queue order.

    The bookkeeping of each run over this batch's states is computed on the
    way, from the datetimes at hand. A run's states are queued in the order
    they happened; should a clock step back, :attr:`Prepared.books` is left
    unset and the bookkeeping is computed from the stored times instead.
    """
    out = Prepared()
    runs: dict[int, _Run] = {}  # by run id as an int: cheap to hash
    state_ids, run_ids, is_task_col = out.state_id, out.run_id, out.state_is_task
    types, names, times = out.type, out.name, out.time
    messages, details_col = out.message, out.details
    block = new_id_block()
    ordered = True

    def state(run: _Run, is_task: bool, type_: Any, name: str | None, message: str | None,
              timestamp: _dt.datetime, details: Any) -> None:
        nonlocal ordered
        i = len(state_ids)
        state_ids.append(f"{block + i:032x}")
        run_ids.append(run.hex)
        is_task_col.append(is_task)
        types.append(type_)  # a str enum: stored as its text
        names.append(name if name is not None else type_.capitalize())
        text = timestamp.isoformat(" ", "microseconds")
        times.append(text[:26] if len(text) == 32 and text.endswith("+00:00")
                     else stored_time(timestamp))
        messages.append(message)
        details_col.append(_details(details))
        last_time = run.last_time
        if last_time is not None:
            if timestamp < last_time:
                ordered = False
            elif run.last_type == _RUNNING:
                run.total += (timestamp - last_time).total_seconds()
        if type_ == _RUNNING:
            run.run_count += 1
            if run.start < 0:
                run.start = i
        run.last, run.last_time, run.last_type = i, timestamp, type_
        run.n += 1

    for item in items:
        kind = item[0]
        if kind == STATE:
            key = item[1].int
            run = runs.get(key)
            if run is None:
                run = runs[key] = _Run(item[1].hex)
            state(run, item[2], item[3], item[4], item[5], item[6], item[7])
        elif kind == TASK_RUN:
            (_, run_id, flow_run_id, task_key, task_name, dynamic_key, name, tags, expected,
             first) = item
            run = runs[run_id.int] = _Run(run_id.hex)
            out.task_runs.append((
                run.hex, name, flow_run_id.hex if flow_run_id else None, task_key, task_name,
                dynamic_key, None, None, json.dumps(sorted(tags)) if tags else "[]",
                _time(expected)))
            if first is not None:
                state(run, True, first.type, first.name, first.message, first.timestamp,
                      first.state_details)
        elif kind == FLOW_RUN:
            _, flow_run, name, parameters, first = item
            run = runs[flow_run.id.int] = _Run(flow_run.id.hex)
            out.flow_names.add(flow_run.flow_name)
            parent_task, parent_flow = flow_run.parent_task_run_id, flow_run.parent_flow_run_id
            out.flow_runs.append((
                run.hex, name, flow_run.flow_name, None, json.dumps(json_safe(parameters)),
                json.dumps(list(flow_run.tags)), parent_task.hex if parent_task else None,
                parent_flow.hex if parent_flow else None, _time(flow_run.expected_start_time)))
            if first is not None:
                state(run, False, first.type, first.name, first.message, first.timestamp,
                      first.state_details)
        elif kind == LOGS:
            out.logs.extend(
                (new_hex_id(), r["name"], r["level"], _hex(r.get("flow_run_id")),
                 _hex(r.get("task_run_id")), r["message"], stored_time(r["timestamp"]))
                for r in item[1])
    out.data = [None] * len(state_ids)
    if ordered:
        out.books = {run.hex: _book(run, state_ids, types, names, times)
                     for run in runs.values() if run.n}
    return out


def _book(run: _Run, state_ids: list[str], types: list[Any], names: list[str],
          times: list[str]) -> tuple[Any, ...]:
    i, type_ = run.last, types[run.last]
    return (state_ids[i], type_, names[i], times[i], run.n, run.run_count,
            times[run.start] if run.start >= 0 else None,
            times[i] if type_ in _TERMINAL else None, run.total)


def _hex(value: Any) -> str | None:
    """A run id given as text or UUID, as stored."""
    if value is None:
        return None
    return value.replace("-", "") if isinstance(value, str) else str(value.hex)
