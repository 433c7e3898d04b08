"""The example scripts run to completion (skipped until they exist)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize("name", ["hello.py", "etl.py", "deployment_api.py",
                                  "liveness_switches.py"])
def test_example_runs(name: str, tmp_path: Path) -> None:
    script = EXAMPLES / name
    if not script.exists():
        pytest.skip(f"examples/{name} does not exist yet")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=50, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]

