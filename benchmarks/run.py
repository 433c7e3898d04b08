"""Benchmark headwater against plain Python doing the same work.

Usage::

    python benchmarks/run.py                      # every workload, Markdown table
    python benchmarks/run.py --workload direct    # one workload (repeatable option)
    python benchmarks/run.py --quick              # smaller sizes: a fast smoke run
    python benchmarks/run.py --json               # machine-readable results

Each workload runs in a fresh subprocess (``run.py --workload NAME --json``)
so that its peak RSS is its own. Inside it, the plain-Python baseline runs
first, before headwater is imported, then the headwater flow; each side gets
one warm-up run and the median of several timed repetitions is reported.
headwater runs with its default configuration (runs recorded to a fresh
embedded SQLite database; ``HEADWATER_API_ENABLE_RECORDING=false python
benchmarks/run.py`` measures without recording, and
``HEADWATER_FLOW_RUN_VERSION_LOCK=true python benchmarks/run.py`` with every
task run claimed by the version lock); its logs (stderr) are captured and
dropped unless the workload fails.

The exit code is 0 even when targets are missed (this is a report, not a
test) and 1 when a workload produced wrong results or crashed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import bench_plain
import bench_process

HERE = Path(__file__).resolve()


@dataclass(frozen=True)
class Spec:
    """One workload: its sizes, repetitions and target."""

    name: str
    n: int
    quick_n: int
    reps: int
    target: str = "—"
    met: Callable[[Result], bool | None] | None = None
    kind: str = "flow"  # "flow": in-process timing; "process": whole-process timing


@dataclass
class Result:
    """What one workload measured (all times in seconds, sizes in MB)."""

    workload: str
    n: int
    wall_s: float | None = None
    baseline_s: float | None = None
    overhead_us: float | None = None
    peak_rss_mb: float | None = None
    baseline_rss_mb: float | None = None
    import_rss_mb: float | None = None
    target: str = "—"
    ok: bool | None = None
    note: str = ""
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _memory_met(result: Result) -> bool | None:
    growth = result.extra.get("runtime_growth_mb")
    return None if growth is None else growth < 10


def _overhead_below(limit_us: float) -> Callable[[Result], bool | None]:
    return lambda r: r.overhead_us is not None and r.overhead_us <= limit_us


def _wall_below(limit_s: float) -> Callable[[Result], bool | None]:
    return lambda r: r.wall_s is not None and r.wall_s < limit_s


def _recording() -> bool:
    """Whether runs are recorded here (the default; the targets of two workloads depend on it)."""
    value = os.environ.get("HEADWATER_API_ENABLE_RECORDING", "true").strip().lower()
    return value not in ("0", "false", "no", "off")


# Targets from the core runtime issue, on a 2-core machine. With recording on
# (the default), direct calls and retries store every state as it happens:
# their targets are those set by the storage-core issue (#13) from measurements.
_DIRECT_US, _RETRIES_US = (45, 250) if _recording() else (30, 150)
SPECS: dict[str, Spec] = {spec.name: spec for spec in [
    Spec("direct", 1_000, 200, 5, f"<= {_DIRECT_US} us/task", _overhead_below(_DIRECT_US)),
    Spec("submit", 1_000, 200, 5, "<= 80 us/task", _overhead_below(80)),
    Spec("map", 10_000, 1_000, 5, "<= 80 us/task", _overhead_below(80)),
    Spec("async_gather", 1_000, 200, 3, "wall < 0.2 s", _wall_below(0.2)),
    Spec("chain", 500, 100, 5, "<= 100 us/link", _overhead_below(100)),
    Spec("fanout_sleep", 100, 20, 3, "wall < 0.5 s", _wall_below(0.5)),
    Spec("memory", 500, 50, 3, "RSS growth < 10 MB", _memory_met),
    Spec("subflows", 50, 10, 5, "< 1000 us/subflow", _overhead_below(1000)),
    Spec("retries", 100, 20, 3, f"<= {_RETRIES_US} us/call (3 attempts)",
         _overhead_below(_RETRIES_US)),
    Spec("flow_runs", 200, 50, 5, "per empty top-level flow run (report)"),
    Spec("hello", 1, 1, 5, "wall < 0.6 s", _wall_below(0.6), kind="process"),
    Spec("import", 1, 1, 7, "< 150 ms over bare python", _overhead_below(150_000),
         kind="process"),
]}


# ---------------------------------------------------------------------- measuring
def _peak_rss_mb() -> float | None:
    """This process's peak RSS so far, from ``getrusage``."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def _current_rss_mb() -> float | None:
    """This process's current RSS (Linux only; None elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except OSError:
        return None
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _timed(fn: Callable[[int], None], n: int) -> float:
    """Return the seconds one ``fn(n)`` call takes."""
    start = time.perf_counter()
    fn(n)
    return time.perf_counter() - start


def measure_flow(spec: Spec, n: int, reps: int) -> Result:
    """Time the baseline, then import headwater and time the flow, in this process.

    ``runtime_growth_mb`` is how far the peak RSS rose above the RSS measured
    after a tiny first run (n=2, which pays for lazy imports and logging
    set-up); the full-size warm-up and timed runs come after it, so results
    kept alive by the engine, during a run or across runs, show up there.

    Baseline repetitions run both before the import (for the baseline's peak
    RSS) and interleaved with headwater's, so that a machine getting busier or
    quieter during the run skews both sides alike.
    """
    result = Result(spec.name, n, target=spec.target)
    plain = bench_plain.WORKLOADS[spec.name]
    plain(n)
    plain_times = [_timed(plain, n) for _ in range(reps)]
    result.baseline_rss_mb = _peak_rss_mb()
    before_import = _current_rss_mb()
    import bench_headwater  # headwater is imported only now: see the module docstring

    after_import = _current_rss_mb()
    flow = bench_headwater.WORKLOADS[spec.name]
    flow(min(n, 2))
    settled = _current_rss_mb()
    flow(n)
    flow_times = []
    for _ in range(reps):
        flow_times.append(_timed(flow, n))
        plain_times.append(_timed(plain, n))
    result.wall_s = statistics.median(flow_times)
    result.baseline_s = statistics.median(plain_times)
    result.peak_rss_mb = _peak_rss_mb()
    result.overhead_us = (result.wall_s - result.baseline_s) / n * 1e6
    if before_import is not None and after_import is not None and settled is not None:
        assert result.peak_rss_mb is not None
        result.import_rss_mb = after_import
        result.extra["import_cost_mb"] = round(after_import - before_import, 1)
        result.extra["first_run_cost_mb"] = round(settled - after_import, 1)
        result.extra["runtime_growth_mb"] = round(max(0.0, result.peak_rss_mb - settled), 1)
    return result


def measure_process(spec: Spec, reps: int) -> Result:
    """Time a whole ``python`` process against ``python -c pass``."""
    result = Result(spec.name, 1, target=spec.target)
    base = bench_process.python_pass(reps)
    if spec.name == "hello":
        timing = bench_process.python_hello(reps)
        if timing is None:
            result.note = "skipped: examples/hello.py does not exist yet"
            return result
    else:
        timing = bench_process.python_import(reps)
        result.extra["import_offenders"] = bench_process.import_offenders()
    result.wall_s, result.peak_rss_mb = timing.wall_s, timing.peak_rss_mb
    result.baseline_s, result.baseline_rss_mb = base.wall_s, base.peak_rss_mb
    result.overhead_us = (timing.wall_s - base.wall_s) * 1e6
    return result


def run_here(spec: Spec, quick: bool) -> Result:
    """Run one workload in this process and judge its target."""
    n = spec.quick_n if quick else spec.n
    reps = max(1, spec.reps // 2) if quick else spec.reps
    result = measure_process(spec, reps) if spec.kind == "process" else measure_flow(spec, n, reps)
    if spec.met is not None and result.wall_s is not None:
        result.ok = spec.met(result)
    return result


def run_in_subprocess(name: str, quick: bool) -> Result:
    """Run one workload in a fresh interpreter; turn a crash into an error result.

    Each gets a new ``HEADWATER_HOME`` (runs are recorded by default: into a
    fresh database, never the user's), unless one is set in the environment.
    """
    import os
    import tempfile

    argv = [sys.executable, str(HERE), "--workload", name, "--json"] + (["--quick"] * quick)
    with tempfile.TemporaryDirectory(prefix="headwater-bench-") as home:
        env = {"HEADWATER_HOME": home, **os.environ}
        proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=900,
                              env=env)
    if proc.returncode == 0:
        try:
            return Result(**json.loads(proc.stdout.strip().splitlines()[-1])[0])
        except (ValueError, IndexError, TypeError) as exc:
            error = f"unreadable output ({exc}): {proc.stdout[-300:]!r}"
    else:
        lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
        error = lines[-1] if lines else f"exit code {proc.returncode}"
    spec = SPECS[name]
    return Result(name, spec.quick_n if quick else spec.n, target=spec.target, error=error)


# ---------------------------------------------------------------------- reporting
def _num(value: float | None, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


def _ok(result: Result) -> str:
    if result.error is not None:
        return "ERROR"
    if result.note.startswith("skipped"):
        return "skipped"
    return {True: "met", False: "MISSED", None: "—"}[result.ok]


def markdown_table(results: list[Result]) -> str:
    """Render results as a Markdown table, followed by notes."""
    header = ["workload", "n", "wall s", "baseline s", "overhead us/task", "peak RSS MB",
              "target", "ok"]
    rows = [header, ["---"] * len(header)]
    for r in results:
        rss = _num(r.peak_rss_mb, ".1f")
        if r.baseline_rss_mb is not None:
            rss += f" (plain {r.baseline_rss_mb:.1f})"
        rows.append([r.workload, f"{r.n:,}", _num(r.wall_s, ".6f"), _num(r.baseline_s, ".6f"),
                     _num(r.overhead_us, ",.1f"), rss, r.target, _ok(r)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |"
             for row in rows]
    return "\n".join([*lines, "", *_notes(results)])


def _notes(results: list[Result]) -> list[str]:
    notes = [
        "Notes:",
        "- Times are medians of several runs after a warm-up; overhead = (wall - baseline) / n.",
        "- Baselines: plain loops for direct/memory/subflows/retries, asyncio.gather for "
        "async_gather, ThreadPoolExecutor(100) (what headwater's default runner uses) for "
        "submit/map/chain/fanout_sleep, `python -c pass` for hello/import.",
        "- Peak RSS: each workload in its own process; 'plain' is the peak before headwater "
        "was imported (for hello/import: of `python -c pass`).",
        "- subflows: overhead per subflow includes its 10 task calls; retries: per call of "
        "3 attempts (failures log tracebacks at the default level); flow_runs: per empty "
        "top-level flow run, recorded and stored before it returns (compare with "
        "HEADWATER_FLOW_RUN_HEARTBEAT_SECONDS=0 for the cost of liveness); hello/import: whole "
        "process time minus `python -c pass`, in us.",
    ]
    for r in results:
        if "runtime_growth_mb" in r.extra:
            notes.append(f"- {r.workload}: RSS MB: import headwater +{r.extra['import_cost_mb']}, "
                         f"first tiny run +{r.extra['first_run_cost_mb']}, full-size runs "
                         f"+{r.extra['runtime_growth_mb']} over that.")
        if r.note:
            notes.append(f"- {r.workload}: {r.note}")
        if r.error:
            notes.append(f"- {r.workload}: ERROR: {r.error}")
        for row in r.extra.get("import_offenders", []):
            if row is r.extra["import_offenders"][0]:
                notes.append("- slowest imports under `import headwater` (self / cumulative us):")
            notes.append(f"    - {row['module']}: {row['self_us']:,} / {row['cumulative_us']:,}")
    return notes


# ---------------------------------------------------------------------- CLI
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workload", action="append", choices=list(SPECS), metavar="NAME",
                        help=f"run only this workload (repeatable): {', '.join(SPECS)}")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--quick", action="store_true", help="smaller sizes for a smoke run")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the selected workloads and print the report; return the exit code."""
    args = parse_args(argv)
    names = args.workload or list(SPECS)
    if args.json and len(names) == 1:
        # The subprocess protocol: one workload, measured in this very process.
        results = [run_here(SPECS[names[0]], args.quick)]
    else:
        results = []
        for name in names:
            print(f"running {name}...", file=sys.stderr, flush=True)
            results.append(run_in_subprocess(name, args.quick))
    if args.json:
        print(json.dumps([asdict(r) for r in results]))
    else:
        print(markdown_table(results))
    return 1 if any(r.error is not None for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
