"""The records batch: runs, states and logs from a recorder, stored in one transaction.

This is the hot path of recording, so it works in bulk: a handful of
``executemany`` statements per batch, whatever its size, and no per-row ORM
objects. It is idempotent: records whose ids are already stored are skipped,
so a batch can be re-sent after a failure, in whole or in part.

Steps, in one transaction:

1. Check references: a state, log or task run may name a run from this batch
   or one already stored; any other id fails the whole batch (422).
2. Create missing flows by name.
3. Insert new runs, with their bookkeeping (current state, run_count, times)
   already computed from the batch's states, so new runs need no UPDATE.
4. For runs stored earlier that get new states: lock them, skip the states
   already stored, fold the new ones into the bookkeeping, UPDATE.
5. Insert the new states and the logs.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass
from itertools import compress, repeat
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.server.database import tables as t
from headwater.server.database.bulk import (
    insert_ignore_many,
    sqlite_insert_tuples,
    sqlite_timestamp,
    stored_hex_ids,
    stored_ids,
)
from headwater.server.schemas.core import TERMINAL_TYPES
from headwater.server.schemas.records import (
    RecordsBatch,
    RecordsBatchResult,
    StateColumns,
    TaskRunColumns,
)
from headwater.server.services.bookkeeping import BOOK_COLUMNS, Book, fold, utc
from headwater.server.services.runs import FLOW, TASK, RunKind, insert_ignore, now

__all__ = ["Columns", "UnknownRunsError", "record_batch"]

#: Ids per ``IN (...)`` list: below SQLite's and asyncpg's bound-parameter limits.
_CHUNK = 5000
#: Unknown ids named in an error message, at most.
_NAMED = 10

Row = dict[str, Any]


class UnknownRunsError(ValueError):
    """Raised when a batch refers to runs that are neither in it nor stored."""


def _describe(label: str, ids: set[uuid.UUID]) -> str:
    shown = ", ".join(sorted(str(i) for i in ids)[:_NAMED])
    more = f" and {len(ids) - _NAMED} more" if len(ids) > _NAMED else ""
    return f"unknown {label} ids: {shown}{more}"


async def _check_references(conn: AsyncConnection, batch: RecordsBatch,
                            flow_run_ids: set[uuid.UUID], task_run_ids: set[uuid.UUID]) -> None:
    wanted_flow: set[uuid.UUID] = set()
    wanted_task: set[uuid.UUID] = set()
    for run in batch.get("task_runs", ()):
        if run["flow_run_id"] is not None:
            wanted_flow.add(run["flow_run_id"])
    for state in batch.get("states", ()):
        (wanted_flow if state["run_kind"] == "flow" else wanted_task).add(state["run_id"])
    for line in batch.get("logs", ()):
        if line.get("flow_run_id") is not None:
            wanted_flow.add(line["flow_run_id"])  # type: ignore[arg-type]
        if line.get("task_run_id") is not None:
            wanted_task.add(line["task_run_id"])  # type: ignore[arg-type]
    wanted_flow -= flow_run_ids
    wanted_task -= task_run_ids
    problems = []
    missing_flow = wanted_flow - await stored_ids(conn, t.flow_run.c.id, wanted_flow)
    missing_task = wanted_task - await stored_ids(conn, t.task_run.c.id, wanted_task)
    if missing_flow:
        problems.append(_describe("flow run", missing_flow))
    if missing_task:
        problems.append(_describe("task run", missing_task))
    if problems:
        raise UnknownRunsError("; ".join(problems) + " (not in this batch and not stored)")


async def _ensure_flows(conn: AsyncConnection, names: set[str]) -> tuple[dict[str, uuid.UUID], int]:
    if not names:
        return {}, 0
    stamp = now()
    rows = [{"id": uuid.uuid4(), "created": stamp, "updated": stamp, "name": name, "tags": []}
            for name in sorted(names)]
    result = await conn.execute(
        insert_ignore(t.flow, conn.dialect.name).returning(t.flow.c.id), rows)
    created = len(result.all())
    ids: dict[str, uuid.UUID] = {}
    ordered = sorted(names)
    for start in range(0, len(ordered), _CHUNK):
        query = sa.select(t.flow.c.name, t.flow.c.id).where(
            t.flow.c.name.in_(ordered[start:start + _CHUNK]))
        ids.update(dict((await conn.execute(query)).all()))
    return ids, created


def _state_rows(batch: RecordsBatch, stamp: Any) -> tuple[dict[uuid.UUID, list[Row]],
                                                          dict[uuid.UUID, list[Row]]]:
    """The batch's states as table rows, grouped by flow run and by task run."""
    by_flow: dict[uuid.UUID, list[Row]] = defaultdict(list)
    by_task: dict[uuid.UUID, list[Row]] = defaultdict(list)
    for s in batch.get("states", ()):
        run_id = s["run_id"]
        get = s.get
        ts = s["timestamp"]
        flow_kind = s["run_kind"] == "flow"
        row = {"id": s["id"], "created": stamp, "flow_run_id" if flow_kind else "task_run_id":
               run_id, "type": s["type"], "name": get("name") or s["type"].capitalize(),
               "timestamp": ts if ts.tzinfo is not None else utc(ts),
               "message": get("message"), "state_details": get("state_details") or {},
               "data": get("data")}
        (by_flow if flow_kind else by_task)[run_id].append(row)
    return by_flow, by_task


def _flow_run_rows(batch: RecordsBatch, flow_ids: dict[str, uuid.UUID], stamp: Any) -> list[Row]:
    return [{
        "id": r["id"], "created": stamp, "updated": stamp, "name": r["name"],
        "flow_id": flow_ids[r["flow_name"]], "flow_version": r.get("flow_version"),
        "parameters": r.get("parameters") or {}, "tags": r.get("tags") or [],
        "idempotency_key": None, "parent_task_run_id": r.get("parent_task_run_id"),
        "parent_flow_run_id": r.get("parent_flow_run_id"),
        "expected_start_time": r.get("expected_start_time") or stamp,
    } for r in batch.get("flow_runs", ())]


def _task_run_rows(batch: RecordsBatch, stamp: Any) -> list[Row]:
    return [{
        "id": r["id"], "created": stamp, "updated": stamp, "name": r["name"],
        "flow_run_id": r["flow_run_id"], "task_key": r["task_key"],
        "task_name": r.get("task_name"), "dynamic_key": r["dynamic_key"],
        "cache_key": r.get("cache_key"), "task_version": r.get("task_version"),
        "tags": r.get("tags") or [], "expected_start_time": r.get("expected_start_time") or stamp,
    } for r in batch.get("task_runs", ())]


_EMPTY_BOOK = Book().values()
_TERMINAL = frozenset(s.value for s in TERMINAL_TYPES)


def _by_timestamp(state: Row) -> Any:
    return state["timestamp"]


def _new_book(states: list[Row]) -> dict[str, Any]:
    """``fold(Book(), states).values()``, without a ``Book`` per state.

    A new run has no current state, so every state, in timestamp order,
    becomes current in turn; this is the batch's hot loop (one call per new
    run), so it keeps to local variables.
    """
    if len(states) > 1:
        states.sort(key=_by_timestamp)
    run_count, start_time, total = 0, None, 0.0
    previous = None
    for state in states:
        ts = state["timestamp"]
        if previous is not None and previous["type"] == "RUNNING":
            total += (ts - previous["timestamp"]).total_seconds()
        if state["type"] == "RUNNING":
            run_count += 1
            if start_time is None:
                start_time = ts
        previous = state
    assert previous is not None
    ts = previous["timestamp"]
    return {"state_id": previous["id"], "state_type": previous["type"],
            "state_name": previous["name"], "state_timestamp": ts,
            "state_version": len(states), "run_count": run_count, "start_time": start_time,
            "end_time": ts if previous["type"] in _TERMINAL else None,
            "total_run_time": total}


async def _insert_runs(conn: AsyncConnection, kind: RunKind, rows: list[Row],
                       states: dict[uuid.UUID, list[Row]]) -> set[uuid.UUID]:
    """Insert the runs not stored yet, bookkeeping included; return the ids inserted."""
    if not rows:
        return set()
    stored = await stored_ids(conn, kind.table.c.id, (r["id"] for r in rows))
    fresh = []
    for row in rows:
        if row["id"] in stored:
            continue
        run_states = states.get(row["id"])
        row.update(_new_book(run_states) if run_states else _EMPTY_BOOK)
        fresh.append(row)
    if not fresh:
        return set()
    # On PostgreSQL a concurrent batch may have inserted some of them since the
    # check above: the ids actually inserted say which runs took our bookkeeping.
    return await insert_ignore_many(conn, kind.table, fresh)


async def _update_stored_runs(conn: AsyncConnection, kind: RunKind,
                              states: dict[uuid.UUID, list[Row]]) -> list[Row]:
    """Fold new states into runs stored before; return the states to insert."""
    if not states:
        return []
    table = kind.table
    run_ids = sorted(states)
    books: dict[uuid.UUID, Book] = {}
    for start in range(0, len(run_ids), _CHUNK):
        query = sa.select(table.c.id, *(table.c[n] for n in BOOK_COLUMNS)).where(
            table.c.id.in_(run_ids[start:start + _CHUNK])).order_by(table.c.id)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()  # lock before reading which states are stored
        for row in (await conn.execute(query)).mappings():
            books[row["id"]] = Book.from_row(dict(row))
    lost = set(run_ids) - books.keys()
    if lost:
        # Checked and in the batch, yet not inserted: another unique key matched
        # (a task run with the same flow run, task_key and dynamic_key).
        raise UnknownRunsError(
            _describe(f"{kind.name} run", lost)
            + " (not stored: a run with the same identity exists under another id)")
    all_states = [s for run_id in run_ids for s in states[run_id]]
    seen = await stored_ids(conn, kind.states.c.id, (s["id"] for s in all_states))
    new_states = [s for s in all_states if s["id"] not in seen]
    grouped: dict[uuid.UUID, list[Row]] = defaultdict(list)
    for s in new_states:
        grouped[s[kind.state_fk]].append(s)
    stamp = now()
    updates = [{"b_id": run_id, "updated": stamp, **fold(books[run_id], run_states).values()}
               for run_id, run_states in grouped.items()]
    if updates:
        await conn.execute(
            sa.update(table).where(table.c.id == sa.bindparam("b_id")),
            updates)
    return new_states


async def _insert_states(conn: AsyncConnection, kind: RunKind, runs_inserted: set[uuid.UUID],
                         states: dict[uuid.UUID, list[Row]]) -> int:
    fresh = [s for run_id in runs_inserted for s in states.pop(run_id, ())]
    # What is left belongs to runs stored before this batch.
    fresh.extend(await _update_stored_runs(conn, kind, states))
    return len(await insert_ignore_many(conn, kind.states, fresh))


async def _insert_logs(conn: AsyncConnection, batch: RecordsBatch, stamp: Any) -> int:
    lines = batch.get("logs")
    if not lines:
        return 0
    rows = [{"id": line.get("id") or uuid.uuid4(), "created": stamp, "name": line["name"],
             "level": line["level"], "message": line["message"], "timestamp": line["timestamp"],
             "flow_run_id": line.get("flow_run_id"), "task_run_id": line.get("task_run_id")}
            for line in lines]
    if any("id" in line for line in lines):
        seen = await stored_ids(conn, t.log.c.id, (r["id"] for r in rows))
        rows = [r for r in rows if r["id"] not in seen]
    return len(await insert_ignore_many(conn, t.log, rows))


@dataclass
class Columns:
    """Task runs and states sent (and checked) as columns, beside the batch's rows."""

    task_runs: TaskRunColumns | None = None
    states: StateColumns | None = None


def _merge_rows(batch: RecordsBatch, columns: Columns) -> RecordsBatch:
    """The batch with its columns turned into rows (the general path)."""
    merged: Any = dict(batch)
    tr = columns.task_runs
    if tr is not None:
        rows: list[Any] = list(merged.get("task_runs", ()))
        rows.extend({
            "id": uuid.UUID(tr.id[i]),
            "flow_run_id": uuid.UUID(f) if (f := tr.flow_run_id[i]) is not None else None,
            "task_key": tr.task_key[i], "task_name": tr.task_name[i],
            "dynamic_key": tr.dynamic_key[i], "name": tr.name[i], "tags": tr.tags[i] or [],
            "expected_start_time": tr.expected_start_time[i], "cache_key": tr.cache_key[i],
            "task_version": tr.task_version[i],
        } for i in range(len(tr.id)))
        merged["task_runs"] = rows
    st = columns.states
    if st is not None:
        rows = list(merged.get("states", ()))
        rows.extend(_state_row(st, i) for i in range(len(st.id)))
        merged["states"] = rows
    result: RecordsBatch = merged
    return result


def _state_row(st: StateColumns, i: int) -> dict[str, Any]:
    return {"id": uuid.UUID(st.id[i]), "run_id": uuid.UUID(st.run_id[i]),
            "run_kind": st.run_kind[i], "type": st.type[i], "timestamp": st.timestamp[i],
            "name": st.name[i], "message": st.message[i],
            "state_details": st.state_details[i] or {}, "data": st.data[i]}


def _hex(ids: list[str]) -> list[str]:
    """Canonical UUID strings as SQLite stores them (32 hex digits)."""
    return "\n".join(ids).replace("-", "").split("\n") if ids else []


_DIGITS = "[0-9]"
_UTC_ISO = (f"{_DIGITS}{{4}}-{_DIGITS}{{2}}-{_DIGITS}{{2}}T{_DIGITS}{{2}}:{_DIGITS}{{2}}:"
            f"{_DIGITS}{{2}}\\.{_DIGITS}{{6}}\\+00:00")
_UTC_ISO_LINES = re.compile(f"(?:{_UTC_ISO}\n)*{_UTC_ISO}")


def _sqlite_times(texts: list[Any], times: list[dt.datetime | None], default: str) -> list[str]:
    """Times as SQLite stores them; from the ISO text at once when all are UTC with microseconds."""
    if texts and None not in texts:
        joined = "\n".join(texts)
        if len(joined) == 33 * len(texts) - 1 and _UTC_ISO_LINES.fullmatch(joined):
            return joined.replace("T", " ").replace("+00:00", "").split("\n")
    return [sqlite_timestamp(v) if v is not None else default for v in times]


def _json_column(values: list[Any], empty: str | None) -> list[Any]:
    """JSON text per value: ``empty`` for None (and for an empty value when given)."""
    dumps = json.dumps
    if empty is None:
        return [dumps(v) if v is not None else None for v in values]
    return [dumps(v) if v else empty for v in values]


def _tags_json(tags: list[str] | None) -> str:
    return json.dumps(tags) if tags else "[]"


async def _check_hex_references(conn: AsyncConnection, wanted_flow: set[str],
                                wanted_task: set[str]) -> None:
    missing_flow = wanted_flow - await stored_hex_ids(conn, t.flow_run.c.id, wanted_flow)
    missing_task = wanted_task - await stored_hex_ids(conn, t.task_run.c.id, wanted_task)
    problems = []
    if missing_flow:
        problems.append(_describe("flow run", {uuid.UUID(h) for h in missing_flow}))
    if missing_task:
        problems.append(_describe("task run", {uuid.UUID(h) for h in missing_task}))
    if problems:
        raise UnknownRunsError("; ".join(problems) + " (not in this batch and not stored)")


def _book_tuple(idxs: list[int], times: list[dt.datetime], types: list[str],
                st_hex: list[str], names: list[str], texts: list[str]) -> tuple[Any, ...]:
    """``_new_book`` for a new run's states given by index, as stored values."""
    if len(idxs) > 1:
        idxs.sort(key=times.__getitem__)
    run_count, start, total, prev = 0, -1, 0.0, -1
    for i in idxs:
        if prev >= 0 and types[prev] == "RUNNING":
            total += (times[i] - times[prev]).total_seconds()
        if types[i] == "RUNNING":
            run_count += 1
            if start < 0:
                start = i
        prev = i
    ts = texts[prev]
    return (st_hex[prev], types[prev], names[prev], ts, len(idxs), run_count,
            texts[start] if start >= 0 else None,
            ts if types[prev] in _TERMINAL else None, total)


async def _record_sqlite_columns(conn: AsyncConnection, batch: RecordsBatch,
                                 tr: TaskRunColumns | None,
                                 st: StateColumns | None) -> RecordsBatchResult:
    """``record_batch`` on SQLite for columns: straight to the driver's tuples.

    Ids stay strings (as stored: 32 hex digits) and values are converted a
    column at a time; flow runs, their states and states of task runs stored
    before this batch take the general path (they are few).
    """
    stamp = now()
    created = sqlite_timestamp(stamp)
    run_hex = _hex(tr.id) if tr is not None else []
    flow_hex = ([f.replace("-", "") if f is not None else None for f in tr.flow_run_id]
                if tr is not None else [])
    if st is None:
        st = StateColumns(id=[], run_id=[], run_kind=[], type=[], name=[], message=[],
                          timestamp=[], timestamp_text=[], state_details=[], data=[])
    st_run_hex = _hex(st.run_id)
    kinds, types = st.run_kind, st.type
    all_task = "flow" not in kinds
    flow_idx = [] if all_task else [i for i, k in enumerate(kinds) if k == "flow"]

    # 1. References.
    flow_runs = batch.get("flow_runs", ())
    wanted_flow = {f for f in flow_hex if f is not None}
    wanted_flow.update(st_run_hex[i] for i in flow_idx)
    wanted_task = set(st_run_hex)
    wanted_task.difference_update(st_run_hex[i] for i in flow_idx)
    for line in batch.get("logs", ()):
        if (f := line.get("flow_run_id")) is not None:
            wanted_flow.add(f.hex)
        if (k := line.get("task_run_id")) is not None:
            wanted_task.add(k.hex)
    wanted_flow -= {r["id"].hex for r in flow_runs}
    wanted_task -= set(run_hex)
    await _check_hex_references(conn, wanted_flow, wanted_task)

    # 2-3. Flows and flow runs (few: the general path), then task runs.
    names = {f["name"] for f in batch.get("flows", ())}
    names.update(r["flow_name"] for r in flow_runs)
    flow_ids, flows_created = await _ensure_flows(conn, names)
    flow_states: dict[uuid.UUID, list[Row]] = defaultdict(list)
    st_names = [n if n is not None else ty.capitalize()
                for n, ty in zip(st.name, types, strict=True)]
    for i in flow_idx:
        row = _state_row(st, i)
        row["flow_run_id"] = row.pop("run_id")
        del row["run_kind"]
        row["name"] = st_names[i]
        row["created"] = stamp
        flow_states[row["flow_run_id"]].append(row)
    new_flow_runs = await _insert_runs(conn, FLOW, _flow_run_rows(batch, flow_ids, stamp),
                                       flow_states)

    flow_set = set(flow_idx)
    by_run: dict[str, list[int]] = defaultdict(list)
    for i, run in enumerate(st_run_hex):
        if all_task or i not in flow_set:
            by_run[run].append(i)
    st_hex = _hex(st.id)
    times = st.timestamp
    texts = _sqlite_times(st.timestamp_text, times, created)  # type: ignore[arg-type]
    inserted: set[str] = set()
    if tr is not None and run_hex:
        stored = await stored_hex_ids(conn, t.task_run.c.id, run_hex)
        expected = _sqlite_times(tr.expected_start_text, tr.expected_start_time, created)
        tags = [_tags_json(v) for v in tr.tags]
        params = []
        empty = tuple(_EMPTY_BOOK.values())
        for j, h in enumerate(run_hex):
            if h in stored:
                continue
            idxs = by_run.get(h)
            params.append((h, created, created, tr.name[j], flow_hex[j], tr.task_key[j],
                           tr.task_name[j], tr.dynamic_key[j], tr.cache_key[j],
                           tr.task_version[j], tags[j], expected[j],
                           *(_book_tuple(idxs, times, types, st_hex, st_names, texts)
                             if idxs else empty)))
        if params:
            count = await sqlite_insert_tuples(conn, t.task_run, _TASK_RUN_COLUMNS, params)
            ids = [p[0] for p in params]
            if count == len(params):
                inserted = set(ids)
            else:
                inserted = await stored_hex_ids(conn, t.task_run.c.id, ids)

    # 4-5. States: flow runs' by the general path; task runs' new ones straight in.
    n_states = await _insert_states(conn, FLOW, new_flow_runs, flow_states)
    later: dict[uuid.UUID, list[Row]] = defaultdict(list)
    keep = [run in inserted for run in st_run_hex]
    for i in flow_idx:
        keep[i] = False
    for run, idxs in by_run.items():
        if run not in inserted:
            for i in idxs:  # runs stored before: fold into their bookkeeping
                row = _state_row(st, i)
                row["task_run_id"] = run_id = row.pop("run_id")
                del row["run_kind"]
                row["name"] = st_names[i]
                row["created"] = stamp
                later[run_id].append(row)
    if any(keep):
        state_params = list(compress(zip(
            st_hex, repeat(created), st_run_hex, types, st_names, texts, st.message,
            _json_column(st.state_details, "{}"), _json_column(st.data, None)), keep))
        n_states += await sqlite_insert_tuples(conn, t.task_run_state, _STATE_COLUMNS,
                                               state_params)
    n_states += await _insert_states(conn, TASK, set(), later)
    n_logs = await _insert_logs(conn, batch, stamp)
    return RecordsBatchResult(flows=flows_created, flow_runs=len(new_flow_runs),
                              task_runs=len(inserted), states=n_states, logs=n_logs)


_TASK_RUN_COLUMNS = ("id", "created", "updated", "name", "flow_run_id", "task_key", "task_name",
                     "dynamic_key", "cache_key", "task_version", "tags", "expected_start_time",
                     *_EMPTY_BOOK)
_STATE_COLUMNS = ("id", "created", "task_run_id", "type", "name", "timestamp", "message",
                  "state_details", "data")


async def record_batch(conn: AsyncConnection, batch: RecordsBatch,
                       columns: Columns | None = None) -> RecordsBatchResult:
    """Store a records batch in the caller's (write) transaction.

    ``columns`` holds task runs and states sent as columns (and checked).

    Raises:
        UnknownRunsError: A state, log or task run refers to a run that is
            neither in the batch nor stored; nothing is written.
    """
    if columns is not None and (columns.task_runs is not None or columns.states is not None):
        if (conn.dialect.name == "sqlite" and not batch.get("task_runs")
                and not batch.get("states")):
            return await _record_sqlite_columns(conn, batch, columns.task_runs, columns.states)
        batch = _merge_rows(batch, columns)
    flow_run_ids = {r["id"] for r in batch.get("flow_runs", ())}
    task_run_ids = {r["id"] for r in batch.get("task_runs", ())}
    await _check_references(conn, batch, flow_run_ids, task_run_ids)
    stamp = now()
    names = {f["name"] for f in batch.get("flows", ())}
    names.update(r["flow_name"] for r in batch.get("flow_runs", ()))
    flow_ids, flows_created = await _ensure_flows(conn, names)
    flow_states, task_states = _state_rows(batch, stamp)
    new_flow_runs = await _insert_runs(conn, FLOW, _flow_run_rows(batch, flow_ids, stamp),
                                       flow_states)
    new_task_runs = await _insert_runs(conn, TASK, _task_run_rows(batch, stamp), task_states)
    n_states = await _insert_states(conn, FLOW, new_flow_runs, flow_states)
    n_states += await _insert_states(conn, TASK, new_task_runs, task_states)
    n_logs = await _insert_logs(conn, batch, stamp)
    return RecordsBatchResult(flows=flows_created, flow_runs=len(new_flow_runs),
                              task_runs=len(new_task_runs), states=n_states, logs=n_logs)
