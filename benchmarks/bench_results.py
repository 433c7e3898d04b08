"""Benchmarks for results and caching: cache-hit latency and memory workloads.

Usage::

    python benchmarks/bench_results.py            # everything, Markdown table
    python benchmarks/bench_results.py --quick    # smaller sizes

Each workload runs in its own subprocess so that its peak RSS is its own.
Storage goes to a temporary folder. Targets: a cache hit on a small local
result under 200 us; memory flat in the number of tasks when results are not
kept (peak growth far below n x result size), and at most the flow run's result
budget (``HEADWATER_FLOW_RUN_RESULT_BUDGET``, 64 MiB by default) above that when
a flow returns None and so keeps its children's results.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
MB = 1024 * 1024


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (MB if sys.platform == "darwin" else 1024)


# ---------------------------------------------------------------------- workloads
def cache_hit(n: int) -> dict[str, float]:
    """Median time of a direct call that is a cache hit (persisted, and in memory)."""
    from headwater import flow, task
    from headwater.tasks import task_input_hash

    @task(cache_key_fn=task_input_hash)
    def persisted(x: int) -> dict[str, int]:
        return {"x": x}

    @task(cache_key_fn=task_input_hash, persist_result=False)
    def in_memory(x: int) -> dict[str, int]:
        return {"x": x}

    @task
    def plain(x: int) -> dict[str, int]:
        return {"x": x}

    @flow
    def timed(fn_name: str, reps: int) -> float:
        fn = {"persisted": persisted, "in_memory": in_memory, "plain": plain}[fn_name]
        fn(1)  # fills the cache
        start = time.perf_counter()
        for _ in range(reps):
            state = fn(1, return_state=True)
        elapsed = time.perf_counter() - start
        assert fn is plain or state.name == "Cached"
        return elapsed / reps * 1e6

    out = {}
    for name in ("persisted", "in_memory", "plain"):
        out[f"{name}_us"] = statistics.median(timed(name, n) for _ in range(5))
    return out


def big_results(n: int, persist: bool) -> dict[str, float]:
    """``n`` submitted tasks returning 2 MB each, results not held.

    ``map()`` holds its futures (and so, without persistence, the results)
    until every run is submitted; a loop of ``submit()`` shows the engine's
    own behaviour.
    """
    from headwater import flow, task

    @task(persist_result=persist, cache_result_in_memory=not persist)
    def blob(i: int) -> bytearray:
        data = bytearray(2 * MB)
        data[0] = i % 256
        return data

    @flow
    def run(k: int) -> int:
        for i in range(k):
            blob.submit(i)  # futures not held: the flow waits for the runs itself
        return k

    run(2)
    before = _peak_rss_mb()
    start = time.perf_counter()
    run(n)
    return {"wall_s": time.perf_counter() - start, "peak_growth_mb": _peak_rss_mb() - before,
            "payload_total_mb": n * 2.0}


def tiny_tasks(n: int, persist: bool) -> dict[str, float]:
    """``n`` submitted tasks returning an int, results not held."""
    from headwater import flow, task

    @task(persist_result=persist, cache_result_in_memory=not persist)
    def tiny(i: int) -> int:
        return i

    @flow
    def run(k: int) -> int:
        for i in range(k):
            tiny.submit(i)
        return k

    run(10)
    before = _peak_rss_mb()
    start = time.perf_counter()
    run(n)
    return {"wall_s": time.perf_counter() - start, "peak_growth_mb": _peak_rss_mb() - before,
            "us_per_task": (time.perf_counter() - start) / n * 1e6}


def mapped_kept(n: int, budget: int | None, how: str = "map") -> dict[str, float]:
    """``n`` mapped (or submitted) tasks returning 100 KB each in a flow that returns None.

    The flow's result is its child states, as in Prefect 2; the run keeps
    their results up to ``HEADWATER_FLOW_RUN_RESULT_BUDGET`` bytes (None:
    the default). A budget larger than everything shows what keeping every
    result (Prefect 2's behaviour) costs.
    """
    if budget is not None:
        os.environ["HEADWATER_FLOW_RUN_RESULT_BUDGET"] = str(budget)
    from headwater import flow, task

    @task
    def blob(i: int) -> bytearray:
        data = bytearray(100 * 1024)
        data[0] = i % 256
        return data

    @flow
    def run(k: int) -> None:
        if how == "map":
            blob.map(range(k))
        else:
            for i in range(k):
                blob.submit(i)  # futures not held

    run(2)
    before = _peak_rss_mb()
    start = time.perf_counter()
    states = run(n)
    wall = time.perf_counter() - start
    kept = 0
    for state in states:
        try:
            state.result()
            kept += 1
        except Exception:
            pass
    return {"wall_s": wall, "peak_growth_mb": _peak_rss_mb() - before,
            "payload_total_mb": n * 0.1, "results_kept": kept}


WORKLOADS = {
    "cache_hit": (lambda n: cache_hit(n), 2000, 200),
    "big_results": (lambda n: big_results(n, False), 500, 50),
    "big_results_persisted": (lambda n: big_results(n, True), 500, 50),
    "tiny_tasks": (lambda n: tiny_tasks(n, False), 20_000, 2000),
    "tiny_tasks_persisted": (lambda n: tiny_tasks(n, True), 20_000, 2000),
    "map_100kb_budget_default": (lambda n: mapped_kept(n, None), 10_000, 10_000),
    "map_100kb_budget_0": (lambda n: mapped_kept(n, 0), 10_000, 10_000),
    "map_100kb_keep_all": (lambda n: mapped_kept(n, 2**40), 10_000, 10_000),
    "submit_100kb_budget_default": (lambda n: mapped_kept(n, None, "submit"), 10_000, 10_000),
    "submit_100kb_budget_0": (lambda n: mapped_kept(n, 0, "submit"), 10_000, 10_000),
    "submit_100kb_keep_all": (lambda n: mapped_kept(n, 2**40, "submit"), 10_000, 10_000),
}


def _child(name: str, quick: bool) -> None:
    fn, n, quick_n = WORKLOADS[name]
    size = quick_n if quick else n
    print(json.dumps({"workload": name, "n": size, **fn(size)}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", action="append", choices=sorted(WORKLOADS))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.workload[0], args.quick)
        return 0
    rows = []
    for name in args.workload or list(WORKLOADS):
        with tempfile.TemporaryDirectory() as home:
            env = {**os.environ, "HEADWATER_HOME": home}
            cmd = [sys.executable, str(HERE), "--child", "--workload", name]
            if args.quick:
                cmd.append("--quick")
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode:
            print(f"{name} failed:\n{proc.stderr[-3000:]}", file=sys.stderr)
            return 1
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    print("| workload | n | figures |")
    print("| --- | --- | --- |")
    for row in rows:
        figures = ", ".join(f"{k} {v:.1f}" for k, v in row.items()
                            if k not in ("workload", "n"))
        print(f"| {row['workload']} | {row['n']:,} | {figures} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
