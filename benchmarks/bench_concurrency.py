"""Measure what concurrency slots cost in embedded mode: latency of one slot, and a limited flow.

Usage::

    python benchmarks/bench_concurrency.py                  # every path, 5 runs each
    python benchmarks/bench_concurrency.py --paths direct --reps 9
    python benchmarks/bench_concurrency.py --json

Each run is a fresh subprocess with a fresh ``HEADWATER_HOME`` (recording
on, the default), the limits created beforehand by another process, as
``headwater concurrency-limit create`` would. The figures printed are the
medians over the runs. Paths:

- ``direct``: the default of embedded mode on SQLite (slots written to the
  file with ``sqlite3``). Before that change the default was the
  in-process API, so this file run against the older source measures
  "before"::

      git archive 2a14f6a^ src logging.yml | tar -x -C /tmp/before
      PYTHONPATH=/tmp/before/src python benchmarks/bench_concurrency.py --paths direct server
- ``inprocess-api``: slots through the in-process API (httpx's ASGI
  transport, FastAPI, SQLAlchemy, aiosqlite), as embedded mode did before.
- ``server``: slots through a live uvicorn server on the same file
  (``HEADWATER_API_URL``), started by the run in a process of its own.

What is measured:

- ``latency``: ``with concurrency("bench"): pass`` on a limit of 1,
  uncontended, 2,000 times after 200 warm-up rounds: median and p99 of one
  acquire + release (the release is sent in the background, so each round
  also waits for the previous one's).
- ``flow``: a flow mapping 1,000 tiny tasks (they return their input)
  tagged with a limit of 3, after a warm-up flow: seconds, tasks per
  second, and the peak number of tasks running at once; ``--task-ms``
  makes each task sleep that long (0.5 ms: the case that peaked at 1).
  ``unlimited`` is the same flow with the tag unlimited, for scale.
- ``untagged``: what the engine's tag-slot call costs a task run whose tags
  have no limit while another tag has one (``acquire_tag_slots``, 10,000
  calls): the fast path every tagged run takes (it was a test's < 20 us
  assertion, a figure that depends on the machine).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
PATHS = ("direct", "inprocess-api", "server")


# ---------------------------------------------------------------------- in the child
def _use_path(path: str, home: Path) -> Any:
    """Point this process's slots at ``path``; return what must stay open meanwhile."""
    if path == "server":
        server = _LiveServer(home / "headwater.db")
        os.environ["HEADWATER_API_URL"] = server.url
        return server
    if path == "inprocess-api":
        from headwater._private.concurrency import use_slot_manager
        from headwater._private.concurrency.registry import _client_factory
        from headwater._private.concurrency.remote import APIConcurrencyBackend
        from headwater._private.settings import get_current_settings

        settings = get_current_settings()
        backend = APIConcurrencyBackend(_client_factory(settings),
                                        settings.concurrency.lease_duration)
        scope = use_slot_manager(backend)
        scope.__enter__()
        return scope
    return None


class _LiveServer:
    """uvicorn serving the API on ``db`` in a subprocess, until this object is dropped."""

    def __init__(self, db: Path) -> None:
        import socket

        import httpx

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        code = ("import sys, uvicorn\nfrom headwater.server.app import create_app\n"
                "uvicorn.run(create_app(sys.argv[1], use_settings=False), host='127.0.0.1', "
                "port=int(sys.argv[2]), log_level='warning')\n")
        self.process = subprocess.Popen([sys.executable, "-c", code, f"sqlite:///{db}",
                                         str(port)])
        self.url = f"http://127.0.0.1:{port}/api"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).json() is True:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("the server did not start")
            time.sleep(0.05)

    def __del__(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def _latency(rounds: int) -> dict[str, float]:
    from headwater.concurrency import concurrency

    times = []
    for i in range(rounds + 200):
        start = time.perf_counter()
        with concurrency("bench"):
            pass
        if i >= 200:
            times.append(time.perf_counter() - start)
    times.sort()
    return {"median_ms": statistics.median(times) * 1e3,
            "p99_ms": times[int(len(times) * 0.99)] * 1e3}


def _untagged(calls: int = 10_000) -> dict[str, float]:
    from headwater._private.concurrency import acquire_tag_slots

    tags = frozenset({"etl", "nightly"})  # no limit on either; "limited" has one
    start = time.perf_counter()
    for _ in range(calls):
        acquire_tag_slots(tags)
    return {"per_call_us": (time.perf_counter() - start) / calls * 1e6}


def _flow(n: int, task_ms: float, tag: str) -> dict[str, float]:
    from headwater import flow, task

    lock = threading.Lock()
    running, peak = [0], [0]

    @task(tags=[tag])
    def tiny(i: int) -> int:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        if task_ms:
            time.sleep(task_ms / 1e3)
        with lock:
            running[0] -= 1
        return i

    @flow
    def limited(n: int) -> int:
        return sum(tiny.map(range(n)).result())

    limited(50)  # warm-up: imports, the database, the backend's thread
    peak[0] = 0
    start = time.perf_counter()
    assert limited(n) == n * (n - 1) // 2
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "tasks_per_s": n / seconds, "peak": peak[0]}


def child(path: str, n: int, rounds: int, task_ms: float) -> dict[str, Any]:
    """One run, in a subprocess whose ``HEADWATER_HOME`` holds the limits already."""
    home = Path(os.environ["HEADWATER_HOME"])
    keep = _use_path(path, home)
    out = {"latency": _latency(rounds), "untagged": _untagged(),
           "flow": _flow(n, task_ms, "limited"),
           "unlimited": _flow(n, task_ms, "free"),
           "server_stack": sorted(m for m in ("fastapi", "sqlalchemy", "httpx", "aiosqlite")
                                  if m in sys.modules)}
    del keep
    return out


# ---------------------------------------------------------------------- in the parent
def _create_limits(env: dict[str, str]) -> None:
    code = ("from headwater.concurrency import set_concurrency_limit, "
            "set_global_concurrency_limit\n"
            "set_concurrency_limit('limited', 3)\nset_global_concurrency_limit('bench', 1)\n")
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)


def run_once(path: str, n: int, rounds: int, task_ms: float) -> dict[str, Any]:
    """A fresh home, its limits, then one child run on ``path``."""
    with tempfile.TemporaryDirectory(prefix="bench-concurrency-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
        env.update(HEADWATER_HOME=tmp, HEADWATER_LOGGING_LEVEL="WARNING")
        _create_limits(env)
        out = subprocess.run([sys.executable, str(HERE), "--child", path, "-n", str(n),
                              "--rounds", str(rounds), "--task-ms", str(task_ms)],
                             env=env, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise RuntimeError(f"{path} run failed:\n{out.stderr}")
        result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
        return result


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the runs of every figure."""
    def med(section: str, key: str) -> float:
        return statistics.median(r[section][key] for r in runs)

    return {"runs": len(runs),
            "latency_median_ms": med("latency", "median_ms"),
            "latency_p99_ms": med("latency", "p99_ms"),
            "untagged_us": med("untagged", "per_call_us"),
            "flow_seconds": med("flow", "seconds"), "flow_tasks_per_s": med("flow", "tasks_per_s"),
            "flow_peaks": sorted(r["flow"]["peak"] for r in runs),
            "unlimited_seconds": med("unlimited", "seconds"),
            "server_stack": runs[0]["server_stack"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--paths", nargs="+", choices=PATHS, default=list(PATHS))
    parser.add_argument("--reps", type=int, default=5, help="runs per path (default 5)")
    parser.add_argument("-n", type=int, default=1000, help="tasks in the flow (default 1,000)")
    parser.add_argument("--rounds", type=int, default=2000, help="latency rounds (default 2,000)")
    parser.add_argument("--task-ms", type=float, default=0.0, help="each task sleeps this long")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--child", choices=PATHS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.n, args.rounds, args.task_ms)))
        return 0
    results = {}
    for path in args.paths:
        results[path] = summarize([run_once(path, args.n, args.rounds, args.task_ms)
                                   for _ in range(args.reps)])
        if not args.json:
            s = results[path]
            print(f"{path:>14}: acquire+release median {s['latency_median_ms']:.3f} ms, "
                  f"p99 {s['latency_p99_ms']:.3f} ms | untagged {s['untagged_us']:.2f} us | "
                  f"{args.n} tasks, limit 3: "
                  f"{s['flow_seconds']:.3f} s ({s['flow_tasks_per_s']:.0f}/s), peaks "
                  f"{s['flow_peaks']} | unlimited {s['unlimited_seconds']:.3f} s | "
                  f"server stack imported: {s['server_stack'] or 'none'}", flush=True)
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
