"""CronSchedule: fields, day_or, validation, and wall-clock time across DST changes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from headwater.client.schemas.schedules import CronSchedule as PrefectPathCronSchedule
from headwater.schedules import CronSchedule
from headwater.testing import FakeClock, use_clock

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
UTC = timezone.utc


def local(schedule: CronSchedule, n: int, start: datetime) -> list[str]:
    return [d.strftime("%Y-%m-%d %H:%M %z") for d in schedule.get_dates(n, start=start)]


def utc_hours(dates: list[datetime]) -> list[str]:
    return [d.astimezone(UTC).strftime("%d %H:%M") for d in dates]


def test_prefect_path_is_the_same_class() -> None:
    assert PrefectPathCronSchedule is CronSchedule
    assert CronSchedule(cron="0 9 * * *").model_dump() == {
        "cron": "0 9 * * *", "timezone": None, "day_or": True}


def test_five_fields_with_ranges_steps_lists_and_names() -> None:
    schedule = CronSchedule(cron="*/20 9-10 * JAN,MAR mon-wed", timezone="UTC")
    dates = schedule.get_dates(8, start=datetime(2024, 1, 31, tzinfo=UTC))
    assert [d.strftime("%a %m-%d %H:%M") for d in dates] == [
        "Wed 01-31 09:00", "Wed 01-31 09:20", "Wed 01-31 09:40", "Wed 01-31 10:00",
        "Wed 01-31 10:20", "Wed 01-31 10:40",
        # February is not in the month field: the next match is in March.
        "Mon 03-04 09:00", "Mon 03-04 09:20",
    ]


def test_macros_and_no_timezone_means_utc() -> None:
    [first] = CronSchedule(cron="@daily").get_dates(1, start=datetime(2024, 5, 5, 13, tzinfo=UTC))
    assert first == datetime(2024, 5, 6, tzinfo=UTC)
    assert first.utcoffset() == timedelta(0)


def test_day_or_true_fires_on_either_day_field() -> None:
    # The 13th of the month, or any Friday (cron's rule).
    schedule = CronSchedule(cron="0 0 13 * FRI", timezone="UTC")
    dates = schedule.get_dates(4, start=datetime(2024, 9, 1, tzinfo=UTC))
    assert [d.strftime("%a %d") for d in dates] == ["Fri 06", "Fri 13", "Fri 20", "Fri 27"]
    october = schedule.get_dates(2, start=datetime(2024, 10, 12, tzinfo=UTC))
    assert [d.strftime("%a %d") for d in october] == ["Sun 13", "Fri 18"]


def test_day_or_false_needs_both_day_fields() -> None:
    # Friday the 13th only; and the second Friday of each month.
    friday_13 = CronSchedule(cron="0 0 13 * FRI", timezone="UTC", day_or=False)
    dates = friday_13.get_dates(2, start=datetime(2024, 1, 1, tzinfo=UTC))
    assert [d.date().isoformat() for d in dates] == ["2024-09-13", "2024-12-13"]
    second_friday = CronSchedule(cron="0 9 8-14 * 5", timezone="UTC", day_or=False)
    dates = second_friday.get_dates(3, start=datetime(2024, 1, 1, tzinfo=UTC))
    assert [d.date().isoformat() for d in dates] == ["2024-01-12", "2024-02-09", "2024-03-08"]


@pytest.mark.parametrize(("cron", "what"), [
    ("0 9 * *", "it has 4 field(s)"),
    ("61 * * * *", 'the minute field "61"'),
    ("0 25 * * *", 'the hour field "25"'),
    ("0 0 32 * *", 'the day-of-month field "32"'),
    ("0 0 * 13 *", 'the month field "13"'),
    ("* * * * ZZZ", 'the day-of-week field "ZZZ"'),
    ("@sometimes", "unknown macro @sometimes"),
    ("", "it has 0 field(s)"),
])
def test_invalid_cron_names_the_field_and_the_fix(cron: str, what: str) -> None:
    with pytest.raises(ValidationError) as info:
        CronSchedule(cron=cron)
    [error] = info.value.errors()
    assert error["loc"] == ("cron",)
    assert f'Invalid cron string "{cron}": {what}' in error["msg"]
    assert "minute hour day-of-month month day-of-week" in error["msg"]


@pytest.mark.parametrize("cron", ["H * * * *", "0 H(0-5) * * *", "R 9 * * *"])
def test_hashed_and_random_fields_are_refused(cron: str) -> None:
    with pytest.raises(ValidationError, match="Random and hashed cron fields"):
        CronSchedule(cron=cron)


def test_names_with_h_and_r_are_not_taken_for_hashes() -> None:
    assert CronSchedule(cron="0 9 * MAR THU,FRI").cron == "0 9 * MAR THU,FRI"


def test_unknown_timezone_names_the_field_and_an_example() -> None:
    with pytest.raises(ValidationError) as info:
        CronSchedule(cron="* * * * *", timezone="Mars/Olympus")
    [error] = info.value.errors()
    assert error["loc"] == ("timezone",)
    assert 'Invalid timezone: "Mars/Olympus"' in error["msg"]
    assert "America/New_York" in error["msg"]


def test_start_is_inclusive_and_microseconds_count() -> None:
    schedule = CronSchedule(cron="0 9 * * *", timezone="America/New_York")
    at_nine = datetime(2024, 3, 1, 9, tzinfo=NY)
    assert schedule.get_dates(1, start=at_nine) == [at_nine]
    just_after = at_nine + timedelta(microseconds=1)
    assert schedule.get_dates(1, start=just_after) == [datetime(2024, 3, 2, 9, tzinfo=NY)]


def test_end_is_inclusive_and_n_defaults_to_all_until_end() -> None:
    schedule = CronSchedule(cron="0 9 * * *", timezone="America/New_York")
    dates = schedule.get_dates(start=datetime(2024, 3, 1, tzinfo=NY),
                               end=datetime(2024, 3, 3, 9, tzinfo=NY))
    assert [d.day for d in dates] == [1, 2, 3]


def test_naive_start_is_wall_clock_in_the_schedule_timezone() -> None:
    schedule = CronSchedule(cron="0 9 * * *", timezone="America/New_York")
    [first] = schedule.get_dates(1, start=datetime(2024, 3, 1, 10))
    assert first == datetime(2024, 3, 2, 9, tzinfo=NY)


def test_default_start_comes_from_the_clock() -> None:
    schedule = CronSchedule(cron="30 * * * *")
    with use_clock(FakeClock(wall=datetime(2030, 6, 1, 12, 10, tzinfo=UTC))) as clock:
        assert schedule.get_dates() == [datetime(2030, 6, 1, 12, 30, tzinfo=UTC)]
        clock.advance(3600)
        assert schedule.get_dates() == [datetime(2030, 6, 1, 13, 30, tzinfo=UTC)]
        clock.sleep(1800)  # a fake sleep moves the wall time too
        assert schedule.get_dates() == [datetime(2030, 6, 1, 14, 30, tzinfo=UTC)]
    with pytest.raises(ValueError, match="timezone-aware"):
        FakeClock(wall=datetime(2030, 6, 1))
    with pytest.raises(ValueError, match="only moves forward"):
        FakeClock().advance(-1)


def test_impossible_date_yields_nothing() -> None:
    assert CronSchedule(cron="0 0 30 2 *").get_dates(3, start=datetime(2024, 1, 1)) == []


def test_n_zero_is_empty_and_negative_is_refused() -> None:
    schedule = CronSchedule(cron="* * * * *")
    assert schedule.get_dates(0, start=datetime(2024, 1, 1)) == []
    with pytest.raises(ValueError, match="n must be 0 or more"):
        schedule.get_dates(-1, start=datetime(2024, 1, 1))


# --- DST: America/New_York springs forward 2024-03-10 02:00 -> 03:00 and falls
# back 2024-11-03 02:00 -> 01:00; Europe/London 2024-03-31 01:00 -> 02:00 and
# 2024-10-27 02:00 -> 01:00.


def test_daily_cron_keeps_local_time_across_both_changes() -> None:
    schedule = CronSchedule(cron="0 9 * * *", timezone="America/New_York")
    assert local(schedule, 3, datetime(2024, 3, 9, tzinfo=NY)) == [
        "2024-03-09 09:00 -0500", "2024-03-10 09:00 -0400", "2024-03-11 09:00 -0400"]
    assert local(schedule, 3, datetime(2024, 11, 2, tzinfo=NY)) == [
        "2024-11-02 09:00 -0400", "2024-11-03 09:00 -0500", "2024-11-04 09:00 -0500"]


def test_spring_forward_skipped_hour_is_not_fired_and_nothing_is_lost() -> None:
    hourly = CronSchedule(cron="0 * * * *", timezone="America/New_York")
    dates = hourly.get_dates(4, start=datetime(2024, 3, 10, 0, tzinfo=NY))
    # 02:00 does not exist that night: 01:00 EST is followed by 03:00 EDT, one
    # real hour later (as Prefect 2).
    assert utc_hours(dates) == ["10 05:00", "10 06:00", "10 07:00", "10 08:00"]
    assert [d.strftime("%H:%M") for d in dates] == ["00:00", "01:00", "03:00", "04:00"]


def test_spring_forward_time_in_the_gap_fires_after_it_once() -> None:
    at_half_past_two = CronSchedule(cron="30 2 * * *", timezone="America/New_York")
    assert local(at_half_past_two, 3, datetime(2024, 3, 9, 12, tzinfo=NY)) == [
        "2024-03-10 03:30 -0400", "2024-03-11 02:30 -0400", "2024-03-12 02:30 -0400"]


def test_fall_back_repeated_hour_fires_once_at_first_occurrence() -> None:
    hourly = CronSchedule(cron="0 * * * *", timezone="America/New_York")
    dates = hourly.get_dates(5, start=datetime(2024, 11, 3, 0, tzinfo=NY))
    assert [d.strftime("%H:%M %z") for d in dates] == [
        "00:00 -0400", "01:00 -0400", "02:00 -0500", "03:00 -0500", "04:00 -0500"]
    # No duplicate: 01:00 EST (06:00 UTC) is the same wall time, not fired again.
    assert utc_hours(dates) == ["03 04:00", "03 05:00", "03 07:00", "03 08:00", "03 09:00"]


def test_fall_back_daily_time_in_the_repeated_hour_fires_once() -> None:
    schedule = CronSchedule(cron="30 1 * * *", timezone="America/New_York")
    assert local(schedule, 3, datetime(2024, 11, 2, 12, tzinfo=NY)) == [
        "2024-11-03 01:30 -0400", "2024-11-04 01:30 -0500", "2024-11-05 01:30 -0500"]


def test_start_inside_the_second_pass_of_the_repeated_hour() -> None:
    # 01:10 EST: the 01:20 and 01:40 slots already fired during the first
    # pass (EDT); the next fire is 02:00 EST.
    every_20 = CronSchedule(cron="*/20 * * * *", timezone="America/New_York")
    start = datetime(2024, 11, 3, 6, 10, tzinfo=UTC)
    dates = every_20.get_dates(2, start=start)
    assert [d.strftime("%H:%M %z") for d in dates] == ["02:00 -0500", "02:20 -0500"]


def test_london_changes() -> None:
    hourly = CronSchedule(cron="0 * * * *", timezone="Europe/London")
    spring = hourly.get_dates(3, start=datetime(2024, 3, 31, 0, tzinfo=LONDON))
    assert [d.strftime("%H:%M %z") for d in spring] == ["00:00 +0000", "02:00 +0100",
                                                         "03:00 +0100"]
    fall = hourly.get_dates(4, start=datetime(2024, 10, 27, 0, tzinfo=LONDON))
    assert [d.strftime("%H:%M %z") for d in fall] == ["00:00 +0100", "01:00 +0100",
                                                       "02:00 +0000", "03:00 +0000"]
    at_half_past_one = CronSchedule(cron="30 1 * * *", timezone="Europe/London")
    assert local(at_half_past_one, 2, datetime(2024, 3, 30, 12, tzinfo=LONDON)) == [
        "2024-03-31 02:30 +0100", "2024-04-01 01:30 +0100"]
    assert local(at_half_past_one, 2, datetime(2024, 10, 26, 12, tzinfo=LONDON)) == [
        "2024-10-27 01:30 +0100", "2024-10-28 01:30 +0000"]


def test_results_are_in_the_schedule_timezone() -> None:
    schedule = CronSchedule(cron="0 9 * * *", timezone="Europe/London")
    [first] = schedule.get_dates(1, start=datetime(2024, 7, 1, tzinfo=UTC))
    assert first.tzinfo == LONDON
    assert first.isoformat() == "2024-07-01T09:00:00+01:00"
