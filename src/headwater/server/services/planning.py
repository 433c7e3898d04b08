"""The scheduler's view of the schedules: parsing stored JSON, the planner, its settings.

The planning itself is pure and lives in the runtime
(``headwater._private.schedules.planner``: which times a schedule gives,
idempotency keys, the lateness rule); the scheduler service
(``scheduler.py``) does the database work around it. This module is the one
seam between them: the scheduler takes a :class:`Planner` (tests may hand it
another) and :class:`SchedulerConfig` (the ``HEADWATER_SCHEDULER_*`` settings).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

__all__ = ["Planner", "SchedulerConfig", "default_planner", "parse_schedule"]


class Planner(Protocol):
    """What the scheduler needs of the planner (``headwater._private.schedules.planner``)."""

    def schedule_from_json(self, value: dict[str, Any]) -> Any:
        """A schedule object from its stored JSON (raises ValueError naming the problem)."""

    def planned_schedule(self, id: str, schedule: Any, parameters: dict[str, Any],
                         active: bool) -> Any:
        """A ``PlannedSchedule``."""

    def plan_runs(self, schedules: Sequence[Any], *, now: dt.datetime,
                  since: dt.datetime | None, window: dt.timedelta, min_runs: int,
                  max_runs: int, catchup: bool, max_window: dt.timedelta | None) -> list[Any]:
        """The runs to create: objects with ``scheduled_time``, ``schedule_id``, ``parameters``."""

    def idempotency_key(self, deployment_id: str, scheduled_time: dt.datetime) -> str:
        """The key of a scheduled run of a deployment version at a time."""

    def lateness(self, scheduled_time: dt.datetime, now: dt.datetime, *,
                 max_lateness: dt.timedelta | None, late_runs: Literal["run", "skip"],
                 late_after: dt.timedelta) -> Literal["on_time", "late", "skip"]:
        """Whether a run is on time, late, or to be skipped."""


class _RealPlanner:
    """The planner of ``headwater._private.schedules`` and ``headwater.schedules``."""

    def schedule_from_json(self, value: dict[str, Any]) -> Any:
        from headwater.schedules import schedule_from_json

        return schedule_from_json(value)

    def planned_schedule(self, id: str, schedule: Any, parameters: dict[str, Any],
                         active: bool) -> Any:
        from headwater._private.schedules.planner import PlannedSchedule

        return PlannedSchedule(id=id, schedule=schedule, parameters=parameters, active=active)

    def plan_runs(self, schedules: Sequence[Any], *, now: dt.datetime,
                  since: dt.datetime | None, window: dt.timedelta, min_runs: int,
                  max_runs: int, catchup: bool, max_window: dt.timedelta | None) -> list[Any]:
        from headwater._private.schedules.planner import plan_runs

        return list(plan_runs(schedules, now=now, since=since, window=window,
                              min_runs=min_runs, max_runs=max_runs, catchup=catchup,
                              max_window=max_window))

    def idempotency_key(self, deployment_id: str, scheduled_time: dt.datetime) -> str:
        from headwater._private.schedules.planner import idempotency_key

        return idempotency_key(deployment_id, scheduled_time)

    def lateness(self, scheduled_time: dt.datetime, now: dt.datetime, *,
                 max_lateness: dt.timedelta | None, late_runs: Literal["run", "skip"],
                 late_after: dt.timedelta) -> Literal["on_time", "late", "skip"]:
        from headwater._private.schedules.planner import lateness

        return lateness(scheduled_time, now, max_lateness=max_lateness, late_runs=late_runs,
                        late_after=late_after)


_planner: Planner = _RealPlanner()


def default_planner() -> Planner:
    """The planner the server uses."""
    return _planner


def parse_schedule(value: dict[str, Any]) -> Any:
    """A schedule object from stored JSON; ValueError (naming the problem) if it is not one."""
    return default_planner().schedule_from_json(value)


@dataclass(frozen=True)
class SchedulerConfig:
    """How far ahead and how much one scheduler loop does (``HEADWATER_SCHEDULER_*``).

    Attributes:
        loop_seconds: Seconds between loops of the server's background scheduler.
        min_runs: Runs planned ahead per schedule at least (even past
            ``min_scheduled_time``, not past ``max_scheduled_time``)...
        max_runs: ...and at most, per schedule and loop.
        min_scheduled_time: Every run up to this far ahead is planned...
        max_scheduled_time: ...and none further ahead.
        late_after: A run still Scheduled this long after its time becomes Late.
        deployments_per_loop: Deployments planned per loop (a bounded slice).
        late_per_loop: Runs marked Late or skipped per loop (a bounded slice).
    """

    loop_seconds: float = 60.0
    min_runs: int = 3
    max_runs: int = 100
    min_scheduled_time: dt.timedelta = dt.timedelta(hours=1)
    max_scheduled_time: dt.timedelta = dt.timedelta(days=100)
    late_after: dt.timedelta = dt.timedelta(seconds=15)
    deployments_per_loop: int = 50
    late_per_loop: int = 10_000

    @classmethod
    def from_settings(cls) -> SchedulerConfig:
        """The configuration in headwater's settings."""
        from headwater.settings import get_current_settings

        section = get_current_settings().scheduler
        return cls(loop_seconds=float(section.loop_seconds), min_runs=int(section.min_runs),
                   max_runs=int(section.max_runs),
                   min_scheduled_time=_delta(section.min_scheduled_time),
                   max_scheduled_time=_delta(section.max_scheduled_time),
                   late_after=dt.timedelta(seconds=float(section.late_after_seconds)))


def _delta(value: Any) -> dt.timedelta:
    return value if isinstance(value, dt.timedelta) else dt.timedelta(seconds=float(value))
