"""``/run_locks/``: the version lock's compare-and-set (a run whose lock is on starts once)."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater._private.storage import run_locks as rules
from headwater.server.api.dependencies import DB
from headwater.server.schemas.actions import ActionModel
from headwater.server.services import run_locks
from headwater.server.services.flows_and_runs import now

__all__ = ["RunLockAnswer", "RunLockClaim", "router"]

router = APIRouter(prefix="/run_locks", tags=["Flow runs"])


class RunLockClaim(ActionModel):
    """A process asks to start a run whose version lock is on."""

    run_id: uuid.UUID
    kind: Literal["flow_run", "task_run"]
    host: str = Field(min_length=1, max_length=255)
    pid: int = Field(ge=0, le=2**31 - 1)
    process_start: str | None = Field(default=None, max_length=200)


class RunLockAnswer(ActionModel):
    """Whether the claim won; if not, the run's state and who holds it."""

    claimed: bool
    state_type: str | None = None
    state_name: str | None = None
    host: str | None = None
    pid: int | None = None
    process_start: str | None = None


@router.post("/")
async def claim_run_lock(body: RunLockClaim, db: DB) -> RunLockAnswer:
    """Take a run's version lock: refused (``claimed`` false) when the run is Running,
    Cancelling or final, or when another process took it first."""
    holder = rules.Holder(body.host, body.pid, body.process_start)
    stamp = now()

    async def work(conn: AsyncConnection) -> rules.Claim:
        return await run_locks.claim(conn, body.kind, body.run_id, holder, stamp)

    found = await db.write(work)
    held = found.holder
    return RunLockAnswer(claimed=found.claimed, state_type=found.state_type,
                         state_name=found.state_name,
                         host=held.host if held else None, pid=held.pid if held else None,
                         process_start=held.process_start if held else None)
