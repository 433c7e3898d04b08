"""The command line as a person meets it: --version, one-line errors, run names, paging."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from headwater import flow, task
from headwater.cli import app, main
from headwater.settings import temporary_settings


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    with temporary_settings(HEADWATER_HOME=str(tmp_path / "home")):
        yield tmp_path / "home"


def _main(args: list[str], monkeypatch: pytest.MonkeyPatch,
          capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["headwater", *args])
    with pytest.raises(SystemExit) as done:
        main()
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


def test_version(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from headwater import __version__

    code, out, _ = _main(["--version"], monkeypatch, capsys)
    assert code == 0 and out.strip() == f"headwater {__version__}"


def test_a_bad_setting_is_one_line_without_a_traceback(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HEADWATER_SERVER_API_KEY", "")
    code, _, err = _main(["flow-run", "ls"], monkeypatch, capsys)
    assert code == 2
    assert err.startswith("Error: Invalid setting HEADWATER_SERVER_API_KEY")
    assert "Traceback" not in err and err.count("HEADWATER_SERVER_API_KEY is set but empty") == 1


def test_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    from headwater.exceptions import SettingsError

    monkeypatch.setenv("HEADWATER_SERVER_API_KEY", "")
    monkeypatch.setattr(sys, "argv", ["headwater", "--debug", "flow-run", "ls"])
    with pytest.raises(SettingsError):
        main()


def test_a_bad_state_lists_the_valid_ones(home: Path) -> None:
    result = CliRunner().invoke(app, ["flow-run", "ls", "--state", "done"])
    assert result.exit_code == 1
    assert "--state 'done' is not a state type" in result.output
    assert "COMPLETED" in result.output and "CRASHED" in result.output


@task
def one(i: int) -> int:
    return i


@flow(flow_run_name="nightly-{n}")
def numbered(n: int) -> int:
    return sum(one.map(range(3)).result())


def test_runs_are_found_by_name_and_an_unknown_one_says_so(home: Path) -> None:
    numbered(1)
    numbered(2)
    numbered(2)
    runner = CliRunner()
    found = runner.invoke(app, ["flow-run", "inspect", "nightly-1", "--json"])
    assert found.exit_code == 0, found.output
    assert json.loads(found.output)["name"] == "nightly-1"
    ambiguous = runner.invoke(app, ["flow-run", "logs", "nightly-2"])
    assert ambiguous.exit_code != 0
    assert "2 flow runs match 'nightly-2'" in ambiguous.output
    missing = runner.invoke(app, ["flow-run", "inspect", "nightly-9"])
    assert "no flow run with id or name 'nightly-9'" in missing.output


def test_run_lists_page_and_task_runs_list_without_a_flow_run(home: Path) -> None:
    for n in range(3):
        numbered(n)
    runner = CliRunner()
    first = json.loads(runner.invoke(app, ["flow-run", "ls", "--limit", "2", "--json"]).output)
    rest = json.loads(runner.invoke(app, ["flow-run", "ls", "--limit", "2", "--offset", "2",
                                          "--json"]).output)
    assert len(first) == 2 and len(rest) == 1
    assert {r["id"] for r in first}.isdisjoint(r["id"] for r in rest)
    recent = runner.invoke(app, ["task-run", "ls", "--limit", "4", "--json"])
    assert recent.exit_code == 0, recent.output
    assert len(json.loads(recent.output)) == 4
