"""Where the cost of recording goes: CPU time per thread, per task run.

Usage::

    python benchmarks/bench_recording_threads.py                     # direct, map, retries
    python benchmarks/bench_recording_threads.py --workload direct -n 5000
    python benchmarks/bench_recording_threads.py --json

Each workload runs twice, each time in a fresh subprocess with its own
``HEADWATER_HOME`` (``bench_recording.spawn_child``): once with recording off, once on (the default:
embedded SQLite). For each run the table gives, per task run (per call of
three attempts for ``retries``), in microseconds:

- ``wall``: the flow call, until it returns (its records stored);
- ``flow``: CPU of every other thread: the flow's own thread, the task
  runner's workers, and the engine's work of emitting records;
- ``staging``: CPU of the background loop's thread, where the recorder
  turns queued records into rows (Python) and log lines are shipped;
- ``writing``: CPU of the background io thread: binding rows (Python)
  and SQLite storing them (C, run with the GIL released);
- ``overlap``: the CPU sum minus wall: how much of it ran in parallel.

On CPython one thread at a time runs Python; only SQLite's own work can run
beside the flow. ``overlap`` near zero means the recording work added up
serially after the flow's. CPU clocks of other threads need
``time.pthread_getcpuclockid`` (Linux, macOS).
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path
from typing import Any

from bench_recording import spawn_child

HERE = Path(__file__).resolve()
SIZES = {"direct": 1_000, "map": 10_000, "retries": 100}
THREADS = {"headwater-loop": "staging", "headwater-io": "writing"}


def _thread_cpu() -> dict[str, float]:
    """CPU seconds so far of the recorder's threads, by role."""
    cpu = dict.fromkeys(THREADS.values(), 0.0)
    for thread in threading.enumerate():
        role = THREADS.get(thread.name)
        if role is not None and thread.ident is not None:
            cpu[role] += time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
    return cpu


def _child(workload: str, n: int, reps: int) -> dict[str, Any]:
    """Run ``workload`` ``reps`` times in this process; return the median run's figures."""
    import bench_headwater

    run = bench_headwater.WORKLOADS[workload]
    run(max(1, n // 10))  # warm-up: imports, the database file, compiled statements
    runs = []
    for _ in range(reps):
        cpu0, process0, t0 = _thread_cpu(), time.process_time(), time.perf_counter()
        run(n)
        wall = time.perf_counter() - t0
        process, cpu = time.process_time() - process0, _thread_cpu()
        parts = {role: cpu[role] - cpu0[role] for role in cpu}
        parts["flow"] = process - sum(parts.values())
        runs.append({"wall": wall, **parts})
    median = sorted(runs, key=lambda r: r["wall"])[len(runs) // 2]
    return {key: value / n * 1e6 for key, value in median.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workload", choices=sorted(SIZES), action="append")
    parser.add_argument("-n", type=int, help="task runs per flow (default: per workload)")
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.n, args.reps)))
        return 0
    if not hasattr(time, "pthread_getcpuclockid"):
        raise SystemExit("This benchmark needs time.pthread_getcpuclockid (Linux or macOS).")
    rows = []
    for workload in args.workload or list(SIZES):
        n = args.n or SIZES[workload]
        for recording in (False, True):
            figures = spawn_child(HERE, ["--child", workload, "-n", str(n),
                                         "--reps", str(args.reps)], recording)
            cpu = figures["flow"] + figures["staging"] + figures["writing"]
            rows.append({"workload": workload, "recording": recording, "n": n, **figures,
                         "overlap": cpu - figures["wall"]})
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print("| workload | recording | n | wall | flow | staging | writing | overlap |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['workload']} | {'on' if r['recording'] else 'off'} | {r['n']:,} | "
              + " | ".join(f"{r[k]:.1f}" for k in ("wall", "flow", "staging", "writing",
                                                   "overlap")) + " |")
    print("\nMicroseconds per task run (retries: per call of three attempts); medians of "
          f"{args.reps} runs by wall time. overlap = flow + staging + writing - wall.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
