"""``headwater concurrency-limit``: create, inspect, ls, reset, delete (the limits file)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from headwater._private.concurrency import get_slot_manager, reset_slot_manager
from headwater.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for key in list(os.environ):
        if key.startswith("HEADWATER_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HEADWATER_HOME", str(tmp_path / "home"))
    # Limits in the local file: the backend when runs are not recorded.
    monkeypatch.setenv("HEADWATER_API_ENABLE_RECORDING", "false")
    monkeypatch.chdir(tmp_path)
    reset_slot_manager()
    yield tmp_path / "home"
    reset_slot_manager()


def cli(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, ["concurrency-limit", *args])
    assert result.exit_code == code, result.output
    return result.output


def test_create_ls_inspect_delete(home: Path) -> None:
    assert "No concurrency limits." in cli("ls")
    assert "Created concurrency limit for tag 'db': 2" in cli("create", "db", "2")
    assert "Updated concurrency limit for tag 'db': 3" in cli("create", "db", "3")
    cli("create", "api", "1")
    listing = cli("ls")
    assert "db" in listing and "3" in listing and "api" in listing
    assert "concurrency_limit: 3" in cli("inspect", "db")
    data = json.loads((home / "concurrency_limits.json").read_text())
    assert data["limits"]["tag:db"] == {"limit": 3, "slot_decay_per_second": 0.0}
    assert "Deleted" in cli("delete", "db")
    assert "tag:db" not in json.loads((home / "concurrency_limits.json").read_text())["limits"]


def test_missing_tag_errors(home: Path) -> None:
    for command in ("inspect", "reset", "delete"):
        assert "No concurrency limit for tag 'nope'" in cli(command, "nope", code=1)


def test_reset_explains_where_slots_live(home: Path) -> None:
    cli("create", "db", "1")
    assert "reset_concurrency_limit" in cli("reset", "db")


def test_negative_limit_is_refused(home: Path) -> None:
    cli("create", "db", "-1", code=2)


def test_corrupt_file_is_reported(home: Path) -> None:
    home.mkdir(parents=True)
    (home / "concurrency_limits.json").write_text("{not json")
    assert "not a valid concurrency limits file" in cli("ls", code=1)


def test_a_new_process_manager_loads_cli_limits(home: Path) -> None:
    cli("create", "db", "2")
    manager = get_slot_manager()
    assert manager.limited_tags == frozenset({"db"})
    info = manager.read_limit("tag:db")
    assert info is not None and info.limit == 2
