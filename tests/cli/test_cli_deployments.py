"""``headwater deployment``, ``deployment schedule``, ``project`` and ``flow-run ls --deployment``.

Against the embedded API (a SQLite file under a temporary HEADWATER_HOME).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from headwater.cli import app
from headwater.settings import temporary_settings

SCHEMA = {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}
HOURLY = {"interval": 3600.0, "anchor_date": "2024-01-01T00:00:00+00:00"}


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    with temporary_settings(HEADWATER_HOME=str(tmp_path / "home")):
        yield tmp_path / "home"


def _deploy(**fields: Any) -> dict[str, Any]:
    from headwater.client import get_client

    with get_client(sync_client=True) as client:
        flow = client.request("POST", "flows/", json={"name": "etl"})
        body = {"name": "nightly", "flow_id": flow["id"], "parameters": {"x": 1},
                "parameter_openapi_schema": SCHEMA, "entrypoint": "flows.py:etl",
                "schedules": [{"schedule": HOURLY}], **fields}
        deployment, _ = client.create_deployment(**body)
        return dict(deployment)


def _run(*args: str) -> Any:
    result = CliRunner().invoke(app, list(args))
    return result


def test_list_inspect_and_versions(home: Path) -> None:
    first = _deploy(version="1", tags=["prod"])
    listed = _run("deployment", "ls")
    assert listed.exit_code == 0, listed.output
    assert "etl/nightly" in listed.output and "1/1 active" in listed.output
    inspected = _run("deployment", "inspect", "etl/nightly")
    assert inspected.exit_code == 0, inspected.output
    assert "every 1h" in inspected.output and "flows.py:etl" in inspected.output
    _deploy(version="2", parameters={"x": 2})
    versions = json.loads(_run("deployment", "versions", "etl/nightly", "--json").output)
    assert [(v["version"], v["archived"]) for v in versions] == [("2", False), ("1", True)]
    by_id = json.loads(_run("deployment", "inspect", first["id"], "--json").output)
    assert by_id["archived"] is True
    everything = json.loads(_run("deployment", "ls", "--archived", "--json").output)
    assert len(everything) == 2


def test_run_with_parameters_and_list_its_runs(home: Path) -> None:
    _deploy()
    made = _run("deployment", "run", "etl/nightly", "-p", "x=3", "--tag", "adhoc", "--json")
    assert made.exit_code == 0, made.output
    run = json.loads(made.output)
    assert run["parameters"] == {"x": 3} and "adhoc" in run["tags"]
    assert run["state"]["name"] == "Scheduled"
    bad = _run("deployment", "run", "etl/nightly", "-p", "x=three")
    assert bad.exit_code == 1 and "Error:" in bad.output and "'x'" in bad.output
    assert "Traceback" not in bad.output
    runs = json.loads(_run("flow-run", "ls", "--deployment", "etl/nightly", "--json").output)
    assert [r["id"] for r in runs] == [run["id"]]
    table = _run("flow-run", "ls", "--deployment", "etl/nightly")
    assert run["name"] in table.output


def test_pause_resume_schedules_and_delete(home: Path) -> None:
    deployment = _deploy()
    assert "Paused etl/nightly" in _run("deployment", "pause", "etl/nightly").output
    paused = json.loads(_run("deployment", "inspect", "etl/nightly", "--json").output)
    assert paused["paused"] is True
    assert "Resumed" in _run("deployment", "resume", "etl/nightly").output
    schedule_id = deployment["schedules"][0]["id"]
    out = _run("deployment", "schedule", "pause", "etl/nightly", schedule_id)
    assert out.exit_code == 0 and "paused" in out.output
    schedules = json.loads(_run("deployment", "schedule", "ls", "etl/nightly", "--json").output)
    assert schedules[0]["active"] is False
    _run("deployment", "schedule", "resume", "etl/nightly", schedule_id)
    assert "yes" in _run("deployment", "schedule", "ls", "etl/nightly").output
    deleted = _run("deployment", "delete", "etl/nightly")
    assert deleted.exit_code == 0 and "1 version" in deleted.output
    gone = _run("deployment", "inspect", "etl/nightly")
    assert gone.exit_code == 1 and "not found" in gone.output


def test_projects_and_bad_names(home: Path) -> None:
    _deploy(project="sales")
    assert "Project 'ops'" in _run("project", "create", "ops", "--description", "x").output
    names = [p["name"] for p in json.loads(_run("project", "ls", "--json").output)]
    assert names == ["ops", "sales"]
    bad = _run("deployment", "inspect", "nightly")
    assert bad.exit_code == 1 and "FLOW/DEPLOYMENT" in bad.output
    assert "Traceback" not in bad.output
    bad_param = _run("deployment", "run", "etl/nightly", "-p", "novalue")
    assert bad_param.exit_code == 1 and "give it as name=value" in bad_param.output


def test_watch_prints_each_state_until_the_run_ends(capsys: pytest.CaptureFixture[str]) -> None:
    import anyio

    from headwater.cli._deployments import _watch

    states = [("s1", "SCHEDULED", "Scheduled", None), ("s1", "SCHEDULED", "Scheduled", None),
              ("s2", "RUNNING", "Running", None), ("s3", "FAILED", "Failed", "boom")]

    class Client:
        async def read_flow_run(self, run_id: str) -> dict[str, Any]:
            state_id, type_, name, message = states.pop(0)
            return {"id": run_id, "state_type": type_,
                    "state": {"id": state_id, "name": name, "message": message,
                              "timestamp": "2024-01-01T00:00:00+00:00"}}

    final = anyio.run(lambda: _watch(Client(), "r", poll=0))
    assert final["state_type"] == "FAILED" and states == []
    out = capsys.readouterr().out.splitlines()
    assert [line.split(" ", 2)[2] for line in out] == ["Scheduled", "Running", "Failed: boom"]


def test_tables_show_id_tails_that_commands_take(home: Path) -> None:
    deployed = _deploy(version="1")
    tail = deployed["id"].replace("-", "")[-8:]
    listed = _run("deployment", "ls")
    assert tail in listed.output and deployed["id"] not in listed.output
    inspected = _run("deployment", "inspect", tail, "--json")
    assert inspected.exit_code == 0, inspected.output
    assert json.loads(inspected.output)["id"] == deployed["id"]
    missing = _run("deployment", "inspect", "abcdef12")
    assert missing.exit_code == 1 and "no deployment with id 'abcdef12'" in missing.output

    [schedule] = deployed["schedules"]
    schedule_tail = schedule["id"].replace("-", "")[-8:]
    assert schedule_tail in _run("deployment", "schedule", "ls", "etl/nightly").output
    paused = _run("deployment", "schedule", "pause", "etl/nightly", schedule_tail)
    assert paused.exit_code == 0, paused.output
    shown = json.loads(_run("deployment", "schedule", "ls", "etl/nightly", "--json").output)
    assert [s["active"] for s in shown] == [False]
