"""``headwater ui``: the URL of a server that runs, or a server started for the UI."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from server.server_helpers import LiveServer, free_port


def test_ui_points_at_the_configured_server_when_it_answers(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    from headwater.cli import app
    from headwater.server.app import create_app
    from headwater.settings import temporary_settings

    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", opened.append)
    server_app = create_app(f"sqlite:///{tmp_path / 'h.db'}", use_settings=False)
    with LiveServer(server_app) as live, temporary_settings(HEADWATER_API_URL=live.url):
        result = CliRunner().invoke(app, ["ui", "--no-open"])
    assert result.exit_code == 0, result.output
    base = live.url.removesuffix("/api")
    assert f"headwater UI: {base}/" in result.output
    assert opened == []


@pytest.mark.slow  # waits for the connection to time out (2 s)
def test_ui_refuses_a_remote_url_that_does_not_answer() -> None:
    from headwater.cli import app
    from headwater.settings import temporary_settings

    with temporary_settings(HEADWATER_API_URL="http://192.0.2.1:9/api"):
        result = CliRunner().invoke(app, ["ui", "--no-open"])
    assert result.exit_code != 0
    assert "nothing answers at HEADWATER_API_URL" in result.output


@pytest.mark.parametrize(("env", "platform", "expected"), [
    ({}, "linux", False),
    ({"DISPLAY": ":0"}, "linux", True),
    ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
    ({"DISPLAY": ":0", "CI": "true"}, "linux", False),
    ({}, "darwin", True),
])
def test_a_browser_opens_only_where_a_display_is(monkeypatch: pytest.MonkeyPatch,
                                                 env: dict[str, str], platform: str,
                                                 expected: bool) -> None:
    from headwater.cli._ui import can_open_browser

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "CI"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "platform", platform)
    assert can_open_browser() is expected


@pytest.mark.slow
def test_ui_starts_a_server_on_the_embedded_database(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    env.update(HEADWATER_HOME=str(tmp_path / "home"), CI="true")
    process = subprocess.Popen([sys.executable, "-m", "headwater.cli", "ui", "--port", str(port)],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        shell = httpx.get(f"http://127.0.0.1:{port}/runs")
        assert shell.status_code == 200 and '<div id="app">' in shell.text
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert f"headwater UI: http://127.0.0.1:{port}/" in output
    assert (tmp_path / "home" / "headwater.db").exists()
