"""Time as a dependency: the engine asks a Clock, so tests can swap in a fake one.

Retry delays and their jitter come from the clock; a test clock records the
sleeps and returns at once, so retries are tested without real sleeping.
Schedules ask it for the current wall time (`Clock.now`), so tests pin "now".
"""

from __future__ import annotations

import asyncio
import contextvars
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone


class Clock:
    """The real clock: monotonic time, blocking and async sleeps, and a random source."""

    def monotonic(self) -> float:
        """Return seconds from an arbitrary start, never going backwards."""
        return time.monotonic()

    def now(self) -> datetime:
        """Return the current wall time, timezone-aware, in UTC."""
        return datetime.now(timezone.utc)

    def sleep(self, seconds: float) -> None:
        """Block the calling thread for ``seconds``."""
        if seconds > 0:
            time.sleep(seconds)

    async def sleep_async(self, seconds: float) -> None:
        """Suspend the calling coroutine for ``seconds``."""
        if seconds > 0:
            await asyncio.sleep(seconds)

    def random(self) -> float:
        """Return a float in [0, 1), used for retry jitter."""
        return random.random()


SYSTEM_CLOCK = Clock()
_current: contextvars.ContextVar[Clock] = contextvars.ContextVar(
    "headwater_clock", default=SYSTEM_CLOCK
)


def get_clock() -> Clock:
    """Return the clock in force for the current context."""
    return _current.get()


@contextmanager
def use_clock(clock: Clock) -> Iterator[Clock]:
    """Make ``clock`` the clock for runs started inside the ``with`` block."""
    token = _current.set(clock)
    try:
        yield clock
    finally:
        _current.reset(token)
