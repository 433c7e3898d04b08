"""The liveness rules, written once: heartbeats and the zombie check, sans I/O.

A running flow run's process records where it lives (host, pid, a token of
its start: :mod:`.processes`) and, every ``heartbeat_interval`` seconds,
that it still does (``flow_run_liveness``). The zombie check finds the
runs whose process is gone and ends them:

- a run recorded on *this* host whose process is gone (no such pid, or the
  pid now belongs to a process that started at another time) at once;
- any run whose last heartbeat is more than :data:`MISSED_HEARTBEATS` of
  its own intervals old (a process on another host, or this platform cannot
  tell);
- RUNNING (or PENDING: a worker's run whose process had not started the
  flow yet) becomes CRASHED, CANCELLING becomes CANCELLED (the cancel asked
  for was done, by the process dying), with a message saying why and when
  the last heartbeat came;
- every write is a compare-and-set on the run's ``state_version``, so a run
  that reaches a final state while the check runs keeps it;
- the task runs the dead process left RUNNING end CRASHED too, and the
  concurrency slots they held (tag limits' ``active_slots``, leases) are
  freed.

A heartbeat changes nothing once the run is final (:func:`heartbeat` writes
only while the run is not in a final state). A run's first heartbeat, its
liveness row, is written with its records (the recorder's batch,
``liveness_sqlite.live_statement`` and the server's records service) by the
same rule, so starting a run costs no write of its own.

As with :mod:`.lease_rules`, each operation is a generator of steps that a
driver carries out in one write transaction: :mod:`.liveness_sqlite` for
SQLite (embedded processes through ``sqlite3``, the server through
``exec_driver_sql``), the server's ``services/liveness.py`` with SQLAlchemy
Core on PostgreSQL.

Standard library only: part of the storage core.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Generator
from typing import Any, NamedTuple

from headwater._private.storage.bookkeeping import FINAL_TYPES, advance_book

__all__ = [
    "MISSED_HEARTBEATS",
    "RESCHEDULED",
    "SUSPECT_TYPES",
    "Beat",
    "DropBeat",
    "FinishRun",
    "FreeSlots",
    "InsertState",
    "ProcessCheck",
    "ReadFinal",
    "ReadRunningTaskRuns",
    "ReadSuspects",
    "ReleaseLock",
    "Step",
    "Steps",
    "Suspect",
    "TaskRunBook",
    "UpsertBeat",
    "Verdict",
    "any_dead",
    "heartbeat",
    "judge",
    "sweep",
]

#: Heartbeats a run may miss in a row before the check calls it dead.
MISSED_HEARTBEATS = 4
#: The states of the runs the check judges (if they have a liveness row). A Pending run has
#: one when its worker started its process (the worker beats for it until it runs).
SUSPECT_TYPES = ("PENDING", "RUNNING", "CANCELLING")
#: The name of the SCHEDULED state Lazarus gives a crashed run it reschedules.
RESCHEDULED = "Rescheduled"

#: ``process_check(pid, token)``: False if gone, True if alive, None if unknown.
ProcessCheck = Callable[[int, "str | None"], "bool | None"]


# ---------------------------------------------------------------------- data
class Beat(NamedTuple):
    """One heartbeat of some flow runs of one process."""

    flow_run_ids: tuple[uuid.UUID, ...]
    host: str
    pid: int
    process_start: str | None
    interval: float
    at: dt.datetime


class Suspect(NamedTuple):
    """A flow run of `SUSPECT_TYPES` with a liveness row, and its book (``BOOK_COLUMNS``)."""

    flow_run_id: uuid.UUID
    book: tuple[Any, ...]
    host: str
    pid: int
    process_start: str | None
    interval: float
    last_heartbeat: dt.datetime
    deployment_id: uuid.UUID | None = None
    lazarus_attempts: int = 0  # times Lazarus rescheduled it already
    lazarus: bool = True  # its deployment's switch (``--no-lazarus``: never rescheduled)

    @property
    def state_type(self) -> str:
        """The run's current state type."""
        return str(self.book[1])


class Verdict(NamedTuple):
    """What the check does to a dead run: its new state."""

    flow_run_id: uuid.UUID
    state_type: str
    state_name: str
    message: str
    rescheduled: int = 0  # the Lazarus attempt that rescheduled it, 0 if none


class TaskRunBook(NamedTuple):
    """A RUNNING task run of a dead flow run, and its book."""

    task_run_id: uuid.UUID
    book: tuple[Any, ...]


# ---------------------------------------------------------------------- steps
class ReadFinal(NamedTuple):
    """Which of these flow runs are in a final state (answer: a set of ids)."""

    flow_run_ids: tuple[uuid.UUID, ...]


class UpsertBeat(NamedTuple):
    """Store ``beat`` for its runs (one statement for all of them; answer ignored)."""

    beat: Beat


class ReadSuspects(NamedTuple):
    """The flow runs of `SUSPECT_TYPES` that have a liveness row (answer: `Suspect` list)."""


class FinishRun(NamedTuple):
    """Write ``book`` if the run's ``state_version`` is still ``expected_version``.

    Answer: rows updated (1 when the compare-and-set won, else 0).
    """

    table: str  # "flow_run" or "task_run"
    run_id: uuid.UUID
    expected_version: int
    book: tuple[Any, ...]
    stamp: dt.datetime
    expected_start_time: dt.datetime | None = None  # set it too (a rescheduled run)


class InsertState(NamedTuple):
    """Insert the state row of a `FinishRun` that won (its id is ``book[0]``)."""

    table: str
    run_id: uuid.UUID
    book: tuple[Any, ...]
    message: str
    stamp: dt.datetime
    details: tuple[tuple[str, Any], ...] = ()  # more state_details


class ReadRunningTaskRuns(NamedTuple):
    """The RUNNING task runs of a flow run (answer: `TaskRunBook` list)."""

    flow_run_id: uuid.UUID


class FreeSlots(NamedTuple):
    """Drop the task runs' slots: leases they hold, their ids in tag limits' ``active_slots``."""

    task_run_ids: tuple[uuid.UUID, ...]


class ReleaseLock(NamedTuple):
    """Delete the flow run's version lock (``run_lock``), so its next start can claim it."""

    flow_run_id: uuid.UUID


class DropBeat(NamedTuple):
    """Forget the run's liveness row: it was the dead process's (answer ignored)."""

    flow_run_id: uuid.UUID


Step = (ReadFinal | UpsertBeat | ReadSuspects | FinishRun | InsertState | ReadRunningTaskRuns
        | FreeSlots | ReleaseLock | DropBeat)
Steps = Generator[Step, Any, Any]


# ---------------------------------------------------------------------- the rule
def _when(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def judge(suspect: Suspect, now: dt.datetime, *, host: str,
          process_check: ProcessCheck) -> Verdict | None:
    """Whether ``suspect``'s process is dead, and what its run becomes; None if alive.

    Pure: ``now``, this host's name and the process check are passed in.
    """
    last = _when(suspect.last_heartbeat)
    silent = (now - suspect.last_heartbeat).total_seconds()
    if suspect.host == host and process_check(suspect.pid, suspect.process_start) is False:
        why = (f"its process (pid {suspect.pid} on {host}) is gone; the last heartbeat came at "
               f"{last}")
    elif silent > MISSED_HEARTBEATS * suspect.interval:
        why = (f"it missed {MISSED_HEARTBEATS} heartbeats in a row (one every "
               f"{suspect.interval:g} s from pid {suspect.pid} on {suspect.host}); the last "
               f"came at {last}, {silent:.0f} s ago")
    else:
        return None
    if suspect.state_type == "CANCELLING":
        return Verdict(suspect.flow_run_id, "CANCELLED", "Cancelled",
                       f"The flow run was cancelling and its process died: {why}.")
    return Verdict(suspect.flow_run_id, "CRASHED", "Crashed",
                   f"The flow run's process stopped without reporting a final state: {why}.")


def heartbeat(beat: Beat) -> Steps:
    """Record ``beat``; returns the runs it was stored for (not those already final)."""
    if not beat.flow_run_ids:
        return []
    final: set[uuid.UUID] = yield ReadFinal(beat.flow_run_ids)
    alive = tuple(i for i in beat.flow_run_ids if i not in final)
    if alive:
        yield UpsertBeat(beat._replace(flow_run_ids=alive))
    return list(alive)


def any_dead(now: dt.datetime, *, host: str, process_check: ProcessCheck) -> Steps:
    """Whether `sweep` would end a run: a read, so a sweep with nothing to end writes nothing."""
    suspects: list[Suspect] = yield ReadSuspects()
    return any(judge(s, now, host=host, process_check=process_check) is not None
               for s in suspects)


def sweep(now: dt.datetime, *, host: str, process_check: ProcessCheck,
          lazarus_max_attempts: int = 0) -> Steps:
    """End the runs whose process is dead; returns the `Verdict` of each run ended.

    A deployment's run that crashed is rescheduled by Lazarus (Scheduled,
    named ``Rescheduled``, to start now, on the same deployment version: it
    keeps its ``deployment_id``) at most ``lazarus_max_attempts`` times,
    unless its deployment's ``lazarus`` switch is off. A rescheduled run's
    version lock goes (:mod:`.run_locks`): its next start claims it anew.
    """
    suspects: list[Suspect] = yield ReadSuspects()
    ended: list[Verdict] = []
    checked: dict[tuple[int, str | None], bool | None] = {}

    def check_once(pid: int, token: str | None) -> bool | None:
        # One look per process, however many of its runs are suspects.
        if (pid, token) not in checked:
            checked[pid, token] = process_check(pid, token)
        return checked[pid, token]

    for suspect in suspects:
        verdict = judge(suspect, now, host=host, process_check=check_once)
        if verdict is None:
            continue
        book = advance_book(suspect.book, uuid.uuid4(), verdict.state_type,
                            verdict.state_name, now)
        won = yield FinishRun("flow_run", suspect.flow_run_id, int(suspect.book[4]), book, now)
        if not won:
            continue  # its state changed meanwhile (it completed): leave it be
        yield InsertState("flow_run", suspect.flow_run_id, book, verdict.message, now)
        ended.append(verdict)
        task_runs: list[TaskRunBook] = yield ReadRunningTaskRuns(suspect.flow_run_id)
        message = f"Its flow run {suspect.flow_run_id} ended {verdict.state_name}: " \
                  f"{verdict.message}"
        for task_run in task_runs:
            task_book = advance_book(task_run.book, uuid.uuid4(), "CRASHED", "Crashed", now)
            if (yield FinishRun("task_run", task_run.task_run_id, int(task_run.book[4]),
                                task_book, now)):
                yield InsertState("task_run", task_run.task_run_id, task_book, message, now)
        yield FreeSlots(tuple(t.task_run_id for t in task_runs))
        if (verdict.state_type == "CRASHED" and suspect.deployment_id is not None
                and suspect.lazarus and suspect.lazarus_attempts < lazarus_max_attempts):
            attempt = yield from _lazarus(suspect, book, now, lazarus_max_attempts)
            if attempt:
                ended[-1] = verdict._replace(rescheduled=attempt)
    return ended


def _lazarus(suspect: Suspect, book: tuple[Any, ...], now: dt.datetime,
             max_attempts: int) -> Steps:
    """Reschedule a crashed deployment run; returns the attempt number (0: lost the race)."""
    attempt = suspect.lazarus_attempts + 1
    later = now + dt.timedelta(microseconds=1)  # after the Crashed state in the history
    again = advance_book(book, uuid.uuid4(), "SCHEDULED", RESCHEDULED, later)
    if not (yield FinishRun("flow_run", suspect.flow_run_id, int(book[4]), again, later,
                            expected_start_time=later)):
        return 0
    yield InsertState("flow_run", suspect.flow_run_id, again,
                      f"Lazarus rescheduled the crashed run (attempt {attempt} of "
                      f"{max_attempts}); it runs again on its deployment version.", later,
                      (("lazarus_attempt", attempt),))
    yield ReleaseLock(suspect.flow_run_id)
    # The row names the dead process: left in place, it would crash the rerun as soon as
    # it is Running, before its own first heartbeat replaces it.
    yield DropBeat(suspect.flow_run_id)
    return attempt


def is_final(state_type: str | None) -> bool:
    """Whether a stored state type ends a run."""
    return state_type in FINAL_TYPES
