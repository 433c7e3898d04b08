"""``python -m headwater.engine``: run the flow run named by ``HEADWATER__FLOW_RUN_ID``.

What ``serve`` and workers start for each run of a deployment (Prefect 2's
``python -m prefect.engine``, same variable). The run is run as itself (no
new run is created); the exit code is 0 when it ends Completed, 1 otherwise,
and 83 when the deployment's version lock refused the start (another process
started the run): its worker leaves the run alone then.
"""

from __future__ import annotations

import os
import sys

__all__ = ["main"]


def main() -> int:
    """Run the flow run in ``HEADWATER__FLOW_RUN_ID``; return the exit code."""
    from headwater._private.deployments.execute import FlowRunNotRunnable, execute_flow_run
    from headwater._private.version_lock import VERSION_LOCKED_EXIT_CODE
    from headwater.exceptions import VersionLockError

    flow_run_id = os.environ.get("HEADWATER__FLOW_RUN_ID")
    if not flow_run_id:
        print("python -m headwater.engine runs one stored flow run: set HEADWATER__FLOW_RUN_ID "
              "to its id.", file=sys.stderr)
        return 2
    try:
        state = execute_flow_run(flow_run_id)
    except FlowRunNotRunnable as exc:
        print(f"headwater.engine: {exc}", file=sys.stderr)
        return 1
    except VersionLockError as exc:
        print(f"headwater.engine: {exc}", file=sys.stderr)
        return VERSION_LOCKED_EXIT_CODE
    return 0 if state.is_completed() else 1


if __name__ == "__main__":
    sys.exit(main())
