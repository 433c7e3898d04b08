"""The scheduler's pure core: plan_runs, idempotency_key, lateness; its settings."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater._private.schedules.planner import (
    PlannedRun,
    PlannedSchedule,
    idempotency_key,
    lateness,
    plan_runs,
)
from headwater.schedules import CronSchedule, IntervalSchedule, RRuleSchedule
from headwater.settings import get_current_settings, temporary_settings

UTC = timezone.utc
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
HOURLY = IntervalSchedule(interval=timedelta(hours=1), anchor_date=datetime(2024, 1, 1, tzinfo=UTC))
EVERY_10_MIN = CronSchedule(cron="*/10 * * * *")


def plan(*schedules: PlannedSchedule, now: datetime = NOW, since: datetime | None = None,
         window: timedelta = timedelta(hours=1), min_runs: int = 3, max_runs: int = 100,
         catchup: bool = False, **kwargs: timedelta) -> list[PlannedRun]:
    return plan_runs(schedules, now=now, since=since, window=window, min_runs=min_runs,
                     max_runs=max_runs, catchup=catchup, **kwargs)


def hhmm(runs: list[PlannedRun]) -> list[str]:
    return [r.scheduled_time.strftime("%d %H:%M") for r in runs]


def test_plans_every_slot_in_the_window_in_utc_with_the_schedule_id() -> None:
    runs = plan(PlannedSchedule("s1", EVERY_10_MIN, {"x": 1}))
    assert hhmm(runs) == ["01 12:00", "01 12:10", "01 12:20", "01 12:30", "01 12:40",
                          "01 12:50", "01 13:00"]
    assert {r.schedule_id for r in runs} == {"s1"}
    assert all(r.parameters == {"x": 1} for r in runs)
    assert all(r.scheduled_time.tzinfo is UTC for r in runs)


def test_min_runs_reach_past_the_window_but_not_past_max_window() -> None:
    daily = PlannedSchedule("d", CronSchedule(cron="0 9 * * *"))
    assert hhmm(plan(daily, min_runs=3)) == ["02 09:00", "03 09:00", "04 09:00"]
    assert hhmm(plan(daily, min_runs=3, max_window=timedelta(days=2))) == [
        "02 09:00", "03 09:00"]
    assert plan(daily, min_runs=0) == []


def test_max_runs_caps_each_schedule() -> None:
    runs = plan(PlannedSchedule("s", EVERY_10_MIN), window=timedelta(days=1), max_runs=4)
    assert hhmm(runs) == ["01 12:00", "01 12:10", "01 12:20", "01 12:30"]


def test_slots_already_planned_are_not_returned_again_and_the_horizon_stays_steady() -> None:
    schedule = PlannedSchedule("s", EVERY_10_MIN)
    first = plan(schedule)
    since = first[-1].scheduled_time
    # Ten minutes later: only the one new slot at the end of the window.
    later = plan(schedule, now=NOW + timedelta(minutes=10), since=since)
    assert hhmm(later) == ["01 13:10"]
    # Nothing new yet a minute after the first loop.
    assert plan(schedule, now=NOW + timedelta(minutes=1), since=since) == []


def test_inactive_schedules_plan_nothing() -> None:
    runs = plan(PlannedSchedule("on", HOURLY, {"which": "on"}),
                PlannedSchedule("off", EVERY_10_MIN, {"which": "off"}, active=False))
    assert {r.schedule_id for r in runs} == {"on"}


def test_each_schedule_carries_its_own_parameters() -> None:
    runs = plan(PlannedSchedule("a", CronSchedule(cron="15 * * * *"), {"size": "small"}),
                PlannedSchedule("b", CronSchedule(cron="45 * * * *"), {"size": "large"}),
                window=timedelta(hours=1), min_runs=0)
    assert [(r.scheduled_time.minute, r.schedule_id, r.parameters) for r in runs] == [
        (15, "a", {"size": "small"}), (45, "b", {"size": "large"})]


def test_parameters_are_copied() -> None:
    shared = {"n": 1}
    [run, *_] = plan(PlannedSchedule("s", HOURLY, shared))
    run.parameters["n"] = 2
    assert shared == {"n": 1}


def test_two_schedules_at_one_instant_make_one_run_first_listed_wins() -> None:
    runs = plan(PlannedSchedule("first", HOURLY, {"p": 1}),
                PlannedSchedule("second", CronSchedule(cron="0 * * * *"), {"p": 2}),
                min_runs=0)
    assert hhmm(runs) == ["01 12:00", "01 13:00"]
    assert {r.schedule_id for r in runs} == {"first"}


def test_catchup_off_plans_only_the_most_recent_missed_slot() -> None:
    since = NOW - timedelta(days=3)  # the scheduler was down for three days
    runs = plan(PlannedSchedule("s", HOURLY), since=since, min_runs=0,
                window=timedelta(minutes=30))
    assert hhmm(runs) == ["01 11:00", "01 12:00"]


def test_catchup_off_finds_the_latest_slot_after_a_long_outage_of_a_frequent_schedule() -> None:
    every_minute = PlannedSchedule("m", CronSchedule(cron="* * * * *"))
    since = NOW - timedelta(days=365)
    runs = plan(every_minute, now=NOW + timedelta(seconds=30), since=since, min_runs=1,
                window=timedelta(0))
    assert hhmm(runs) == ["01 12:00", "01 12:01"]


def test_catchup_off_with_no_slot_missed_plans_none() -> None:
    daily = PlannedSchedule("d", CronSchedule(cron="0 9 * * *"))
    runs = plan(daily, since=NOW - timedelta(hours=2), min_runs=1)
    assert hhmm(runs) == ["02 09:00"]


def test_catchup_on_plans_every_missed_slot() -> None:
    since = NOW - timedelta(hours=3)
    runs = plan(PlannedSchedule("s", HOURLY), since=since, catchup=True, min_runs=1,
                window=timedelta(0))
    # since (09:00) was planned already; 10:00 and 11:00 were missed.
    assert hhmm(runs) == ["01 10:00", "01 11:00", "01 12:00"]


def test_catchup_cut_short_by_max_runs_leaves_no_hole() -> None:
    schedule = PlannedSchedule("s", HOURLY)
    other = PlannedSchedule("o", CronSchedule(cron="30 * * * *"))
    since = NOW - timedelta(hours=10)  # 02:00
    first = plan(schedule, other, since=since, catchup=True, max_runs=4)
    # Four missed slots each: the hourly one stops at 06:00, the other at
    # 05:30. Nothing later than 05:30 is planned, so `since` moves there and
    # the next loop goes on from it: no missed slot is left behind.
    assert hhmm(first) == ["01 02:30", "01 03:00", "01 03:30", "01 04:00", "01 04:30",
                           "01 05:00", "01 05:30"]
    second = plan(schedule, other, since=first[-1].scheduled_time, catchup=True, max_runs=4)
    assert hhmm(second)[:4] == ["01 06:00", "01 06:30", "01 07:00", "01 07:30"]


def test_never_scheduled_deployment_misses_nothing() -> None:
    runs = plan(PlannedSchedule("s", HOURLY), since=None, catchup=True, min_runs=1,
                window=timedelta(0))
    assert hhmm(runs) == ["01 12:00"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"now": datetime(2024, 1, 1)}, "now must be timezone-aware"),
    ({"since": datetime(2024, 1, 1)}, "since must be timezone-aware"),
    ({"window": timedelta(-1)}, "window must be 0 or more"),
    ({"max_runs": 0}, "max_runs must be 1 or more"),
    ({"min_runs": 5, "max_runs": 2}, "min_runs must be between 0 and max_runs"),
    ({"max_window": timedelta(minutes=1)}, "max_window"),
])
def test_bad_bounds_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan(PlannedSchedule("s", HOURLY), **kwargs)  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(
    minutes=st.integers(min_value=1, max_value=600),
    down=st.integers(min_value=0, max_value=5000),
    catchup=st.booleans(),
    min_runs=st.integers(min_value=0, max_value=5),
    max_runs=st.integers(min_value=5, max_value=50),
    window=st.integers(min_value=0, max_value=600),
)
def test_plans_are_sorted_unique_bounded_and_after_since(
    minutes: int, down: int, catchup: bool, min_runs: int, max_runs: int, window: int,
) -> None:
    schedule = PlannedSchedule("s", IntervalSchedule(
        interval=timedelta(minutes=minutes), anchor_date=datetime(2024, 1, 1, tzinfo=UTC)))
    since = NOW - timedelta(minutes=down)
    runs = plan(schedule, since=since, catchup=catchup, min_runs=min_runs, max_runs=max_runs,
                window=timedelta(minutes=window))
    times = [r.scheduled_time for r in runs]
    assert times == sorted(set(times))
    assert len(times) <= max_runs
    assert all(t > since for t in times)
    missed = [t for t in times if t < NOW]
    assert len(missed) <= (max_runs if catchup else 1)
    if not catchup or len(missed) < max_runs:
        ahead = [t for t in times if t >= NOW]
        assert all(t <= NOW + timedelta(minutes=window) for t in ahead[min_runs:])


def test_idempotency_key_is_stable_and_in_utc() -> None:
    at = datetime(2024, 3, 10, 13, tzinfo=UTC)
    key = idempotency_key("dep-1", at)
    assert key == "scheduled dep-1 2024-03-10T13:00:00+00:00"
    in_new_york = at.astimezone(CronSchedule(cron="0 9 * * *", timezone="America/New_York")
                                .get_dates(1, start=at)[0].tzinfo)
    assert idempotency_key("dep-1", in_new_york) == key
    assert idempotency_key("dep-2", at) != key
    with pytest.raises(ValueError, match="timezone-aware"):
        idempotency_key("dep-1", datetime(2024, 1, 1))


def test_idempotency_keys_of_planned_runs_do_not_change_between_loops() -> None:
    schedule = PlannedSchedule("s", CronSchedule(cron="0 9 * * *", timezone="Europe/London"))
    first = {idempotency_key("d", r.scheduled_time) for r in plan(schedule)}
    again = {idempotency_key("d", r.scheduled_time)
             for r in plan(schedule, now=NOW + timedelta(seconds=5))}
    assert first == again


@pytest.mark.parametrize(("behind", "max_lateness", "late_runs", "expected"), [
    (timedelta(seconds=-30), None, "run", "on_time"),
    (timedelta(seconds=10), None, "run", "on_time"),     # within late_after (15 s)
    (timedelta(seconds=16), None, "skip", "late"),       # no bound: late, never skipped
    (timedelta(minutes=5), timedelta(minutes=10), "skip", "late"),
    (timedelta(minutes=11), timedelta(minutes=10), "skip", "skip"),
    (timedelta(minutes=11), timedelta(minutes=10), "run", "late"),
    (timedelta(minutes=10), timedelta(minutes=10), "skip", "late"),  # the bound is inclusive
])
def test_lateness_policy(behind: timedelta, max_lateness: timedelta | None, late_runs: str,
                         expected: str) -> None:
    scheduled = datetime(2024, 1, 1, 9, tzinfo=UTC)
    assert lateness(scheduled, scheduled + behind, max_lateness=max_lateness,
                    late_runs=late_runs,  # type: ignore[arg-type]
                    late_after=timedelta(seconds=15)) == expected


def test_lateness_refuses_bad_input() -> None:
    at = datetime(2024, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match='late_runs must be "run" or "skip"'):
        lateness(at, at, max_lateness=None, late_runs="maybe")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timezone-aware"):
        lateness(datetime(2024, 1, 1), at, max_lateness=None, late_runs="run")
    with pytest.raises(ValueError, match="max_lateness must be 0 or more"):
        lateness(at, at, max_lateness=timedelta(-1), late_runs="run")


def test_scheduler_settings_defaults_and_environment_names() -> None:
    scheduler = get_current_settings().scheduler
    assert (scheduler.loop_seconds, scheduler.max_runs, scheduler.min_runs) == (60, 100, 3)
    assert scheduler.max_scheduled_time == timedelta(days=100)
    assert scheduler.min_scheduled_time == timedelta(hours=1)
    assert scheduler.late_after_seconds == 15
    with temporary_settings(HEADWATER_SCHEDULER_MAX_SCHEDULED_TIME="7200",
                            HEADWATER_SCHEDULER_MIN_SCHEDULED_TIME="PT30M",
                            HEADWATER_SCHEDULER_LOOP_SECONDS="5"):
        scheduler = get_current_settings().scheduler
        assert scheduler.max_scheduled_time == timedelta(hours=2)
        assert scheduler.min_scheduled_time == timedelta(minutes=30)
        assert scheduler.loop_seconds == 5


def test_scheduler_settings_refuse_inconsistent_bounds() -> None:
    from headwater.settings import SettingsError

    # temporary_settings validates on entry.
    with pytest.raises(SettingsError, match=r"HEADWATER_SCHEDULER_MIN_RUNS='500'.*at most "
                                            r"HEADWATER_SCHEDULER_MAX_RUNS"), \
            temporary_settings(HEADWATER_SCHEDULER_MIN_RUNS="500"):
        pass
    with pytest.raises(SettingsError, match="HEADWATER_SCHEDULER_MIN_SCHEDULED_TIME='P200D'"), \
            temporary_settings(HEADWATER_SCHEDULER_MIN_SCHEDULED_TIME="P200D"):
        pass


def test_catchup_off_finds_the_latest_slot_past_a_burst_of_more_than_a_thousand() -> None:
    # Every second of 25 minutes only: the most recent missed slot is
    # 02:24:59, after 1,500 slots in the span where the look-back finds them.
    burst = PlannedSchedule("b", RRuleSchedule(
        rrule="DTSTART:20240601T020000\nRRULE:FREQ=SECONDLY;COUNT=1500"))
    runs = plan(burst, since=NOW - timedelta(days=1), min_runs=0)
    assert [r.scheduled_time.strftime("%H:%M:%S") for r in runs] == ["02:24:59"]
