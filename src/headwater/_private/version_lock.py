"""Version locking on the runtime's side: claim a run before its body runs.

A run whose version lock is on (a deployment's ``version_lock`` switch, or
a flow's ``version_lock`` option for its task runs) is claimed here, once,
before its body runs: the storage core's compare-and-set
(:mod:`~headwater._private.storage.run_locks`) against the target, straight
into the embedded SQLite file (about 0.1 ms) or ``POST /api/run_locks/``. A
refusal raises :class:`~headwater.exceptions.VersionLockError`, naming the
run, its state, who holds it and the switch to turn off.

Only runs with the lock on pay this synchronous round trip; the engine does
not call here otherwise.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from headwater._private import background
from headwater._private.storage import run_locks
from headwater.exceptions import VersionLockError

if TYPE_CHECKING:
    from headwater._private.target import Target

__all__ = ["VERSION_LOCKED_EXIT_CODE", "claim", "refusal"]

#: The exit code of ``python -m headwater.engine`` whose start the version lock
#: refused: its worker or ``serve`` leaves the run to the process that holds it.
VERSION_LOCKED_EXIT_CODE = 83

_BUSY_TIMEOUT_MS = 30_000  # as the recorder's: another writer makes a claim wait, not fail
_lock = threading.Lock()
_connections: dict[Path, sqlite3.Connection] = {}
_clients: dict[Target, Any] = {}  # API clients, living on the background loop


def _holder() -> run_locks.Holder:
    from headwater._private.storage.processes import local_host, process_start_token

    pid = os.getpid()
    return run_locks.Holder(local_host(), pid, process_start_token(pid))


def claim(kind: run_locks.Kind, run_id: uuid.UUID, target: Target | None = None) -> None:
    """Take the version lock of a flow run or task run for this process.

    Raises:
        VersionLockError: The run is Running elsewhere, Cancelling or final,
            or another process claimed it first. Its body must not run.
    """
    if target is None:
        from headwater._private.target import current_target

        target = current_target()
    holder = _holder()
    con = _sqlite(target.sqlite) if target.sqlite is not None else None
    if con is not None:
        steps = run_locks.claim(kind, run_id, holder, dt.datetime.now(dt.timezone.utc))
        with _lock:  # one transaction at a time on the shared connection
            answer: run_locks.Claim = run_locks.run(con, steps)
    else:
        answer = background.run(lambda: _claim_api(target, kind, run_id, holder))
    if not answer.claimed:
        raise refusal(kind, run_id, answer)


def refusal(kind: str, run_id: uuid.UUID, answer: run_locks.Claim) -> VersionLockError:
    """The error of a refused claim: the run, its state, its holder, the switch to turn off."""
    what = "Flow run" if kind == "flow_run" else "Task run"
    state = answer.state_name or (answer.state_type or "").title()
    is_now = f"it is {state} already" if state else "another process started it first"
    held = answer.holder
    by = f" (started by pid {held.pid} on {held.host})" if held is not None else ""
    return VersionLockError(
        f"{what} {run_id} was not started: its version lock is on and {is_now}{by}; its "
        "body did not run here. A run with the lock on starts once and only once. To let "
        "it start again, turn the lock off: `headwater deployment set NAME "
        "--no-version-lock` for a deployment's runs, version_lock=False on the flow (or "
        "HEADWATER_FLOW_RUN_VERSION_LOCK=false) for its task runs.",
        run_id=run_id, kind=kind, state_type=answer.state_type,
        host=held.host if held else None, pid=held.pid if held else None)


def _sqlite(path: Path) -> sqlite3.Connection | None:
    """A connection to the embedded file with the schema at head; None: use the API."""
    with _lock:
        con = _connections.get(path)
        if con is not None:
            return con
        from headwater._private.files import create_private
        from headwater._private.storage.sqlite_schema import ensure_sqlite_schema

        create_private(path)
        con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            con.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
            if con.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
            if not ensure_sqlite_schema(con):  # an older file: the API app migrates it
                con.close()
                return None
        except BaseException:
            con.close()
            raise
        _connections[path] = con
        return con


async def _claim_api(target: Target, kind: run_locks.Kind, run_id: uuid.UUID,
                     holder: run_locks.Holder) -> run_locks.Claim:
    if not background.in_loop_thread():  # a helper thread's private loop: a client of its own
        async with target.client() as own:
            answer = await own.claim_run_lock(run_id, kind, host=holder.host, pid=holder.pid,
                                              process_start=holder.process_start)
    else:
        client = _clients.get(target)
        if client is None:
            client = _clients[target] = target.client()
        answer = await client.claim_run_lock(run_id, kind, host=holder.host, pid=holder.pid,
                                             process_start=holder.process_start)
    held = (run_locks.Holder(answer["host"], int(answer["pid"]), answer.get("process_start"))
            if answer.get("host") is not None else None)
    return run_locks.Claim(bool(answer["claimed"]), answer.get("state_type"),
                           answer.get("state_name"), held)


def _after_fork() -> None:
    """A forked child opens its own connections and clients."""
    global _lock
    _lock = threading.Lock()
    _connections.clear()
    _clients.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
