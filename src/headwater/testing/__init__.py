"""Helpers for testing code that uses headwater: a fake clock and a test harness.

Example:
    >>> from headwater.testing import FakeClock, use_clock
    >>> clock = FakeClock()
    >>> with use_clock(clock):
    ...     my_flow_with_retries()
    >>> clock.sleeps          # the retry delays, without having waited
    [10.0, 20.0]
"""

from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta, timezone

from headwater._private.clock import Clock, get_clock, use_clock

__all__ = ["Clock", "FakeClock", "get_clock", "use_clock"]


class FakeClock(Clock):
    """A clock whose sleeps return at once and advance its time instead.

    Its wall time (`now`) starts at ``wall`` (default 2024-01-01 00:00 UTC)
    and moves with its monotonic time, so sleeping or `advance` moves both.

    Attributes:
        sleeps: Every sleep asked for, in seconds, in order.
    """

    def __init__(
        self, start: float = 0.0, seed: int = 0, *, wall: datetime | None = None
    ) -> None:
        if wall is not None and wall.tzinfo is None:
            raise ValueError("FakeClock(wall=...) needs a timezone-aware datetime, "
                             "e.g. datetime(2024, 1, 1, tzinfo=timezone.utc)")
        self._now = start
        self._start = start
        self._wall = wall if wall is not None else datetime(2024, 1, 1, tzinfo=timezone.utc)
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        """Return the fake wall time, in UTC."""
        elapsed = timedelta(seconds=self._now - self._start)
        return (self._wall + elapsed).astimezone(timezone.utc)

    def advance(self, seconds: float) -> None:
        """Move the fake time forward by ``seconds`` without recording a sleep."""
        if seconds < 0:
            raise ValueError(f"FakeClock.advance({seconds}): time only moves forward")
        with self._lock:
            self._now += seconds

    def monotonic(self) -> float:
        """Return the fake time."""
        return self._now

    def sleep(self, seconds: float) -> None:
        """Record the sleep and advance the fake time; return at once."""
        with self._lock:
            self.sleeps.append(float(seconds))
            self._now += max(0.0, seconds)

    async def sleep_async(self, seconds: float) -> None:
        """Async twin of `sleep`."""
        self.sleep(seconds)

    def random(self) -> float:
        """Return a deterministic pseudo-random float in [0, 1)."""
        return self._random.random()
