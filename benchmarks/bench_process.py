"""Whole-process workloads: ``python examples/hello.py`` and ``import headwater``.

Each command is run several times after one discarded warm-up run (which
fills the page cache and writes ``.pyc`` files); the median wall time is
reported against ``python -c pass``. On Unix each child's own peak RSS is
read with ``os.wait4``, so runs do not mix their peaks.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench_plain import check

REPO = Path(__file__).resolve().parent.parent
HELLO = REPO / "examples" / "hello.py"


@dataclass
class ProcessTiming:
    """Median wall time (s) and largest peak RSS (MB, None if unknown) of one command."""

    wall_s: float
    peak_rss_mb: float | None


def _run_once(argv: list[str]) -> tuple[float, float | None]:
    """Run ``argv`` once; return its wall time and peak RSS; raise if it fails."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=REPO, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if hasattr(os, "wait4"):
        assert proc.stderr is not None
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        proc.stderr.close()
        scale = 1 if sys.platform == "darwin" else 1024
        rss: float | None = usage.ru_maxrss * scale / 2**20
    else:  # pragma: no cover - Windows
        _, err = proc.communicate()
        elapsed = time.perf_counter() - start
        rss = None
    tail = err.decode(errors="replace").strip().splitlines()[-3:]
    check(proc.returncode == 0,
          f"{' '.join(argv[1:])!r} exited with {proc.returncode}: {' / '.join(tail)}")
    return elapsed, rss


def time_command(argv: list[str], reps: int) -> ProcessTiming:
    """Run ``argv`` once to warm up, then ``reps`` times; return the median timing."""
    _run_once(argv)
    runs = [_run_once(argv) for _ in range(reps)]
    rss_values = [rss for _, rss in runs if rss is not None]
    return ProcessTiming(statistics.median(t for t, _ in runs),
                         max(rss_values) if rss_values else None)


def python_pass(reps: int) -> ProcessTiming:
    """Time ``python -c pass``: the interpreter's own start-up cost."""
    return time_command([sys.executable, "-c", "pass"], reps)


def python_hello(reps: int) -> ProcessTiming | None:
    """Time ``python examples/hello.py``; None if the example does not exist yet."""
    if not HELLO.exists():
        return None
    return time_command([sys.executable, str(HELLO)], reps)


def python_import(reps: int) -> ProcessTiming:
    """Time ``python -c "import headwater"``."""
    return time_command([sys.executable, "-c", "import headwater"], reps)


def import_offenders(top: int = 10) -> list[dict[str, object]]:
    """Return the ``top`` modules with the largest self import time under ``import headwater``.

    Parsed from ``python -X importtime``; each entry has ``module``, ``self_us``
    and ``cumulative_us``.
    """
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import headwater"],
                          cwd=REPO, capture_output=True, text=True, check=False)
    check(proc.returncode == 0, f"python -X importtime failed: {proc.stderr[-300:]}")
    rows: list[dict[str, object]] = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, module = line[len("import time:"):].split("|", 2)
        rows.append({"module": module.strip(), "self_us": int(self_us),
                     "cumulative_us": int(cumulative_us)})
    rows.sort(key=lambda row: row["self_us"], reverse=True)  # type: ignore[arg-type,return-value]
    return rows[:top]
