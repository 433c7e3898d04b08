"""The zombie check of embedded mode: every process that opens the SQLite file sweeps once.

A flow run whose process was killed (``kill -9``, a power cut) cannot say
so; it stays RUNNING until someone notices. The server's services notice
(``headwater server start``); in embedded mode there is no server, so every
headwater process that opens the database (the recorder of a run, the CLI)
runs the check once (:func:`sweep_once`): after ``kill -9`` of a local run,
the next ``headwater flow-run ls`` shows it Crashed, not Running forever.
The rules are the storage core's (:mod:`~headwater._private.storage.liveness_rules`).
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import threading

from headwater._private.clock import get_clock
from headwater._private.storage import liveness_rules as rules
from headwater._private.storage import liveness_sqlite
from headwater._private.storage.processes import local_host, process_alive

__all__ = ["sweep", "sweep_once"]

_logger = logging.getLogger("headwater.zombies")
_lock = threading.Lock()
_swept: set[str] = set()  # database files this process has swept


def sweep(con: sqlite3.Connection, now: dt.datetime | None = None) -> list[rules.Verdict]:
    """End the dead runs of an embedded SQLite database now; return what was done.

    Args:
        con: A connection in autocommit mode (``isolation_level=None``).
        now: The time to judge heartbeats by (aware); the injected clock's when None.
    """
    from headwater._private.settings import get_current_settings

    when = now if now is not None else get_clock().now()
    # A read first: the write lock is taken only when there is something to end.
    if not liveness_sqlite.run(con, rules.any_dead(when, host=local_host(),
                                                   process_check=process_alive), write=False):
        return []
    attempts = get_current_settings().lazarus.max_attempts
    ended: list[rules.Verdict] = liveness_sqlite.run(
        con, rules.sweep(when, host=local_host(), process_check=process_alive,
                         lazarus_max_attempts=attempts))
    for verdict in ended:
        _logger.warning("Flow run %s: %s", verdict.flow_run_id, verdict.message)
    return ended


def sweep_once(con: sqlite3.Connection, key: str) -> None:
    """:func:`sweep` the database ``key`` names, the first time this process opens it.

    Failures are logged, never raised: the check must not stop a run from starting.
    """
    with _lock:
        if key in _swept:
            return
        _swept.add(key)
    try:
        sweep(con)
    except sqlite3.Error as exc:
        _logger.debug("The zombie check of %s failed: %r", key, exc)
