"""Flows the UI tests run in a process of their own, recording to a server
(``HEADWATER_API_URL``), for the UI to cancel or resume them.

Usage: ``python remote_flows.py pause|sleep``.
"""

from __future__ import annotations

import asyncio
import sys

from headwater import flow, get_run_logger, pause_flow_run


@flow(name="waits-for-approval")
def waits_for_approval() -> str:
    get_run_logger().info("waiting for approval")
    pause_flow_run(timeout=120)
    get_run_logger().info("approved, going on")
    return "approved"


@flow(name="sleeps-until-cancelled")
async def sleeps_until_cancelled() -> None:
    get_run_logger().info("sleeping")
    await asyncio.sleep(120)  # async: a cancellation interrupts the wait


if __name__ == "__main__":
    if sys.argv[1] == "pause":
        waits_for_approval()
    else:
        asyncio.run(sleeps_until_cancelled())
