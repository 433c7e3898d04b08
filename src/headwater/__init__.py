"""headwater: an asyncio-native workflow runtime with Prefect 2's API.

Example:
    >>> from headwater import flow, task
    >>> @task
    ... def add(x: int, y: int) -> int:
    ...     return x + y
    >>> @flow
    ... def total() -> int:
    ...     return sum(add.map([1, 2, 3], 10).result())
    >>> total()
    36
"""

from headwater._private.annotations import allow_failure, quote, unmapped
from headwater._private.cancellation import cancel_flow_run
from headwater._private.context import get_run_context, tags
from headwater._private.flows import Flow, flow, serve
from headwater._private.futures import HeadwaterFuture, as_completed, wait
from headwater._private.pausing import pause_flow_run, resume_flow_run, suspend_flow_run
from headwater._private.run_logging import get_run_logger
from headwater._private.states import State
from headwater._private.tasks import Task, task
from headwater._version import __version__

__all__ = [
    "Flow",
    "HeadwaterFuture",
    "State",
    "Task",
    "__version__",
    "allow_failure",
    "as_completed",
    "cancel_flow_run",
    "flow",
    "get_client",
    "get_run_context",
    "get_run_logger",
    "pause_flow_run",
    "quote",
    "resume_flow_run",
    "serve",
    "suspend_flow_run",
    "tags",
    "task",
    "unmapped",
    "wait",
]


def __getattr__(name: str) -> object:
    # `headwater.runtime` is imported on first use, as Prefect users write
    # `from headwater import runtime`; `get_client` too, so that `import
    # headwater` does not import httpx.
    if name == "runtime":
        import headwater.runtime as runtime

        return runtime
    if name == "get_client":
        from headwater.client import get_client

        return get_client
    raise AttributeError(f"module 'headwater' has no attribute {name!r}")


def _fix_module_names() -> None:
    """Make public names say ``headwater.X`` in reprs, docs and pickles."""
    for public in (Flow, HeadwaterFuture, State, Task):
        public.__module__ = "headwater"


_fix_module_names()
