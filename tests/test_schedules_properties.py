"""Properties of every schedule's get_dates, and the JSON round trip (hypothesis)."""

from __future__ import annotations

import itertools
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from headwater.schedules import (
    SCHEDULE_TYPES,
    CronSchedule,
    DeploymentScheduleCreate,
    IntervalSchedule,
    RRuleSchedule,
    schedule_from_json,
    schedule_to_json,
)

UTC = timezone.utc
ZONES = ["UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata",
         "America/Santiago", "Pacific/Apia"]
zones = st.sampled_from(ZONES)
crons = st.sampled_from(["* * * * *", "0 * * * *", "30 2 * * *", "*/7 1-3 * * *",
                         "0 9 * * MON-FRI", "15 1 1,15 * *", "0 0 13 * FRI", "@daily"])
rrules = st.sampled_from([
    "FREQ=HOURLY", "FREQ=DAILY;BYHOUR=2;BYMINUTE=30", "FREQ=WEEKLY;BYDAY=MO,WE",
    "DTSTART:20200301T013000\nRRULE:FREQ=DAILY", "FREQ=MINUTELY;INTERVAL=17",
    "DTSTART:20240101T000000\nRRULE:FREQ=DAILY;COUNT=5",
])
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1),
                       timezones=st.just(UTC))
intervals = st.one_of(
    st.integers(min_value=1, max_value=10 * 86400).map(lambda s: timedelta(seconds=s)),
    st.integers(min_value=1, max_value=30).map(lambda d: timedelta(days=d)),
    st.floats(min_value=0.001, max_value=1e6).map(lambda s: timedelta(seconds=s)),
)
schedules: st.SearchStrategy[SCHEDULE_TYPES] = st.one_of(
    st.builds(CronSchedule, cron=crons, timezone=st.one_of(st.none(), zones),
              day_or=st.booleans()),
    st.builds(IntervalSchedule, interval=intervals, anchor_date=moments, timezone=zones),
    st.builds(RRuleSchedule, rrule=rrules, timezone=zones),
)


@settings(max_examples=150, deadline=None)
@given(schedule=schedules, start=moments, n=st.integers(min_value=0, max_value=40))
def test_dates_are_increasing_aware_at_or_after_start_and_count_honoured(
    schedule: SCHEDULE_TYPES, start: datetime, n: int,
) -> None:
    dates = schedule.get_dates(n, start=start)
    instants = [d.astimezone(UTC) for d in dates]
    assert all(d.tzinfo is not None for d in dates)
    assert all(a < b for a, b in itertools.pairwise(instants))
    assert all(d >= start for d in instants)
    bounded = isinstance(schedule, RRuleSchedule) and "COUNT" in schedule.rrule
    if not bounded:
        assert len(dates) == n


@settings(max_examples=100, deadline=None)
@given(schedule=schedules, start=moments, span=st.integers(min_value=0, max_value=3 * 86400))
def test_dates_up_to_end_are_within_start_and_end_and_continue_each_other(
    schedule: SCHEDULE_TYPES, start: datetime, span: int,
) -> None:
    end = start + timedelta(seconds=span)
    dates = [d.astimezone(UTC) for d in schedule.get_dates(start=start, end=end)]
    assert all(start <= d <= end for d in dates)
    if dates and len(dates) < 1000:
        # Asking again from just after a date gives the following ones.
        later = schedule.get_dates(start=dates[0] + timedelta(microseconds=1), end=end)
        assert [d.astimezone(UTC) for d in later] == dates[1:]


@settings(max_examples=150, deadline=None)
@given(schedule=schedules)
def test_json_round_trip(schedule: SCHEDULE_TYPES) -> None:
    data = schedule_to_json(schedule)
    assert set(data) == set(type(schedule).model_fields)
    again = schedule_from_json(data)
    assert type(again) is type(schedule)
    assert again == schedule
    start = datetime(2030, 1, 1, tzinfo=UTC)
    assert again.get_dates(5, start=start) == schedule.get_dates(5, start=start)


@settings(max_examples=50, deadline=None)
@given(schedule=schedules, active=st.booleans(),
       parameters=st.dictionaries(st.text(min_size=1, max_size=5), st.integers()),
       slug=st.one_of(st.none(), st.text(max_size=10)))
def test_deployment_schedule_round_trips_through_json(
    schedule: SCHEDULE_TYPES, active: bool, parameters: dict[str, int], slug: str | None,
) -> None:
    created = DeploymentScheduleCreate(schedule=schedule, active=active,
                                       parameters=parameters, slug=slug)
    again = DeploymentScheduleCreate.model_validate_json(created.model_dump_json())
    assert again == created
    assert type(again.schedule) is type(schedule)


def test_json_shapes_are_prefect_2_rest_shapes() -> None:
    anchor = datetime(2024, 1, 1, 9, tzinfo=UTC)
    assert schedule_to_json(IntervalSchedule(interval=90, anchor_date=anchor)) == {
        "interval": 90.0, "anchor_date": "2024-01-01T09:00:00+00:00", "timezone": "UTC"}
    assert schedule_to_json(CronSchedule(cron="0 9 * * *", timezone="Europe/London")) == {
        "cron": "0 9 * * *", "timezone": "Europe/London", "day_or": True}
    assert schedule_to_json(RRuleSchedule(rrule="FREQ=DAILY")) == {
        "rrule": "FREQ=DAILY", "timezone": "UTC"}


def test_deployment_schedule_defaults() -> None:
    created = DeploymentScheduleCreate(schedule={"cron": "0 9 * * *"})
    assert created.model_dump(mode="json") == {
        "schedule": {"cron": "0 9 * * *", "timezone": None, "day_or": True},
        "active": True, "parameters": {}, "slug": None}


@pytest.mark.parametrize("data", [{"crn": "0 9 * * *"}, {"cron": "* * * * *", "rrule": "x"}])
def test_json_without_exactly_one_kind_is_refused(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="exactly one of the keys interval, cron, rrule"):
        schedule_from_json(data)
    with pytest.raises(ValidationError, match="exactly one of the keys interval, cron, rrule"):
        DeploymentScheduleCreate(schedule=data)


def test_json_with_a_bad_value_names_it() -> None:
    with pytest.raises(ValidationError, match='Invalid cron string "nope"'):
        schedule_from_json({"cron": "nope"})
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        schedule_from_json({"cron": "* * * * *", "colour": "blue"})


def test_import_headwater_does_not_import_the_schedule_libraries() -> None:
    code = ("import sys, headwater, headwater.schedules; "
            "print(sorted(m for m in ('croniter', 'dateutil') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


@settings(max_examples=100, deadline=None)
@given(
    freq=st.sampled_from(["SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY"]),
    interval=st.integers(min_value=1, max_value=50),
    extra=st.sampled_from(["", ";BYDAY=MO,FR", ";BYSECOND=0,30", ";BYMINUTE=5,50",
                           ";BYHOUR=1,13", ";WKST=SU;BYDAY=SU,TU"]),
    dtstart=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2024, 2, 1)),
    offset=st.integers(min_value=0, max_value=60 * 86400),
)
def test_rrule_dates_match_dateutil_counted_from_dtstart(
    freq: str, interval: int, extra: str, dtstart: datetime, offset: int,
) -> None:
    from dateutil.rrule import rrulestr

    dtstart = dtstart.replace(microsecond=0)
    text = f"DTSTART:{dtstart:%Y%m%dT%H%M%S}\nRRULE:FREQ={freq};INTERVAL={interval}{extra}"
    start = dtstart + timedelta(seconds=offset)
    try:
        expected = list(rrulestr(text).xafter(start, count=5, inc=True))
    except ValueError:  # e.g. BYHOUR=1,13 unreachable every 2 hours from 00:00
        with pytest.raises(ValidationError, match="Invalid RRule string"):
            RRuleSchedule(rrule=text)
        return
    got = RRuleSchedule(rrule=text, timezone="UTC").get_dates(5, start=start)
    assert [d.replace(tzinfo=None) for d in got] == expected
