"""Prefect 2's ``prefect.concurrency.sync``: blocking ``concurrency`` and ``rate_limit``."""

from headwater._private.concurrency.api import concurrency, rate_limit

__all__ = ["concurrency", "rate_limit"]
