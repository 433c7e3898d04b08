"""Retry delays: fixed, per attempt (a list), computed (a callable), plus jitter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from headwater._private.clock import Clock
from headwater.exceptions import InvalidOptionError


def exponential_backoff(backoff_factor: float) -> Callable[[int], list[float]]:
    """Return a ``retry_delay_seconds`` callable giving delays that double each retry.

    Args:
        backoff_factor: The first delay in seconds; the n-th retry waits
            ``backoff_factor * 2 ** (n - 1)``.

    Example:
        ``@task(retries=3, retry_delay_seconds=exponential_backoff(10))`` waits
        10, 20 and 40 seconds.
    """
    if backoff_factor < 0:
        raise InvalidOptionError(f"backoff_factor must be zero or more, got {backoff_factor!r}.")

    def retry_backoff_callable(retries: int) -> list[float]:
        # Cap the exponent so a large retry count cannot overflow a float.
        return [backoff_factor * 2 ** min(r, 50) for r in range(retries)]

    return retry_backoff_callable


def delay_before_retry(delays: Any, retries: int, attempt: int, jitter: float | None,
                       clock: Clock) -> float:
    """Return the seconds to wait before retry number ``attempt`` (1-based).

    Args:
        delays: The ``retry_delay_seconds`` option (number, list or callable).
        retries: The ``retries`` option (passed to a callable).
        attempt: Which retry comes next: 1 for the first.
        jitter: ``retry_jitter_factor``: spread the delay uniformly within
            ``delay * (1 +- jitter)`` so that many failing tasks do not retry
            in lockstep.
        clock: Source of randomness for the jitter.
    """
    if callable(delays):
        delays = delays(retries)
    if isinstance(delays, (list, tuple)):
        if not delays:
            return 0.0
        base = float(delays[min(attempt, len(delays)) - 1])
    else:
        base = float(delays or 0)
    if jitter and base > 0:
        base = max(0.0, base * (1.0 + jitter * (2.0 * clock.random() - 1.0)))
    return base
