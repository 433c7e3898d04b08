"""Slots given back after an outage, and one warning per outage.

While the API (or the SQLite file) does not answer, a lease this process
released is still held there: without a retry, every other process (and
this one) waits for it to expire (``HEADWATER_CONCURRENCY_LEASE_DURATION``,
30 s by default), and each failed call logged a warning of its own. The
`Reconciler` keeps the leases whose release failed and gives them back as
soon as any call to the API succeeds again, or on a backoff of its own; it
logs one warning when an outage starts and one line when it is over.

It lives on the background loop, with the backend that owns it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

__all__ = ["Reconciler"]

_logger = logging.getLogger("headwater.concurrency")

FIRST_RETRY = 0.05
LAST_RETRY = 2.0


class Reconciler:
    """Retries failed releases and tells outages once.

    Args:
        decrement: Gives a lease back (raises on failure).
        start: Starts a task of the owning backend (so closing it cancels the task).
        released: Called after a lease was given back (wakes this process's waiters).
    """

    def __init__(self, decrement: Callable[[uuid.UUID], Awaitable[None]],
                 start: Callable[[Coroutine[Any, Any, None]], asyncio.Task[None]],
                 released: Callable[[], None]) -> None:
        self._decrement = decrement
        self._start = start
        self._released = released
        self.unreleased: set[uuid.UUID] = set()
        self._task: asyncio.Task[None] | None = None
        self._answered: asyncio.Event | None = None
        self.in_outage = False
        self.outages = 0

    def failed(self, what: str, exc: BaseException) -> None:
        """A call to the API failed: warn once per outage."""
        if self.in_outage:
            _logger.debug("Could not %s: %s", what, exc)
            return
        self.in_outage = True
        self.outages += 1
        _logger.warning("Could not %s (%s); concurrency calls are retried until the API "
                        "answers, and slots released meanwhile are given back then.", what, exc)

    def answered(self) -> None:
        """A call to the API succeeded: the outage, if any, is over; give slots back now."""
        if self._answered is not None:
            self._answered.set()
        if self.in_outage and not self.unreleased:
            self.in_outage = False
            _logger.info("The API answers concurrency calls again.")

    def release_failed(self, lease_id: uuid.UUID, exc: BaseException) -> None:
        """Keep ``lease_id`` to give back later (on the loop)."""
        self.unreleased.add(lease_id)
        self.failed("give back concurrency slots", exc)
        if self._task is None or self._task.done():
            self._task = self._start(self._retry())

    async def _retry(self) -> None:
        if self._answered is None:
            self._answered = asyncio.Event()
        delay = FIRST_RETRY
        while self.unreleased:
            try:
                await asyncio.wait_for(self._answered.wait(), delay)
            except asyncio.TimeoutError:
                pass
            self._answered.clear()
            delay = FIRST_RETRY if await self._give_back() else min(delay * 2, LAST_RETRY)
        if self.in_outage:
            self.in_outage = False
            _logger.info("The API answers concurrency calls again; the slots released during "
                         "the outage were given back.")

    async def _give_back(self) -> bool:
        """Try every kept lease once; False at the first failure (still out)."""
        for lease_id in sorted(self.unreleased):
            try:
                await self._decrement(lease_id)
            except Exception as exc:
                _logger.debug("Still could not give back a concurrency lease: %s", exc)
                return False
            self.unreleased.discard(lease_id)
            self._released()
        return True
