"""A real server: ``headwater server start`` in a subprocess, on a free localhost port."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from .server_helpers import free_port, start_cli_server


@pytest.mark.slow
def test_server_start_serves_the_api(tmp_path: Path) -> None:
    port = free_port()
    process = start_cli_server(tmp_path / "home", port, HEADWATER_SERVER_API_KEY="k3y")
    base = f"http://127.0.0.1:{port}/api"
    try:
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
