"""``headwater config`` and ``headwater profile``."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from headwater.cli import app
from headwater.settings import get_current_settings, load_profiles

runner = CliRunner()


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in list(os.environ):
        if key.startswith("HEADWATER_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HEADWATER_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "home"


def cli(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_set_view_unset(home: Path) -> None:
    out = cli("config", "set", "HEADWATER_LOGGING_LEVEL=DEBUG", "logging.to_api.batch_size=10")
    assert "Set HEADWATER_LOGGING_LEVEL='DEBUG' in profile 'default'." in out
    assert get_current_settings().logging.level == "DEBUG"
    assert get_current_settings().logging.to_api.batch_size == 10
    view = cli("config", "view", "--show-sources")
    assert "HEADWATER_PROFILE='default'" in view
    assert "HEADWATER_LOGGING_LEVEL='DEBUG' (from profile 'default')" in view
    assert f"HEADWATER_HOME={str(home)!r} (from environment)" in view
    assert "(from" not in cli("config", "view")
    cli("config", "unset", "HEADWATER_LOGGING_LEVEL")
    assert get_current_settings().logging.level == "INFO"
    assert "is not set in profile" in cli("config", "unset", "HEADWATER_LOGGING_LEVEL", code=1)


def test_profile_file_is_private_and_secrets_are_masked(home: Path) -> None:
    out = cli("config", "set", "HEADWATER_API_KEY=hunter2")
    assert "hunter2" not in out and "'********'" in out
    assert stat.S_IMODE((home / "profiles.toml").stat().st_mode) == 0o600
    view = cli("config", "view", "--show-sources", "--show-defaults")
    assert "hunter2" not in view
    assert "HEADWATER_API_KEY='********' (from profile 'default')" in view
    assert "HEADWATER_LOGGING_TO_API_BATCH_SIZE='4000000' (from default)" in view


def test_set_rejects_unknown_keys_and_bad_values(home: Path) -> None:
    out = cli("config", "set", "HEADWATER_LOGGING_LEVL=INFO", code=1)
    assert "Unknown setting HEADWATER_LOGGING_LEVL. Did you mean HEADWATER_LOGGING_LEVEL" in out
    out = cli("config", "set", "HEADWATER_LOGGING_LEVEL=LOUD", code=1)
    assert "HEADWATER_LOGGING_LEVEL='LOUD'" in out and "'DEBUG', 'INFO'" in out
    out = cli("config", "set", "HEADWATER_LOGGING_TO_API_BATCH_SIZE=many", code=1)
    assert "valid integer" in out
    out = cli("config", "set", "HEADWATER_HOME=/elsewhere", code=1)
    assert "cannot be set in a profile" in out
    assert "KEY=VALUE" in cli("config", "set", "HEADWATER_LOGGING_LEVEL", code=1)
    assert not (home / "profiles.toml").exists()


def test_logging_overrides_can_live_in_a_profile() -> None:
    cli("config", "set", "HEADWATER_LOGGING_LOGGERS_HTTPX_LEVEL=INFO")
    out = cli("config", "set", "HEADWATER_LOGGING_HANDLERS_CONSOL_LEVEL=INFO", code=1)
    assert "Closest: HEADWATER_LOGGING_HANDLERS_CONSOLE_LEVEL" in out
    from headwater._private.logging_config import build_logging_config

    assert build_logging_config()["loggers"]["httpx"] == {"level": "INFO"}


def test_env_wins_over_profile_and_view_still_shows_bad_values(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEADWATER_API_URL", "http://env")
    out = cli("config", "set", "HEADWATER_API_URL=http://profile")
    assert "also set in the environment" in out
    assert get_current_settings().api.url == "http://env"
    monkeypatch.setenv("HEADWATER_LOGGING_LEVEL", "LOUD")
    view = cli("config", "view", code=1)
    assert "HEADWATER_LOGGING_LEVEL='LOUD'" in view and "Input should be" in view


def test_profiles_ls_create_use_delete(home: Path) -> None:
    cli("config", "set", "HEADWATER_API_URL=http://default")
    cli("profile", "create", "ci", "--from", "default")
    assert "already exists" in cli("profile", "create", "ci", code=1)
    cli("profile", "use", "ci")
    cli("config", "set", "HEADWATER_API_URL=http://ci")
    listing = cli("profile", "ls")
    assert "* " in listing and "ci" in listing and "default" in listing
    assert [line.split()[0] for line in listing.splitlines() if "*" in line] == ["*"]
    assert get_current_settings().api.url == "http://ci"
    assert "is active" in cli("profile", "delete", "ci", code=1)
    cli("profile", "use", "default")
    assert get_current_settings().api.url == "http://default"
    cli("profile", "delete", "ci")
    assert list(load_profiles(home / "profiles.toml").profiles) == ["default"]
    assert "does not exist" in cli("profile", "use", "ci", code=1)


@pytest.mark.slow
def test_module_entry_point(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    env["HEADWATER_HOME"] = str(tmp_path / "home")
    result = subprocess.run([sys.executable, "-m", "headwater.cli", "config", "view"],
                            capture_output=True, text=True, env=env, timeout=30, check=True)
    assert result.stdout.startswith("HEADWATER_PROFILE='default'")


def test_version_says_where_runs_go(home: Path) -> None:
    out = cli("version")
    assert "Version:" in out and "embedded" in out and "recording off" not in out
    off = runner.invoke(app, ["version"], env={"HEADWATER_API_ENABLE_RECORDING": "false"})
    assert "recording off" in off.output
