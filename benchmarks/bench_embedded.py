"""Measure the start-up cost of embedded mode: recording runs, and the in-process API.

Usage::

    python benchmarks/bench_embedded.py             # 5 runs each on an existing and a fresh DB
    python benchmarks/bench_embedded.py --reps 9 --json

Recording (what every flow run pays; the start-up target is < 100 ms): in
fresh interpreters, the first call of a flow with one task, recorded to the
embedded database against unrecorded (``--flow-child``). The difference is
what embedded recording costs to start: opening (or creating) the SQLite
file, its threads, and storing the run before the call returns.

The in-process API (what the CLI and ``get_client()`` pay, not flow runs):
each run is a fresh interpreter (``--child``), timing, after ``import headwater``:

* ``app + hello``: building the embedded app and answering ``GET /api/hello``
  (no database work: the figure of the start-up target, < 100 ms);
* ``first DB request``: then ``POST /api/flows/filter``, the first request that
  starts the database (engine, and the migration check or the migrations);
* ``next request``: a second ``GET /api/hello``.

"existing" reuses one ``HEADWATER_HOME`` whose database is already at the
latest revision; "fresh" uses a new empty ``HEADWATER_HOME`` every run (so
the migrations run). The medians are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _child() -> None:
    import asyncio

    t0 = time.perf_counter()
    import headwater  # noqa: F401

    t1 = time.perf_counter()
    from headwater.client import get_client

    async def main() -> tuple[float, float, float]:
        async with get_client() as client:
            await client.hello()
            t2 = time.perf_counter()
            await client.read_flows(limit=1)
            t3 = time.perf_counter()
            await client.hello()
            t4 = time.perf_counter()
        return t2, t3, t4

    t2, t3, t4 = asyncio.run(main())
    print(json.dumps({"import": t1 - t0, "app_hello": t2 - t1, "first_db": t3 - t2,
                      "next": t4 - t3}))


def _flow_child() -> None:
    from headwater import flow, task

    @task
    def one() -> int:
        return 1

    @flow
    def f() -> int:
        return one()

    t0 = time.perf_counter()
    f()
    print(json.dumps({"first_flow": time.perf_counter() - t0}))


def _run(home: Path, child: str = "--child", **extra: str) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HEADWATER_API_URL", "HEADWATER_API_DATABASE"))}
    env["HEADWATER_HOME"] = str(home)
    env.update(extra)
    out = subprocess.run([sys.executable, __file__, child], env=env, check=True,
                         capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--flow-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child()
        return
    if args.flow_child:
        _flow_child()
        return
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for recorded in ("false", "true"):
            runs = [_run(Path(tmp) / f"flow-{recorded}{i}", "--flow-child",
                         HEADWATER_API_ENABLE_RECORDING=recorded) for i in range(args.reps)]
            report[f"first flow, recording {recorded}"] = statistics.median(
                run["first_flow"] for run in runs) * 1000
        existing = Path(tmp) / "existing"
        _run(existing)  # creates and migrates it; also warms the bytecode caches
        for label in ("existing", "fresh"):
            runs = [_run(existing if label == "existing" else Path(tmp) / f"fresh{i}")
                    for i in range(args.reps)]
            report[label] = {key: statistics.median(run[key] for run in runs) * 1000
                             for key in runs[0]}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    off, on = report.pop("first flow, recording false"), report.pop("first flow, recording true")
    print(f"first flow call, fresh home: unrecorded {off:.0f} ms, recorded {on:.0f} ms: "
          f"embedded recording starts in {on - off:.0f} ms (median of {args.reps})")
    for label, ms in report.items():
        print(f"{label:8} database: import {ms['import']:.0f} ms; embedded app + first request "
              f"{ms['app_hello']:.0f} ms; first DB request {ms['first_db']:.0f} ms; "
              f"next request {ms['next']:.1f} ms (median of {args.reps})")


if __name__ == "__main__":
    main()
