"""A records batch written to SQLite with the standard library alone.

The embedded recorder's write path. A batch in the ``POST /api/records/batch``
shape (plain JSON types: ids as UUID text, times as ISO 8601 text, task runs
and states as columns) becomes a handful of ``executemany`` statements in
one ``BEGIN IMMEDIATE`` transaction. Nothing here imports SQLAlchemy,
FastAPI or pydantic: a flow run in embedded mode must not pay ~600 ms of
imports to record itself. The rows are exactly those the server stores
(``tables.py`` is the schema; tests read them back through the API).

The logic is a generator (:func:`batch_statements`) that yields statements
and receives their results, so it knows nothing about connections;
:func:`write_batch` drives it over a ``sqlite3`` connection.

What it trusts, unlike the API: the batch comes from this process's own
recorder, so references are not checked (the recorder queues a run's
creation before its states and logs) and ``PRAGMA foreign_keys`` is left off.
What it keeps: idempotency (records already stored are skipped, so a batch
replayed from the spool after a crash stores nothing twice), and the
bookkeeping of every run row (current state, run_count, start/end times,
total run time), also for runs whose states span several batches.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import uuid
from collections import defaultdict
from collections.abc import Callable, Generator, Iterable, Mapping
from itertools import compress, pairwise, repeat
from typing import Any, NamedTuple

__all__ = ["BatchCounts", "Exec", "Prepared", "Query", "batch_statements", "prepare_batch",
           "prepared_statements", "stored_time", "stored_times", "write_batch"]

_UTC = dt.timezone.utc
_TERMINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED", "CRASHED"})
_JSON_IDS = "(SELECT value FROM json_each(?))"


class Exec(NamedTuple):
    """Run ``sql`` once per parameter tuple of ``params``; the driver sends back the row count."""

    sql: str
    params: list[tuple[Any, ...]]


class Query(NamedTuple):
    """Run ``sql`` with ``params``; the driver sends back all rows as tuples."""

    sql: str
    params: tuple[Any, ...]


class BatchCounts(NamedTuple):
    """How many records of each kind a batch added (those already stored are not counted)."""

    flows: int
    flow_runs: int
    task_runs: int
    states: int
    logs: int


Statements = Generator[Exec | Query, Any, BatchCounts]


# ---------------------------------------------------------------------- values
def _hex(ids: Iterable[str]) -> list[str]:
    """Canonical UUID texts as SQLite stores them (32 hex digits), a column at once."""
    text = "\n".join(ids)
    return text.replace("-", "").split("\n") if text else []


def _hex_one(value: str | None) -> str | None:
    return value.replace("-", "") if value is not None else None


def stored_time(value: str | dt.datetime) -> str:
    """A time as SQLite stores it: naive UTC text, fixed width (text order is time order)."""
    when = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    when = when.replace(tzinfo=_UTC) if when.tzinfo is None else when.astimezone(_UTC)
    return when.replace(tzinfo=None).isoformat(" ", "microseconds")


_D = "[0-9]"
_UTC_ISO = f"{_D}{{4}}-{_D}{{2}}-{_D}{{2}}T{_D}{{2}}:{_D}{{2}}:{_D}{{2}}\\.{_D}{{6}}\\+00:00"
_UTC_ISO_LINES = re.compile(f"(?:{_UTC_ISO}\n)*{_UTC_ISO}")


def stored_times(texts: list[str | None], default: str) -> list[str]:
    """:func:`stored_time` for a column (``default`` for None).

    The common case, every value UTC with microseconds (what ``isoformat``
    gives for the engine's times), is converted by three string operations
    over the whole column instead of a parse per value.
    """
    if texts and None not in texts:
        joined = "\n".join(texts)  # type: ignore[arg-type]
        if len(joined) == 33 * len(texts) - 1 and _UTC_ISO_LINES.fullmatch(joined):
            return joined.replace("T", " ").replace("+00:00", "").split("\n")
    return [stored_time(v) if v is not None else default for v in texts]


def _json_texts(values: Iterable[Any], empty: str | None) -> list[Any]:
    """JSON text per value: ``empty`` for None (and for an empty value when given)."""
    dumps = json.dumps
    if empty is None:
        return [dumps(v) if v is not None else None for v in values]
    return [dumps(v) if v else empty for v in values]


def _seconds(later: str, earlier: str) -> float:
    return (dt.datetime.fromisoformat(later) - dt.datetime.fromisoformat(earlier)).total_seconds()


# ---------------------------------------------------------------------- bookkeeping
#: The run columns the bookkeeping writes (``services/bookkeeping.py`` is the same rule).
BOOK_COLUMNS = ("state_id", "state_type", "state_name", "state_timestamp", "state_version",
                "run_count", "start_time", "end_time", "total_run_time")
_EMPTY_BOOK: tuple[Any, ...] = (None, None, None, None, 0, 0, None, None, 0.0)


def _fold(book: tuple[Any, ...], states: list[tuple[str, str, str, str]]) -> tuple[Any, ...]:
    """Apply states ``(id, type, name, stored time)`` to a run's book, oldest first.

    The current state is the latest by time; a state older than the current
    one (it arrived late) joins the history and counts for ``run_count`` and
    ``start_time`` but does not become current. ``total_run_time`` adds the
    time spent in each RUNNING state as it ends.
    """
    sid, stype, sname, sts, version, run_count, start, _end, total = book
    if len(states) > 1:
        states = sorted(states, key=lambda s: s[3])
    for state_id, type_, name, ts in states:
        if type_ == "RUNNING":
            run_count += 1
            if start is None or ts < start:
                start = ts
        if sts is not None and ts < sts:
            continue  # late: history only
        if stype == "RUNNING" and sts is not None:
            total += max(0.0, _seconds(ts, sts))
        sid, stype, sname, sts, version = state_id, type_, name, ts, version + 1
    return (sid, stype, sname, sts, version, run_count, start,
            sts if stype in _TERMINAL else None, total)


# ---------------------------------------------------------------------- prepared records
class Prepared:
    """A batch's records as stored values: what :func:`prepared_statements` writes.

    Ids are 32 hex digits, times stored text (:func:`stored_time`), JSON
    columns JSON text. Made from an API batch by :func:`prepare_batch`, or
    by the embedded recorder straight from its queue (one conversion, not
    two). Runs carry no bookkeeping: it is computed from the states here.

    Attributes:
        flow_names: Flows to create if missing (by name).
        flow_runs: ``(id, name, flow_name, flow_version, parameters, tags,
            parent_task_run_id, parent_flow_run_id, expected_start_time)``.
        task_runs: ``(id, name, flow_run_id, task_key, task_name, dynamic_key,
            cache_key, task_version, tags, expected_start_time)``.
        states: Columns ``id, run_id, is_task, type, name, time, message,
            details, data`` (lists of one length).
        logs: ``(id, name, level, flow_run_id, task_run_id, message, time)``.
        books: When the maker computed it: each run's bookkeeping
            (``BOOK_COLUMNS``) over this batch's states, by run id.
    """

    __slots__ = ("books", "data", "details", "flow_names", "flow_runs", "logs", "message",
                 "name", "run_id", "state_id", "state_is_task", "task_runs", "time", "type")

    def __init__(self) -> None:
        self.flow_names: set[str] = set()
        self.flow_runs: list[tuple[Any, ...]] = []
        self.task_runs: list[tuple[Any, ...]] = []
        self.logs: list[tuple[Any, ...]] = []
        self.state_id: list[str] = []
        self.run_id: list[str] = []
        self.state_is_task: list[bool] = []
        self.type: list[str] = []
        self.name: list[str] = []
        self.time: list[str] = []
        self.message: list[str | None] = []
        self.details: list[str] = []
        self.data: list[str | None] = []
        self.books: dict[str, tuple[Any, ...]] | None = None

    def __len__(self) -> int:
        return (len(self.flow_runs) + len(self.task_runs) + len(self.state_id)
                + len(self.logs))


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
            _hex_one(r.get("parent_task_run_id")), _hex_one(r.get("parent_flow_run_id")),
            stored_time(expected) if expected else created))
    tr = _columns(batch.get("task_runs"), _TASK_RUN_FIELDS)
    out.task_runs = list(zip(
        _hex(tr["id"]), tr["name"], [_hex_one(f) for f in tr["flow_run_id"]], tr["task_key"],
        tr["task_name"], tr["dynamic_key"], tr["cache_key"], tr["task_version"],
        _json_texts(tr["tags"], "[]"), stored_times(tr["expected_start_time"], created),
        strict=True))
    st = _columns(batch.get("states"), _STATE_FIELDS)
    out.state_id = _hex(st["id"])
    out.run_id = _hex(st["run_id"])
    out.state_is_task = [k != "flow" for k in st["run_kind"]]
    out.type = st["type"]
    out.name = [n if n is not None else t.capitalize()
                for n, t in zip(st["name"], st["type"], strict=True)]
    out.time = stored_times(st["timestamp"], created)
    out.message = st["message"]
    out.details = _json_texts(st["state_details"], "{}")
    out.data = _json_texts(st["data"], None)
    out.logs = [(_hex_one(line.get("id")) or uuid.uuid4().hex, line["name"], line["level"],
                 _hex_one(line.get("flow_run_id")), _hex_one(line.get("task_run_id")),
                 line["message"], stored_time(line["timestamp"]))
                for line in batch.get("logs") or ()]
    return out


# ---------------------------------------------------------------------- statements
_FLOW_RUN_COLUMNS = ("id", "name", "flow_id", "flow_version", "parameters", "tags",
                     "parent_task_run_id", "parent_flow_run_id", "expected_start_time")
_TASK_RUN_COLUMNS = ("id", "name", "flow_run_id", "task_key", "task_name", "dynamic_key",
                     "cache_key", "task_version", "tags", "expected_start_time")
_STATE_COLUMNS = ("id", "{fk}", "type", "name", "time", "message", "state_details", "data",
                  "created")
_LOG_SQL = ("INSERT INTO log (id, name, level, flow_run_id, task_run_id, message, timestamp, "
            "created) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")


def _insert_sql(table: str, columns: tuple[str, ...], run: bool) -> str:
    names = columns + (("created", "updated", *BOOK_COLUMNS) if run else ())
    names = tuple("timestamp" if n == "time" else n for n in names)
    return (f"INSERT INTO {table} ({', '.join(names)}) "
            f"VALUES ({', '.join('?' for _ in names)}) ON CONFLICT DO NOTHING")


def _stored(table: str, ids: Iterable[str]) -> Query:
    """Which of ``ids`` (hex) are stored in ``table``: one bound parameter, any number of ids."""
    return Query(f"SELECT id FROM {table} WHERE id IN {_JSON_IDS}", (json.dumps(list(ids)),))


class _Books:
    """The bookkeeping of runs new in this batch, from the batch's states."""

    def __init__(self, p: Prepared) -> None:
        self.p = p
        by_run: dict[str, list[int]] = defaultdict(list)
        for i, run in enumerate(p.run_id):
            by_run[run].append(i)
        self.by_run = by_run

    def book(self, run: str, created: str) -> tuple[Any, ...]:
        """``(created, updated, *book)`` of a new run (:func:`_fold` from nothing, faster)."""
        idxs = self.by_run.get(run)
        if not idxs:
            return (created, created, *_EMPTY_BOOK)
        times, types = self.p.time, self.p.type
        if len(idxs) > 1 and any(times[a] > times[b] for a, b in pairwise(idxs)):
            idxs = sorted(idxs, key=times.__getitem__)
        run_count, start, total, prev = 0, None, 0.0, -1
        for i in idxs:
            if prev >= 0 and types[prev] == "RUNNING":
                total += _seconds(times[i], times[prev])
            if types[i] == "RUNNING":
                run_count += 1
                if start is None:
                    start = times[i]
            prev = i
        ts, type_ = times[prev], types[prev]
        return (created, created, self.p.state_id[prev], type_, self.p.name[prev], ts,
                len(idxs), run_count, start, ts if type_ in _TERMINAL else None, total)


def _book_of(p: Prepared, created: str) -> Callable[[str], tuple[Any, ...]]:
    """``run id -> (created, updated, *book)`` for runs new in this batch."""
    if p.books is None:
        books = _Books(p)
        return lambda run: books.book(run, created)
    known, empty = p.books, (created, created, *_EMPTY_BOOK)
    return lambda run: (created, created, *b) if (b := known.get(run)) is not None else empty


def batch_statements(batch: Mapping[str, Any], created: str) -> Statements:
    """The statements that store an API-shaped ``batch`` (see :func:`prepared_statements`)."""
    return prepared_statements(prepare_batch(batch, created), created)


def prepared_statements(p: Prepared, created: str) -> Statements:
    """The statements that store ``p``; ``created`` is the stored time of "now".

    Yields :class:`Exec` and :class:`Query` items and expects their results
    sent back; returns the counts. Run it inside one write transaction.
    """
    book = _book_of(p, created)
    flow_ids, flows_created = yield from _ensure_flows(p.flow_names, created)

    # Runs stored before this batch keep their rows (their new states are
    # folded in below); new runs get their book from the batch's states.
    new_runs: dict[bool, set[str]] = {}
    known: set[str] = set()
    if p.flow_runs:
        known = {r for (r,) in (yield _stored("flow_run", (r[0] for r in p.flow_runs)))}
    flow_rows = [(r[0], r[1], flow_ids[r[2]], *r[3:], *book(r[0]))
                 for r in p.flow_runs if r[0] not in known]
    new_runs[False] = {row[0] for row in flow_rows}
    new_flow_runs = (yield Exec(_insert_sql("flow_run", _FLOW_RUN_COLUMNS, True), flow_rows)
                     ) if flow_rows else 0

    if p.task_runs:
        known = {r for (r,) in (yield _stored("task_run", (r[0] for r in p.task_runs)))}
    task_rows = [(*r, *book(r[0])) for r in p.task_runs if r[0] not in known]
    new_runs[True] = {row[0] for row in task_rows}
    new_task_runs = (yield Exec(_insert_sql("task_run", _TASK_RUN_COLUMNS, True), task_rows)
                     ) if task_rows else 0

    # States: those of new runs go straight in; those of runs stored before
    # are folded into their books, skipping any already stored.
    n_states = 0
    for is_task, table in ((False, "flow_run"), (True, "task_run")):
        new = new_runs[is_task]
        mine = [i for i, k in enumerate(p.state_is_task) if k is is_task]
        earlier = [i for i in mine if p.run_id[i] not in new]
        later = (yield from _fold_stored(p, table, earlier, created)) if earlier else set()
        keep = [False] * len(p.state_is_task)
        for i in mine:
            keep[i] = p.run_id[i] in new or i in later
        if any(keep):
            columns = tuple(c.format(fk=f"{table}_id") for c in _STATE_COLUMNS)
            rows = list(compress(zip(p.state_id, p.run_id, p.type, p.name, p.time, p.message,
                                     p.details, p.data, repeat(created)), keep))
            n_states += yield Exec(_insert_sql(f"{table}_state", columns, False), rows)
    n_logs = (yield Exec(_LOG_SQL, [(*line, created) for line in p.logs])) if p.logs else 0
    return BatchCounts(flows_created, new_flow_runs, new_task_runs, n_states, n_logs)


def _ensure_flows(names: set[str], created: str
                  ) -> Generator[Exec | Query, Any, tuple[dict[str, str], int]]:
    if not names:
        return {}, 0
    ordered = sorted(names)
    new = [(uuid.uuid4().hex, created, created, name, "[]") for name in ordered]
    count = yield Exec("INSERT INTO flow (id, created, updated, name, tags) VALUES (?, ?, ?, ?, ?) "
                       "ON CONFLICT DO NOTHING", new)
    rows = yield Query(f"SELECT name, id FROM flow WHERE name IN {_JSON_IDS}",
                       (json.dumps(ordered),))
    return dict(rows), count


def _fold_stored(p: Prepared, table: str, idxs: list[int], created: str
                 ) -> Generator[Exec | Query, Any, set[int]]:
    """Fold states (by index) into the books of runs stored before; return those to insert.

    States already stored (a batch replayed) and states of runs not stored
    at all are left out.
    """
    seen = {s for (s,) in (yield _stored(f"{table}_state", (p.state_id[i] for i in idxs)))}
    by_run: dict[str, list[int]] = defaultdict(list)
    for i in idxs:
        if p.state_id[i] not in seen:
            by_run[p.run_id[i]].append(i)
    if not by_run:
        return set()
    books = yield Query(f"SELECT id, {', '.join(BOOK_COLUMNS)} FROM {table} "
                        f"WHERE id IN {_JSON_IDS}", (json.dumps(sorted(by_run)),))
    updates, fresh = [], set()
    for run, *book in books:
        new = by_run[run]
        fresh.update(new)
        states = [(p.state_id[i], p.type[i], p.name[i], p.time[i]) for i in new]
        updates.append((*_fold(tuple(book), states), created, run))
    if updates:
        sets = ", ".join(f"{name} = ?" for name in BOOK_COLUMNS)
        yield Exec(f"UPDATE {table} SET {sets}, updated = ? WHERE id = ?", updates)
    return fresh


# ---------------------------------------------------------------------- the driver
def write_batch(con: sqlite3.Connection, batch: Mapping[str, Any] | Prepared,
                now: dt.datetime | None = None) -> BatchCounts:
    """Store ``batch`` (API-shaped, or prepared) in one write transaction on ``con``.

    ``con`` is in autocommit mode (``isolation_level=None``).

    ``BEGIN IMMEDIATE`` takes the write lock up front, so another process's
    writer makes this one wait (``busy_timeout``) instead of failing halfway.
    On any error the transaction is rolled back: a batch is stored whole or
    not at all.
    """
    created = stored_time(now or dt.datetime.now(_UTC))
    statements = (prepared_statements(batch, created) if isinstance(batch, Prepared)
                  else batch_statements(batch, created))
    cursor = con.cursor()
    cursor.execute("BEGIN IMMEDIATE")
    try:
        answer: Any = None
        while True:
            try:
                step = statements.send(answer)
            except StopIteration as done:
                counts: BatchCounts = done.value
                break
            if isinstance(step, Exec):
                answer = cursor.executemany(step.sql, step.params).rowcount
            else:
                answer = cursor.execute(step.sql, step.params).fetchall()
        cursor.execute("COMMIT")
    except BaseException:
        if con.in_transaction:
            cursor.execute("ROLLBACK")
        raise
    return counts
