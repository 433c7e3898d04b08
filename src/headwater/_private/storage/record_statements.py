"""The statements that store a records batch in SQLite (standard library only).

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
``record_writer.write_batch`` drives it over a ``sqlite3`` connection,
``server/database/sqlite_driver.py`` over the server's SQLAlchemy one.

What it trusts, unlike the API: the batch comes from this process's own
recorder, so references are not checked (the recorder queues a run's
creation before its states and logs) and ``PRAGMA foreign_keys`` is left off.
What it keeps: idempotency (records already stored are skipped, so a batch
replayed from the spool after a crash stores nothing twice), and the
bookkeeping of every run row (current state, run_count, start/end times,
total run time), also for runs whose states span several batches. It also
writes the liveness rows of flow runs starting (``flow_run_liveness``, see
``liveness_sqlite.LIVE_SQL``) in the same transaction as their runs, so
starting a run costs no write of its own.

What it refuses, whole (:class:`UnknownRunsError`, a ``ValueError``, so the
recorder sets aside the refused run alone and stores the rest of the
batch): states of a run that is neither in the batch nor stored, and a run
that cannot be stored because another run holds its identity (a task run
with the same flow run, task key and dynamic key). Nothing is dropped
without a word.

A run created again (by a second recorder, or sent again) keeps its row;
the fields its first writer left empty (NULL, ``{}`` parameters, ``[]``
tags) take the values sent later, and its new states are folded into its
bookkeeping.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import uuid
from collections import defaultdict
from collections.abc import Callable, Generator, Iterable, Mapping
from itertools import chain
from operator import itemgetter
from typing import Any, NamedTuple

from headwater._private.storage.bookkeeping import BOOK_COLUMNS, EMPTY_BOOK, fold_books
from headwater._private.storage.liveness_sqlite import LIVE_SQL
from headwater._private.storage.prepared import Prepared, prepare_batch
from headwater._private.storage.stored_values import NULL, seconds_between

__all__ = ["FILLED_WHEN_EMPTY", "MAX_ROWS", "MAX_VARIABLES", "BatchCounts", "Exec", "Query",
           "RunsStoredBefore", "Statements", "UnknownRunsError", "batch_statements",
           "describe_runs", "prepared_statements"]

_JSON_IDS = "(SELECT value FROM json_each(?))"


#: Run ids named in an error message, at most.
_NAMED = 10


class UnknownRunsError(ValueError):
    """Raised when a batch's records name runs that are neither in it nor stored."""


class RunsStoredBefore(Exception):
    """Raised when a batch said to be fresh creates runs that are stored already.

    The driver rolls the transaction back and stores the batch again with
    ``fresh`` off, so those runs are looked up (their rows updated, their
    states folded in) instead of assumed new.
    """


def describe_runs(label: str, ids: Iterable[Any]) -> str:
    """``"flow run(s) a, b and 3 more"``: at most :data:`_NAMED` ids, sorted."""
    ordered = sorted(str(i) for i in ids)
    more = f" and {len(ordered) - _NAMED} more" if len(ordered) > _NAMED else ""
    return f"{label}(s) {', '.join(ordered[:_NAMED])}{more}"


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


#: A state row of :class:`Prepared` as ``fold_books`` takes it: run, id, type, name, time.
_AS_FOLDED = itemgetter(1, 0, 3, 4, 5)


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
    """``run id -> book`` for runs new in this batch, from the batch's states (the one rule)."""
    books = fold_books({}, map(_AS_FOLDED, p.states), seconds_between)
    return lambda run: books.get(run, EMPTY_BOOK)


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
        inserted = yield from _insert(kind, rows, created, max_variables)
        if inserted < len(rows):  # never on the hot path: every run there is new
            if p.fresh:
                raise RunsStoredBefore(table)
            yield from _refuse_lost(table, [row[0] for row in rows])
        if known:
            yield from _fill_empty(table, [r for r in runs if r[0] in known], created)
        n_runs.append(inserted)

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
    if p.liveness:
        yield from _live(p.liveness, created)
    n_logs = yield from _insert(_LOGS, p.logs, created, max_variables)
    return BatchCounts(flows_created, n_runs[0], n_runs[1], n_states, n_logs)


def _live(rows: list[tuple[str, str, int, str | None, float]], created: str
          ) -> Generator[Exec, int, None]:
    """Write the liveness rows of runs starting (after their runs and states: same transaction).

    One statement per process and interval (a batch has one, or a few when
    replayed from the spool); runs already final get none.
    """
    by_process: dict[tuple[str, int, str | None, float], list[str]] = defaultdict(list)
    for run, host, pid, token, interval in rows:
        by_process[host, pid, token, interval].append(run)
    for (host, pid, token, interval), runs in by_process.items():
        yield Exec(LIVE_SQL, [(json.dumps(runs), created, host, pid, token, interval)])


def _refuse_lost(table: str, ids: list[str]) -> Generator[Query, Any, None]:
    """Raise :class:`UnknownRunsError` for runs of ``ids`` that are not stored after the insert.

    Not inserted and not stored: another unique key matched, a run with the
    same identity under another id (a task run with the same flow run, task
    key and dynamic key). Its states would name no stored run.
    """
    stored = {r for (r,) in (yield _stored(table, ids))}
    lost = set(ids) - stored
    if lost:
        label = table.replace("_", " ")
        raise UnknownRunsError(
            f"{describe_runs(label, (str(uuid.UUID(i)) for i in lost))} not stored: another "
            f"{label} with the same identity (flow run, task key and dynamic key for a task "
            "run) is stored under another id")


# Fields of a run row that a later creation fills when its first writer left them
# empty (NULL text, or the empty JSON of ``{}`` parameters and ``[]`` tags), and
# their places in a :class:`Prepared` run row.
_FILLED = {
    "flow_run": {"flow_version": 3, "parameters": 4, "tags": 5, "parent_task_run_id": 6,
                 "parent_flow_run_id": 7},
    "task_run": {"task_name": 4, "cache_key": 6, "task_version": 7, "tags": 8},
}
#: Per run table, the fields a later creation of a stored run fills where they are empty.
FILLED_WHEN_EMPTY = {table: tuple(fields) for table, fields in _FILLED.items()}
_EMPTY_JSON = {"parameters": "{}", "tags": "[]"}


def _fill_empty(table: str, runs: list[tuple[Any, ...]], created: str
                ) -> Generator[Exec, int, None]:
    """Give runs stored before the fields their first writer left empty (rows of ``runs``).

    A row none of whose fields changes is not touched (``updated`` too): a
    batch sent again changes nothing.
    """
    fields = _FILLED[table]
    sets, fills = [], []
    for name in fields:
        if name in _EMPTY_JSON:
            empty = _EMPTY_JSON[name]
            sets.append(f"{name} = CASE WHEN {name} = '{empty}' THEN ? ELSE {name} END")
            fills.append(f"({name} = '{empty}' AND ? <> '{empty}')")
        else:
            sets.append(f"{name} = coalesce({name}, nullif(?, {NULL}))")
            fills.append(f"({name} IS NULL AND nullif(?, {NULL}) IS NOT NULL)")
    sql = (f"UPDATE {table} SET {', '.join(sets)}, updated = ? "
           f"WHERE id = ? AND ({' OR '.join(fills)})")
    yield Exec(sql, [(*values, created, r[0], *values)
                     for r in runs for values in [tuple(r[i] for i in fields.values())]])


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

    States already stored (a batch replayed) are left out.

    Raises:
        UnknownRunsError: A state names a run that is neither in the batch
            nor stored (nothing of the batch is stored then).
    """
    seen = {s for (s,) in (yield _stored(f"{table}_state", (s[0] for s in states)))}
    by_run: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for state in states:
        if state[0] not in seen:
            by_run[state[1]].append(state)
    if not by_run:
        return []
    rows = yield Query(f"SELECT id, {', '.join(BOOK_COLUMNS)} FROM {table} "
                       f"WHERE id IN {_JSON_IDS}", (json.dumps(sorted(by_run)),))
    books = {run: tuple(book) for run, *book in rows}
    if len(books) < len(by_run):
        unknown = (str(uuid.UUID(r)) for r in by_run.keys() - books.keys())
        raise UnknownRunsError(
            f"states of unknown {describe_runs(table.replace('_', ' '), unknown)} (not in "
            "this batch and not stored): a run's creation must be stored before its states")
    kept = [state for run in books for state in by_run[run]]
    fold_books(books, map(_AS_FOLDED, kept), seconds_between)
    yield from _update_books(table, [(run, *book) for run, book in books.items()], created,
                             max_variables)
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
