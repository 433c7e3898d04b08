"""The recording-cost benchmark finds the recorder's threads (a renamed thread would zero it)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_recording_threads.py"

pytestmark = pytest.mark.skipif(not hasattr(time, "pthread_getcpuclockid"),
                                reason="needs per-thread CPU clocks")


@pytest.mark.slow
def test_it_reports_cpu_of_the_recorders_threads_only_when_recording() -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--workload", "direct", "-n", "200", "--reps", "1",
         "--json"], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    off, on = json.loads(proc.stdout)
    assert (off["recording"], on["recording"]) == (False, True)
    assert off["staging"] == off["writing"] == 0
    assert on["staging"] > 0 and on["writing"] > 0
    assert on["wall"] > 0 and on["flow"] > 0
