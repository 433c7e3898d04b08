"""TEMPORARY: an interval-only planner until headwater._private.schedules lands."""

from __future__ import annotations

import datetime as dt
import math
from types import SimpleNamespace
from typing import Any


class FakePlanner:
    def schedule_from_json(self, value: dict[str, Any]) -> Any:
        if "interval" not in value:
            raise ValueError("interval schedules only")
        if float(value["interval"]) <= 0:
            raise ValueError("interval must be > 0")
        return value

    def planned_schedule(self, id: str, schedule: Any, parameters: dict[str, Any],
                         active: bool) -> Any:
        return SimpleNamespace(id=id, schedule=schedule, parameters=parameters, active=active)

    def plan_runs(self, schedules: Any, *, now: dt.datetime, since: dt.datetime | None,
                  window: dt.timedelta, min_runs: int, max_runs: int,
                  catchup: bool, max_window: dt.timedelta | None = None) -> list[Any]:
        window = max_window or window
        start = since if catchup and since is not None else now
        out = []
        for s in schedules:
            anchor = dt.datetime.fromisoformat(s.schedule.get("anchor_date")
                                               or "2024-01-01T00:00:00+00:00")
            step = dt.timedelta(seconds=float(s.schedule["interval"]))
            when = anchor + math.ceil((start - anchor) / step) * step
            n = 0
            while n < max_runs and (when <= now + window or n < min_runs):
                out.append(SimpleNamespace(scheduled_time=when, schedule_id=s.id,
                                           parameters=s.parameters))
                when += step
                n += 1
        return sorted(out, key=lambda r: r.scheduled_time)[:max_runs]

    def idempotency_key(self, deployment_id: str, scheduled_time: dt.datetime) -> str:
        return f"scheduled {deployment_id} {scheduled_time.isoformat()}"

    def lateness(self, scheduled_time: dt.datetime, now: dt.datetime, *,
                 max_lateness: dt.timedelta | None, late_runs: str,
                 late_after: dt.timedelta = dt.timedelta(0)) -> str:
        if max_lateness is not None and now - scheduled_time > max_lateness:
            return "skip" if late_runs == "skip" else "late"
        return "late" if now > scheduled_time else "on_time"
