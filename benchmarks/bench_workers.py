"""Liveness and worker costs: heartbeats per run, and runs claimed per second by one worker.

Run: ``python benchmarks/bench_workers.py``. Prints a table: each measure
against SQLite (what embedded mode does: the storage core for heartbeats,
the in-process app for claims) and against a live server (``headwater
server start`` in another process, on a loopback port, over HTTP).

- heartbeat, per run: one process's heartbeat for N running flow runs (what
  it sends every ``HEADWATER_FLOW_RUN_HEARTBEAT_SECONDS``), per run;
- claims: one worker claiming N scheduled runs of a deployment in its
  pool, batches of 100 (``get_scheduled_flow_runs_for_work_pool``), runs
  per second;
- zombie sweep (SQLite): one check over N running runs with fresh heartbeats.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

N = 1000


async def _app_client(url: str) -> tuple[Any, Any]:
    import httpx

    from headwater.client import HeadwaterClient
    from headwater.server.app import create_app

    app = create_app(url, use_settings=False)
    return app, HeadwaterClient("http://bench/api", transport=httpx.ASGITransport(app=app))


async def _running_runs(client: Any, n: int) -> list[str]:
    flow = await client.request("POST", "flows/", json={"name": "bench"})
    ids = []
    for _ in range(n):
        run = await client.request("POST", "flow_runs/", json={
            "flow_id": flow["id"], "state": {"type": "RUNNING"}})
        ids.append(run["id"])
    return ids


async def _claims(client: Any) -> float:
    """Runs per second one worker claims: N scheduled runs of a deployment in its pool."""
    await client.create_work_pool("bench")
    flow = await client.request("POST", "flows/", json={"name": "bench-claims"})
    deployment, _ = await client.create_deployment(name="claims", flow_id=flow["id"],
                                                   work_pool_name="bench")
    for _ in range(N):
        await client.create_flow_run_from_deployment(deployment["id"])
    start = time.perf_counter()
    claimed = 0
    while batch := await client.get_scheduled_flow_runs_for_work_pool(
            "bench", worker_name="w", limit=100):
        claimed += len(batch)
    seconds = time.perf_counter() - start
    assert claimed == N, claimed
    return claimed / seconds


async def _api_heartbeat(client: Any) -> float:
    """Seconds per run of one heartbeat request for N running runs."""
    from headwater._private.heartbeats import process_identity

    ids = await _running_runs(client, N)
    host, pid, token = process_identity()
    start = time.perf_counter()
    await client.send_flow_run_heartbeats(ids, host=host, pid=pid, process_start=token,
                                          interval=30)
    return (time.perf_counter() - start) / N


async def embedded(folder: Path) -> dict[str, str]:
    """The measures against SQLite, in this process."""
    from headwater._private.heartbeats import send_beats
    from headwater._private.zombie_check import sweep

    app, client = await _app_client(f"sqlite+aiosqlite:///{folder / 'b.db'}")
    async with client:
        ids = await _running_runs(client, N)
        con = sqlite3.connect(folder / "b.db", isolation_level=None)
        con.execute("PRAGMA synchronous=NORMAL")  # as the heartbeat sender's connection
        uuids = [uuid.UUID(i) for i in ids]
        start = time.perf_counter()
        send_beats(con, uuids, 30.0, dt.datetime.now(dt.timezone.utc))
        direct = (time.perf_counter() - start) / N
        start = time.perf_counter()
        ended = sweep(con)
        swept = time.perf_counter() - start
        assert ended == []
        con.close()
        in_app = await _api_heartbeat(client)
        claims = await _claims(client)
        await app.state.database.aclose()
    return {"heartbeat, per run": f"{direct * 1e6:.1f} us (storage core); "
                                  f"{in_app * 1e6:.1f} us (in-process API)",
            "claims, runs per second": f"{claims:.0f}",
            "zombie sweep": f"{swept * 1e3:.1f} ms over {N} runs"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def live_server(folder: Path) -> dict[str, str]:
    """The measures against ``headwater server start`` on loopback, in another process."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "headwater.cli", "server", "start", "--port", str(port),
         "--log-level", "warning"], env={**env, "HEADWATER_HOME": str(folder / "server")},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return asyncio.run(_measure_server(f"http://127.0.0.1:{port}/api", server))
    finally:
        server.terminate()
        server.wait(timeout=30)


async def _measure_server(url: str, server: subprocess.Popen[bytes]) -> dict[str, str]:
    from headwater.client import HeadwaterClient

    async with HeadwaterClient(url) as client:
        deadline = time.monotonic() + 60
        while True:
            try:
                await client.request("GET", "health")
                break
            except Exception:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                await asyncio.sleep(0.2)
        beat = await _api_heartbeat(client)
        claims = await _claims(client)
    return {"heartbeat, per run": f"{beat * 1e6:.1f} us (one request for {N} runs)",
            "claims, runs per second": f"{claims:.0f}",
            "zombie sweep": "(the server's service)"}


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    sqlite_side = asyncio.run(embedded(folder))
    server_side = live_server(folder)
    rows = [("measure", "SQLite (embedded)", "live server (loopback)")]
    rows += [(k, sqlite_side[k], server_side[k]) for k in sqlite_side]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
              .rstrip())
    print(f"({N} runs; claims in batches of 100)")


if __name__ == "__main__":
    main()
