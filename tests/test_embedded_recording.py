"""Embedded recording: runs go to the local SQLite database and the CLI reads them back."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from headwater import flow, get_run_logger, task
from headwater._private import recording
from headwater.cli import app
from headwater.client import get_client
from headwater.settings import temporary_settings

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for key in list(os.environ):
        if key.startswith("HEADWATER_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HEADWATER_HOME", str(tmp_path / "home"))
    with temporary_settings(HEADWATER_API_ENABLE_RECORDING="true"):
        yield tmp_path / "home"
        recorder = recording.ACTIVE
    # Switch recording off again (closes the recorder's thread and database).
    recording.ensure_recorder()
    if recorder is not None:
        recorder.close()


@task
def shout(word: str) -> str:
    get_run_logger().info("shouting %s", word)
    return word.upper()


@flow
def loud(words: list[str]) -> list[str]:
    return [f.result() for f in shout.map(words)]


def cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_a_flow_is_recorded_with_its_task_runs_states_and_logs(home: Path) -> None:
    state = loud(["a", "b", "c"], return_state=True)
    assert state.result() == ["A", "B", "C"]
    assert (home / "headwater.db").exists()
    flow_run_id = str(state.state_details.flow_run_id)

    async def read() -> tuple[dict, list, list, list]:
        async with get_client() as client:
            run = await client.read_flow_run(flow_run_id)
            states = await client.read_flow_run_states(flow_run_id)
            tasks = await client.read_task_runs(flow_run_id=flow_run_id)
            logs = await client.read_logs(flow_run_id=flow_run_id)
            return run, states, tasks, logs

    run, states, tasks, logs = asyncio.run(read())
    assert run["state_type"] == "COMPLETED"
    assert run["parameters"] == {"words": ["a", "b", "c"]}
    assert [s["name"] for s in states] == ["Pending", "Running", "Completed"]
    assert sorted(t["name"] for t in tasks) == ["shout-0", "shout-1", "shout-2"]
    assert all(t["state_type"] == "COMPLETED" for t in tasks)
    assert sum("shouting" in line["message"] for line in logs) == 3


@pytest.mark.slow
def test_the_cli_lists_and_inspects_recorded_runs(home: Path) -> None:
    state = loud(["x"], return_state=True)
    flow_run_id = str(state.state_details.flow_run_id)
    listed = json.loads(cli("flow-run", "ls", "--json"))
    assert [r["id"] for r in listed] == [flow_run_id]
    assert listed[0]["flow_name"] == "loud"
    assert "loud" in cli("flow", "ls")
    inspected = json.loads(cli("flow-run", "inspect", flow_run_id, "--json"))
    assert [s["name"] for s in inspected["states"]] == ["Pending", "Running", "Completed"]
    assert [t["name"] for t in inspected["task_runs"]] == ["shout-0"]
    assert "shouting x" in cli("flow-run", "logs", flow_run_id)
    tasks = json.loads(cli("task-run", "ls", "--flow-run", flow_run_id, "--json"))
    assert len(tasks) == 1
    failed = json.loads(cli("flow-run", "ls", "--state", "FAILED", "--json"))
    assert failed == []


def test_the_cli_deletes_a_run_and_keeps_its_logs(home: Path) -> None:
    kept = loud(["k"], return_state=True)
    state = loud(["x", "y"], return_state=True)
    flow_run_id = str(state.state_details.flow_run_id)
    assert "Deleted flow run" in cli("flow-run", "delete", flow_run_id)
    listed = json.loads(cli("flow-run", "ls", "--json"))
    assert [r["id"] for r in listed] == [str(kept.state_details.flow_run_id)]
    gone = runner.invoke(app, ["task-run", "ls", "--flow-run", flow_run_id, "--json"])
    assert gone.exit_code == 1 and f"no flow run with id {flow_run_id}" in gone.output
    assert "shouting x" in cli("flow-run", "logs", flow_run_id)  # logs outlive their runs
    again = runner.invoke(app, ["flow-run", "delete", flow_run_id])
    assert again.exit_code == 1 and f"no flow run with id {flow_run_id}" in again.output
    bad = runner.invoke(app, ["flow-run", "delete", "nope"])
    assert bad.exit_code == 1 and "no flow run with id or name 'nope'" in bad.output


def test_a_failed_run_shows_its_reason(home: Path) -> None:
    @task
    def broken() -> None:
        raise ValueError("the disk is full")

    @flow
    def doomed() -> None:
        broken()

    state = doomed(return_state=True)
    assert state.is_failed()
    flow_run_id = str(state.state_details.flow_run_id)
    listed = json.loads(cli("flow-run", "ls", "--state", "failed", "--json"))
    assert [r["id"] for r in listed] == [flow_run_id]
    out = cli("flow-run", "inspect", flow_run_id)
    assert "the disk is full" in out


def test_a_cached_result_is_found_through_the_cache_key_index(home: Path) -> None:
    import datetime as dt

    @task(cache_key_fn=lambda _context, parameters: f"double-{parameters['x']}",
          cache_expiration=dt.timedelta(hours=1))
    def double(x: int) -> int:
        return 2 * x

    @flow
    def twice() -> int:
        return double(21)

    first = twice(return_state=True)
    second = twice(return_state=True)  # a cache hit: a Cached state under the same key
    assert first.result() == second.result() == 42

    async def read() -> tuple[dict, list]:
        async with get_client() as client:
            entry = await client.read_cache_key("double-21")
            runs = await client.read_task_runs(
                flow_run_id=second.state_details.flow_run_id)
            return entry, runs

    entry, runs = asyncio.run(read())
    (cached_run,) = runs
    assert entry["task_run_id"] == cached_run["id"]  # the newest state under the key
    assert entry["state"]["name"] == "Cached" and entry["cache_expiration"] is not None
