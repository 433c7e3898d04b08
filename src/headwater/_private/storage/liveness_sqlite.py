"""The SQLite statements of the liveness rules, and their ``sqlite3`` driver.

:mod:`.liveness_rules` decides; this module says how each of its steps
reads or writes a SQLite file, storing values as SQLAlchemy does for
``tables.py``'s types (:mod:`.stored_values`). Two drivers run these
statements: :func:`run` over a ``sqlite3`` connection (embedded processes:
their heartbeats and the sweep every process does when it opens the
database), and the server's ``services/liveness.py`` through
``exec_driver_sql``. :data:`LIVE_SQL` is the same rule as one
statement for the records batch (``record_statements``): a run's liveness
row written with its records.

Standard library only (a test checks it).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import uuid
from typing import Any, NamedTuple, TypeVar

from headwater._private.driving import drive
from headwater._private.storage import liveness_rules as rules
from headwater._private.storage.bookkeeping import BOOK_COLUMNS, FINAL_TYPES
from headwater._private.storage.stored_values import stored_time
from headwater._private.storage.transactions import sqlite_transaction

__all__ = ["LIVE_SQL", "Statements", "decode", "run", "statements"]

T = TypeVar("T")
_UTC = dt.timezone.utc
_BOOK = ", ".join(f"r.{name}" for name in BOOK_COLUMNS)
_TIMES = {3, 6, 7}  # book positions holding times
_FINAL = ", ".join(f"'{t}'" for t in sorted(FINAL_TYPES))
_IN_JSON = "IN (SELECT value FROM json_each(?))"  # any number of values, one parameter


class Statement(NamedTuple):
    """One statement: a ``query`` answers with its rows, anything else with its row count."""

    sql: str
    params: tuple[Any, ...]
    query: bool = False


Statements = list[Statement]


# A beat's values: ?1 the run ids (JSON), ?2 its time, then host, pid, start token, interval.
_UPSERT = ("INSERT INTO flow_run_liveness (flow_run_id, created, host, pid, process_start, "
           "heartbeat_interval, last_heartbeat) SELECT value, ?2, ?3, ?4, ?5, ?6, ?2 "
           "FROM json_each(?1)")
_ON_CONFLICT = ("ON CONFLICT (flow_run_id) DO UPDATE SET host = excluded.host, "
                "pid = excluded.pid, process_start = excluded.process_start, "
                "heartbeat_interval = excluded.heartbeat_interval, "
                "last_heartbeat = excluded.last_heartbeat")
#: The liveness rows of runs starting, written with their records (``record_statements``,
#: after the batch's runs and states, in its transaction): :func:`.liveness_rules.heartbeat`
#: as one statement, for the runs not final (a run that started and ended within one batch
#: needs none). Values as a beat's (``?2``: the batch's time).
LIVE_SQL = (f"{_UPSERT} WHERE value NOT IN (SELECT id FROM flow_run WHERE id IN "
            f"(SELECT value FROM json_each(?1)) AND state_type IN ({_FINAL})) {_ON_CONFLICT}")


def _beat_params(beat: rules.Beat) -> tuple[Any, ...]:
    return (json.dumps([i.hex for i in beat.flow_run_ids]), stored_time(beat.at), beat.host,
            beat.pid, beat.process_start, beat.interval)


def _time(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text).replace(tzinfo=_UTC)


def _book_in(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A book as read (ids and times as stored) -> the rules' values."""
    values = list(row)
    values[0] = uuid.UUID(values[0]) if values[0] is not None else None
    for i in _TIMES:
        values[i] = _time(values[i])
    return tuple(values)


def _book_out(book: tuple[Any, ...]) -> list[Any]:
    values = list(book)
    values[0] = values[0].hex if values[0] is not None else None
    for i in _TIMES:
        values[i] = stored_time(values[i]) if values[i] is not None else None
    return values


def statements(step: rules.Step) -> Statements:
    """The statements that carry out ``step`` on SQLite (the last one answers for the step)."""
    match step:
        case rules.ReadFinal(ids):
            return [Statement(f"SELECT id FROM flow_run WHERE id {_IN_JSON} "
                              f"AND state_type IN ({_FINAL})",
                              (json.dumps([i.hex for i in ids]),), query=True)]
        case rules.UpsertBeat(beat):
            return [Statement(f"{_UPSERT} WHERE true {_ON_CONFLICT}", _beat_params(beat))]
        case rules.ReadSuspects():
            return [Statement(
                f"SELECT r.id, {_BOOK}, l.host, l.pid, l.process_start, l.heartbeat_interval, "
                "l.last_heartbeat, r.deployment_id, (SELECT count(*) FROM flow_run_state AS s "
                f"WHERE s.flow_run_id = r.id AND s.name = '{rules.RESCHEDULED}'), "
                "coalesce(d.lazarus, 1) "
                "FROM flow_run AS r JOIN flow_run_liveness AS l "
                "ON l.flow_run_id = r.id LEFT JOIN deployment AS d ON d.id = r.deployment_id "
                f"WHERE r.state_type IN ({', '.join(repr(t) for t in rules.SUSPECT_TYPES)})",
                (), query=True)]
        case rules.FinishRun(table, run_id, expected, book, stamp, start):
            sets = ", ".join(f"{name} = ?" for name in BOOK_COLUMNS)
            return [Statement(f"UPDATE {table} SET updated = ?, {sets}, "
                              "expected_start_time = coalesce(?, expected_start_time) "
                              "WHERE id = ? AND state_version = ?",
                              (stored_time(stamp), *_book_out(book),
                               stored_time(start) if start is not None else None, run_id.hex,
                               expected))]
        case rules.InsertState(table, run_id, book, message, stamp, details):
            fk = f"{table}_id"
            return [Statement(
                f"INSERT INTO {table}_state (id, created, {fk}, type, name, timestamp, "
                "message, state_details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (book[0].hex, stored_time(stamp), run_id.hex, book[1], book[2],
                 stored_time(stamp), message, json.dumps({fk: str(run_id), **dict(details)})))]
        case rules.ReleaseLock(flow_run_id):
            return [Statement("DELETE FROM run_lock WHERE run_id = ?", (flow_run_id.hex,))]
        case rules.ReadRunningTaskRuns(flow_run_id):
            return [Statement(f"SELECT r.id, {_BOOK} FROM task_run AS r "
                              "WHERE r.flow_run_id = ? AND r.state_type = 'RUNNING'",
                              (flow_run_id.hex,), query=True)]
        case rules.DropBeat(run_id):
            return [Statement("DELETE FROM flow_run_liveness WHERE flow_run_id = ?",
                              (run_id.hex,))]
        case rules.FreeSlots(task_run_ids):
            held = json.dumps([str(i) for i in task_run_ids])
            return [
                Statement("DELETE FROM concurrency_lease WHERE holder IN "
                          "(SELECT value FROM json_each(?))", (held,)),
                Statement("UPDATE concurrency_limit SET active_slots = (SELECT json_group_array("
                          "s.value) FROM json_each(concurrency_limit.active_slots) AS s WHERE "
                          "s.value NOT IN (SELECT value FROM json_each(?1))) WHERE EXISTS "
                          "(SELECT 1 FROM json_each(concurrency_limit.active_slots) AS s WHERE "
                          "s.value IN (SELECT value FROM json_each(?1)))", (held,)),
            ]
    raise TypeError(f"not a liveness step: {step!r}")


def decode(step: rules.Step, answer: list[Any] | int) -> Any:
    """The answer ``step`` expects, from its last statement's rows (a query) or row count."""
    if isinstance(step, rules.ReadSuspects):
        assert isinstance(answer, list)
        return [rules.Suspect(uuid.UUID(row[0]), _book_in(row[1:10]), row[10], int(row[11]),
                              row[12], float(row[13]), _time(row[14]),  # type: ignore[arg-type]
                              uuid.UUID(row[15]) if row[15] is not None else None, int(row[16]),
                              bool(row[17]))
                for row in answer]
    if isinstance(step, rules.ReadFinal):
        assert isinstance(answer, list)
        return {uuid.UUID(row[0]) for row in answer}
    if isinstance(step, rules.ReadRunningTaskRuns):
        assert isinstance(answer, list)
        return [rules.TaskRunBook(uuid.UUID(row[0]), _book_in(row[1:])) for row in answer]
    return answer


def run(con: sqlite3.Connection, steps: rules.Steps, *, write: bool = True) -> Any:
    """Run an operation of :mod:`.liveness_rules` in one transaction on ``con``.

    ``con`` is in autocommit mode (``isolation_level=None``) with a busy timeout.
    """
    def carry_out(step: rules.Step) -> Any:
        answer: list[Any] | int = 0
        sqls = statements(step)
        for sql in sqls:
            cursor = con.execute(sql.sql, sql.params)
            answer = cursor.fetchall() if sql.query else cursor.rowcount
        return decode(step, answer)

    with sqlite_transaction(con, write=write):
        return drive(steps, carry_out)
