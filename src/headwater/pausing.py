"""Pause a running flow run until someone resumes it, optionally with typed input.

Another thread, a task on another event loop, or another process (through
the API, when runs are recorded) calls ``resume_flow_run(flow_run_id,
run_input=...)``. ``suspend_flow_run`` and ``pause_flow_run(reschedule=True)``
end the process and need a deployment, which headwater does not have yet:
they raise Prefect 2's error for a run without one.

Example:
    >>> from pydantic import BaseModel
    >>> from headwater import flow
    >>> from headwater.pausing import pause_flow_run
    >>> class Approval(BaseModel):
    ...     approved: bool
    >>> @flow
    ... def publish() -> None:
    ...     answer = pause_flow_run(wait_for_input=Approval, timeout=600)
    ...     if answer.approved:
    ...         ...
"""

from headwater._private.pausing import (
    pause_flow_run,
    pause_flow_run_async,
    resume_flow_run,
    resume_flow_run_async,
    suspend_flow_run,
    suspend_flow_run_async,
)
from headwater.exceptions import FlowPauseTimeout, NotPausedError, RunInputError

__all__ = [
    "FlowPauseTimeout",
    "NotPausedError",
    "RunInputError",
    "pause_flow_run",
    "pause_flow_run_async",
    "resume_flow_run",
    "resume_flow_run_async",
    "suspend_flow_run",
    "suspend_flow_run_async",
]


def _fix_module_names() -> None:
    """Make public names say ``headwater.pausing.X`` in reprs and docs."""
    for public in (pause_flow_run, pause_flow_run_async, resume_flow_run,
                   resume_flow_run_async, suspend_flow_run, suspend_flow_run_async):
        public.__module__ = "headwater.pausing"


_fix_module_names()
