"""Settings: sources and their precedence, validation errors, the cache, profiles."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from headwater.settings import (
    Profile,
    ProfilesCollection,
    Settings,
    SettingsError,
    get_current_settings,
    load_profiles,
    save_profiles,
    temporary_settings,
)


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in list(os.environ):
        if key.startswith("HEADWATER_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HEADWATER_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "home"


def write_profile(home: Path, values: dict[str, str], name: str = "default") -> None:
    collection = ProfilesCollection(active=name, profiles={name: Profile(name, values)})
    save_profiles(collection, home / "profiles.toml")


def test_defaults(home: Path) -> None:
    settings = get_current_settings()
    assert settings.home == home
    assert settings.logging.level == "INFO"
    assert settings.logging.to_api.when_missing_flow == "warn"
    assert settings.local_storage_path == home / "storage"
    assert settings.profiles_path == home / "profiles.toml"
    assert Settings().logging.extra_loggers == ()


def test_env_names_follow_the_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEADWATER_LOGGING_TO_API_BATCH_SIZE", "1000")
    monkeypatch.setenv("HEADWATER_TASK_RUNNER_THREAD_POOL_MAX_WORKERS", "3")
    monkeypatch.setenv("HEADWATER_TASKS_REFRESH_CACHE", "true")
    monkeypatch.setenv("HEADWATER_API_URL", "http://x/api")
    settings = get_current_settings()
    assert settings.logging.to_api.batch_size == 1000
    assert settings.task_runner.thread_pool_max_workers == 3
    assert settings.tasks.refresh_cache is True
    assert settings.api.url == "http://x/api"


@pytest.mark.parametrize("raw", ["httpx,sqlalchemy", " httpx , sqlalchemy ",
                                 '["httpx", "sqlalchemy"]'])
def test_extra_loggers_comma_or_json(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("HEADWATER_LOGGING_EXTRA_LOGGERS", raw)
    assert get_current_settings().logging.extra_loggers == ("httpx", "sqlalchemy")


def test_precedence_override_env_dotenv_profile_default(
        home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_profile(home, {"HEADWATER_LOGGING_LEVEL": "ERROR", "HEADWATER_API_URL": "http://profile/api",
                         "HEADWATER_API_KEY": "p", "HEADWATER_LOGGING_LOG_PRINTS": "true"})
    (tmp_path / ".env").write_text("HEADWATER_LOGGING_LEVEL=WARNING\nHEADWATER_API_URL=http://dotenv/api\n"
                                   "OTHER=1\n")
    monkeypatch.setenv("HEADWATER_LOGGING_LEVEL", "DEBUG")
    settings = get_current_settings()
    assert settings.logging.level == "DEBUG"  # environment beats .env and profile
    assert settings.api.url == "http://dotenv/api"  # .env beats profile
    assert settings.logging.log_prints is True  # profile beats default
    with temporary_settings(HEADWATER_LOGGING_LEVEL="CRITICAL"):
        assert get_current_settings().logging.level == "CRITICAL"
    assert get_current_settings().logging.level == "DEBUG"


def test_temporary_settings_restore_defaults_and_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEADWATER_LOGGING_LEVEL", "DEBUG")
    with temporary_settings({"logging.to_api.batch_interval": 0.5},
                            restore_defaults=["HEADWATER_LOGGING_LEVEL"]) as settings:
        assert settings.logging.level == "INFO"
        assert settings.logging.to_api.batch_interval == 0.5
        with temporary_settings(LOGGING_LEVEL="ERROR"):
            assert get_current_settings().logging.level == "ERROR"
        assert get_current_settings().logging.level == "INFO"


def test_temporary_settings_rejects_bad_values_on_entry() -> None:
    with pytest.raises(SettingsError, match="HEADWATER_LOGGING_LEVEL='LOUD'"), \
            temporary_settings(HEADWATER_LOGGING_LEVEL="LOUD"):
        pass
    with pytest.raises(SettingsError, match="Did you mean HEADWATER_LOGGING_LEVEL"), \
            temporary_settings(HEADWATER_LOGGING_LEVL="INFO"):
        pass
    assert get_current_settings().logging.level == "INFO"


def test_bad_level_names_setting_value_and_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEADWATER_LOGGING_LEVEL", "LOUD")
    with pytest.raises(SettingsError) as info:
        get_current_settings()
    message = str(info.value)
    assert "HEADWATER_LOGGING_LEVEL='LOUD'" in message
    assert "from environment" in message
    assert "'DEBUG', 'INFO', 'WARNING', 'ERROR' or 'CRITICAL'" in message


def test_bad_batch_size_fails_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEADWATER_LOGGING_TO_API_BATCH_SIZE", "lots")
    with pytest.raises(SettingsError, match=r"BATCH_SIZE='lots'.*valid integer"):
        get_current_settings()


def test_bad_value_in_profile_names_the_profile(home: Path) -> None:
    write_profile(home, {"HEADWATER_LOGGING_TO_API_WHEN_MISSING_FLOW": "shout"})
    with pytest.raises(SettingsError, match=r"from profile 'default'.*'warn', 'error' or"):
        get_current_settings()


def test_secret_values_are_never_in_errors_or_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEADWATER_API_KEY", "hunter2")
    settings = get_current_settings()
    assert settings.api.key is not None and settings.api.key.get_secret_value() == "hunter2"
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings)


def test_runtime_env_changes_are_picked_up() -> None:
    assert get_current_settings().logging.log_prints is False
    os.environ["HEADWATER_LOGGING_LOG_PRINTS"] = "1"
    try:
        assert get_current_settings().logging.log_prints is True
    finally:
        del os.environ["HEADWATER_LOGGING_LOG_PRINTS"]
    assert get_current_settings().logging.log_prints is False


def test_reads_are_cached() -> None:
    assert get_current_settings() is get_current_settings()


def test_profile_selection_and_missing_profile(home: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    collection = ProfilesCollection(active="a", profiles={
        "a": Profile("a", {"HEADWATER_API_URL": "http://a/api"}),
        "b": Profile("b", {"HEADWATER_API_URL": "http://b/api"})})
    save_profiles(collection, home / "profiles.toml")
    assert get_current_settings().api.url == "http://a/api"
    monkeypatch.setenv("HEADWATER_PROFILE", "b")
    assert get_current_settings().api.url == "http://b/api"
    monkeypatch.setenv("HEADWATER_PROFILE", "nope")
    with pytest.raises(SettingsError, match="Profile 'nope' does not exist"):
        get_current_settings()


def test_profiles_file_roundtrip_and_permissions(home: Path) -> None:
    path = home / "profiles.toml"
    collection = ProfilesCollection(active="my profile", profiles={
        "my profile": Profile("my profile", {"HEADWATER_API_KEY": 'quote"and\\slash'})})
    save_profiles(collection, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_profiles(path) == collection
    assert load_profiles(home / "missing.toml").profiles["default"].settings == {}


def test_invalid_profiles_file(home: Path) -> None:
    home.mkdir(parents=True)
    (home / "profiles.toml").write_text("active = [")
    with pytest.raises(SettingsError, match="not valid TOML"):
        get_current_settings()


def test_import_headwater_stays_light() -> None:
    code = ("import sys, headwater; heavy = {'pydantic', 'pydantic_settings', 'yaml', 'typer', "
            "'rich'} & set(sys.modules); print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
