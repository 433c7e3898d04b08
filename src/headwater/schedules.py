"""Schedules: when a deployment's runs start (cron, interval, iCalendar rules).

Prefect 2's schedule objects, also at ``headwater.client.schemas.schedules``.
Each computes its dates with ``get_dates``, correct across DST changes (see
``docs/schedules.md``).

Example:
    >>> from datetime import datetime
    >>> from headwater.schedules import CronSchedule
    >>> nightly = CronSchedule(cron="30 1 * * *", timezone="Europe/London")
    >>> [d.isoformat() for d in nightly.get_dates(2, start=datetime(2024, 3, 30))]
    ['2024-03-30T01:30:00+00:00', '2024-03-31T02:30:00+01:00']
"""

from headwater._private.schedules import (
    SCHEDULE_TYPES,
    CronSchedule,
    DeploymentScheduleCreate,
    IntervalSchedule,
    RRuleSchedule,
    construct_schedule,
    schedule_from_json,
    schedule_to_json,
)

__all__ = [
    "SCHEDULE_TYPES",
    "CronSchedule",
    "DeploymentScheduleCreate",
    "IntervalSchedule",
    "RRuleSchedule",
    "construct_schedule",
    "schedule_from_json",
    "schedule_to_json",
]

for _name in ("CronSchedule", "DeploymentScheduleCreate", "IntervalSchedule", "RRuleSchedule",
              "construct_schedule", "schedule_from_json", "schedule_to_json"):
    globals()[_name].__module__ = __name__
del _name
