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

from headwater._private.clock import Clock, get_clock, use_clock

__all__ = ["Clock", "FakeClock", "get_clock", "use_clock"]


class FakeClock(Clock):
    """A clock whose sleeps return at once and advance its time instead.

    Attributes:
        sleeps: Every sleep asked for, in seconds, in order.
    """

    def __init__(self, start: float = 0.0, seed: int = 0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self.sleeps: list[float] = []

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
