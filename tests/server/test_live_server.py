"""A real server: ``headwater server start`` in a subprocess, on a free localhost port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from .server_helpers import free_port


@pytest.mark.slow
def test_server_start_serves_the_api(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "HEADWATER_HOME": str(tmp_path / "home"),
           "HEADWATER_SERVER_API_KEY": "k3y", "HEADWATER_API_DATABASE_CONNECTION_URL": ""}
    env.pop("HEADWATER_API_DATABASE_CONNECTION_URL")
    process = subprocess.Popen(
        [sys.executable, "-m", "headwater.cli", "server", "start", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).json() is True:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, "the server exited early"
            assert time.monotonic() < deadline, "the server did not answer within 30 s"
            time.sleep(0.1)
        headers = {"Authorization": "Bearer k3y"}
        assert httpx.get(f"{base}/hello").status_code == 401
        created = httpx.post(f"{base}/flows/", json={"name": "live"}, headers=headers)
        assert created.status_code == 201
        batch = httpx.post(f"{base}/records/batch", json={"flows": [{"name": "b"}]},
                           headers=headers)
        assert batch.json()["flows"] == 1
        assert (tmp_path / "home" / "headwater.db").exists()
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=15)
    assert f"http://127.0.0.1:{port}/api" in output
    assert "headwater.db" in output and "k3y" not in output
