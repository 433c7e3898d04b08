"""The spool: records kept while the API was down, shipped by `records flush`, `server start`.

A flow run in a process whose API is down (a closed port) spools its
records under its home; these tests ship them the ways a user would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest

from .server_helpers import free_port, start_cli_server

_FLOW = """
from headwater import flow, task

@task
def double(x):
    return 2 * x

@flow(name="spooled")
def doubles(n):
    return [f.result() for f in double.map(range(n))]

print(doubles(5))
"""


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    env["HEADWATER_HOME"] = str(home)
    env.update(extra)
    return env


def _cli(home: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "headwater.cli", *args], env=_env(home, **extra),
                          capture_output=True, text=True, timeout=120)


def _spool_a_flow_run(home: Path) -> None:
    """Run a flow while its API is down (nothing listens on the port): its records spool."""
    down = f"http://127.0.0.1:{free_port()}/api"
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(_FLOW)],
                          env=_env(home, HEADWATER_API_URL=down), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "[0, 2, 4, 6, 8]" in done.stdout
    assert list((home / "spool").glob("*.json")), done.stderr
    # Said once at exit: how many, where, and that the next run ships them.
    assert done.stderr.count("could not be stored and are kept in") == 1, done.stderr
    assert f"The next run on HEADWATER_HOME={home} ships them first" in done.stderr


@pytest.mark.slow
def test_records_flush_ships_the_spool_and_reports(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _spool_a_flow_run(home)
    listed = _cli(home, "records", "ls", "--json")
    assert listed.returncode == 0, listed.stderr
    waiting = json.loads(listed.stdout)
    assert waiting and {row["status"] for row in waiting} == {"waiting"}
    assert sum(row["records"] for row in waiting) >= 1 + 5  # the flow run and its task runs

    flushed = _cli(home, "records", "flush")
    assert flushed.returncode == 0, flushed.stderr
    assert "Shipped" in flushed.stdout and "the local database" in flushed.stdout
    assert not list((home / "spool").glob("*.json"))
    runs = _cli(home, "flow-run", "ls", "--json")
    assert [r["name"] for r in json.loads(runs.stdout)] != []
    assert "Nothing" not in _cli(home, "records", "flush").stdout  # says there is nothing


def _write_batch(spool: Path, name: str, batch: dict[str, Any]) -> None:
    spool.mkdir(parents=True, exist_ok=True)
    (spool / f"{name}.json").write_text(json.dumps(batch))


def test_a_batch_the_api_refuses_is_set_aside_and_the_others_ship(tmp_path: Path) -> None:
    home = tmp_path / "home"
    spool = home / "spool"
    _write_batch(spool, "20260101T000000000001-a", {"flows": [{"name": "first"}]})
    # A task run without its name (a damaged file): refused whatever is retried.
    _write_batch(spool, "20260101T000000000002-b", {"task_runs": {"id": [
        "0191d0d6-0000-7000-8000-000000000001"]}})
    _write_batch(spool, "20260101T000000000003-c", {"flows": [{"name": "third"}]})

    flushed = _cli(home, "records", "flush")
    assert flushed.returncode == 0, flushed.stderr
    assert "Shipped 2 batch(es)" in flushed.stdout
    assert "Rejected by the API" in flushed.stderr
    assert not list(spool.glob("*.json"))
    rejected = list((spool / "rejected").glob("*.json"))
    assert [p.name for p in rejected] == ["20260101T000000000002-b.json"]
    listed = json.loads(_cli(home, "records", "ls", "--json").stdout)
    assert [(r["status"], r["records"]) for r in listed] == [("rejected", 1)]
    assert listed[0]["reason"]
    flows = json.loads(_cli(home, "flow", "ls", "--json").stdout)
    assert sorted(f["name"] for f in flows) == ["first", "third"]


@pytest.mark.slow
def test_server_start_ships_the_local_spool(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _spool_a_flow_run(home)
    port = free_port()
    process = start_cli_server(home, port)
    base = f"http://127.0.0.1:{port}/api"
    try:
        runs = httpx.post(f"{base}/flow_runs/filter", json={}).json()
        assert [r["state"]["type"] for r in runs] == ["COMPLETED"]
        tasks = httpx.post(f"{base}/task_runs/filter", json={}).json()
        assert len(tasks) == 5
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=15)
    assert "Shipped" in output and "spooled" in output
    assert not list((home / "spool").glob("*.json"))
