"""When the process is interrupted during a flow run, nothing it started stays held or Running.

Ctrl-C (SIGINT), SIGTERM and ``sys.exit`` end the flow run Crashed through
its machine. The child runs still in flight cannot be stopped from here (a
sync task in a worker thread runs until it returns), and the process is
about to end: each flow run that the interruption passes through records
its unfinished child runs Crashed, with the reason, and the top-level one
gives back every concurrency slot this process holds, so other processes
need not wait for the leases to expire.
"""

from __future__ import annotations

import asyncio
from typing import Any

from headwater._private.context import RunTracker
from headwater._private.engine.transitions import set_state
from headwater._private.run_records import FlowRun, TaskRun
from headwater._private.sigterm import termination_requested
from headwater._private.states import Crashed
from headwater.exceptions import TerminationSignal

__all__ = ["abandon_children", "give_back_slots", "is_interrupt"]


def is_interrupt(exc: BaseException) -> bool:
    """Whether ``exc`` ends the process rather than the run (Ctrl-C, SIGTERM, exit)."""
    if isinstance(exc, KeyboardInterrupt | SystemExit | TerminationSignal):
        return True
    return isinstance(exc, asyncio.CancelledError) and termination_requested() is not None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        what = "by Ctrl-C (SIGINT)"
    elif isinstance(exc, SystemExit):
        what = "by sys.exit()"
    else:
        what = "by a termination signal (SIGTERM)"
    return f"The process was interrupted {what} while this run was in flight."


def abandon_children(tracker: RunTracker, exc: BaseException) -> int:
    """Record each unfinished child run of a flow run Crashed; return how many."""
    reason = _reason(exc)
    count = 0
    for job in tracker.inflight():
        run: Any = getattr(job, "run", None)
        if not isinstance(run, TaskRun | FlowRun):
            continue
        state = run._state
        if state is not None and state.is_final():
            continue
        set_state(run, Crashed(message=reason))
        count += 1
    return count


def give_back_slots() -> None:
    """Release every concurrency slot this process holds through the API or the file, now."""
    from headwater._private.concurrency.registry import release_held_slots

    release_held_slots()
