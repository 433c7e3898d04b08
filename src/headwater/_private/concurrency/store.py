"""Limits kept in ``HEADWATER_HOME/concurrency_limits.json`` between processes.

A stopgap until the API stores limits: the CLI writes the file, and the
in-process `SlotManager` loads it once, on first use. Only limits live
here; slots are held in memory by the process that took them.

Format::

    {"version": 1, "limits": {"tag:db": {"limit": 2, "slot_decay_per_second": 0.0}}}
"""

from __future__ import annotations

import json
from pathlib import Path

from headwater._private.files import write_atomic
from headwater.exceptions import SettingsError

FILE_NAME = "concurrency_limits.json"

Limits = dict[str, tuple[int, float]]
"""Limit name -> (limit, slot_decay_per_second)."""


def limits_path() -> Path:
    """Return the limits file of the current ``HEADWATER_HOME``."""
    from headwater._private.settings import get_current_settings

    return get_current_settings().home / FILE_NAME


def load_limits(path: Path) -> Limits:
    """Read the limits file; a missing file has no limits.

    Raises:
        SettingsError: The file is not valid JSON of the expected shape.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        raw = json.loads(text)
        return {
            str(name): (int(entry["limit"]), float(entry.get("slot_decay_per_second", 0.0)))
            for name, entry in raw["limits"].items()
        }
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise SettingsError(
            f"{path} is not a valid concurrency limits file ({type(exc).__name__}: {exc}); "
            "fix or delete it.") from exc


def save_limits(path: Path, limits: Limits) -> None:
    """Write the limits file atomically (a reader never sees half a file)."""
    payload = {
        "version": 1,
        "limits": {
            name: {"limit": limit, "slot_decay_per_second": decay}
            for name, (limit, decay) in sorted(limits.items())
        },
    }
    write_atomic(path, json.dumps(payload, indent=2) + "\n")


def read_sqlite_limits(path: Path) -> dict[str, tuple[int, float]]:
    """The limits stored in the embedded database: ``{name: (limit, slot decay per second)}``.

    Tag limits are named ``tag:<tag>`` (as the API names them). Read with
    the API's own statement (``lease_sqlite``), in a read transaction that
    never waits for writers. A missing file or a database without the
    tables has no limits; nothing is created.
    """
    import datetime as dt
    import sqlite3

    from headwater._private.storage import lease_rules, lease_sqlite

    if not path.exists():
        return {}
    con = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        found = lease_sqlite.run(con, lease_rules.limit_status(
            None, dt.datetime.now(dt.timezone.utc), usage=False), write=False)
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return {}
        raise
    finally:
        con.close()
    return {u.name: (u.limit, u.slot_decay_per_second) for u in found}
