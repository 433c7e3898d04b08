"""``flow-run logs --follow`` goes on over a server restart: "reconnecting", then new lines."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("uvicorn")

from server.server_helpers import free_port, start_cli_server


def _log(base: str, run_id: str, message: str) -> None:
    line = {"name": "headwater.flow_runs", "level": 20, "message": message,
            "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(), "flow_run_id": run_id}
    assert httpx.post(f"{base}/logs/", json=[line]).status_code in (200, 201)


def _wait_for(process: subprocess.Popen[str], text: str, seen: list[str]) -> None:
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    while not any(text in line for line in seen):
        assert time.monotonic() < deadline, f"{text!r} not seen in {seen}"
        line = process.stdout.readline()
        if line:
            seen.append(line)


@pytest.mark.slow
def test_follow_reconnects_after_a_server_restart(tmp_path: Path) -> None:
    home, port = tmp_path / "home", free_port()
    base = f"http://127.0.0.1:{port}/api"
    server = start_cli_server(home, port)
    follower: subprocess.Popen[str] | None = None
    try:
        flow: dict[str, Any] = httpx.post(f"{base}/flows/", json={"name": "f"}).json()
        run = httpx.post(f"{base}/flow_runs/", json={
            "flow_id": flow["id"], "name": "long-one", "state": {"type": "RUNNING"}}).json()
        _log(base, run["id"], "before the restart")
        env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
        env.update(HEADWATER_HOME=str(home), HEADWATER_API_URL=base)
        follower = subprocess.Popen(
            [sys.executable, "-m", "headwater.cli", "flow-run", "logs", "long-one", "--follow"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        seen: list[str] = []
        _wait_for(follower, "before the restart", seen)
        server.terminate()
        server.communicate(timeout=30)
        _wait_for(follower, "reconnecting", seen)
        server = start_cli_server(home, port)
        _log(base, run["id"], "after the restart")
        _wait_for(follower, "after the restart", seen)
        assert httpx.post(f"{base}/flow_runs/{run['id']}/set_state",
                          json={"state": {"type": "COMPLETED"}}).status_code in (200, 201)
        output, _ = follower.communicate(timeout=60)
        seen.append(output)
        assert follower.returncode == 0, seen
        text = "".join(seen)
        assert text.count("before the restart") == 1 and text.count("after the restart") == 1
        assert "Reconnected." in text and "Traceback" not in text
    finally:
        for process in (follower, server):
            if process is not None and process.poll() is None:
                process.kill()
                process.communicate()
