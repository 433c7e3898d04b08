"""`IntervalSchedule`: every ``interval`` from an anchor date."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field, field_serializer, field_validator, model_validator

from headwater._private.clock import get_clock
from headwater._private.schedules.base import Schedule
from headwater._private.schedules.zones import (
    UTC,
    as_aware,
    localize,
    validate_timezone,
    zone,
    zone_name,
)


class IntervalSchedule(Schedule):
    """Fires every ``interval``, counted from ``anchor_date`` (both ways).

    Intervals shorter than a day are elapsed time: an hourly schedule fires
    every hour of real time, so across a fall-back change two runs both show
    01:xx local time, an hour apart. Intervals of whole days keep the anchor's
    local wall-clock time in ``timezone``: a daily 09:00 schedule fires at
    09:00 before and after a DST change. Longer mixed intervals (1 day 12
    hours) add the days on the wall clock and the rest as elapsed time.

    Args:
        interval: A positive timedelta, or a number of seconds.
        anchor_date: The date the intervals are counted from. Default: now,
            from the clock in force. A naive datetime is wall-clock time in
            ``timezone`` (UTC if none).
        timezone: An IANA time zone name for DST handling. Default: the
            anchor date's zone if it has a name, else UTC.

    Example:
        >>> from datetime import datetime, timedelta
        >>> from headwater.schedules import IntervalSchedule
        >>> s = IntervalSchedule(interval=timedelta(days=1),
        ...                      anchor_date=datetime(2024, 3, 8, 9),
        ...                      timezone="America/New_York")
        >>> [d.isoformat() for d in s.get_dates(3, start=s.anchor_date)]
        ['2024-03-08T09:00:00-05:00', '2024-03-09T09:00:00-05:00', '2024-03-10T09:00:00-04:00']
    """

    interval: timedelta
    anchor_date: datetime | None = Field(default=None, validate_default=True)
    timezone: str | None = Field(default=None, examples=["America/New_York"])

    @field_validator("interval", mode="after")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError(
                f"interval must be more than 0 (got {value.total_seconds():g} seconds): "
                "pass a positive timedelta or number of seconds, e.g. timedelta(hours=1) or 3600"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _valid_timezone(cls, value: str | None) -> str | None:
        return validate_timezone(value)

    @model_validator(mode="before")
    @classmethod
    def _anchor_and_zone(cls, data: Any) -> Any:
        # Done before field validation because each default depends on the
        # other: a naive anchor is read in the timezone, a missing timezone
        # comes from the anchor.
        if not isinstance(data, dict):
            return data
        data = dict(data)
        name = data.get("timezone")
        anchor = data.get("anchor_date")
        if anchor is None:
            data["anchor_date"] = get_clock().now()
        elif isinstance(anchor, datetime) and (name is None or isinstance(name, str)):
            try:
                tz = zone(name)
            except ValueError:
                return data  # the timezone validator reports it
            data["anchor_date"] = as_aware(anchor, tz)
        return data

    @model_validator(mode="after")
    def _infer_timezone(self) -> IntervalSchedule:
        if self.anchor_date is None:  # assigned None after construction
            self.anchor_date = get_clock().now()
        if self.anchor_date.tzinfo is None:
            # A naive anchor given as a string: wall-clock time in the timezone.
            self.anchor_date = as_aware(self.anchor_date, zone(self.timezone))
        if self.timezone is None:
            self.timezone = zone_name(self.anchor_date) or "UTC"
        return self

    @field_serializer("interval", when_used="json")
    def _interval_seconds(self, value: timedelta) -> float:
        return value.total_seconds()

    @field_serializer("anchor_date", when_used="json")
    def _anchor_iso(self, value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    def _candidates(self, start: datetime) -> Iterator[datetime]:
        tz = self._tz()
        anchor = (self.anchor_date or get_clock().now()).astimezone(tz)
        step = _elapsed(anchor, self.interval) if self.interval.days == 0 else _calendar(
            anchor, self.interval)
        # Start from the elapsed-time estimate, then correct it: the calendar
        # steps drift from elapsed time by the DST offsets in between.
        k = -((anchor - start) // self.interval)
        try:
            while step(k - 1) >= start:
                k -= 1
            while step(k) < start:
                k += 1
            while True:
                yield step(k).astimezone(tz)
                k += 1
        except OverflowError:
            return  # past year 9999


def _elapsed(anchor: datetime, interval: timedelta) -> Callable[[int], datetime]:
    origin = anchor.astimezone(UTC)

    def step(k: int) -> datetime:
        return origin + interval * k

    return step


def _calendar(anchor: datetime, interval: timedelta) -> Callable[[int], datetime]:
    # Whole days on the anchor's wall clock (09:00 stays 09:00 across DST),
    # the rest of the interval as elapsed time.
    days = timedelta(days=interval.days)
    rest = interval - days
    wall = anchor.replace(tzinfo=None)
    tz = anchor.tzinfo
    assert tz is not None

    def step(k: int) -> datetime:
        day = anchor if k == 0 else localize(wall + days * k, tz)
        return day.astimezone(UTC) + rest * k

    return step
