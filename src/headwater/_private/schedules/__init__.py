"""Schedules (cron, interval, rrule) and the scheduler's pure planning core.

`headwater.schedules` is the public face; `planner` holds the decisions the
server's scheduler loop takes (no I/O). Third-party libraries (croniter,
dateutil) are imported only when a schedule is validated or computes dates.
"""

from headwater._private.schedules.base import MAX_ITERATIONS, Schedule
from headwater._private.schedules.building import (
    SCHEDULE_TYPES,
    construct_schedule,
    schedule_from_json,
    schedule_to_json,
)
from headwater._private.schedules.cron import CronSchedule
from headwater._private.schedules.deployment_schedule import DeploymentScheduleCreate
from headwater._private.schedules.interval import IntervalSchedule
from headwater._private.schedules.planner import (
    PlannedRun,
    PlannedSchedule,
    idempotency_key,
    lateness,
    plan_runs,
)
from headwater._private.schedules.rrule import RRuleSchedule

__all__ = [
    "MAX_ITERATIONS",
    "SCHEDULE_TYPES",
    "CronSchedule",
    "DeploymentScheduleCreate",
    "IntervalSchedule",
    "PlannedRun",
    "PlannedSchedule",
    "RRuleSchedule",
    "Schedule",
    "construct_schedule",
    "idempotency_key",
    "lateness",
    "plan_runs",
    "schedule_from_json",
    "schedule_to_json",
]
