"""A records batch written to SQLite with the standard library alone.

The embedded recorder's write path. A batch in the ``POST /api/records/batch``
shape (plain JSON types: ids as UUID text, times as ISO 8601 text, task runs
and states as columns), or records prepared by the embedded recorder,
become a few multi-row ``INSERT`` statements in one ``BEGIN IMMEDIATE``
transaction. Nothing here imports SQLAlchemy,
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
import functools
import json
import re
import sqlite3
import uuid
from collections import defaultdict
from collections.abc import Callable, Generator, Iterable, Mapping
from itertools import chain
from typing import Any, NamedTuple

from headwater._private.steps import drive
from headwater._private.storage.bookkeeping import BOOK_COLUMNS, EMPTY_BOOK, fold_book
from headwater._private.storage.transactions import sqlite_transaction

__all__ = ["MAX_INDEXED_CACHE_KEY", "MAX_ROWS", "MAX_VARIABLES", "BatchCounts", "Exec",
           "Prepared", "Query", "Statements", "batch_statements", "prepare_batch",
           "prepared_statements", "stored_time", "stored_times", "variable_limit", "write_batch"]

_UTC = dt.timezone.utc
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
    """Seconds from ``earlier`` to ``later`` (stored times)."""
    return (dt.datetime.fromisoformat(later) - dt.datetime.fromisoformat(earlier)).total_seconds()


# ---------------------------------------------------------------------- bookkeeping
def _fold(book: tuple[Any, ...], states: list[tuple[str, str, str, str]]) -> tuple[Any, ...]:
    """Apply states ``(id, type, name, stored time)`` to a run's book (the one rule)."""
    return fold_book(book, states, _seconds)


# ---------------------------------------------------------------------- prepared records
class Prepared:
    """A batch's records as stored values: what :func:`prepared_statements` writes.

    Ids are 32 hex digits, times stored text (:func:`stored_time`), JSON
    columns JSON text. Made from an API batch
    by :func:`prepare_batch`, or by the embedded recorder straight from its
    queue (one conversion, not two). Runs carry no bookkeeping: it is computed from the states here.

    Attributes:
        flow_names: Flows to create if missing (by name).
        flow_runs: ``(id, name, flow_name, flow_version, parameters, tags,
            parent_task_run_id, parent_flow_run_id, expected_start_time)``.
        task_runs: ``(id, name, flow_run_id, task_key, task_name, dynamic_key,
            cache_key, task_version, tags, expected_start_time)``.
        states: ``(id, run_id, is_task, type, name, time, message, details,
            data)``, in the order they happened for each run.
        logs: ``(id, name, level, flow_run_id, task_run_id, message, time)``.
        cache: Cache key index entries of COMPLETED task run states that
            carry a cache key: ``(cache_key, state id, task run id, time,
            cache_expiration)``.
        books: When the maker computed it: each run's bookkeeping
            (``BOOK_COLUMNS``) over this batch's states, by run id.
        fresh: True when the runs here were never stored before (the
            embedded recorder's batches, straight from its queue): saves
            looking each one up. Storing such a batch again is still
            harmless: its rows and states are skipped by id, and states of
            earlier runs are looked up before they are folded in.
    """

    __slots__ = ("books", "cache", "flow_names", "flow_runs", "fresh", "logs", "states",
                 "task_runs")

    def __init__(self) -> None:
        self.flow_names: set[str] = set()
        self.flow_runs: list[tuple[Any, ...]] = []
        self.task_runs: list[tuple[Any, ...]] = []
        self.states: list[tuple[Any, ...]] = []
        self.logs: list[tuple[Any, ...]] = []
        self.cache: list[tuple[Any, ...]] = []
        self.books: dict[str, tuple[Any, ...]] | None = None
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
            _hex_one(r.get("parent_task_run_id")), _hex_one(r.get("parent_flow_run_id")),
            stored_time(expected) if expected else created))
    tr = _columns(batch.get("task_runs"), _TASK_RUN_FIELDS)
    out.task_runs = list(zip(
        _hex(tr["id"]), tr["name"], [_hex_one(f) for f in tr["flow_run_id"]], tr["task_key"],
        tr["task_name"], tr["dynamic_key"], tr["cache_key"], tr["task_version"],
        _json_texts(tr["tags"], "[]"), stored_times(tr["expected_start_time"], created),
        strict=True))
    st = _columns(batch.get("states"), _STATE_FIELDS)
    out.states = list(zip(
        _hex(st["id"]), _hex(st["run_id"]), [k != "flow" for k in st["run_kind"]], st["type"],
        [n if n is not None else t.capitalize() for n, t in zip(st["name"], st["type"],
                                                                strict=True)],
        stored_times(st["timestamp"], created), st["message"],
        _json_texts(st["state_details"], "{}"), _json_texts(st["data"], None), strict=True))
    out.cache = [(details["cache_key"], state[0], state[1], state[5],
                  stored_time(details["cache_expiration"])
                  if details.get("cache_expiration") else NULL)
                 for state, details in zip(out.states, st["state_details"], strict=True)
                 if details and _indexed(details.get("cache_key")) and state[2]
                 and state[3] == "COMPLETED"]
    out.logs = [(_hex_one(line.get("id")) or uuid.uuid4().hex, line["name"], line["level"],
                 _hex_one(line.get("flow_run_id")), _hex_one(line.get("task_run_id")),
                 line["message"], stored_time(line["timestamp"]))
                for line in batch.get("logs") or ()]
    return out


# ---------------------------------------------------------------------- statements
# Rows go in by ``INSERT ... SELECT ... FROM (VALUES (?, ...), (?, ...), ...)``,
# up to 256 rows per statement: Python binds the values, SQLite stores the
# rows in one sqlite3_step, which Python runs with the GIL released.
# ``executemany`` does a step per row, and after each step the writer must
# get the GIL back: while the flow's threads are busy that takes up to the
# 5 ms switch interval, so a batch of 10,000 rows took seconds to write.
# Statements come in power-of-two sizes (a batch of 300 rows is 256 rows,
# then 44 rows padded with NULL rows to 64): SQLite compiles about 10 us per
# row, so each size is compiled once per connection and reused (Python's
# statement cache), and the compiled statements stay small. (One JSON
# parameter per table would need fewer steps still, but SQLite's JSON
# functions cost more than the insert itself: direct task calls recorded
# took 82 us each that way, against 56.)
#
# Binding holds the GIL, and Python's sqlite3 binds only exact ``int``,
# ``float``, ``str`` and ``bytearray`` values directly: anything else, ``None``
# and str enums included, first goes through its adapter lookup (a tuple, a
# dict lookup and two attribute lookups), which makes a row of states with
# two NULLs three times as slow to bind. So SQL NULL may be bound as the
# integer ``NULL`` (0) instead: nullable text columns are read through
# ``nullif(column, 0)``, and no text value is ever the integer 0. ``None``
# still works everywhere (the API's batches bind it); the recorder's rows
# use ``NULL`` where it is cheap to.
_FLOW_RUN_COLUMNS = ("id", "name", "flow_id", "flow_version", "parameters", "tags",
                     "parent_task_run_id", "parent_flow_run_id", "expected_start_time")
_TASK_RUN_COLUMNS = ("id", "name", "flow_run_id", "task_key", "task_name", "dynamic_key",
                     "cache_key", "task_version", "tags", "expected_start_time")
_STATE_COLUMNS = ("id", "{fk}", "type", "name", "timestamp", "message", "state_details", "data")
_STATE_PICK = (0, 1, 3, 4, 5, 6, 7, 8)  # a state row's values that are stored (not is_task)
_LOG_COLUMNS = ("id", "name", "level", "flow_run_id", "task_run_id", "message", "timestamp")
#: Bound for SQL NULL where binding ``None`` would be slow (see the note above).
NULL = 0
#: Columns that may be NULL and hold text (JSON and times too): read through ``nullif``.
_NULLABLE_TEXT = frozenset({
    "flow_version", "parent_task_run_id", "parent_flow_run_id", "flow_run_id", "task_run_id",
    "task_name", "cache_key", "task_version", "state_id", "state_type", "state_name",
    "state_timestamp", "expected_start_time", "start_time", "end_time", "message", "data",
    "name", "cache_expiration"})
#: Values bound per statement at most: SQLite's default limit since 3.32.
MAX_VARIABLES = 32766
#: Rows per statement at most (a power of two).
MAX_ROWS = 256


class _Table(NamedTuple):
    """How rows of one kind are inserted: ``rows`` are tuples of ``width`` values."""

    name: str
    columns: tuple[str, ...]  # stored from the rows' values at ``picks``
    picks: tuple[int, ...]
    width: int
    stamped: tuple[str, ...]  # columns set to the batch's "created" time
    conflict: str = "DO NOTHING"  # what a row whose key is stored already does

    def sql(self, n: int) -> str:
        """The ``INSERT`` of ``n`` rows; the "created" time comes first (once per stamp).

        Parameters are anonymous (``?``): SQLite numbers them in one pass,
        where ``?NNN`` makes compiling a thousand-row statement quadratic.
        """
        values = [f"nullif(column{i + 1}, {NULL})" if column in _NULLABLE_TEXT
                  else f"column{i + 1}" for column, i in zip(self.columns, self.picks,
                                                             strict=True)]
        row = f"({', '.join('?' * self.width)})"
        return (f"INSERT INTO {self.name} ({', '.join(self.columns + self.stamped)}) "
                f"SELECT {', '.join(values + ['?'] * len(self.stamped))} "
                f"FROM (VALUES {', '.join([row] * n)}) "
                f"WHERE column1 <> {NULL} ON CONFLICT {self.conflict}")


def _run_table(name: str, columns: tuple[str, ...]) -> _Table:
    width = len(columns) + len(BOOK_COLUMNS)
    return _Table(name, columns + BOOK_COLUMNS, tuple(range(width)), width,
                  ("created", "updated"))


_FLOW_RUNS = _run_table("flow_run", _FLOW_RUN_COLUMNS)
_TASK_RUNS = _run_table("task_run", _TASK_RUN_COLUMNS)
_STATES = {is_task: _Table(f"{table}_state",
                           tuple(c.format(fk=f"{table}_id") for c in _STATE_COLUMNS),
                           _STATE_PICK, 9, ("created",))
           for is_task, table in ((False, "flow_run"), (True, "task_run"))}
_LOGS = _Table("log", _LOG_COLUMNS, tuple(range(len(_LOG_COLUMNS))), len(_LOG_COLUMNS),
               ("created",))
#: Cache keys up to this many characters are indexed (``task_run_state_cache``).
#: A key is any text a ``cache_key_fn`` returns, and a PostgreSQL index entry
#: holds at most ~2.7 kB: a longer key would fail the whole write. (Such a key
#: does not fit a lookup URL either; the result storage's index has it.)
MAX_INDEXED_CACHE_KEY = 1000
# The newest state under a key wins; the others were indexed before it.
_CACHE = _Table(
    "task_run_state_cache",
    ("cache_key", "task_run_state_id", "task_run_id", "timestamp", "cache_expiration"),
    (0, 1, 2, 3, 4), 5, ("created", "updated"),
    "(cache_key) DO UPDATE SET task_run_state_id = excluded.task_run_state_id, "
    "task_run_id = excluded.task_run_id, timestamp = excluded.timestamp, "
    "cache_expiration = excluded.cache_expiration, updated = excluded.updated "
    "WHERE excluded.timestamp >= task_run_state_cache.timestamp")


@functools.lru_cache(maxsize=64)
def _sized_sql(table: _Table, n: int) -> str:
    return table.sql(n)


def _insert(table: _Table, rows: list[tuple[Any, ...]], created: str,
            max_variables: int) -> Generator[Exec, int, int]:
    """Insert ``rows``; return how many were new."""
    return _in_chunks(functools.partial(_sized_sql, table), table.width,
                      (created,) * len(table.stamped), rows, max_variables)


def _in_chunks(sql: Callable[[int], str], width: int, lead: tuple[Any, ...],
               rows: list[tuple[Any, ...]], max_variables: int) -> Generator[Exec, int, int]:
    """Run ``sql(n)`` over ``rows`` of ``width`` values, ``n`` rows at a time; sum the counts.

    Full statements of the largest size, then one for the rest, its size
    rounded up to a power of two and the extra rows all NULL (which the
    statements skip): one step per statement, few statement shapes.
    ``lead`` are the values bound before the rows'. The padding is
    :data:`NULL` rather than ``None``, which binds slowly.
    """
    most = max(1, (min(max_variables, MAX_VARIABLES) - len(lead)) // width)
    largest = 1 << (min(most, MAX_ROWS).bit_length() - 1)
    done = 0
    for start in range(0, len(rows), largest):
        chunk = rows[start:start + largest]
        size = 1 << (len(chunk) - 1).bit_length()  # the power of two at or above
        padding = (NULL,) * (width * (size - len(chunk)))
        done += yield Exec(sql(size), [(*lead, *chain.from_iterable(chunk), *padding)])
    return done


def _stored(table: str, ids: Iterable[str]) -> Query:
    """Which of ``ids`` (hex) are stored in ``table``: one bound parameter, any number of ids."""
    return Query(f"SELECT id FROM {table} WHERE id IN {_JSON_IDS}", (json.dumps(list(ids)),))


def _book_of(p: Prepared) -> Callable[[str], tuple[Any, ...]]:
    """``run id -> book`` for runs new in this batch (from the batch's states)."""
    if p.books is not None:
        known = p.books
        return lambda run: known.get(run, EMPTY_BOOK)
    by_run: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)
    for state in p.states:
        by_run[state[1]].append((state[0], state[3], state[4], state[5]))
    return lambda run: _fold(EMPTY_BOOK, by_run.get(run, []))


def batch_statements(batch: Mapping[str, Any], created: str,
                     max_variables: int = MAX_VARIABLES) -> Statements:
    """The statements that store an API-shaped ``batch`` (see :func:`prepared_statements`)."""
    return prepared_statements(prepare_batch(batch, created), created, max_variables)


def prepared_statements(p: Prepared, created: str,
                        max_variables: int = MAX_VARIABLES) -> Statements:
    """The statements that store ``p``; ``created`` is the stored time of "now".

    Yields :class:`Exec` and :class:`Query` items and expects their results
    sent back; returns the counts. Run it inside one write transaction.
    """
    book = _book_of(p)
    flow_ids, flows_created = yield from _ensure_flows(p.flow_names, created)

    # Runs stored before this batch keep their rows (their new states are
    # folded in below); new runs get their book from the batch's states.
    new_runs: set[str] = set()
    n_runs = []
    for runs, kind, table in ((p.flow_runs, _FLOW_RUNS, "flow_run"),
                              (p.task_runs, _TASK_RUNS, "task_run")):
        if not runs:
            n_runs.append(0)
            continue
        known = set() if p.fresh else {
            r for (r,) in (yield _stored(table, (r[0] for r in runs)))}
        if table == "flow_run":
            runs = [(r[0], r[1], flow_ids[r[2]], *r[3:]) for r in runs]
        rows = [(*r, *book(r[0])) for r in runs if r[0] not in known]
        new_runs.update(row[0] for row in rows)
        n_runs.append((yield from _insert(kind, rows, created, max_variables)))

    # States: those of new runs go straight in; those of runs stored before
    # are folded into their books, skipping any already stored.
    n_states = 0
    for is_task, table in ((False, "flow_run"), (True, "task_run")):
        mine = [s for s in p.states if s[2] is is_task]
        rows = [s for s in mine if s[1] in new_runs]
        if len(rows) < len(mine):
            rows += yield from _fold_stored([s for s in mine if s[1] not in new_runs], table,
                                            created, max_variables)
        if rows:
            n_states += yield from _insert(_STATES[is_task], rows, created, max_variables)
        if is_task and p.cache:
            stored = {s[0] for s in rows}  # never an entry for a state not stored
            yield from _insert(_CACHE, [c for c in p.cache if c[1] in stored], created,
                               max_variables)
    n_logs = yield from _insert(_LOGS, p.logs, created, max_variables)
    return BatchCounts(flows_created, n_runs[0], n_runs[1], n_states, n_logs)


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


def _fold_stored(states: list[tuple[Any, ...]], table: str, created: str,
                 max_variables: int) -> Generator[Exec | Query, Any, list[tuple[Any, ...]]]:
    """Fold ``states`` into the books of runs stored before; return those to insert.

    States already stored (a batch replayed) and states of runs not stored
    at all are left out.
    """
    seen = {s for (s,) in (yield _stored(f"{table}_state", (s[0] for s in states)))}
    by_run: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for state in states:
        if state[0] not in seen:
            by_run[state[1]].append(state)
    if not by_run:
        return []
    books = yield Query(f"SELECT id, {', '.join(BOOK_COLUMNS)} FROM {table} "
                        f"WHERE id IN {_JSON_IDS}", (json.dumps(sorted(by_run)),))
    updates, kept = [], []
    for run, *stored_book in books:
        new = by_run[run]
        kept += new
        folded = [(s[0], s[3], s[4], s[5]) for s in new]
        updates.append((run, *_fold(tuple(stored_book), folded)))
    yield from _update_books(table, updates, created, max_variables)
    return kept


def _update_books(table: str, rows: list[tuple[Any, ...]], created: str,
                  max_variables: int) -> Generator[Exec, int, None]:
    """Set the books of runs: rows of ``(id, *BOOK_COLUMNS)``.

    ``UPDATE ... FROM`` (SQLite 3.33) makes it one step per chunk of runs
    rather than one per run (see the note on statements above).
    """
    if sqlite3.sqlite_version_info < (3, 33):
        sql = (f"UPDATE {table} SET {', '.join(f'{n} = ?' for n in BOOK_COLUMNS)}, "
               "updated = ? WHERE id = ?")
        if rows:
            yield Exec(sql, [(*row[1:], created, row[0]) for row in rows])
        return
    yield from _in_chunks(functools.partial(_update_sql, table), 1 + len(BOOK_COLUMNS),
                          (created,), rows, max_variables)


@functools.lru_cache(maxsize=32)
def _update_sql(table: str, n: int) -> str:
    """``UPDATE`` of the books of ``n`` runs (``updated`` first); NULL ids match no run."""
    sets = ", ".join(f"{name} = v.column{i + 2}" for i, name in enumerate(BOOK_COLUMNS))
    row = f"({', '.join('?' * (1 + len(BOOK_COLUMNS)))})"
    return (f"UPDATE {table} SET {sets}, updated = ? FROM (VALUES {', '.join([row] * n)}) "
            f"AS v WHERE {table}.id = v.column1")


# ---------------------------------------------------------------------- the driver
@functools.cache
def variable_limit() -> int:
    """How many values one statement may bind in this process's SQLite library.

    A compile-time limit, the same for every connection: read once from a
    throwaway in-memory connection (``getlimit`` is Python 3.11+).
    """
    con = sqlite3.connect(":memory:")
    try:
        getlimit = getattr(con, "getlimit", None)
        if getlimit is not None:
            return int(getlimit(9))  # SQLITE_LIMIT_VARIABLE_NUMBER
    finally:
        con.close()
    return MAX_VARIABLES if sqlite3.sqlite_version_info >= (3, 32) else 999


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
    limit = variable_limit()
    statements = (prepared_statements(batch, created, limit) if isinstance(batch, Prepared)
                  else batch_statements(batch, created, limit))
    cursor = con.cursor()

    def carry_out(step: Exec | Query) -> Any:
        if isinstance(step, Exec):
            return cursor.executemany(step.sql, step.params).rowcount
        return cursor.execute(step.sql, step.params).fetchall()

    with sqlite_transaction(con):
        return drive(statements, carry_out)
