"""``headwater work-pool`` and ``headwater work-queue`` on the local database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from headwater.cli import app
from headwater.settings import temporary_settings

runner = CliRunner()


@pytest.fixture(autouse=True)
def home(tmp_path: Path) -> Iterator[Path]:
    with temporary_settings(HEADWATER_HOME=str(tmp_path / "home")):
        yield tmp_path / "home"


def ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_work_pools_from_the_command_line() -> None:
    assert "Created work pool 'gpu' (process, concurrency limit 2)" in ok(
        "work-pool", "create", "gpu", "--concurrency-limit", "2", "--require-labels")
    listed = json.loads(ok("work-pool", "ls", "--json"))
    assert [(p["name"], p["status"], p["require_labels"]) for p in listed] == [
        ("gpu", "NOT_READY", True)]
    ok("work-pool", "pause", "gpu")
    assert json.loads(ok("work-pool", "inspect", "gpu", "--json"))["status"] == "PAUSED"
    ok("work-pool", "resume", "gpu")
    shown = ok("work-pool", "inspect", "gpu")
    assert "labels required" in shown and "default" in shown
    ok("work-pool", "delete", "gpu")
    assert json.loads(ok("work-pool", "ls", "--json")) == []


def test_work_queues_from_the_command_line() -> None:
    ok("work-pool", "create", "p")
    assert "priority 1" in ok("work-queue", "create", "fast", "--pool", "p")
    ok("work-queue", "pause", "fast", "--pool", "p")
    queue = json.loads(ok("work-queue", "inspect", "fast", "--pool", "p", "--json"))
    assert (queue["is_paused"], queue["status"]) == (True, "PAUSED")
    ok("work-queue", "resume", "fast", "--pool", "p")
    names = [q["name"] for q in json.loads(ok("work-queue", "ls", "--pool", "p", "--json"))]
    assert names == ["default", "fast"]
    ok("work-queue", "delete", "fast", "--pool", "p")
    refused = runner.invoke(app, ["work-queue", "delete", "default", "--pool", "p"])
    assert refused.exit_code == 1 and "default queue" in refused.output


def test_an_unknown_pool_is_one_clear_error() -> None:
    result = runner.invoke(app, ["work-pool", "inspect", "nope"])
    assert result.exit_code == 1
    assert "Work pool not found" in result.output
    assert "Traceback" not in result.output
