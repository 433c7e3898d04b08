"""Runs named by id, a part of it, or a name; tables that tell runs apart; task-run commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from headwater import flow, get_run_logger, task
from headwater.cli import app

runner = CliRunner()


def cli(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@task(task_run_name="shout-{word}")
def shout(word: str) -> str:
    get_run_logger().info("shouting %s", word)
    return word.upper()


@flow
def loud(words: list[str]) -> list[str]:
    get_run_logger().info("starting")
    return [shout(w) for w in words]


def _runs() -> list[dict[str, Any]]:
    return list(json.loads(cli("flow-run", "ls", "--json")))


def test_a_table_shows_a_part_of_each_id_that_tells_runs_apart(home: Path) -> None:
    for _ in range(5):
        loud(["a"])
    table = cli("flow-run", "ls")
    tails = [r["id"].replace("-", "")[-8:] for r in _runs()]
    assert len(set(tails)) == 5
    assert all(tail in table for tail in tails)  # shown whole, at 80 columns


def test_a_run_is_found_by_a_prefix_a_tail_or_its_name(home: Path) -> None:
    loud(["a"])
    run = _runs()[0]
    for text in (run["id"][:13], run["id"].replace("-", "")[-8:], run["name"], run["id"]):
        assert json.loads(cli("flow-run", "inspect", text, "--json"))["id"] == run["id"]


def test_an_ambiguous_part_lists_the_candidates(home: Path) -> None:
    loud(["a"])
    loud(["b"])
    runs = _runs()
    common = runs[0]["id"][:4]  # ids made together share their leading (time) digits
    assert runs[1]["id"].startswith(common)
    result = runner.invoke(app, ["flow-run", "inspect", common])
    assert result.exit_code == 1
    assert f"2 flow runs match '{common}'" in result.output
    assert all(r["id"] in result.output and r["name"] in result.output for r in runs)


def test_unknown_runs_say_no_run_with_id_or_name(home: Path) -> None:
    loud(["a"])
    for command in (["flow-run", "inspect"], ["flow-run", "logs"], ["flow-run", "cancel"],
                    ["flow-run", "delete"], ["task-run", "inspect"], ["task-run", "logs"]):
        result = runner.invoke(app, [*command, "zzz-nothing"])
        assert result.exit_code == 1, command
        kind = command[0].replace("-", " ")
        assert f"no {kind} with id or name 'zzz-nothing'" in result.output
        assert "http" not in result.output.lower()  # no URL, no internal host name


def test_task_runs_are_inspected_and_their_logs_printed(home: Path) -> None:
    loud(["x", "y"])
    flow_run = _runs()[0]
    inspected = json.loads(cli("task-run", "inspect", "shout-x", "--json"))
    assert inspected["name"] == "shout-x" and inspected["flow_run_name"] == flow_run["name"]
    assert [s["type"] for s in inspected["states"]][-1] == "COMPLETED"
    shown = cli("task-run", "inspect", inspected["id"].replace("-", "")[-8:])
    assert f"in flow run {flow_run['name']}" in shown and "Completed" in shown
    logs = cli("task-run", "logs", "shout-y")
    assert "shouting y" in logs and "shouting x" not in logs
    by_flow_run = cli("task-run", "ls", "--flow-run", flow_run["name"], "--json")
    assert {r["name"] for r in json.loads(by_flow_run)} == {"shout-x", "shout-y"}


def test_flow_run_logs_say_which_run_wrote_each_line(home: Path) -> None:
    loud(["x", "y"])
    flow_run = _runs()[0]
    lines = cli("flow-run", "logs", flow_run["name"]).splitlines()
    writer = {line.split(" | ")[3]: line.split(" | ")[2].strip() for line in lines}
    assert writer["shouting x"] == "shout-x" and writer["shouting y"] == "shout-y"
    assert writer["starting"] == flow_run["name"]


def test_json_has_one_shape(home: Path) -> None:
    loud(["x"])
    run = _runs()[0]
    inspected = json.loads(cli("flow-run", "inspect", run["name"], "--json"))
    assert isinstance(inspected, dict) and inspected["id"] == run["id"]
    tasks = json.loads(cli("task-run", "ls", "--json"))
    assert isinstance(tasks, list) and set(tasks[0]) >= {"id", "name", "state_type"}
    lines = [json.loads(line)
             for line in cli("flow-run", "logs", run["id"], "--json").splitlines()]
    assert {line["flow_run_id"] for line in lines} == {run["id"]}


def test_several_runs_are_deleted_at_once(home: Path) -> None:
    for _ in range(3):
        loud(["a"])
    names = [r["name"] for r in _runs()]
    out = cli("flow-run", "delete", *names[:2])
    assert out.count("Deleted flow run") == 2
    assert [r["name"] for r in _runs()] == names[2:]


def test_delete_checks_every_run_before_deleting_any(home: Path) -> None:
    loud(["a"])
    result = runner.invoke(app, ["flow-run", "delete", _runs()[0]["name"], "nope-nope"])
    assert result.exit_code == 1 and "'nope-nope'" in result.output
    assert len(_runs()) == 1


def test_an_api_refusal_is_one_sentence_without_url_or_pydantic_list(home: Path) -> None:
    result = runner.invoke(app, ["flow-run", "ls", "--limit", "20000"])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert "refused the request as invalid: limit: Input should be less than or equal to " \
           "10000" in result.output
    for leak in ("http", "POST", "[{", "'loc'", "headwater.embedded"):
        assert leak not in result.output
