"""Prefect 2's ``prefect.concurrency.asyncio``: async ``concurrency`` and ``rate_limit``."""

from headwater._private.concurrency.api import concurrency
from headwater._private.concurrency.api import rate_limit_async as rate_limit

__all__ = ["concurrency", "rate_limit"]
