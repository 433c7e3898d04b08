"""``Flow.to_deployment``: the version hash, schedules and parameter checks (nothing registered)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from headwater.deployments import DeploymentError, RunnerDeployment

SOURCE = """
    from headwater import flow

    @flow
    def etl(day: str, retries: int = 1) -> str:
        return day * retries
"""


def load(path: Path, source: str = SOURCE) -> ModuleType:
    path.write_text(textwrap.dedent(source))
    name = f"mod_{abs(hash((str(path), source)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def etl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "flows").mkdir()
    return load(tmp_path / "flows" / "etl.py").etl


def test_a_deployment_describes_the_flow_where_it_is(etl: Any, tmp_path: Path) -> None:
    d = etl.to_deployment("prod", parameters={"day": "mon"}, tags=["a"])
    assert isinstance(d, RunnerDeployment)
    assert d.full_name == "etl/prod" and d.entrypoint == "flows/etl.py:etl"
    assert d.code_location == {"kind": "local", "path": str(tmp_path.resolve())}
    assert d.parameters == {"day": "mon"} and d.tags == ["a"]
    assert d.parameter_openapi_schema["required"] == ["day"]
    assert d.version == d.version_hash[:12] and len(d.version_hash) == 64


def test_the_version_hash_is_stable_and_follows_what_makes_a_version(etl: Any,
                                                                      tmp_path: Path) -> None:
    base = etl.to_deployment("prod", cron="0 * * * *", parameters={"day": "mon"})
    same = etl.to_deployment("prod", cron="0 * * * *", parameters={"day": "mon"})
    assert base.version_hash == same.version_hash
    paused = etl.to_deployment("prod", cron="0 * * * *", parameters={"day": "mon"},
                               paused=True)
    assert paused.version_hash == base.version_hash  # pausing is not a new version
    changes = [
        etl.to_deployment("prod", cron="5 * * * *", parameters={"day": "mon"}),
        etl.to_deployment("prod", cron="0 * * * *", parameters={"day": "tue"}),
        etl.to_deployment("prod", cron="0 * * * *", parameters={"day": "mon"}, tags=["x"]),
        etl.to_deployment("other", cron="0 * * * *", parameters={"day": "mon"}),
    ]
    hashes = {c.version_hash for c in changes}
    assert len(hashes) == 4 and base.version_hash not in hashes
    edited = load(tmp_path / "flows" / "etl.py", SOURCE + "\n    # a comment\n").etl
    assert edited.to_deployment("prod", cron="0 * * * *",
                                parameters={"day": "mon"}).version_hash != base.version_hash


def test_an_interval_anchored_now_by_default_is_not_a_new_version(etl: Any) -> None:
    from headwater.testing import FakeClock, use_clock

    hashes = set()
    for year in (2024, 2025):
        with use_clock(FakeClock(wall=dt.datetime(year, 1, 1, tzinfo=dt.timezone.utc))):
            d = etl.to_deployment("prod", interval=60, parameters={"day": "mon"})
        hashes.add(d.version_hash)
        assert "__headwater" not in str(d.schedules)
    assert len(hashes) == 1
    anchored = etl.to_deployment("prod", interval=60, parameters={"day": "mon"},
                                 anchor_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc))
    assert anchored.version_hash not in hashes


def test_a_given_version_is_the_version(etl: Any) -> None:
    one = etl.to_deployment("prod", version="1.0", parameters={"day": "a"})
    again = etl.to_deployment("prod", version="1.0", parameters={"day": "b"})
    assert one.version == "1.0" and one.version_hash == again.version_hash


def test_schedules_are_stored_in_prefect_2_json(etl: Any) -> None:
    anchor = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    d = etl.to_deployment("prod", cron=["0 1 * * *", "0 2 * * *"],
                          interval=dt.timedelta(hours=1), rrule="FREQ=DAILY",
                          timezone="Europe/Paris", anchor_date=anchor,
                          parameters={"day": "mon"},
                          schedules=[{"schedule": {"interval": 60}, "active": False,
                                      "parameters": {"day": "sun"}}])
    assert [s["schedule"] for s in d.schedules[:-1]] == [
        {"cron": "0 1 * * *", "timezone": "Europe/Paris", "day_or": True},
        {"cron": "0 2 * * *", "timezone": "Europe/Paris", "day_or": True},
        {"interval": 3600.0, "timezone": "Europe/Paris", "anchor_date": anchor.isoformat()},
        {"rrule": "FREQ=DAILY", "timezone": "Europe/Paris"}]
    last = d.schedules[-1]["schedule"]  # anchored now, as Prefect 2 does
    assert last["interval"] == 60 and last["timezone"] == "UTC" and last["anchor_date"]
    assert d.schedules[-1]["active"] is False and d.schedules[-1]["parameters"] == {"day": "sun"}


def test_required_parameters_a_schedule_would_miss_are_refused_by_name(etl: Any) -> None:
    with pytest.raises(DeploymentError, match="requires 'day', which neither the deployment"):
        etl.to_deployment("prod", interval=60)
    # supplied by the deployment, or by each schedule: accepted
    etl.to_deployment("prod", interval=60, parameters={"day": "mon"})
    etl.to_deployment("prod", schedules=[{"schedule": {"interval": 60},
                                          "parameters": {"day": "mon"}}])
    # no schedule: each run gives it
    assert etl.to_deployment("prod").parameters == {}


def test_parameters_are_checked_against_the_flow(etl: Any) -> None:
    with pytest.raises(DeploymentError, match="has no parameter 'dya'; its parameters are "
                       "day, retries"):
        etl.to_deployment("prod", parameters={"dya": "mon"})
    with pytest.raises(DeploymentError, match="parameter 'retries'"):
        etl.to_deployment("prod", parameters={"day": "mon", "retries": "many"})


def test_bad_names_and_unsupported_options(etl: Any) -> None:
    with pytest.raises(DeploymentError, match="without '/'"):
        etl.to_deployment("a/b")
    with pytest.raises(DeploymentError, match="triggers= is not supported"):
        etl.to_deployment("prod", triggers=[object()])
    with pytest.raises(DeploymentError, match="an interval must be more than 0"):
        etl.to_deployment("prod", interval=0)


@pytest.mark.parametrize(("options", "message"), [
    ({"cron": "bad"}, "cron: Invalid cron string \"bad\": it has 1"),
    ({"interval": 60, "timezone": "Mars/Base"}, "timezone: Invalid timezone: \"Mars/Base\""),
    ({"rrule": "NOPE"}, "rrule: Invalid RRule string \"NOPE\""),
])
def test_bad_schedules_are_refused_naming_the_field(etl: Any, options: dict[str, Any],
                                                     message: str) -> None:
    with pytest.raises(DeploymentError) as info:
        etl.to_deployment("prod", parameters={"day": "mon"}, **options)
    assert message in str(info.value) and "validation error" not in str(info.value)


def test_schedule_objects_are_accepted(etl: Any) -> None:
    from headwater.schedules import CronSchedule, DeploymentScheduleCreate, IntervalSchedule

    d = etl.to_deployment("prod", parameters={"day": "mon"}, schedules=[
        CronSchedule(cron="0 9 * * *", timezone="Europe/London"),
        DeploymentScheduleCreate(schedule=IntervalSchedule(interval=120), active=False,
                                 parameters={"retries": 2})])
    assert d.schedules[0]["schedule"] == {"cron": "0 9 * * *", "timezone": "Europe/London",
                                          "day_or": True}
    assert d.schedules[1]["schedule"]["interval"] == 120
    assert d.schedules[1]["active"] is False and d.schedules[1]["parameters"] == {"retries": 2}


def test_a_flow_defined_in_a_function_cannot_be_deployed(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    module = load(tmp_path / "nested.py", """
        from headwater import flow

        def make():
            @flow
            def inner() -> None: ...
            return inner
    """)
    with pytest.raises(DeploymentError, match=r"defined inside 'make'.*Move it to the top level"):
        module.make().to_deployment("prod")
