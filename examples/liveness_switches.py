"""Liveness switches and version locking: a local flow, then a deployment's run started twice.

Run it as it is: it uses a temporary HEADWATER_HOME (the embedded API on a
SQLite file, no server). See docs/liveness.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

os.environ.setdefault("HEADWATER_HOME", tempfile.mkdtemp())

from headwater import flow, task
from headwater.client import get_client

HOME = Path(os.environ["HEADWATER_HOME"])

FLOW_FILE = """
    from headwater import flow

    @flow
    def report(day: str) -> str:
        print(f"report for {day}")
        return day
"""


@task
def double(x: int) -> int:
    return 2 * x


# Local runs: each task run is claimed before it runs (a second start of the
# same task run, as Dask does when it loses a worker, is refused), and no
# heartbeats are sent for the flow run.
@flow(version_lock=True, heartbeat=False)
def locked(n: int) -> list[int]:
    return [double(i) for i in range(n)]


def engine(run_id: str) -> int:
    """What a worker starts for a run: ``python -m headwater.engine``; its exit code."""
    env = {**os.environ, "HEADWATER__FLOW_RUN_ID": run_id}
    return subprocess.run([sys.executable, "-m", "headwater.engine"], env=env,
                          capture_output=True, text=True, check=False).returncode


def main() -> None:
    print("local run:", locked(3))

    code = HOME / "code"
    code.mkdir(parents=True, exist_ok=True)
    (code / "report.py").write_text(textwrap.dedent(FLOW_FILE))
    with get_client(sync_client=True) as client:
        flow_row = client.request("POST", "flows/", json={"name": "report"})
        deployment, _ = client.create_deployment(
            name="daily", flow_id=flow_row["id"], entrypoint="report.py:report",
            code_location={"kind": "local", "path": str(code)},
            parameters={"day": "2026-12-05"}, version_lock=True)
        # What `headwater deployment set report/daily --no-lazarus` sends:
        client.update_deployment(deployment["id"], lazarus=False)
        now = client.read_deployment(deployment["id"])
        print("switches:", {k: now[k] for k in ("heartbeat", "lazarus", "version_lock")},
              "- same version:", now["version"] == deployment["version"])
        run = client.create_flow_run_from_deployment(deployment["id"])

    first, second = engine(str(run["id"])), engine(str(run["id"]))
    print("first start exit code:", first, "- second start exit code:", second,
          "(83: refused by the version lock, the body did not run)")
    assert (first, second) == (0, 83)


if __name__ == "__main__":
    main()
