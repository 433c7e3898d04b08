"""IntervalSchedule and RRuleSchedule: anchors, timezones, DST; construct_schedule."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import DAILY, WEEKLY, rrule
from pydantic import ValidationError

from headwater.schedules import (
    CronSchedule,
    IntervalSchedule,
    RRuleSchedule,
    construct_schedule,
)
from headwater.testing import FakeClock, use_clock

NY = ZoneInfo("America/New_York")
UTC = timezone.utc


def stamps(dates: list[datetime]) -> list[str]:
    return [d.strftime("%m-%d %H:%M %z") for d in dates]


# --- IntervalSchedule


def test_interval_accepts_seconds_and_refuses_non_positive() -> None:
    assert IntervalSchedule(interval=90, anchor_date=datetime(2024, 1, 1)).interval == \
        timedelta(seconds=90)
    for bad in (0, -5, timedelta(0)):
        with pytest.raises(ValidationError) as info:
            IntervalSchedule(interval=bad)
        [error] = info.value.errors()
        assert error["loc"] == ("interval",)
        assert "interval must be more than 0" in error["msg"]


def test_anchor_defaults_to_now_from_the_clock_and_timezone_to_utc() -> None:
    with use_clock(FakeClock(wall=datetime(2031, 2, 3, 4, 5, tzinfo=UTC))):
        schedule = IntervalSchedule(interval=60)
    assert schedule.anchor_date == datetime(2031, 2, 3, 4, 5, tzinfo=UTC)
    assert schedule.timezone == "UTC"


def test_timezone_is_taken_from_a_named_anchor_zone_not_an_offset() -> None:
    named = IntervalSchedule(interval=60, anchor_date=datetime(2024, 1, 1, tzinfo=NY))
    assert named.timezone == "America/New_York"
    offset = IntervalSchedule(
        interval=60, anchor_date=datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=2))))
    assert offset.timezone == "UTC"


def test_naive_anchor_is_wall_clock_in_the_timezone() -> None:
    schedule = IntervalSchedule(interval=timedelta(days=1), anchor_date=datetime(2024, 1, 1, 9),
                                timezone="America/New_York")
    assert schedule.anchor_date == datetime(2024, 1, 1, 14, tzinfo=UTC)
    from_string = IntervalSchedule.model_validate(
        {"interval": 86400, "anchor_date": "2024-01-01T09:00:00",
         "timezone": "America/New_York"})
    assert from_string.anchor_date == schedule.anchor_date


def test_interval_counts_from_the_anchor_both_ways() -> None:
    schedule = IntervalSchedule(interval=timedelta(minutes=45),
                                anchor_date=datetime(2024, 1, 1, 12, tzinfo=UTC))
    after = schedule.get_dates(3, start=datetime(2024, 1, 1, 13, 0, tzinfo=UTC))
    assert [d.strftime("%H:%M") for d in after] == ["13:30", "14:15", "15:00"]
    before = schedule.get_dates(2, start=datetime(2024, 1, 1, 10, 0, tzinfo=UTC))
    assert [d.strftime("%H:%M") for d in before] == ["10:30", "11:15"]
    assert schedule.get_dates(1, start=datetime(2024, 1, 1, 12, tzinfo=UTC)) == [
        datetime(2024, 1, 1, 12, tzinfo=UTC)]


def test_whole_day_interval_keeps_wall_clock_across_dst() -> None:
    daily = IntervalSchedule(interval=timedelta(days=1), anchor_date=datetime(2024, 3, 8, 9),
                             timezone="America/New_York")
    assert stamps(daily.get_dates(4, start=daily.anchor_date)) == [
        "03-08 09:00 -0500", "03-09 09:00 -0500", "03-10 09:00 -0400", "03-11 09:00 -0400"]
    assert stamps(daily.get_dates(3, start=datetime(2024, 11, 2, tzinfo=NY))) == [
        "11-02 09:00 -0400", "11-03 09:00 -0500", "11-04 09:00 -0500"]


def test_whole_day_interval_keeps_wall_clock_when_asked_from_far_ahead() -> None:
    # Prefect 2 jumps there by elapsed time and answers 10:00 EDT here; see
    # docs/migration.md.
    daily = IntervalSchedule(interval=timedelta(days=1), anchor_date=datetime(2024, 3, 8, 9),
                             timezone="America/New_York")
    assert stamps(daily.get_dates(2, start=datetime(2024, 7, 1, tzinfo=NY))) == [
        "07-01 09:00 -0400", "07-02 09:00 -0400"]
    weekly = IntervalSchedule(interval=timedelta(weeks=1),
                              anchor_date=datetime(2024, 1, 1, 9, tzinfo=NY))
    assert stamps(weekly.get_dates(1, start=datetime(2024, 6, 30, tzinfo=NY))) == [
        "07-01 09:00 -0400"]


def test_sub_day_interval_is_elapsed_time_across_dst() -> None:
    hourly = IntervalSchedule(interval=timedelta(hours=1),
                              anchor_date=datetime(2024, 3, 8, 9, tzinfo=NY))
    fall = hourly.get_dates(4, start=datetime(2024, 11, 3, 0, 30, tzinfo=NY))
    # Every real hour: 01:00 shows twice (EDT then EST), an hour apart.
    assert stamps(fall) == ["11-03 01:00 -0400", "11-03 01:00 -0500", "11-03 02:00 -0500",
                            "11-03 03:00 -0500"]
    spring = hourly.get_dates(3, start=datetime(2024, 3, 10, 0, 30, tzinfo=NY))
    assert stamps(spring) == ["03-10 01:00 -0500", "03-10 03:00 -0400", "03-10 04:00 -0400"]


def test_mixed_interval_adds_days_on_the_wall_clock_and_the_rest_elapsed() -> None:
    anchor = datetime(2024, 3, 8, 9, tzinfo=NY)
    schedule = IntervalSchedule(interval=timedelta(days=1, hours=12), anchor_date=anchor)
    assert stamps(schedule.get_dates(4, start=anchor)) == [
        "03-08 09:00 -0500", "03-09 21:00 -0500", "03-11 09:00 -0400", "03-12 21:00 -0400"]


def test_interval_end_is_inclusive() -> None:
    anchor = datetime(2024, 1, 1, tzinfo=UTC)
    schedule = IntervalSchedule(interval=timedelta(hours=1), anchor_date=anchor)
    assert len(schedule.get_dates(start=anchor, end=anchor + timedelta(hours=3))) == 4


# --- RRuleSchedule


def test_rrule_timezone_defaults_to_utc() -> None:
    schedule = RRuleSchedule(rrule="FREQ=DAILY;BYHOUR=9")
    assert schedule.timezone == "UTC"
    assert RRuleSchedule(rrule="FREQ=DAILY", timezone=None).timezone == "UTC"
    assert schedule.get_dates(1, start=datetime(2024, 5, 1, 10, tzinfo=UTC)) == [
        datetime(2024, 5, 2, 9, tzinfo=UTC)]


def test_rrule_with_timezone_and_dtstart_keeps_local_time() -> None:
    schedule = RRuleSchedule(rrule="DTSTART:20240301T093000\nRRULE:FREQ=DAILY",
                             timezone="America/New_York")
    assert stamps(schedule.get_dates(3, start=datetime(2024, 3, 9, tzinfo=NY))) == [
        "03-09 09:30 -0500", "03-10 09:30 -0400", "03-11 09:30 -0400"]


def test_rrule_dtstart_tzid_sets_the_timezone_unless_one_is_given() -> None:
    text = "DTSTART;TZID=America/New_York:20240101T090000\nRRULE:FREQ=DAILY"
    assert RRuleSchedule(rrule=text).timezone == "America/New_York"
    [first] = RRuleSchedule(rrule=text).get_dates(1, start=datetime(2024, 2, 1, tzinfo=UTC))
    assert first.isoformat() == "2024-02-01T09:00:00-05:00"
    assert RRuleSchedule(rrule=text, timezone="Europe/London").timezone == "Europe/London"


def test_rrule_count_until_and_exdate_are_honoured() -> None:
    counted = RRuleSchedule(rrule="DTSTART:20240301T000000\nRRULE:FREQ=DAILY;COUNT=2",
                            timezone="America/New_York")
    assert len(counted.get_dates(10, start=datetime(2024, 1, 1, tzinfo=UTC))) == 2
    until = RRuleSchedule(rrule="DTSTART:20240301T000000\nRRULE:FREQ=DAILY;UNTIL=20240303T000000")
    assert [d.day for d in until.get_dates(10, start=datetime(2024, 1, 1))] == [1, 2, 3]
    with_exdate = RRuleSchedule(
        rrule="DTSTART:20240301T000000\nRRULE:FREQ=DAILY;COUNT=3\nEXDATE:20240302T000000")
    assert [d.day for d in with_exdate.get_dates(10, start=datetime(2024, 1, 1))] == [1, 3]


def test_rrule_hourly_across_dst_fires_each_wall_time_once() -> None:
    schedule = RRuleSchedule(rrule="DTSTART:20240301T000000\nRRULE:FREQ=HOURLY",
                             timezone="America/New_York")
    fall = schedule.get_dates(3, start=datetime(2024, 11, 3, 0, 30, tzinfo=NY))
    assert stamps(fall) == ["11-03 01:00 -0400", "11-03 02:00 -0500", "11-03 03:00 -0500"]
    spring = schedule.get_dates(3, start=datetime(2024, 3, 10, 0, 30, tzinfo=NY))
    assert stamps(spring) == ["03-10 01:00 -0500", "03-10 03:00 -0400", "03-10 04:00 -0400"]


def test_invalid_rrule_names_the_field() -> None:
    with pytest.raises(ValidationError) as info:
        RRuleSchedule(rrule="FREQ=SOMETIMES")
    [error] = info.value.errors()
    assert error["loc"] == ("rrule",)
    assert 'Invalid RRule string "FREQ=SOMETIMES"' in error["msg"]
    with pytest.raises(ValidationError, match="at most 6500 characters"):
        RRuleSchedule(rrule="FREQ=DAILY;" + "BYHOUR=1;" * 1000)


def test_from_rrule_takes_the_dtstart_zone() -> None:
    rule = rrule(WEEKLY, dtstart=datetime(2024, 1, 1, 9, tzinfo=NY), count=3)
    schedule = RRuleSchedule.from_rrule(rule)
    assert schedule.timezone == "America/New_York"
    assert stamps(schedule.get_dates(5, start=datetime(2024, 1, 1, tzinfo=NY))) == [
        "01-01 09:00 -0500", "01-08 09:00 -0500", "01-15 09:00 -0500"]
    naive = RRuleSchedule.from_rrule(rrule(DAILY, dtstart=datetime(2024, 1, 1), count=1))
    assert naive.timezone == "UTC"
    with pytest.raises(ValueError, match="pass its text"):
        RRuleSchedule.from_rrule("FREQ=DAILY")  # type: ignore[arg-type]


# --- construct_schedule


def test_construct_schedule_builds_each_kind() -> None:
    interval = construct_schedule(interval=30, anchor_date="2024-01-01T00:00:00+00:00")
    assert isinstance(interval, IntervalSchedule)
    assert interval.interval == timedelta(seconds=30)
    cron = construct_schedule(cron="0 9 * * *", timezone="America/New_York")
    assert cron == CronSchedule(cron="0 9 * * *", timezone="America/New_York")
    assert construct_schedule(rrule="FREQ=DAILY") == RRuleSchedule(rrule="FREQ=DAILY")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"interval": 30, "cron": "* * * * *"}, "Only one of interval, cron, or rrule"),
    ({"anchor_date": datetime(2024, 1, 1)}, "anchor date can only be provided with an interval"),
    ({"timezone": "UTC"}, "a timezone alone is not a schedule"),
    ({}, "Either interval, cron, or rrule must be provided"),
    ({"interval": 0}, "interval must be more than 0"),
])
def test_construct_schedule_refuses_bad_combinations(kwargs: dict[str, object],
                                                     message: str) -> None:
    with pytest.raises(ValueError, match=message):
        construct_schedule(**kwargs)  # type: ignore[arg-type]
