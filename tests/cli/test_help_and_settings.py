"""Every command: help pages without ``<bool>``, and one line for a broken setting."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from headwater.cli import app, main

# Commands that must work while the settings are broken (to fix them).
FIXERS = ("config", "profile", "migrate")


def _commands() -> Iterator[tuple[list[str], Any]]:
    # typer 0.2x has its own copy of click: commands are walked by their attributes.
    def walk(path: list[str], command: Any) -> Iterator[tuple[list[str], Any]]:
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                yield from walk([*path, name], sub)
        else:
            yield path, command

    yield from walk([], typer.main.get_command(app))


COMMANDS = list(_commands())


def test_there_are_commands_to_check() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"flow-run ls", "task-run inspect", "server status", "records flush"} <= names


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=" ".join)
def test_no_help_page_shows_a_type_after_a_flag(path: list[str]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output
    assert "--help" in result.output


def _required_arguments(command: Any) -> list[str]:
    return ["x" for p in command.params if p.param_type_name == "argument" and p.required]


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS if p[0] not in FIXERS], ids=" ".join)
def test_a_broken_setting_is_one_line_and_exit_status_2(
        path: list[str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    command = {tuple(p): c for p, c in COMMANDS}[tuple(path)]
    monkeypatch.setenv("HEADWATER_SERVER_API_KEY", "")
    monkeypatch.setattr(sys, "argv", ["headwater", *path, *_required_arguments(command)])
    with pytest.raises(SystemExit) as done:
        main()
    out, err = capsys.readouterr()
    assert done.value.code == 2
    assert err.count("\n") == 1 and err.startswith("Error: Invalid setting ")
    assert "HEADWATER_SERVER_API_KEY" in err and out == ""
