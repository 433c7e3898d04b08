"""The scheduler's decisions, without I/O: which runs to create, and what a late run becomes.

The server's scheduler loop reads a deployment's schedules and its
``last_scheduled_time``, asks `plan_runs` which runs to create, inserts them
under `idempotency_key` (so two schedulers never create one run twice), and
asks `lateness` what to do with runs past their time. Everything here is a
pure function of its arguments, so it is tested with plain datetimes.

Rules of `plan_runs`, per active schedule (inactive ones plan nothing):

- **Ahead**: every slot from ``now`` to ``now + window``; at least
  ``min_runs`` slots even if they go past the window (but not past
  ``now + max_window`` when given); at most ``max_runs`` slots per schedule.
  Slots at or before ``since`` (already planned by an earlier loop) count
  towards these bounds but are not returned again, so calling it every loop
  keeps a steady horizon instead of growing it.
- **Missed** (slots after ``since`` and before ``now``, left by a scheduler
  that was down): with ``catchup`` every one of them, oldest first; without,
  only the most recent one (one run stands for the missed ones, as anacron
  does). With ``since=None`` (never scheduled) nothing is missed.
- If catching up stops at ``max_runs``, nothing later than the last slot
  returned is planned, so ``since`` moves up to it and the next loop goes on
  from there without leaving a hole.
- Two schedules firing at one instant make one run: the first schedule in
  the given order wins (its parameters), since the idempotency key is per
  deployment and time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from headwater._private.schedules.base import MAX_ITERATIONS
from headwater._private.schedules.building import SCHEDULE_TYPES
from headwater._private.schedules.zones import UTC

Lateness = Literal["on_time", "late", "skip"]
LateRuns = Literal["run", "skip"]
# The shortest look-back when searching for the most recent missed slot; it
# doubles until a slot is found or ``since`` is reached.
_FIRST_LOOK_BACK = timedelta(seconds=1)


@dataclass(frozen=True)
class PlannedSchedule:
    """One schedule of a deployment, as the planner sees it.

    Attributes:
        id: The schedule's id (carried into each `PlannedRun`).
        schedule: When it fires.
        parameters: Its parameter defaults (over the deployment's).
        active: Inactive schedules plan nothing.
    """

    id: str
    schedule: SCHEDULE_TYPES
    parameters: dict[str, Any] = field(default_factory=dict)
    active: bool = True


@dataclass(frozen=True)
class PlannedRun:
    """A run to create.

    Attributes:
        scheduled_time: When it should start, aware, in UTC.
        schedule_id: The id of the schedule that planned it.
        parameters: The schedule's parameter defaults (a copy).
    """

    scheduled_time: datetime
    schedule_id: str
    parameters: dict[str, Any]


def idempotency_key(deployment_id: str, scheduled_time: datetime) -> str:
    """Return the key that makes a scheduled run unique: ``scheduled <id> <UTC iso time>``.

    The time is written in UTC so the key does not depend on the zone the
    time was computed in.

    Raises:
        ValueError: ``scheduled_time`` is naive.
    """
    _require_aware("scheduled_time", scheduled_time)
    return f"scheduled {deployment_id} {scheduled_time.astimezone(UTC).isoformat()}"


def lateness(
    scheduled_time: datetime,
    now: datetime,
    *,
    max_lateness: timedelta | None,
    late_runs: LateRuns,
    late_after: timedelta = timedelta(0),
) -> Lateness:
    """Say what a run that has not started by ``now`` is.

    Args:
        scheduled_time: When the run should have started.
        now: The time of the check.
        max_lateness: How late a run may start; None: no bound.
        late_runs: Past ``max_lateness``: ``"skip"`` the run (it ends
            Cancelled) or ``"run"`` it anyway (it stays late).
        late_after: How far past its time a run still counts as on time
            (the server passes ``HEADWATER_SCHEDULER_LATE_AFTER_SECONDS``).

    Returns:
        ``"on_time"`` (not past ``late_after``), ``"late"``, or ``"skip"``.

    Raises:
        ValueError: A naive datetime, a negative bound, or another ``late_runs``.
    """
    _require_aware("scheduled_time", scheduled_time)
    _require_aware("now", now)
    if late_runs not in ("run", "skip"):
        raise ValueError(f'late_runs must be "run" or "skip", got {late_runs!r}')
    if max_lateness is not None and max_lateness < timedelta(0):
        raise ValueError(f"max_lateness must be 0 or more, got {max_lateness}")
    behind = now - scheduled_time
    if max_lateness is not None and behind > max_lateness:
        return "skip" if late_runs == "skip" else "late"
    return "late" if behind > late_after else "on_time"


def plan_runs(
    schedules: Sequence[PlannedSchedule],
    *,
    now: datetime,
    since: datetime | None,
    window: timedelta,
    min_runs: int,
    max_runs: int,
    catchup: bool,
    max_window: timedelta | None = None,
) -> list[PlannedRun]:
    """Return the runs to create for one deployment's schedules (rules: module doc).

    Args:
        schedules: The deployment's schedules.
        now: The time of this loop (aware).
        since: The latest time already planned for this deployment (its
            ``last_scheduled_time``), or None if it was never scheduled.
        window: Plan every slot up to ``now + window``
            (``HEADWATER_SCHEDULER_MIN_SCHEDULED_TIME``).
        min_runs: At least this many slots ahead per schedule
            (``HEADWATER_SCHEDULER_MIN_RUNS``).
        max_runs: At most this many slots per schedule and loop
            (``HEADWATER_SCHEDULER_MAX_RUNS``).
        catchup: Plan every missed slot (True) or only the most recent one.
        max_window: ``min_runs`` never reaches past ``now + max_window``
            (``HEADWATER_SCHEDULER_MAX_SCHEDULED_TIME``); None: no bound.

    Returns:
        The runs, in order of time (UTC), at most one per instant.

    Raises:
        ValueError: A naive datetime, or a negative or inconsistent bound.
    """
    _check_bounds(now, since, window, min_runs, max_runs, max_window)
    now = now.astimezone(UTC)
    since = since.astimezone(UTC) if since is not None else None
    runs: list[PlannedRun] = []
    cut: datetime | None = None
    for planned in schedules:
        if not planned.active:
            continue
        missed, truncated = _missed(planned, now, since, max_runs, catchup)
        if truncated:
            cut = missed[-1] if cut is None else min(cut, missed[-1])
            times = missed
        else:
            ahead = _ahead(planned, now, since, window, min_runs, max_runs - len(missed),
                           max_window)
            times = missed + ahead
        runs.extend(PlannedRun(t, planned.id, dict(planned.parameters)) for t in times)
    if cut is not None:
        runs = [run for run in runs if run.scheduled_time <= cut]
    return _one_per_instant(runs)


def _missed(
    planned: PlannedSchedule, now: datetime, since: datetime | None, max_runs: int,
    catchup: bool,
) -> tuple[list[datetime], bool]:
    """Return the missed slots to plan (after ``since``, before ``now``) and if cut short."""
    if since is None or since >= now:
        return [], False
    if not catchup:
        latest = _latest_before(planned.schedule, since, now)
        return ([latest] if latest is not None else []), False
    # Two more than needed: ``since`` itself may come back (it is a slot), and
    # one past the bound tells that the catch-up is cut short.
    dates = [_utc(d) for d in planned.schedule.get_dates(n=max_runs + 2, start=since, end=now)]
    dates = [d for d in dates if since < d < now]
    return dates[:max_runs], len(dates) > max_runs


def _latest_before(schedule: SCHEDULE_TYPES, since: datetime, now: datetime) -> datetime | None:
    # Schedules only count forwards: look back from ``now`` over a doubling
    # span until a slot shows up (then it holds the latest) or ``since`` is
    # reached, so a long outage of a frequent schedule costs a few small
    # look-ups, not one per missed slot.
    span = _FIRST_LOOK_BACK
    while True:
        start = max(since, now - span)
        dates = [d for d in _all_between(schedule, start, now) if since < d < now]
        if dates:
            return dates[-1]
        if start == since:
            return None
        span *= 2


def _all_between(schedule: SCHEDULE_TYPES, start: datetime, end: datetime) -> list[datetime]:
    # get_dates answers at most MAX_ITERATIONS dates a call: page on from the
    # last one until a page comes back short.
    dates: list[datetime] = []
    while True:
        page = [_utc(d) for d in schedule.get_dates(n=MAX_ITERATIONS, start=start, end=end)]
        page = [d for d in page if not dates or d > dates[-1]]
        dates.extend(page)
        if len(page) < MAX_ITERATIONS - 1:
            return dates
        start = dates[-1]


def _ahead(
    planned: PlannedSchedule, now: datetime, since: datetime | None, window: timedelta,
    min_runs: int, budget: int, max_window: timedelta | None,
) -> list[datetime]:
    """Return the slots from ``now`` on to plan, those up to ``since`` left out."""
    if budget <= 0:
        return []
    horizon = now + window
    if max_window is not None:
        horizon = min(horizon, now + max_window)
    # Two bounded look-ups rather than ``budget`` dates: the slots within the
    # window, and the first ``min_runs`` (which may lie beyond it).
    within = planned.schedule.get_dates(n=budget, start=now, end=horizon)
    first: list[datetime] = []
    if len(within) < min(min_runs, budget):
        limit = now + max_window if max_window is not None else None
        first = planned.schedule.get_dates(n=min(min_runs, budget), start=now, end=limit)
    chosen = sorted({_utc(d) for d in [*within, *first]})[:budget]
    return [d for d in chosen if since is None or d > since]


def _one_per_instant(runs: list[PlannedRun]) -> list[PlannedRun]:
    seen: set[datetime] = set()
    unique: list[PlannedRun] = []
    # Stable sort: at one instant the schedule listed first stays first.
    for run in sorted(runs, key=lambda r: r.scheduled_time):
        if run.scheduled_time not in seen:
            seen.add(run.scheduled_time)
            unique.append(run)
    return unique


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got the naive {value.isoformat()}: "
                         "use datetime.now(timezone.utc) or add tzinfo")


def _check_bounds(
    now: datetime, since: datetime | None, window: timedelta, min_runs: int, max_runs: int,
    max_window: timedelta | None,
) -> None:
    _require_aware("now", now)
    if since is not None:
        _require_aware("since", since)
    if window < timedelta(0):
        raise ValueError(f"window must be 0 or more, got {window}")
    if max_runs < 1:
        raise ValueError(f"max_runs must be 1 or more, got {max_runs}")
    if not 0 <= min_runs <= max_runs:
        raise ValueError(f"min_runs must be between 0 and max_runs ({max_runs}), got {min_runs}")
    if max_window is not None and max_window < window:
        raise ValueError(f"max_window ({max_window}) must be at least window ({window})")
