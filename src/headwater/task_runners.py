"""Task runners: where submitted task runs execute.

``DaskTaskRunner`` (the ``headwater[dask]`` extra) is imported on first use,
so ``import headwater.task_runners`` stays light.
"""

from typing import TYPE_CHECKING

from headwater._private.runners import (
    ConcurrentTaskRunner,
    SequentialTaskRunner,
    TaskRunner,
    ThreadPoolTaskRunner,
)

if TYPE_CHECKING:
    from headwater._private.dask.runner import DaskTaskRunner

__all__ = [
    "ConcurrentTaskRunner",
    "DaskTaskRunner",
    "SequentialTaskRunner",
    "TaskRunner",
    "ThreadPoolTaskRunner",
]


def __getattr__(name: str) -> object:
    if name == "DaskTaskRunner":
        from headwater._private.dask.runner import DaskTaskRunner

        return DaskTaskRunner
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
