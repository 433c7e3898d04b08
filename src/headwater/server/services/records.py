"""The records batch: runs, states and logs from a recorder, stored in one transaction.

This is the hot path of recording, so it works in bulk: a handful of
statements per batch, whatever its size, and no per-row ORM objects. It is
idempotent: records whose ids are already stored are skipped, so a batch can
be re-sent after a failure, in whole or in part.

First, references are checked: a state, log or task run may name a run from
this batch or one already stored; any other id fails the whole batch (422)
before anything is written. Then, on SQLite, the batch is stored by the
statements of :mod:`~headwater._private.storage.record_statements`, the embedded
recorder's write path, driven over this transaction's connection
(:mod:`~headwater.server.database.sqlite_driver`): one write path, so the API
and the embedded store cannot drift apart. On PostgreSQL, SQLAlchemy Core
does the same steps, in one transaction:

1. Create missing flows by name.
2. Insert new runs, with their bookkeeping (current state, run_count, times)
   already computed from the batch's states, so new runs need no UPDATE.
3. For runs stored earlier that get new states: lock them, skip the states
   already stored, fold the new ones into the bookkeeping, UPDATE.
4. Insert the new states, the liveness rows of runs starting (their first
   heartbeat, so starting a run needs no request of its own) and the logs.

Both refuse a batch in which a run with states could not be stored because
another run already has its identity (422 as well), and both give a run
created again the fields its first writer left empty (``FILLED_WHEN_EMPTY``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater._private.storage.bookkeeping import (
    BOOK_COLUMNS,
    EMPTY_BOOK,
    Book,
    fold,
    fold_book,
    utc,
)
from headwater._private.storage.record_statements import (
    FILLED_WHEN_EMPTY,
    UnknownRunsError,
    batch_statements,
)
from headwater._private.storage.record_writer import variable_limit
from headwater._private.storage.stored_values import stored_time
from headwater.server.database import tables as t
from headwater.server.database.bulk import insert_ignore_many, stored_ids
from headwater.server.database.sqlite_driver import run_statements
from headwater.server.schemas.records import (
    RecordsBatch,
    RecordsBatchResult,
    StateColumns,
    TaskRunColumns,
)
from headwater.server.services import liveness
from headwater.server.services.cache_keys import index_cached_states
from headwater.server.services.flows_and_runs import FLOW, TASK, RunKind, insert_ignore, now

__all__ = ["Columns", "UnknownRunsError", "record_batch"]

#: Ids per ``IN (...)`` list: below SQLite's and asyncpg's bound-parameter limits.
_CHUNK = 5000
#: Unknown ids named in an error message, at most.
_NAMED = 10
#: Why a run of the batch that has states was not stored.
_LOST = " (not stored: a run with the same identity exists under another id)"

Row = dict[str, Any]


@dataclass
class Columns:
    """Task runs and states sent (and checked) as columns, beside the batch's rows."""

    task_runs: TaskRunColumns | None = None
    states: StateColumns | None = None


# ---------------------------------------------------------------------- references
# These take a batch whose task runs and states are rows or columns, and whose
# ids are UUIDs (PostgreSQL) or canonical UUID text (SQLite): one check for both.
def _describe(label: str, ids: set[Any]) -> str:
    shown = ", ".join(sorted(str(i) for i in ids)[:_NAMED])
    more = f" and {len(ids) - _NAMED} more" if len(ids) > _NAMED else ""
    return f"unknown {label} ids: {shown}{more}"


def _field(records: Any, name: str) -> list[Any]:
    """One field of rows or of columns, as a list."""
    if isinstance(records, dict):
        column: list[Any] = records[name]
        return column
    return [record.get(name) for record in records or ()]


def _run_ids(batch: Mapping[str, Any]) -> tuple[set[Any], set[Any]]:
    """The ids of the batch's flow runs and of its task runs."""
    return ({r["id"] for r in batch.get("flow_runs") or ()},
            set(_field(batch.get("task_runs"), "id")))


def _state_run_ids(batch: Mapping[str, Any]) -> tuple[set[Any], set[Any]]:
    """The runs the batch's states belong to: flow run ids, task run ids."""
    states = batch.get("states")
    run_ids, kinds = _field(states, "run_id"), _field(states, "run_kind")
    if "flow" not in kinds:
        return set(), set(run_ids)
    flow_ids: set[Any] = set()
    task_ids: set[Any] = set()
    for run_id, kind in zip(run_ids, kinds, strict=True):
        (flow_ids if kind == "flow" else task_ids).add(run_id)
    return flow_ids, task_ids


async def _unstored(conn: AsyncConnection, table: sa.Table, ids: set[Any]) -> set[Any]:
    """Which of ``ids`` are not ids of ``table``."""
    if not ids:
        return set()
    stored = {str(i) for i in await stored_ids(conn, table.c.id, ids)}
    return {i for i in ids if str(i) not in stored}


async def _check_references(conn: AsyncConnection, batch: Mapping[str, Any]) -> None:
    flow_ids, task_ids = _state_run_ids(batch)
    flow_ids.update(_field(batch.get("task_runs"), "flow_run_id"))
    for line in batch.get("logs") or ():
        flow_ids.add(line.get("flow_run_id"))
        task_ids.add(line.get("task_run_id"))
    in_flow, in_task = _run_ids(batch)
    missing = (("flow run", await _unstored(conn, t.flow_run, flow_ids - in_flow - {None})),
               ("task run", await _unstored(conn, t.task_run, task_ids - in_task - {None})))
    problems = [_describe(label, ids) for label, ids in missing if ids]
    if problems:
        raise UnknownRunsError("; ".join(problems) + " (not in this batch and not stored)")


async def _refuse_lost_runs(conn: AsyncConnection, batch: Mapping[str, Any]) -> None:
    """Raise :class:`UnknownRunsError` for runs of the batch with states that are not stored.

    Checked and in the batch, yet not inserted: another unique key matched
    (a task run with the same flow run, task_key and dynamic_key).
    """
    in_flow, in_task = _run_ids(batch)
    flow_states, task_states = _state_run_ids(batch)
    for label, table, ids in (("flow run", t.flow_run, in_flow & flow_states),
                              ("task run", t.task_run, in_task & task_states)):
        lost = await _unstored(conn, table, ids)
        if lost:
            raise UnknownRunsError(_describe(label, lost) + _LOST)


# ---------------------------------------------------------------------- SQLite
def _text(value: Any) -> str | None:
    return str(value) if value is not None else None


def _iso(value: dt.datetime | None) -> str | None:
    # With microseconds always: stored_values.stored_times converts a column of UTC times at once.
    return value.isoformat(timespec="microseconds") if value is not None else None


def _state_name(value: str | None) -> str | None:
    return value or None  # a row's empty name means "not given" (columns keep it)


Convert = Callable[[Any], Any] | None
#: Task run and state fields, and how a validated row's value becomes JSON text.
_TASK_RUN_FIELDS: dict[str, Convert] = {
    "id": str, "flow_run_id": _text, "task_key": None, "task_name": None,
    "dynamic_key": None, "name": None, "tags": None, "expected_start_time": _iso,
    "cache_key": None, "task_version": None}
_STATE_FIELDS: dict[str, Convert] = {
    "id": str, "run_id": str, "run_kind": None, "type": None, "name": _state_name,
    "message": None, "timestamp": _iso, "state_details": None, "data": None}
#: Fields whose checked columns keep the text as sent under another name.
_SENT_TEXT = {"expected_start_time": "expected_start_text", "timestamp": "timestamp_text"}


def _plain_columns(rows: list[Any], columns: TaskRunColumns | StateColumns | None,
                   fields: dict[str, Convert]) -> dict[str, list[Any]] | None:
    """Rows and checked columns as one set of columns of plain JSON values."""
    if not rows and columns is None:
        return None
    out = {}
    for name, convert in fields.items():
        values = [row.get(name) for row in rows]
        if convert is not None:
            values = [convert(v) if v is not None else None for v in values]
        if columns is not None:
            values += getattr(columns, _SENT_TEXT.get(name, name))
        out[name] = values
    return out


def _plain_batch(batch: RecordsBatch, columns: Columns) -> dict[str, Any]:
    """The batch in the plain JSON shape ``record_statements`` takes (ids and times as text)."""
    plain: dict[str, Any] = {"flows": batch.get("flows") or []}
    plain["flow_runs"] = [
        {**r, "id": str(r["id"]), "parent_task_run_id": _text(r.get("parent_task_run_id")),
         "parent_flow_run_id": _text(r.get("parent_flow_run_id"))}
        for r in batch.get("flow_runs") or ()]
    plain["task_runs"] = _plain_columns(batch.get("task_runs") or [], columns.task_runs,
                                        _TASK_RUN_FIELDS)
    plain["states"] = _plain_columns(batch.get("states") or [], columns.states, _STATE_FIELDS)
    plain["logs"] = [
        {**line, "id": _text(line.get("id")), "flow_run_id": _text(line.get("flow_run_id")),
         "task_run_id": _text(line.get("task_run_id"))}
        for line in batch.get("logs") or ()]
    plain["liveness"] = [{**live, "flow_run_id": str(live["flow_run_id"])}
                         for live in batch.get("liveness") or ()]
    return plain


async def _record_sqlite(conn: AsyncConnection, batch: RecordsBatch,
                         columns: Columns) -> RecordsBatchResult:
    """``record_batch`` on SQLite: the embedded store's statements, after the API's checks."""
    plain = _plain_batch(batch, columns)
    await _check_references(conn, plain)
    statements = batch_statements(plain, stored_time(now()), variable_limit())
    try:
        counts = await run_statements(conn, statements)
    except IntegrityError:
        # The states of a run that was skipped (its identity is taken) name
        # no stored run: say which run, as PostgreSQL's path does.
        await _refuse_lost_runs(conn, plain)
        raise
    return RecordsBatchResult(**counts._asdict())


# ---------------------------------------------------------------------- SQLAlchemy Core
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


def _new_book(states: list[Row]) -> dict[str, Any]:
    """The book of a run new in this batch, from its states."""
    return dict(zip(BOOK_COLUMNS, fold_book(EMPTY_BOOK, [
        (s["id"], s["type"], s["name"], s["timestamp"]) for s in states]), strict=True))


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
        row.update(_new_book(states.get(row["id"], [])))
        fresh.append(row)
    if stored:
        await _fill_empty(conn, kind, [r for r in rows if r["id"] in stored])
    if not fresh:
        return set()
    # On PostgreSQL a concurrent batch may have inserted some of them since the
    # check above: the ids actually inserted say which runs took our bookkeeping.
    return await insert_ignore_many(conn, kind.table, fresh)


def _empty(value: Any) -> bool:
    return value is None or value == {} or value == []


async def _fill_empty(conn: AsyncConnection, kind: RunKind, rows: list[Row]) -> None:
    """Runs created again: fill the fields their first writer left empty (a rare path)."""
    table = kind.table
    names = FILLED_WHEN_EMPTY[table.name]
    query = sa.select(table.c.id, *(table.c[n] for n in names)).where(
        table.c.id.in_([r["id"] for r in rows]))
    current = {row["id"]: row for row in (await conn.execute(query)).mappings()}
    for row in rows:
        now_row = current.get(row["id"])
        changes = {n: row[n] for n in names
                   if now_row is not None and _empty(now_row[n]) and not _empty(row.get(n))}
        if changes:
            await conn.execute(sa.update(table).where(table.c.id == row["id"]).values(
                **changes, updated=now()))


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
        raise UnknownRunsError(_describe(f"{kind.name} run", lost) + _LOST)
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
    inserted = await insert_ignore_many(conn, kind.states, fresh)
    if kind is TASK:
        await index_cached_states(conn, (s for s in fresh if s["id"] in inserted), now())
    return len(inserted)


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


async def _record_liveness(conn: AsyncConnection, batch: RecordsBatch, stamp: Any) -> None:
    """Store the liveness rows of runs starting: a first heartbeat each (runs not final)."""
    by_process: dict[tuple[str, int, str | None, float], list[uuid.UUID]] = defaultdict(list)
    for live in batch.get("liveness") or ():
        key = (live["host"], live["pid"], live.get("process_start"), live["heartbeat_interval"])
        by_process[key].append(live["flow_run_id"])
    for (host, pid, token, interval), ids in by_process.items():
        await liveness.heartbeat(conn, ids, host=host, pid=pid, process_start=token,
                                 interval=interval, now=stamp)


def _merge_rows(batch: RecordsBatch, columns: Columns) -> RecordsBatch:
    """The batch with its columns turned into rows (for SQLAlchemy Core)."""
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


async def record_batch(conn: AsyncConnection, batch: RecordsBatch,
                       columns: Columns | None = None) -> RecordsBatchResult:
    """Store a records batch in the caller's (write) transaction.

    ``columns`` holds task runs and states sent as columns (and checked).

    Raises:
        UnknownRunsError: A state, log or task run refers to a run that is
            neither in the batch nor stored, or a run with states could not
            be stored (its identity is another run's); nothing is written.
    """
    columns = columns or Columns()
    if conn.dialect.name == "sqlite":
        return await _record_sqlite(conn, batch, columns)
    return await _record_core(conn, _merge_rows(batch, columns))


async def _record_core(conn: AsyncConnection, batch: RecordsBatch) -> RecordsBatchResult:
    """``record_batch`` by SQLAlchemy Core: PostgreSQL's path (it runs on SQLite too)."""
    await _check_references(conn, batch)
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
    await _record_liveness(conn, batch, stamp)
    n_logs = await _insert_logs(conn, batch, stamp)
    return RecordsBatchResult(flows=flows_created, flow_runs=len(new_flow_runs),
                              task_runs=len(new_task_runs), states=n_states, logs=n_logs)
