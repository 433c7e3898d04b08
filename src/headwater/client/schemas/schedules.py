"""Schedules at Prefect 2's ``prefect.client.schemas.schedules`` path.

The same objects as `headwater.schedules`.
"""

from headwater.schedules import (
    SCHEDULE_TYPES,
    CronSchedule,
    IntervalSchedule,
    RRuleSchedule,
    construct_schedule,
)

__all__ = [
    "SCHEDULE_TYPES",
    "CronSchedule",
    "IntervalSchedule",
    "RRuleSchedule",
    "construct_schedule",
]
