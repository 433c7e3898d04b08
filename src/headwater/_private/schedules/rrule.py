"""`RRuleSchedule`: iCalendar recurrence rules (RFC 5545) through dateutil."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator, model_validator

from headwater._private.schedules.base import Schedule
from headwater._private.schedules.zones import localize, validate_timezone, zone_name

if TYPE_CHECKING:
    from dateutil.rrule import rrule as RRule
    from dateutil.rrule import rruleset as RRuleSet

# About a year of RDATEs and some room, as Prefect 2 allows.
MAX_RRULE_LENGTH = 6500
# The DTSTART a rule without one counts from (as Prefect 2): midnight, so a
# daily rule with BYHOUR=9 fires at 09:00:00.
DEFAULT_DTSTART = datetime(2020, 1, 1)
_TZID = re.compile(r"DTSTART;TZID=([^:;]+):", re.IGNORECASE)
_ANY_TZID = re.compile(r";TZID=[^:;]+", re.IGNORECASE)
# Length of one period of dateutil's WEEKLY, DAILY, HOURLY, MINUTELY and
# SECONDLY frequencies (2..6), on the naive wall clock.
_PERIODS = {2: timedelta(weeks=1), 3: timedelta(days=1), 4: timedelta(hours=1),
            5: timedelta(minutes=1), 6: timedelta(seconds=1)}


def parse_rrule(text: str) -> RRule | RRuleSet:
    """Parse ``text`` with dateutil as naive wall-clock times (time zones ignored).

    ``ignoretz`` drops ``Z`` suffixes but not ``TZID`` parameters, which are
    removed first: every time is read in the schedule's timezone.
    """
    from dateutil.rrule import rrulestr  # imported when a schedule needs it

    parsed: RRule | RRuleSet = rrulestr(
        _ANY_TZID.sub("", text), dtstart=DEFAULT_DTSTART, cache=True, ignoretz=True)
    return parsed


def validate_rrule(text: str) -> str:
    """Return ``text`` if dateutil reads it as a rule, else raise a message with the fix."""
    if len(text) > MAX_RRULE_LENGTH:
        raise ValueError(
            f'Invalid RRule string "{text[:40]}...": at most {MAX_RRULE_LENGTH} characters, '
            f"got {len(text)}; split it into several schedules"
        )
    try:
        parse_rrule(text)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f'Invalid RRule string "{text}": {exc} (write it as RFC 5545 says, for example '
            '"FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=9" or "DTSTART:20240101T090000\\nRRULE:FREQ=DAILY")'
        ) from None
    return text


class RRuleSchedule(Schedule):
    """Fires at the dates of an iCalendar recurrence rule, in ``timezone``'s wall clock.

    The rule's times (its DTSTART, BYHOUR...) are wall-clock times in
    ``timezone``, so a daily 09:00 rule stays at 09:00 across DST changes.
    Without a DTSTART the rule counts from 2020-01-01 00:00. ``RRULE``,
    ``EXRULE``, ``RDATE`` and ``EXDATE`` lines may be combined.

    Args:
        rrule: The rule, e.g. ``"FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=9"`` or
            ``"DTSTART:20240101T090000\\nRRULE:FREQ=DAILY;COUNT=10"``.
        timezone: An IANA time zone name. Default: the ``TZID`` of the rule's
            ``DTSTART`` when it has one, else UTC.

    Example:
        >>> from datetime import datetime
        >>> from headwater.schedules import RRuleSchedule
        >>> s = RRuleSchedule(rrule="FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=9",
        ...                   timezone="Europe/London")
        >>> [d.isoformat() for d in s.get_dates(2, start=datetime(2024, 3, 28))]
        ['2024-04-01T09:00:00+01:00', '2024-04-03T09:00:00+01:00']
    """

    rrule: str
    timezone: str | None = Field(default="UTC", examples=["America/New_York"])

    @model_validator(mode="before")
    @classmethod
    def _timezone_from_tzid(cls, data: Any) -> Any:
        # Prefect 2 ignores a DTSTART;TZID=... and fires in UTC unless told
        # otherwise; the TZID is what the rule's author meant.
        if isinstance(data, dict) and "timezone" not in data:
            match = _TZID.search(str(data.get("rrule", "")))
            if match:
                return {**data, "timezone": match.group(1)}
        return data

    @field_validator("rrule")
    @classmethod
    def _valid_rrule(cls, value: str) -> str:
        return validate_rrule(value)

    @field_validator("timezone")
    @classmethod
    def _valid_timezone(cls, value: str | None) -> str:
        return validate_timezone(value) or "UTC"

    @classmethod
    def from_rrule(cls, rule: RRule) -> RRuleSchedule:
        """Build a schedule from a dateutil ``rrule``; its DTSTART's zone is the timezone.

        Raises:
            ValueError: ``rule`` is not a dateutil ``rrule`` (for a rule set,
                pass its text to ``RRuleSchedule(rrule=...)``).
        """
        from dateutil.rrule import rrule as rrule_type

        if not isinstance(rule, rrule_type):
            raise ValueError(
                f"RRuleSchedule.from_rrule takes a dateutil.rrule.rrule, got "
                f"{type(rule).__name__}: for a rule set pass its text, "
                'RRuleSchedule(rrule="DTSTART:...\\nRRULE:...\\nEXDATE:...")'
            )
        start: datetime | None = getattr(rule, "_dtstart", None)
        name = zone_name(start) if start is not None else None
        return cls(rrule=str(rule), timezone=name or "UTC")

    def _candidates(self, start: datetime) -> Iterator[datetime]:
        tz = self._tz()
        rule = parse_rrule(self.rrule)
        # The rule runs on naive wall-clock times, each then placed in the
        # zone by the one DST rule (see zones.py). Starting from the start's
        # wall time may yield a time just before it in a repeated hour; the
        # caller drops those.
        wall_start = start.astimezone(tz).replace(tzinfo=None, fold=0)
        rule = _skip_ahead(rule, wall_start)
        for wall in rule.xafter(wall_start, count=None, inc=True):
            yield localize(wall, tz)


def _skip_ahead(rule: RRule | RRuleSet, wall_start: datetime) -> RRule | RRuleSet:
    """Return ``rule`` with its DTSTART moved by whole periods to just before ``wall_start``.

    dateutil walks every occurrence from DTSTART on: an hourly rule counted
    from 2020 would take tens of thousands of steps to reach today. Moving
    DTSTART by a whole number of ``INTERVAL`` periods keeps every later
    occurrence (the BY* defaults taken from DTSTART, its time of day or
    weekday, stay the same). Rules with COUNT count from their first
    occurrence, and sets combine several rules: both are left as they are.
    """
    from dateutil.rrule import rrule as rrule_type

    if not isinstance(rule, rrule_type) or getattr(rule, "_count", None) is not None:
        return rule
    period = _PERIODS.get(getattr(rule, "_freq", -1))
    dtstart = getattr(rule, "_dtstart", None)
    interval = getattr(rule, "_interval", 1)
    if period is None or not isinstance(dtstart, datetime) or not isinstance(interval, int):
        return rule
    step = period * interval
    periods = (wall_start - dtstart) // step - 1  # one period of margin
    if periods <= 0:
        return rule
    try:
        moved: RRule = rule.replace(dtstart=dtstart + step * periods)
    except ValueError:  # dateutil refused the moved rule: walk from the original
        return rule
    return moved
