"""A records batch as the values SQLite stores (:class:`Prepared`), made from an API batch.

Two makers: :func:`prepare_batch` from a batch in the ``POST
/api/records/batch`` shape (plain JSON types: ids as UUID text, times as
ISO 8601 text, task runs and states as rows or columns), and the embedded
recorder straight from its queue (``recording/prepare.py``). One writer:
``record_statements.prepared_statements``.

Standard library only: part of the storage core.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from headwater._private.storage.stored_values import (
    NULL,
    hex_id,
    hex_ids,
    json_texts,
    stored_time,
    stored_times,
)

__all__ = ["MAX_INDEXED_CACHE_KEY", "Prepared", "prepare_batch"]

#: Cache keys up to this many characters are indexed (``task_run_state_cache``).
#: A key is any text a ``cache_key_fn`` returns, and a PostgreSQL index entry
#: holds at most ~2.7 kB: a longer key would fail the whole write. (Such a key
#: does not fit a lookup URL either; the result storage's index has it.)
MAX_INDEXED_CACHE_KEY = 1000


class Prepared:
    """A batch's records as stored values: what ``record_statements.prepared_statements`` writes.

    Ids are 32 hex digits, times stored text (``stored_values.stored_time``),
    JSON columns JSON text. Made from an API batch by :func:`prepare_batch`,
    or by the embedded recorder straight from its queue (one conversion, not
    two). Runs carry no bookkeeping: it is computed from the states here.

    Attributes:
        flow_names: Flows to create if missing (by name).
        flow_runs: ``(id, name, flow_name, flow_version, parameters, tags,
            parent_task_run_id, parent_flow_run_id, expected_start_time)``.
        task_runs: ``(id, name, flow_run_id, task_key, task_name, dynamic_key,
            cache_key, task_version, tags, expected_start_time)``.
        states: ``(id, run_id, is_task, type, name, time, message, details,
            data)``, in the order they happened for each run.
        logs: ``(id, name, level, flow_run_id, task_run_id, message, time)``.
        liveness: Flow runs starting in this process, whose liveness row
            (``flow_run_liveness``) is written with the batch: ``(run id,
            host, pid, process start token, heartbeat interval)``.
        cache: Cache key index entries of COMPLETED task run states that
            carry a cache key: ``(cache_key, state id, task run id, time,
            cache_expiration)``.
        fresh: True when the runs here were never stored before (the
            embedded recorder's batches, straight from its queue): saves
            looking each one up. Storing such a batch again is still
            harmless: its rows and states are skipped by id, and states of
            earlier runs are looked up before they are folded in.
    """

    __slots__ = ("cache", "flow_names", "flow_runs", "fresh", "liveness", "logs", "states",
                 "task_runs")

    def __init__(self) -> None:
        self.flow_names: set[str] = set()
        self.flow_runs: list[tuple[Any, ...]] = []
        self.task_runs: list[tuple[Any, ...]] = []
        self.states: list[tuple[Any, ...]] = []
        self.logs: list[tuple[Any, ...]] = []
        self.cache: list[tuple[Any, ...]] = []
        self.liveness: list[tuple[str, str, int, str | None, float]] = []
        self.fresh = False

    def __len__(self) -> int:
        return len(self.flow_runs) + len(self.task_runs) + len(self.states) + len(self.logs)


def _indexed(cache_key: Any) -> bool:
    """Whether a state's cache key goes into the cache key index."""
    return isinstance(cache_key, str) and len(cache_key) <= MAX_INDEXED_CACHE_KEY


def _columns(value: Any, names: tuple[str, ...]) -> dict[str, list[Any]]:
    """Columns from either shape the API accepts (a list of rows, or columns)."""
    if isinstance(value, dict):
        n = len(value["id"])
        return {name: value.get(name) or [None] * n for name in names}
    rows = list(value or ())
    return {name: [row.get(name) for row in rows] for name in names}


_TASK_RUN_FIELDS = ("id", "flow_run_id", "task_key", "task_name", "dynamic_key", "name", "tags",
                    "expected_start_time", "cache_key", "task_version")
_STATE_FIELDS = ("id", "run_id", "run_kind", "type", "name", "message", "timestamp",
                 "state_details", "data")


def prepare_batch(batch: Mapping[str, Any], created: str) -> Prepared:
    """Turn a batch in the API's JSON shape into stored values (``created`` fills missing times)."""
    out = Prepared()
    out.flow_names = {f["name"] for f in batch.get("flows") or ()}
    for r in batch.get("flow_runs") or ():
        out.flow_names.add(r["flow_name"])
        expected = r.get("expected_start_time")
        out.flow_runs.append((
            r["id"].replace("-", ""), r["name"], r["flow_name"], r.get("flow_version"),
            json.dumps(r.get("parameters") or {}), json.dumps(r.get("tags") or []),
            hex_id(r.get("parent_task_run_id")), hex_id(r.get("parent_flow_run_id")),
            stored_time(expected) if expected else created))
    tr = _columns(batch.get("task_runs"), _TASK_RUN_FIELDS)
    out.task_runs = list(zip(
        hex_ids(tr["id"]), tr["name"], [hex_id(f) for f in tr["flow_run_id"]], tr["task_key"],
        tr["task_name"], tr["dynamic_key"], tr["cache_key"], tr["task_version"],
        json_texts(tr["tags"], "[]"), stored_times(tr["expected_start_time"], created),
        strict=True))
    st = _columns(batch.get("states"), _STATE_FIELDS)
    out.states = list(zip(
        hex_ids(st["id"]), hex_ids(st["run_id"]), [k != "flow" for k in st["run_kind"]], st["type"],
        [n if n is not None else t.capitalize() for n, t in zip(st["name"], st["type"],
                                                                strict=True)],
        stored_times(st["timestamp"], created), st["message"],
        json_texts(st["state_details"], "{}"), json_texts(st["data"], None), strict=True))
    out.cache = [(details["cache_key"], state[0], state[1], state[5],
                  stored_time(details["cache_expiration"])
                  if details.get("cache_expiration") else NULL)
                 for state, details in zip(out.states, st["state_details"], strict=True)
                 if details and _indexed(details.get("cache_key")) and state[2]
                 and state[3] == "COMPLETED"]
    out.logs = [(hex_id(line.get("id")) or uuid.uuid4().hex, line["name"], line["level"],
                 hex_id(line.get("flow_run_id")), hex_id(line.get("task_run_id")),
                 line["message"], stored_time(line["timestamp"]))
                for line in batch.get("logs") or ()]
    out.liveness = [(str(r["flow_run_id"]).replace("-", ""), r["host"], int(r["pid"]),
                     r.get("process_start"), float(r["heartbeat_interval"]))
                    for r in batch.get("liveness") or ()]
    return out
