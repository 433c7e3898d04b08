"""`CronSchedule`: cron expressions, read as wall-clock time in a timezone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field, field_validator

from headwater._private.schedules.base import Schedule
from headwater._private.schedules.zones import localize, validate_timezone

_FIELDS_HINT = (
    "five fields: minute hour day-of-month month day-of-week, "
    'for example "0 9 * * MON-FRI" (09:00 on weekdays)'
)


def validate_cron(expression: str) -> str:
    """Return ``expression`` if croniter can read it, else raise a message with the fix.

    Hashed and random fields (``H``, ``R``) are refused, as in Prefect 2:
    they would make the schedule differ between processes.
    """
    from croniter import croniter  # imported when a schedule is validated, not on import

    fields = expression.split()
    if any(_is_hashed_or_random(field) for field in fields):
        raise ValueError(
            f'Random and hashed cron fields (H, R) are not supported, got "{expression}": '
            f"use explicit values, {_FIELDS_HINT}"
        )
    if not croniter.is_valid(expression):
        raise ValueError(f'Invalid cron string "{expression}": {_what_is_wrong(fields)}')
    return expression


_FIELD_NAMES = (
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day-of-month", "1-31"),
    ("month", "1-12 or JAN-DEC"),
    ("day-of-week", "0-6 or SUN-SAT"),
)


def _what_is_wrong(fields: list[str]) -> str:
    """Say which part of an expression croniter refused: the field count, or one field."""
    from croniter import croniter

    if len(fields) == 1 and fields[0].startswith("@"):
        return (f"unknown macro {fields[0]}; use @yearly, @monthly, @weekly, @daily or "
                f"@hourly, or {_FIELDS_HINT}")
    if len(fields) != len(_FIELD_NAMES):
        return f"it has {len(fields)} field(s), expected {_FIELDS_HINT}"
    for index, (name, allowed) in enumerate(_FIELD_NAMES):
        probe = ["*"] * len(_FIELD_NAMES)
        probe[index] = fields[index]
        if not croniter.is_valid(" ".join(probe)):
            return (f'the {name} field "{fields[index]}" is not valid (allowed: {allowed}, '
                    f"with lists a,b, ranges a-b and steps */n); expected {_FIELDS_HINT}")
    return f"expected {_FIELDS_HINT}"


def _is_hashed_or_random(field: str) -> bool:
    folded = field.casefold()
    return folded in ("h", "r") or folded.startswith(("h(", "r("))


class CronSchedule(Schedule):
    """Fires at the times a cron expression matches, in ``timezone``'s wall clock.

    Cron fields are wall-clock time: ``0 9 * * *`` fires at 09:00 local time
    every day, before and after a DST change. A time skipped by a
    spring-forward change fires when the gap ends plus its offset into the
    gap (``30 2 * * *`` fires at 03:30 that night); a time repeated by a
    fall-back change fires once, at its first occurrence. An hourly schedule
    therefore waits two hours across the fall-back change, as cron does.

    Args:
        cron: A cron expression (five fields; ranges, steps, lists and names
            such as ``MON-FRI``, ``JAN`` and macros such as ``@daily`` work).
        timezone: An IANA time zone name; None: UTC.
        day_or: When both day-of-month and day-of-week are restricted, fire
            when either matches (True, as cron) or only when both match
            (False: ``0 9 8-14 * FRI`` is the second Friday of each month).

    Example:
        >>> from datetime import datetime
        >>> from headwater.schedules import CronSchedule
        >>> s = CronSchedule(cron="0 9 * * MON-FRI", timezone="America/New_York")
        >>> [d.isoformat() for d in s.get_dates(2, start=datetime(2024, 3, 8))]
        ['2024-03-08T09:00:00-05:00', '2024-03-11T09:00:00-04:00']
    """

    cron: str = Field(examples=["0 0 * * *"])
    timezone: str | None = Field(default=None, examples=["America/New_York"])
    day_or: bool = Field(
        default=True,
        description="Day-of-month and day-of-week both restricted: fire when either "
        "matches (True, as cron) or only when both do (False).",
    )

    @field_validator("timezone")
    @classmethod
    def _valid_timezone(cls, value: str | None) -> str | None:
        return validate_timezone(value)

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        return validate_cron(value)

    def _candidates(self, start: datetime) -> Iterator[datetime]:
        from croniter import CroniterBadDateError, croniter

        tz = self._tz()
        local = start.astimezone(tz)
        # croniter steps through naive wall-clock times, strictly after its
        # base; a base one second early (or the start's own second when it
        # has microseconds, which croniter drops) lets a match at ``start``
        # itself count.
        base = local.replace(tzinfo=None, fold=0)
        base = base.replace(microsecond=0) if base.microsecond else base - timedelta(seconds=1)
        walker: Any = croniter(self.cron, base, day_or=self.day_or)
        while True:
            try:
                wall: datetime = walker.get_next(datetime)
            except (CroniterBadDateError, OverflowError):
                return  # no further match (e.g. "0 0 30 2 *"), or past year 9999
            yield localize(wall, tz)
