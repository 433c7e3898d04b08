"""Fixtures for the deployment tests: a fresh home recording to its own database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from headwater._private import recording
from headwater.settings import temporary_settings


def _clean(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    for key in list(os.environ):
        if key.startswith("HEADWATER_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HEADWATER_HOME", str(home))


def _close_recorder() -> None:
    recorder = recording.ACTIVE
    recording.ensure_recorder()
    if recorder is not None:
        recorder.close()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A new ``HEADWATER_HOME`` with recording on (embedded SQLite), for this test only."""
    _clean(monkeypatch, tmp_path / "home")
    with temporary_settings(HEADWATER_API_ENABLE_RECORDING="true"):
        yield tmp_path / "home"
        _close_recorder()


@pytest.fixture(params=["embedded", "server"])
def target_home(request: pytest.FixtureRequest, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Like ``home``, and for "server" runs are recorded to a live API on loopback."""
    _clean(monkeypatch, tmp_path / "home")
    if request.param == "embedded":
        with temporary_settings(HEADWATER_API_ENABLE_RECORDING="true"):
            yield tmp_path / "home"
            _close_recorder()
        return
    from headwater.server.app import create_app
    from server.server_helpers import LiveServer

    application = create_app(f"sqlite:///{tmp_path / 'server.db'}", use_settings=False)
    with LiveServer(application) as server:
        monkeypatch.setenv("HEADWATER_API_URL", server.url)
        with temporary_settings(HEADWATER_API_ENABLE_RECORDING="true",
                                HEADWATER_API_URL=server.url):
            yield tmp_path / "home"
            _close_recorder()
