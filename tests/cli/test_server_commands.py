"""``headwater server start|status|stop`` and a busy port, with a real server process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("uvicorn")

from server.server_helpers import free_port, start_cli_server


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    env["HEADWATER_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "headwater.cli", *args], env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.slow
def test_status_and_stop_find_the_server_of_this_home(tmp_path: Path) -> None:
    home, port = tmp_path / "home", free_port()
    assert "No headwater server" in _cli(home, "server", "status").stdout
    process = start_cli_server(home, port)
    try:
        listed = json.loads(_cli(home, "server", "status", "--json").stdout)
        assert [(s["port"], s["pid"], s["answers"]) for s in listed] == [
            (port, process.pid, True)]
        busy = _cli(home, "server", "start", "--port", str(port))
        assert busy.returncode == 1
        assert busy.stderr.count("\n") == 1 and f"port {port} on 127.0.0.1 is in use" in busy.stderr
        assert f"--port {port + 1}" in busy.stderr and "server stop" in busy.stderr
        stopped = _cli(home, "server", "stop")
        assert stopped.returncode == 0, stopped.stderr
        assert f"Stopped the server at http://127.0.0.1:{port}/api" in stopped.stdout
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert "headwater server stop" in output  # the banner says how to stop it
    assert "No headwater server" in _cli(home, "server", "status").stdout
    assert not list((home / "servers").glob("*.json"))


def test_a_port_another_program_holds_is_named_with_the_way_out(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        busy = _cli(tmp_path / "home", "server", "start", "--port", str(port))
    assert busy.returncode == 1
    assert f"port {port} on 127.0.0.1 is in use: another program listens there" in busy.stderr
    assert "Traceback" not in busy.stderr


def test_stop_without_a_server_says_so(tmp_path: Path) -> None:
    result = _cli(tmp_path / "home", "server", "stop")
    assert result.returncode == 1 and "no headwater server started from" in result.stderr
