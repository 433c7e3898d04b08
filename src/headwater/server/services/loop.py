"""The server's services: periodic work the server does on its own (``headwater server start``).

Today one service, the zombie check (:func:`zombie_sweep`): every
``interval`` seconds (the flow runs' heartbeat interval), runs whose
process died are ended (:mod:`.liveness`). It also runs once whenever the
database is opened (:func:`sweep_on_start`), which is how the in-process
app of embedded mode (the CLI) sweeps: it has no lifespan, so no loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncConnection

if TYPE_CHECKING:
    from headwater._private.storage.liveness_rules import Verdict
    from headwater.server.database.engine import Database

__all__ = ["run_services", "sweep_on_start", "zombie_sweep"]

logger = logging.getLogger("headwater.server.services")


async def zombie_sweep(database: Database, now: dt.datetime | None = None,
                       lazarus_max_attempts: int | None = None) -> list[Verdict]:
    """One zombie check over the whole database; returns what it ended.

    Args:
        database: The database.
        now: The time to judge heartbeats by; the injected clock's when None.
        lazarus_max_attempts: Reschedules of a crashed deployment run at most;
            ``HEADWATER_LAZARUS_MAX_ATTEMPTS`` when None.
    """
    from headwater._private.clock import get_clock
    from headwater.server.services import liveness

    when = now if now is not None else get_clock().now()
    if lazarus_max_attempts is None:
        from headwater.settings import get_current_settings

        lazarus_max_attempts = get_current_settings().lazarus.max_attempts
    attempts = lazarus_max_attempts
    async with database.read() as conn:  # the write lock only when there is something to end
        if not await liveness.any_dead(conn, when):
            return []

    async def work(conn: AsyncConnection) -> list[Verdict]:
        return await liveness.sweep(conn, when, lazarus_max_attempts=attempts)

    ended = await database.write(work)
    for verdict in ended:
        logger.warning("Flow run %s: %s", verdict.flow_run_id, verdict.message)
    return ended


async def sweep_on_start(database: Database) -> None:
    """The zombie check when a database is opened."""
    await zombie_sweep(database)


async def run_services(database: Database, interval: float) -> None:
    """Run the services every ``interval`` seconds until cancelled; errors are logged."""
    while True:
        await asyncio.sleep(interval)
        try:
            await zombie_sweep(database)
        except Exception as exc:  # the next round tries again
            logger.error("The zombie check failed: %r", exc, exc_info=exc)
