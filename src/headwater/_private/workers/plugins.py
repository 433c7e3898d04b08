"""Worker types by name: the built-in process worker, and plug-ins from entry points.

A package adds a worker type by declaring an entry point in the group
``headwater.workers`` whose value is a `BaseWorker` subclass::

    [project.entry-points."headwater.workers"]
    docker = "my_package.workers:DockerWorker"

``headwater worker start --type docker`` then finds it.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from headwater._private.workers.base import BaseWorker
from headwater._private.workers.process import ProcessWorker

__all__ = ["ENTRY_POINT_GROUP", "get_worker_class", "worker_types"]

ENTRY_POINT_GROUP = "headwater.workers"
_BUILT_IN: dict[str, type[BaseWorker]] = {"process": ProcessWorker}


def worker_types() -> list[str]:
    """The names of the worker types installed."""
    return sorted({*_BUILT_IN, *(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))})


def get_worker_class(type_: str) -> type[BaseWorker]:
    """The worker class of a type.

    Raises:
        ValueError: No such type is installed (the message lists those that are),
            or its entry point is not a `BaseWorker` subclass.
    """
    if type_ in _BUILT_IN:
        return _BUILT_IN[type_]
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == type_:
            cls = ep.load()
            if not (isinstance(cls, type) and issubclass(cls, BaseWorker)):
                raise ValueError(f"The worker type {type_!r} ({ep.value}) is not a subclass of "
                                 "headwater.workers.BaseWorker.")
            return cls
    raise ValueError(f"No worker type {type_!r} is installed; installed: "
                     f"{', '.join(worker_types())}. A package adds one with an entry point in "
                     f"the group {ENTRY_POINT_GROUP!r}.")
