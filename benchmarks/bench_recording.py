"""Measure what run recording costs: a recorded flow against an unrecorded one, and the API.

Usage::

    python benchmarks/bench_recording.py                 # flow (n=10,000) and API throughput
    python benchmarks/bench_recording.py --only flow -n 10000 --reps 5
    python benchmarks/bench_recording.py --only api
    python benchmarks/bench_recording.py --json

``flow``: a flow mapping a trivial task over ``n`` items (with ``--log``,
the task also logs one line), timed with recording off and with embedded recording on (SQLite under
a fresh ``HEADWATER_HOME``), each in its own subprocess with one warm-up run.
After every recorded call the database is read at once (plain ``sqlite3``,
before anything else happens) to check that the flow run, its ``n`` task
runs, three states each (Pending, Running, Completed), the current state of
every run and the logs (the flow run's two lines, and the tasks' lines with
``--log``) are all stored when the call returns.

``api``: state writes per second through the embedded app (``httpx``'s ASGI
transport over SQLite): task runs with three states each through
``POST /api/records/batch``, and single state changes through
``POST /api/task_runs/{id}/set_state``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()


# ---------------------------------------------------------------------- the flow
def _flow_child(n: int, reps: int, recorded: bool, log: bool) -> dict[str, Any]:
    """Run in a subprocess whose environment says whether recording is on."""
    from headwater import flow, get_run_logger, task

    @task
    def inc(x: int) -> int:
        if log:
            get_run_logger().info("inc %d", x)
        return x + 1

    @flow
    def mapped(n: int) -> int:
        return sum(inc.map(range(n)).result())

    mapped(min(n, 100))  # warm-up: imports, logging, the database and its migrations
    times, checks = [], []
    for _ in range(reps):
        start = time.perf_counter()
        state: Any = mapped(n, return_state=True)  # type: ignore[call-arg]
        times.append(time.perf_counter() - start)
        assert state.result() == n * (n + 1) // 2
        if recorded:
            checks.append(_verify(state.state_details.flow_run_id, n, log))
    return {"times": times, "checks": checks}


def _verify(flow_run_id: uuid.UUID, n: int, log: bool) -> str:
    """Check the database holds the whole run now; return a one-line summary."""
    db = Path(os.environ["HEADWATER_HOME"]) / "headwater.db"
    conn = sqlite3.connect(db)
    try:
        run_hex = flow_run_id.hex
        (flow_state,) = conn.execute(
            "SELECT state_type FROM flow_run WHERE id = ?", (run_hex,)).fetchone()
        task_rows = conn.execute(
            "SELECT count(*), sum(state_type = 'COMPLETED'), sum(run_count = 1) FROM task_run "
            "WHERE flow_run_id = ?", (run_hex,)).fetchone()
        (n_states,) = conn.execute(
            "SELECT count(*) FROM task_run_state s JOIN task_run r ON s.task_run_id = r.id "
            "WHERE r.flow_run_id = ?", (run_hex,)).fetchone()
        (n_flow_states,) = conn.execute(
            "SELECT count(*) FROM flow_run_state WHERE flow_run_id = ?", (run_hex,)).fetchone()
        (n_logs,) = conn.execute(
            "SELECT count(*) FROM log WHERE flow_run_id = ? AND task_run_id IS NOT NULL "
            "AND message LIKE 'inc %'", (run_hex,)).fetchone()
        (n_flow_logs,) = conn.execute(
            "SELECT count(*) FROM log WHERE flow_run_id = ? AND task_run_id IS NULL",
            (run_hex,)).fetchone()
    finally:
        conn.close()
    problems = []
    if flow_state != "COMPLETED" or n_flow_states != 3:
        problems.append(f"flow run {flow_state} with {n_flow_states} states")
    if tuple(task_rows) != (n, n, n):
        problems.append(f"task runs (count, completed, run_count=1) = {tuple(task_rows)}")
    if n_states != 3 * n:
        problems.append(f"{n_states} task run states, expected {3 * n}")
    if n_logs != (n if log else 0) or n_flow_logs != 2:
        problems.append(f"{n_logs} task and {n_flow_logs} flow log lines")
    if problems:
        raise AssertionError("not all recorded when the flow returned: " + "; ".join(problems))
    return f"{n} task runs, {n_states} states, {n_logs + n_flow_logs} logs: all stored"


def spawn_child(script: Path, args: list[str], recorded: bool | None = None) -> dict[str, Any]:
    """Run ``script`` with ``args`` in a fresh process and ``HEADWATER_HOME``; parse its answer.

    No ``HEADWATER_*`` setting of the caller leaks in; ``recorded`` sets
    ``HEADWATER_API_ENABLE_RECORDING`` (None: the default). The child prints
    its result as JSON on its last line of output.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    if recorded is not None:
        env["HEADWATER_API_ENABLE_RECORDING"] = "1" if recorded else "0"
    with tempfile.TemporaryDirectory() as home:
        env["HEADWATER_HOME"] = home
        out = subprocess.run([sys.executable, str(script), *args], env=env,
                             capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"child failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def measure_flow(n: int, reps: int, log: bool = False) -> dict[str, Any]:
    """Time the mapped flow with recording off, then on (embedded SQLite)."""
    results: dict[str, Any] = {"n": n}
    for label, recorded in (("unrecorded", False), ("recorded", True)):
        out = spawn_child(HERE, ["--child-flow", str(n), str(reps), str(int(recorded)),
                                 str(int(log))], recorded)
        results[label] = statistics.median(out["times"])
        results[f"{label}_all"] = out["times"]
        if out["checks"]:
            results["verified"] = out["checks"][-1]
    results["ratio"] = results["recorded"] / results["unrecorded"]
    return results


# ---------------------------------------------------------------------- the API
def _stamp(base: dt.datetime, ms: int) -> str:
    return (base + dt.timedelta(milliseconds=ms)).isoformat()


def _batch(n: int) -> dict[str, Any]:
    """A batch as the recorder sends it: one flow run, n task runs, 3 states each."""
    run_id = str(uuid.uuid4())
    now = dt.datetime.now(dt.timezone.utc)
    tasks = [{"id": str(uuid.uuid4()), "flow_run_id": run_id, "task_key": "t",
              "dynamic_key": str(i), "name": f"t-{i}", "task_name": "t", "tags": [],
              "expected_start_time": now.isoformat()} for i in range(n)]
    states = [{"id": str(uuid.uuid4()), "run_id": t["id"], "run_kind": "task", "type": type_,
               "name": type_.capitalize(), "timestamp": _stamp(now, k)}
              for t in tasks for k, type_ in enumerate(("PENDING", "RUNNING", "COMPLETED"))]
    return {"flows": [{"name": "bench"}],
            "flow_runs": [{"id": run_id, "flow_name": "bench", "name": "bench-run",
                           "expected_start_time": now.isoformat()}],
            "task_runs": tasks, "states": states, "logs": []}


async def _api(n_batch: int, batches: int, n_set_state: int) -> dict[str, Any]:
    import pydantic_core

    from headwater.client._factory import embedded_client

    with tempfile.TemporaryDirectory() as home:
        client = embedded_client(f"sqlite:///{home}/headwater.db")
        async with client:
            http = client._http  # the raw httpx client: time the app, not the facade
            assert (await http.get("hello")).status_code == 200  # migrations out of the timing
            bodies = [pydantic_core.to_json(_batch(n_batch)) for _ in range(batches)]
            times = []
            for body in bodies:
                start = time.perf_counter()
                response = await http.post("records/batch", content=body,
                                           headers={"content-type": "application/json"})
                times.append(time.perf_counter() - start)
                assert response.status_code == 200, response.text[:500]
                assert response.json()["states"] == 3 * n_batch
            batch_s = statistics.median(times)
            # set_state: one task run (created through the API), then n state changes.
            flow_run = await http.post("flow_runs/", json={"name": "r", "flow_id": str(
                (await http.post("flows/", json={"name": "f"})).json()["id"])})
            task_run = await http.post("task_runs/", json={
                "flow_run_id": flow_run.json()["id"], "task_key": "k", "dynamic_key": "0",
                "name": "k-0"})
            task_run_id = task_run.json()["id"]
            types = ("RUNNING", "COMPLETED")
            start = time.perf_counter()
            for i in range(n_set_state):
                response = await http.post(f"task_runs/{task_run_id}/set_state", json={
                    "state": {"type": types[i % 2]}, "force": True})
                assert response.status_code in (200, 201), response.text[:500]
            set_state_s = time.perf_counter() - start
    rows = 1 + 4 * n_batch
    return {"batch_tasks": n_batch, "batch_rows": rows, "batch_s": batch_s,
            "batch_rows_per_s": rows / batch_s, "batch_states_per_s": 3 * n_batch / batch_s,
            "set_state_n": n_set_state, "set_state_per_s": n_set_state / set_state_s}


def measure_api(n_batch: int, batches: int, n_set_state: int) -> dict[str, Any]:
    """State writes per second through the embedded app (in a subprocess)."""
    return spawn_child(HERE, ["--child-api", str(n_batch), str(batches), str(n_set_state)])


# ---------------------------------------------------------------------- main
def main() -> int:
    """Parse the command line, measure, print."""
    if len(sys.argv) > 1 and sys.argv[1] == "--child-flow":
        n, reps, recorded, log = (int(a) for a in sys.argv[2:6])
        print(json.dumps(_flow_child(n, reps, bool(recorded), bool(log))))
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "--child-api":
        n_batch, batches, n_set_state = (int(a) for a in sys.argv[2:5])
        print(json.dumps(asyncio.run(_api(n_batch, batches, n_set_state))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["flow", "api"], action="append")
    parser.add_argument("-n", type=int, default=10_000, help="mapped tasks per flow")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--batch", type=int, default=10_000, help="task runs per API batch")
    parser.add_argument("--set-state", type=int, default=1_000, help="set_state calls")
    parser.add_argument("--log", action="store_true", help="each task logs one line")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    only = set(args.only or ["flow", "api"])
    results: dict[str, Any] = {}
    if "flow" in only:
        results["flow"] = measure_flow(args.n, args.reps, args.log)
    if "api" in only:
        results["api"] = measure_api(args.batch, 3, args.set_state)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    if "flow" in results:
        f = results["flow"]
        print(f"flow of {f['n']:,} mapped tasks: unrecorded {f['unrecorded']:.3f} s, "
              f"recorded {f['recorded']:.3f} s, ratio {f['ratio']:.2f}x "
              f"(target <= 2x); {f.get('verified', '')}")
    if "api" in results:
        a = results["api"]
        print(f"records batch: {a['batch_rows']:,} rows in {a['batch_s']:.3f} s = "
              f"{a['batch_rows_per_s']:,.0f} rows/s ({a['batch_states_per_s']:,.0f} states/s)")
        print(f"set_state: {a['set_state_per_s']:,.0f} state writes/s "
              f"({a['set_state_n']:,} calls, one task run)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
