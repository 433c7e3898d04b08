"""Bodies and answers of global limits and slot leases (``/v2/concurrency_limits``,
``/concurrency_limits/increment``, ``/concurrency_leases``)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, Field

from headwater.server.schemas.actions import MAX_INT, ActionModel
from headwater.server.schemas.core import ORMModel

__all__ = [
    "GlobalLimit",
    "GlobalLimitCreate",
    "LeaseDecrement",
    "LeaseGrant",
    "LeaseIncrement",
    "LeaseRenew",
    "LeaseRenewed",
    "LimitStatus",
    "LimitStatusQuery",
]

#: Longest lease, in seconds (a day): a lease is meant to be renewed.
MAX_LEASE_SECONDS = 86_400.0


class GlobalLimitCreate(ActionModel):
    """Create a global limit, or change an existing one."""

    name: str = Field(min_length=1, max_length=512)
    limit: int = Field(ge=0, le=MAX_INT)
    slot_decay_per_second: float = Field(default=0.0, ge=0.0, le=1e9)


class GlobalLimit(ORMModel):
    """A global limit and how many slots are in use."""

    id: uuid.UUID
    created: dt.datetime
    updated: dt.datetime
    name: str
    limit: int
    slot_decay_per_second: float
    active_slots: int = 0
    decaying_slots: float = 0.0


class LimitStatusQuery(ActionModel):
    """Body of ``POST /concurrency_limits/status``."""

    names: list[str] | None = Field(default=None, max_length=1000)
    usage: bool = True


class LimitStatus(BaseModel):
    """One limit, tag (``tag:<tag>``) or global, with its slots in use."""

    name: str
    limit: int
    slot_decay_per_second: float = 0.0
    active_slots: int = 0
    decaying_slots: float = 0.0
    holders: list[str] = Field(default_factory=list)


class LeaseIncrement(ActionModel):
    """Take ``slots`` slots on every limited name, all at once or none."""

    names: list[str] = Field(min_length=1, max_length=100)
    slots: int = Field(default=1, ge=1, le=MAX_INT)
    lease_duration: float = Field(default=30.0, gt=0.0, le=MAX_LEASE_SECONDS)
    holder: str | None = Field(default=None, max_length=512)
    mode: Literal["concurrency", "rate_limit"] = "concurrency"


class LeaseGrant(BaseModel):
    """The answer to an increment.

    ``granted`` false: the slots are taken, try again later. Granted with no
    ``lease_id``: no name has a limit (or, for a rate limit, the slots were
    taken and decay on their own), so there is nothing to release.
    """

    granted: bool
    lease_id: uuid.UUID | None = None
    names: list[str] = Field(default_factory=list)
    expires_at: dt.datetime | None = None


class LeaseDecrement(ActionModel):
    """Release a lease."""

    lease_id: uuid.UUID


class LeaseRenew(ActionModel):
    """Push a lease's expiry ``lease_duration`` seconds from now."""

    lease_duration: float = Field(default=30.0, gt=0.0, le=MAX_LEASE_SECONDS)


class LeaseRenewed(BaseModel):
    """A renewed lease's new expiry."""

    lease_id: uuid.UUID
    expires_at: dt.datetime
