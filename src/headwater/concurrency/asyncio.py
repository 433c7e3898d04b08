"""Prefect 2's ``prefect.concurrency.asyncio``: async ``concurrency``, ``rate_limit``, errors."""

from headwater._private.concurrency.api import concurrency
from headwater._private.concurrency.api import rate_limit_async as rate_limit
from headwater.exceptions import (
    AcquireConcurrencySlotTimeoutError,
    ConcurrencySlotAcquisitionError,
)

__all__ = [
    "AcquireConcurrencySlotTimeoutError",
    "ConcurrencySlotAcquisitionError",
    "concurrency",
    "rate_limit",
]
