"""Futures: handles on submitted task runs, and functions that wait on many."""

from headwater._private.futures import (
    DoneAndNotDoneFutures,
    HeadwaterFuture,
    HeadwaterFutureList,
    as_completed,
    as_completed_async,
    wait,
    wait_async,
)

__all__ = [
    "DoneAndNotDoneFutures",
    "HeadwaterFuture",
    "HeadwaterFutureList",
    "as_completed",
    "as_completed_async",
    "wait",
    "wait_async",
]
