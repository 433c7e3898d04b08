"""DaskTaskRunner against Dask itself and against the thread runner: mapped trivial tasks.

Usage::

    python benchmarks/bench_dask.py            # 10,000 tasks
    python benchmarks/bench_dask.py --n 1000   # a quick look

One ``LocalCluster`` of 2 worker processes (1 thread each) serves every
variant; each variant gets a warm-up run of 100 tasks, then one timed run
of ``--n`` (wall time from the first submission to the last result):

- ``client.map``: plain Dask, one ``client.map`` call and a ``gather`` (the floor);
- ``client.submit``: plain Dask, one ``client.submit`` per task (how a task
  runner that receives runs one by one must submit them);
- ``DaskTaskRunner``: a headwater flow mapping a trivial task over the cluster
  (each run: pickled call, the task machine on the worker, its states
  recorded by the worker, the outcome back);
- ``thread runner``: the same flow on the default ``ThreadPoolTaskRunner``
  (no cluster; the in-process reference).

headwater runs with its settings (recording on or off as configured; the
database is a fresh one under a temporary ``HEADWATER_HOME``). The table's
last column is the per-task cost relative to ``client.map``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any


def inc(x: int) -> int:
    return x + 1


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="tasks per timed run")
    args = parser.parse_args()
    n = args.n
    os.environ.setdefault("HEADWATER_HOME", tempfile.mkdtemp(prefix="headwater-bench-dask-"))

    import distributed

    from headwater import flow, task
    from headwater.dask import DaskTaskRunner
    from headwater.settings import get_current_settings

    inc_task = task(inc)

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        address = cluster.scheduler_address

        def dask_map(k: int) -> list[int]:
            return client.gather(client.map(inc, range(k), pure=False))  # type: ignore[no-any-return]

        def dask_submit(k: int) -> list[int]:
            return client.gather([client.submit(inc, i, pure=False) for i in range(k)])  # type: ignore[no-any-return]

        @flow(task_runner=DaskTaskRunner(address=address))
        def on_dask(k: int) -> list[int]:
            return inc_task.map(range(k)).result()

        @flow
        def on_threads(k: int) -> list[int]:
            return inc_task.map(range(k)).result()

        variants: list[tuple[str, Callable[[int], list[int]]]] = [
            ("client.map", dask_map),
            ("client.submit", dask_submit),
            ("DaskTaskRunner", on_dask),
            ("thread runner", on_threads),
        ]
        expected = [i + 1 for i in range(n)]
        rows = []
        for name, fn in variants:
            fn(100)  # warm-up: imports, worker caches, connections
            seconds, result = timed(lambda fn=fn: fn(n))  # type: ignore[misc]
            if result != expected:
                print(f"{name}: wrong results", file=sys.stderr)
                return 1
            rows.append((name, seconds))

    floor = rows[0][1] / n
    recording = get_current_settings().api.enable_recording
    print(f"\n{n:,} mapped trivial tasks, LocalCluster of 2 worker processes x 1 thread, "
          f"recording {'on' if recording else 'off'}\n")
    print("| variant | total (s) | per task (us) | x client.map |")
    print("|---|---:|---:|---:|")
    for name, seconds in rows:
        per = seconds / n
        print(f"| {name} | {seconds:.2f} | {per * 1e6:.0f} | {per / floor:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
