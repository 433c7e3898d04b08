"""What every schedule shares: the `get_dates` rules, once.

Each kind of schedule only says which instants it fires at, from a start on
(`Schedule._candidates`); `Schedule.get_dates` applies the rules Prefect 2's
schedules share: the default start is now (from the injected clock), naive
datetimes are wall-clock time in the schedule's timezone, ``end`` is
inclusive, ``n`` defaults to 1 (or to "all", up to 1,000, when ``end`` is
given), duplicates are dropped and at most 1,000 candidates are examined.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, tzinfo

from pydantic import BaseModel, ConfigDict

from headwater._private.clock import get_clock
from headwater._private.schedules.zones import UTC, as_aware, zone

MAX_ITERATIONS = 1000


class Schedule(BaseModel):
    """Base of the schedule models: a pydantic model that computes its dates."""

    model_config = ConfigDict(extra="forbid")

    def _zone_name(self) -> str | None:
        return getattr(self, "timezone", None)

    def _tz(self) -> tzinfo:
        return zone(self._zone_name())

    def _candidates(self, start: datetime) -> Iterator[datetime]:
        """Yield the instants the schedule fires at, from ``start`` (aware, UTC) on.

        Yielded datetimes are aware, in the schedule's zone, in increasing
        order (a duplicate may repeat the previous one, next to a DST change).
        """
        raise NotImplementedError  # pragma: no cover - every kind overrides it

    def get_dates(
        self,
        n: int | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[datetime]:
        """Return the schedule's next dates, at or after ``start``, in increasing order.

        Args:
            n: How many dates to return. Default: 1, or every date up to
                ``end`` (at most 1,000) when ``end`` is given.
            start: The first date returned is at or after this. Default: now,
                from the clock in force (`headwater.testing.FakeClock` in
                tests). A naive datetime is wall-clock time in the schedule's
                timezone.
            end: No date returned is after this (inclusive). Naive: as ``start``.

        Returns:
            Timezone-aware datetimes in the schedule's timezone (UTC when it
            has none). At most 1,000 candidate dates are examined.

        Raises:
            ValueError: ``n`` is negative.
        """
        if n is not None and n < 0:
            raise ValueError(f"get_dates(n={n}): n must be 0 or more")
        tz = self._tz()
        begin = as_aware(start, tz) if start is not None else get_clock().now()
        stop = as_aware(end, tz) if end is not None else None
        if n is None:
            n = MAX_ITERATIONS if stop is not None else 1
        return self._collect(n, begin.astimezone(UTC), stop)

    def _collect(self, n: int, begin: datetime, stop: datetime | None) -> list[datetime]:
        # Compared and deduplicated as UTC instants: two datetimes of one zone
        # compare by wall clock (fold ignored, PEP 495), so 01:30 EDT and
        # 01:30 EST would look equal.
        found: dict[datetime, datetime] = {}
        stop_utc = stop.astimezone(UTC) if stop is not None else None
        if n == 0:
            return []
        for examined, candidate in enumerate(self._candidates(begin), start=1):
            instant = candidate.astimezone(UTC)
            if stop_utc is not None and instant > stop_utc:
                break
            if instant >= begin and instant not in found:
                found[instant] = candidate
                if len(found) >= n:
                    break
            if examined > MAX_ITERATIONS:
                break
        return [found[instant] for instant in sorted(found)]
