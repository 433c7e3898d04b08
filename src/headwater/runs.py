"""Acting on running flow runs: cancel one (in this process).

Example:
    >>> import threading
    >>> from headwater.runs import cancel_flow_run
    >>> threading.Timer(60, cancel_flow_run, [run_id]).start()
"""

from headwater._private.cancellation import cancel_flow_run

__all__ = ["cancel_flow_run"]


def _fix_module_names() -> None:
    """Make public names say ``headwater.runs.X`` in reprs and docs."""
    cancel_flow_run.__module__ = "headwater.runs"


_fix_module_names()
