"""Making schedules: from keyword arguments (`construct_schedule`) and from stored JSON."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Union

from pydantic import Discriminator, Tag

from headwater._private.schedules.cron import CronSchedule
from headwater._private.schedules.interval import IntervalSchedule
from headwater._private.schedules.rrule import RRuleSchedule

SCHEDULE_TYPES = Union[IntervalSchedule, CronSchedule, RRuleSchedule]  # noqa: UP007
"""Any schedule: `IntervalSchedule`, `CronSchedule` or `RRuleSchedule`."""



def _kind(value: Any) -> str | None:
    if isinstance(value, dict):
        keys = [key for key, _ in _KINDS if key in value]
        return keys[0] if len(keys) == 1 else None
    for key, model in _KINDS:
        if isinstance(value, model):
            return key
    return None


TAGGED_SCHEDULE = Annotated[
    Union[  # noqa: UP007
        Annotated[IntervalSchedule, Tag("interval")],
        Annotated[CronSchedule, Tag("cron")],
        Annotated[RRuleSchedule, Tag("rrule")],
    ],
    Discriminator(
        _kind,
        custom_error_type="schedule_kind",
        custom_error_message="A schedule has exactly one of the keys interval, cron, rrule",
    ),
]
"""`SCHEDULE_TYPES` for pydantic fields: JSON picks its model by key, with one clear error."""

_KINDS: tuple[tuple[str, type[IntervalSchedule | CronSchedule | RRuleSchedule]], ...] = (
    ("interval", IntervalSchedule),
    ("cron", CronSchedule),
    ("rrule", RRuleSchedule),
)


def construct_schedule(
    interval: timedelta | float | None = None,
    anchor_date: datetime | str | None = None,
    cron: str | None = None,
    rrule: str | None = None,
    timezone: str | None = None,
) -> SCHEDULE_TYPES:
    """Build one schedule from the arguments of ``flow.serve``/``to_deployment``.

    Args:
        interval: Every this long: a timedelta or a number of seconds.
        anchor_date: Where interval counting starts (interval schedules only).
        cron: A cron expression.
        rrule: An iCalendar recurrence rule.
        timezone: An IANA time zone name for the schedule.

    Returns:
        An `IntervalSchedule`, `CronSchedule` or `RRuleSchedule`.

    Raises:
        ValueError: Not exactly one of ``interval``, ``cron`` and ``rrule``,
            an ``anchor_date`` without ``interval``, a ``timezone`` alone, or a
            value the schedule refuses (pydantic's ValidationError is a ValueError).
    """
    given = [name for name, value in (("interval", interval), ("cron", cron), ("rrule", rrule))
             if value is not None]
    if len(given) > 1:
        raise ValueError(f"Only one of interval, cron, or rrule can be provided (got "
                         f"{', '.join(given)}): pass several schedules as schedules=[...]")
    if anchor_date is not None and interval is None:
        raise ValueError("An anchor date can only be provided with an interval schedule: "
                         "add interval=..., or drop anchor_date")
    if not given:
        hint = " (a timezone alone is not a schedule)" if timezone is not None else ""
        raise ValueError(f"Either interval, cron, or rrule must be provided{hint}: "
                         'e.g. interval=3600 or cron="0 9 * * *"')
    if interval is not None:
        seconds = interval if isinstance(interval, timedelta) else timedelta(seconds=interval)
        return IntervalSchedule.model_validate(
            {"interval": seconds, "anchor_date": anchor_date, "timezone": timezone})
    if cron is not None:
        return CronSchedule(cron=cron, timezone=timezone)
    assert rrule is not None
    if timezone is None:
        return RRuleSchedule(rrule=rrule)  # the DTSTART's TZID, else UTC
    return RRuleSchedule(rrule=rrule, timezone=timezone)


def schedule_to_json(schedule: SCHEDULE_TYPES) -> dict[str, Any]:
    """Return the JSON form of a schedule, as Prefect 2's REST API writes it.

    ``{"cron": ..., "timezone": ..., "day_or": ...}``,
    ``{"interval": seconds, "anchor_date": iso, "timezone": ...}`` or
    ``{"rrule": ..., "timezone": ...}``.
    """
    data: dict[str, Any] = schedule.model_dump(mode="json")
    return data


def schedule_from_json(data: dict[str, Any]) -> SCHEDULE_TYPES:
    """Return the schedule that `schedule_to_json` wrote (or Prefect 2's REST shape).

    Raises:
        ValueError: ``data`` has none (or more than one) of the keys
            ``interval``, ``cron``, ``rrule``, or a value the schedule refuses.
    """
    if not isinstance(data, dict):
        raise ValueError(f"A schedule in JSON is an object, got {type(data).__name__}")
    kinds = [model for key, model in _KINDS if key in data]
    if len(kinds) != 1:
        raise ValueError(
            f"A schedule in JSON has exactly one of the keys interval, cron, rrule; "
            f"got keys {sorted(data)}"
        )
    return kinds[0].model_validate(data)
