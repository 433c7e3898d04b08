"""Time the web UI's pages in headless Chromium, on a database of 100,000 flow runs.

Usage::

    python benchmarks/bench_ui.py                     # 100,000 runs, a run of 10,000 task runs
    python benchmarks/bench_ui.py --runs 20000 --reps 3
    python benchmarks/bench_ui.py --home /tmp/ui-big  # keep the database; reuse it next time
    python benchmarks/bench_ui.py --json

What it builds (deterministic, from ``--seed``), with the embedded recorder's
writer (``write_batch``) in batches of 5,000 flow runs:

* ``--runs`` flow runs of 20 flows over the 30 days before now, one every
  ~26 s, with bursts of 10 runs starting at the same moment every 500 runs
  (what the history chart must not hide). States: 85 % COMPLETED, 8 % FAILED,
  2 % CANCELLED, 5 % RUNNING; tags ``env:prod`` (4 in 5) or ``env:staging``.
* One more flow run, the newest, with ``--tasks`` task runs (10,000): one in
  seven retried once (Running, AwaitingRetry, Running, Completed), the others
  Pending, Running, Completed; and 2,000 log lines.

Then ``headwater server start`` serves it on a free port, and Chromium
(Debian's ``/usr/bin/chromium``, driven by Playwright) loads each page
``--reps`` times in a fresh tab. A page's time is ``performance.now()`` when
its content is on screen (checked in the page on every animation frame): from
navigation start to the table's rows (runs, flows), or to the timeline of every
task run drawn with the state histories of the rows in view (run page). The median is
printed, with the API calls behind each page timed alone (httpx).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

UTC = dt.timezone.utc
FLOWS = 20
DAYS = 30
BATCH_RUNS = 5_000
FLOW_STATES = (("COMPLETED", 85), ("FAILED", 8), ("CANCELLED", 2), ("RUNNING", 5))
CHROMIUM = os.environ.get("HEADWATER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def _uuid7(ms: int, rng: random.Random) -> str:
    """A version 7 UUID of ``ms``: ids sort by time, as recorded ones do."""
    bits = (ms << 80) | (7 << 76) | (rng.getrandbits(12) << 64) | (0b10 << 62) \
        | rng.getrandbits(62)
    return str(uuid.UUID(int=bits))


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


def _states() -> dict[str, list[Any]]:
    return {k: [] for k in ("id", "run_id", "run_kind", "type", "name", "timestamp")}


def _state(states: dict[str, list[Any]], rng: random.Random, run_id: str, kind: str,
           type_: str, name: str, ms: int) -> None:
    for k, v in (("id", _uuid7(ms, rng)), ("run_id", run_id), ("run_kind", kind),
                 ("type", type_), ("name", name), ("timestamp", _iso(ms))):
        states[k].append(v)


def flow_run_batches(n: int, end_ms: int, rng: random.Random) -> Iterator[dict[str, Any]]:
    """``n`` flow runs with their states, oldest first, in batches."""
    span = DAYS * 86_400_000
    step = span // max(n, 1)
    flow_runs: list[dict[str, Any]] = []
    states = _states()
    for i in range(n):
        start = end_ms - span + i * step
        if i % 500 < 10:  # a burst: ten runs starting at the same millisecond
            start = end_ms - span + (i - i % 500) * step
        run_id = _uuid7(start, rng)
        flow = f"flow-{rng.randrange(FLOWS):02d}"
        final = rng.choices([s for s, _ in FLOW_STATES], [w for _, w in FLOW_STATES])[0]
        flow_runs.append({"id": run_id, "flow_name": flow, "name": f"{flow}-run-{i}",
                          "parameters": {"i": i}, "expected_start_time": _iso(start),
                          "tags": ["env:prod"] if rng.random() < 0.8 else ["env:staging"]})
        _state(states, rng, run_id, "flow", "RUNNING", "Running", start)
        if final != "RUNNING":
            took = rng.randrange(1_000, 600_000)
            _state(states, rng, run_id, "flow", final, final.capitalize(), start + took)
        if len(flow_runs) == BATCH_RUNS:
            yield {"flows": [{"name": f"flow-{k:02d}"} for k in range(FLOWS)],
                   "flow_runs": flow_runs, "states": states}
            flow_runs, states = [], _states()
    if flow_runs:
        yield {"flows": [{"name": f"flow-{k:02d}"} for k in range(FLOWS)],
               "flow_runs": flow_runs, "states": states}


def big_run_batch(tasks: int, start: int, rng: random.Random) -> tuple[str, dict[str, Any]]:
    """The run of ``tasks`` task runs (one in seven retried) and its logs."""
    run_id = _uuid7(start, rng)
    columns: dict[str, list[Any]] = {k: [] for k in (
        "id", "flow_run_id", "task_key", "dynamic_key", "name", "task_name",
        "expected_start_time")}
    states = _states()
    _state(states, rng, run_id, "flow", "RUNNING", "Running", start)
    for i in range(tasks):
        at = start + i * 5
        task_id = _uuid7(at, rng)
        function = ("extract", "transform", "load")[i % 3]
        for k, v in (("id", task_id), ("flow_run_id", run_id), ("task_key", f"big.{function}"),
                     ("dynamic_key", str(i)), ("name", f"{function}-{i}"),
                     ("task_name", function), ("expected_start_time", _iso(at))):
            columns[k].append(v)
        _state(states, rng, task_id, "task", "PENDING", "Pending", at)
        _state(states, rng, task_id, "task", "RUNNING", "Running", at + 2)
        t = at + 2 + rng.randrange(5, 400)
        if i % 7 == 3:
            _state(states, rng, task_id, "task", "SCHEDULED", "AwaitingRetry", t)
            _state(states, rng, task_id, "task", "RUNNING", "Retrying", t + 500)
            t += 500 + rng.randrange(5, 400)
        _state(states, rng, task_id, "task", "COMPLETED", "Completed", t)
    finished = start + tasks * 5 + 2_000
    _state(states, rng, run_id, "flow", "COMPLETED", "Completed", finished)
    logs = [{"id": _uuid7(start + i, rng), "name": "headwater.flow_runs", "level": 20,
             "message": f"log line {i}", "timestamp": _iso(start + i * 10),
             "flow_run_id": run_id} for i in range(2_000)]
    batch = {"flows": [{"name": "big-flow"}],
             "flow_runs": [{"id": run_id, "flow_name": "big-flow", "name": "the-big-run",
                            "parameters": {}, "expected_start_time": _iso(start)}],
             "task_runs": columns, "states": states, "logs": logs}
    return run_id, batch


def build(path: Path, runs: int, tasks: int, seed: int) -> tuple[str, float]:
    """Write the data set into a fresh SQLite file; returns the big run's id and seconds."""
    from headwater._private.storage.record_writer import write_batch
    from headwater._private.storage.sqlite_schema import ensure_sqlite_schema

    rng = random.Random(seed)
    end_ms = int(time.time() * 1000) - 3_600_000
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=OFF")
        if not ensure_sqlite_schema(con):
            raise RuntimeError(f"{path} is not a fresh database")
        began = time.perf_counter()
        for batch in flow_run_batches(runs, end_ms, rng):
            write_batch(con, batch)
        big_id, batch = big_run_batch(tasks, end_ms + 60_000, rng)
        write_batch(con, batch)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return big_id, time.perf_counter() - began
    finally:
        con.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(home: Path, port: int) -> subprocess.Popen[str]:
    """``headwater server start`` on ``home``; returns once it answers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    env["HEADWATER_HOME"] = str(home)
    process = subprocess.Popen(
        [sys.executable, "-m", "headwater.cli", "server", "start", "--port", str(port),
         "--log-level", "warning"], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise RuntimeError(f"the server exited: {output}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("the server did not answer within 60 s")


PAGES = (
    # (label, path, selector that means "on screen", calls behind it)
    ("flow runs page (50 of 100,000+, chart of 500)", "/runs",
     "[data-testid=runs-table] tbody tr", "runs"),
    ("flow runs, state=failed, last 7 days", "/runs?state=FAILED&range=7d",
     "[data-testid=runs-table] tbody tr", "failed"),
    ("flow runs, tag env:staging (no index on SQLite)", "/runs?tags=env:staging",
     "[data-testid=runs-table] tbody tr", "tagged"),
    ("run page, 10,000 task runs", "/runs/{big}",
     "[data-testid=timeline]:not([data-detailed='0'])", "run"),
    ("flows page", "/flows", "[data-testid=flows-table] tbody tr", "flows"),
)


def api_calls(base: str, which: str, big: str) -> list[tuple[str, str, Any]]:
    """The API calls a page makes (method, path, body)."""
    flow_ids = [f["id"] for f in httpx.post(f"{base}/api/flows/filter",
                                            json={"limit": 50}).json()]
    week = (dt.datetime.now(UTC) - dt.timedelta(days=7)).isoformat()
    if which in ("runs", "failed", "tagged"):
        body: dict[str, Any] = {"flow_runs": {}}
        if which == "tagged":
            body = {"flow_runs": {"tags": {"all_": ["env:staging"]}}}
        if which == "failed":
            body = {"flow_runs": {"state": {"type": {"any_": ["FAILED"]}},
                                  "expected_start_time": {"after_": week}}}
        return [("POST", "/flow_runs/filter", {**body, "limit": 50,
                                                "sort": "EXPECTED_START_TIME_DESC"}),
                ("POST", "/ui/flow_runs/count", body),
                ("POST", "/ui/flow_runs/history", {**body, "limit": 500,
                                                    "sort": "EXPECTED_START_TIME_DESC"})]
    if which == "run":
        first = [t[0] for t in httpx.get(f"{base}/api/ui/flow_runs/{big}/timeline")
                 .json()["task_runs"][:60]]
        return [("GET", f"/flow_runs/{big}", None), ("GET", f"/ui/flow_runs/{big}/timeline", None),
                ("POST", "/ui/task_runs/states", {"task_run_ids": first}),
                ("POST", "/logs/filter", {"logs": {"flow_run_id": {"any_": [big]}},
                                          "limit": 500})]
    return [("POST", "/flows/filter", {"limit": 50}),
            ("POST", "/ui/flows/summary", {"flow_ids": flow_ids, "at_most": 1000})]


def time_api(base: str, which: str, big: str, reps: int) -> dict[str, float]:
    out: dict[str, float] = {}
    with httpx.Client(base_url=f"{base}/api", timeout=60) as client:
        for method, path, body in api_calls(base, which, big):
            times = []
            for _ in range(reps + 1):
                began = time.perf_counter()
                response = client.request(method, path, json=body)
                response.raise_for_status()
                times.append(time.perf_counter() - began)
            out[f"{method} {path.replace(big, '{id}')}"] = statistics.median(times[1:]) * 1000
    return out


_READY = "sel => document.querySelector(sel) ? performance.now() : false"


def time_pages(base: str, big: str, reps: int) -> list[dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    results = []
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 900})
        try:
            for label, path, selector, which in PAGES:
                url = base + path.format(big=big)
                times = []
                for _ in range(reps + 1):  # the first load warms the server's caches
                    page = browser.new_page()
                    page.goto(url)
                    # Checked on every animation frame, in the page: the time is the
                    # page's own, not the driver's round trips.
                    handle = page.wait_for_function(_READY, arg=selector, polling="raf",
                                                    timeout=60_000)
                    times.append(float(handle.json_value()))
                    page.close()
                results.append({"page": label, "path": path, "median_ms": statistics.median(
                    times[1:]), "max_ms": max(times[1:]),
                    "api_ms": time_api(base, which, big, reps)})
        finally:
            browser.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--home", type=Path, help="keep the database here (reused if built)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        home = args.home or Path(scratch)
        home.mkdir(parents=True, exist_ok=True)
        db = home / "headwater.db"
        marker = home / "bench_ui.json"
        if marker.exists() and db.exists():
            big, seconds = json.loads(marker.read_text())["big"], None
        else:
            big, seconds = build(db, args.runs, args.tasks, args.seed)
            marker.write_text(json.dumps({"big": big}))
        port = _free_port()
        server = start_server(home, port)
        try:
            results = time_pages(f"http://127.0.0.1:{port}", big, args.reps)
        finally:
            server.terminate()
            server.wait(timeout=30)
    if args.json:
        print(json.dumps({"runs": args.runs, "tasks": args.tasks, "build_s": seconds,
                          "pages": results}, indent=2))
        return
    built = f"built in {seconds:.1f} s" if seconds is not None else "reused"
    print(f"{args.runs:,} flow runs + one of {args.tasks:,} task runs ({built}); "
          f"median of {args.reps} loads, Chromium {CHROMIUM}")
    for r in results:
        print(f"  {r['page']:<48} {r['median_ms']:7.0f} ms   (max {r['max_ms']:.0f})")
        for call, ms in r["api_ms"].items():
            print(f"      {call:<44} {ms:7.1f} ms")


if __name__ == "__main__":
    main()
