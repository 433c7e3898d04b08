"""Version locks: a run whose lock is on starts once, and only once.

Before it runs the body, every starter of such a run (the executor of a
deployment's flow run, each of its task runs, a Dask worker running a task
again) asks the store with :func:`claim`, in one write transaction:

- the run is RUNNING or CANCELLING (another process has it) or in a final
  state: refused;
- otherwise a ``run_lock`` row naming this process (host, pid, start token)
  is inserted; the row's primary key is the compare-and-set: of two
  starters racing, one inserts and the other finds the row and is refused.

The row stays while the run lives; Lazarus deletes a flow run's row when it
reschedules the run (:mod:`.liveness_rules`), so the rescheduled run can be
claimed again. A refusal says what the run is and who holds it, so the
loser's error can name them.

As :mod:`.liveness_rules`, each operation is a generator of steps that a
driver carries out: :func:`run` over ``sqlite3`` (embedded processes), the
server's ``services/run_locks.py`` (SQLite through ``exec_driver_sql`` with
:func:`statements`, PostgreSQL with SQLAlchemy Core).

Standard library only: part of the storage core.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from collections.abc import Generator
from typing import Any, Literal, NamedTuple

from headwater._private.driving import drive
from headwater._private.storage.bookkeeping import FINAL_TYPES
from headwater._private.storage.stored_values import stored_time
from headwater._private.storage.transactions import sqlite_transaction

__all__ = ["BUSY_TYPES", "Claim", "Holder", "InsertLock", "Kind", "ReadLock", "ReadRunState",
           "Step", "Steps", "claim", "decode", "run", "statements"]

Kind = Literal["flow_run", "task_run"]
#: Stored state types of a run that another process has started.
BUSY_TYPES = frozenset({"RUNNING", "CANCELLING"})


class Holder(NamedTuple):
    """The process that started a run: host, pid, start token."""

    host: str
    pid: int
    process_start: str | None = None


class Claim(NamedTuple):
    """The answer of :func:`claim`: won or refused, with what the run is and who holds it."""

    claimed: bool
    state_type: str | None = None
    state_name: str | None = None
    holder: Holder | None = None


class ReadRunState(NamedTuple):
    """The run's stored ``(state_type, state_name)`` (answer: None when not stored yet)."""

    kind: Kind
    run_id: uuid.UUID


class ReadLock(NamedTuple):
    """The `Holder` of the run's lock (answer: None when unlocked)."""

    run_id: uuid.UUID


class InsertLock(NamedTuple):
    """Insert the run's lock unless it has one (answer: rows inserted, 1 or 0)."""

    kind: Kind
    run_id: uuid.UUID
    holder: Holder
    at: dt.datetime


Step = ReadRunState | ReadLock | InsertLock
Steps = Generator[Step, Any, Any]


def claim(kind: Kind, run_id: uuid.UUID, holder: Holder, at: dt.datetime) -> Steps:
    """Take the run's version lock for ``holder``; returns a `Claim` (see the module docstring)."""
    state: tuple[str | None, str | None] | None = yield ReadRunState(kind, run_id)
    state_type, state_name = state if state is not None else (None, None)
    if state_type in BUSY_TYPES or state_type in FINAL_TYPES:
        return Claim(False, state_type, state_name, (yield ReadLock(run_id)))
    if (yield InsertLock(kind, run_id, holder, at)):
        return Claim(True, state_type, state_name, holder)
    return Claim(False, state_type, state_name, (yield ReadLock(run_id)))


# ---------------------------------------------------------------------- SQLite
class Statement(NamedTuple):
    """One statement: a ``query`` answers with its rows, anything else with its row count."""

    sql: str
    params: tuple[Any, ...]
    query: bool = False


def statements(step: Step) -> Statement:
    """The SQLite statement that carries out ``step``."""
    match step:
        case ReadRunState(kind, run_id):
            return Statement(f"SELECT state_type, state_name FROM {kind} WHERE id = ?",
                             (run_id.hex,), query=True)
        case ReadLock(run_id):
            return Statement("SELECT host, pid, process_start FROM run_lock WHERE run_id = ?",
                             (run_id.hex,), query=True)
        case InsertLock(kind, run_id, holder, at):
            return Statement("INSERT INTO run_lock (run_id, created, kind, host, pid, "
                             "process_start) VALUES (?, ?, ?, ?, ?, ?) "
                             "ON CONFLICT (run_id) DO NOTHING",
                             (run_id.hex, stored_time(at), kind, *holder))
    raise TypeError(f"not a run lock step: {step!r}")


def decode(step: Step, answer: list[Any] | int) -> Any:
    """The answer ``step`` expects, from its statement's rows (a query) or row count."""
    if isinstance(step, ReadRunState):
        assert isinstance(answer, list)
        return tuple(answer[0]) if answer else None
    if isinstance(step, ReadLock):
        assert isinstance(answer, list)
        return Holder(answer[0][0], int(answer[0][1]), answer[0][2]) if answer else None
    return answer


def run(con: sqlite3.Connection, steps: Steps) -> Any:
    """Run an operation of this module in one write transaction on ``con`` (autocommit mode)."""
    def carry_out(step: Step) -> Any:
        sql = statements(step)
        cursor = con.execute(sql.sql, sql.params)
        return decode(step, cursor.fetchall() if sql.query else cursor.rowcount)

    with sqlite_transaction(con):
        return drive(steps, carry_out)
