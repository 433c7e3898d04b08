"""The spool: run records kept on disk while they could not be stored, and shipping them.

While the API is unreachable (or refuses this process's key), the recorder
writes each batch it could not store to ``HEADWATER_HOME/spool`` as one JSON
file in the API's shape, named so that names sort in the order written.
Batches are shipped in that order by the next recorder on the same home, by
``headwater records flush``, and when ``headwater server start`` opens the
local database.

A batch the API refuses for itself (a 4xx that is not an outage or a
refused key: sending it again cannot help) is stored record by record as
the recorder stores a refused batch (``isolation.store_isolating``): what
the store accepts is stored, and each run's records it still refuses are
moved to ``spool/rejected``, alone, with a ``.reason`` file beside them. So
one bad record never holds up the others, nor the batches behind it, and
the spool never grows forever behind it.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

__all__ = ["REJECTED", "SpoolReport", "count_records", "entry_name", "is_refusal",
           "report_left_at_exit", "ship_spool", "spooled_files"]

_log = logging.getLogger("headwater.recording")

REJECTED = "rejected"
"""The folder, inside the spool, of batches the API refused for themselves."""


class _Sender(Protocol):
    async def send(self, batch: dict[str, Any]) -> None: ...


@dataclass
class SpoolReport:
    """What one shipping of the spool did."""

    shipped_files: int = 0
    shipped_records: int = 0
    rejected: list[tuple[Path, str]] = field(default_factory=list)
    unreadable: list[Path] = field(default_factory=list)
    error: BaseException | None = None  # an outage: shipping stopped here, to try again later
    left: int = 0  # files still waiting after this shipping


def spooled_files(spool_dir: Path) -> list[Path]:
    """The batches waiting in ``spool_dir``, oldest first (none when it does not exist)."""
    if not spool_dir.is_dir():
        return []
    return sorted(spool_dir.glob("*.json"))


def count_records(batch: dict[str, Any]) -> int:
    """How many records a batch in the API's shape holds (row lists and column tables alike)."""
    total = 0
    for value in batch.values():
        if isinstance(value, list):
            total += len(value)
        elif isinstance(value, dict) and value:
            total += len(next(iter(value.values())))
    return total


# The answers that blame the batch itself: malformed (400), in conflict with
# stored data (409), too large (413), refused for its content (422, and the
# local database's RecordsRefusedError). Any other answer (no answer, 5xx, a
# refused key, 404 or 421 from a server that is not the one meant) is not
# the batch's fault: it is kept and sent again.
_REFUSALS = frozenset({400, 409, 413, 422})


def is_refusal(exc: BaseException) -> bool:
    """Whether the store refused the batch for what it holds (sending it again cannot help)."""
    return getattr(exc, "status_code", None) in _REFUSALS


def entry_name() -> str:
    """A new spool file's stem: UTC time first, so names sort in the order written."""
    return f"{_dt.datetime.now(_dt.timezone.utc):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"


async def _store_isolating(path: Path, batch: dict[str, Any],
                           transport: _Sender) -> list[tuple[Path, str]]:
    """Store a refused spooled batch unit by unit; set aside, alone, each unit still refused.

    The first unit set aside keeps the batch's file name, the others add
    ``-1``, ``-2``... Raises on an outage (the batch stays in the spool:
    what was stored is skipped by id when it is shipped again).
    """
    from headwater._private.files import write_atomic
    from headwater._private.recording.isolation import store_isolating

    refused: list[tuple[dict[str, Any], str]] = []
    await store_isolating(transport.send, batch, is_permanent=is_refusal,
                          set_aside=lambda unit, exc: refused.append(
                              (unit, f"{type(exc).__name__}: {exc}")))
    folder = path.parent / REJECTED
    folder.mkdir(exist_ok=True)
    out = []
    for n, (unit, reason) in enumerate(refused):
        target = folder / (path.name if n == 0 else f"{path.stem}-{n}{path.suffix}")
        write_atomic(target, json.dumps(unit))
        write_atomic(target.with_suffix(".reason"), reason + "\n")
        out.append((target, reason))
    return out


async def ship_spool(spool_dir: Path, transport: _Sender,
                     progress: Callable[[Path, int], Awaitable[None] | None] | None = None,
                     ) -> SpoolReport:
    """Send the spooled batches in order; stop at the first outage.

    Args:
        spool_dir: The spool folder.
        transport: Sends one API-shaped batch; raises on failure.
        progress: Called with each file shipped and its record count.

    Returns:
        What was shipped, rejected (moved to ``spool/rejected`` with its
        reason) or skipped as unreadable, and the outage that stopped the
        shipping, if any.
    """
    report = SpoolReport()
    files = spooled_files(spool_dir)
    for index, path in enumerate(files):
        try:
            batch = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:  # shipped meanwhile by another process
            continue
        except (OSError, ValueError):
            report.unreadable.append(path)
            continue
        try:
            await transport.send(batch)
        except Exception as exc:
            try:
                if not is_refusal(exc):
                    raise
                set_aside = await _store_isolating(path, batch, transport)
            except Exception as outage:
                report.error = outage
                report.left = len(files) - index
                return report
            if set_aside:
                report.rejected += set_aside
                _log.error("The headwater API refused records of a spooled batch (%s); they "
                           "were moved to %s, the batch's other records were stored.",
                           set_aside[0][1], spool_dir / REJECTED)
                path.unlink(missing_ok=True)
                continue
        path.unlink(missing_ok=True)
        report.shipped_files += 1
        records = count_records(batch)
        report.shipped_records += records
        if progress is not None:
            waited = progress(path, records)
            if waited is not None:
                await waited
    return report


def report_left_at_exit(spool_dir: Path | None, spilled: int, unsaved: int) -> None:
    """Say, as the process exits, what it leaves in the spool (or loses): once, with what next.

    Args:
        spool_dir: The spool (None: records could only be kept in memory).
        spilled: Records this process wrote to the spool.
        unsaved: Records still in memory, not stored (lost at exit).
    """
    waiting = spooled_files(spool_dir) if spool_dir is not None else []
    if waiting and spilled:
        home = spool_dir.parent if spool_dir is not None else "?"
        _log.warning(
            "%d run record(s) of this process could not be stored and are kept in %s "
            "(%d batch file(s) wait there). The next run on HEADWATER_HOME=%s ships them "
            "first; 'headwater records flush' ships them now.", spilled, spool_dir,
            len(waiting), home)
    if unsaved:
        _log.warning("%d run record(s) could not be stored and are lost at exit (no spool "
                     "folder to keep them in).", unsaved)
