"""Acting on running flow runs: cancel one, in this process or, through the API, in another.

Example:
    >>> import threading
    >>> from headwater.runs import cancel_flow_run
    >>> threading.Timer(60, cancel_flow_run, [run_id]).start()
"""

from headwater._private.cancellation import cancel_flow_run, cancel_flow_run_async

__all__ = ["cancel_flow_run", "cancel_flow_run_async"]


def _fix_module_names() -> None:
    """Make public names say ``headwater.runs.X`` in reprs and docs."""
    for public in (cancel_flow_run, cancel_flow_run_async):
        public.__module__ = "headwater.runs"


_fix_module_names()
