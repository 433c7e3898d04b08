"""Workers: poll a work pool, claim its runs, execute them (``headwater worker start``).

`ProcessWorker` is built in; other types (Docker, Kubernetes...) subclass
`BaseWorker` and register an entry point in the group ``headwater.workers``
(see ``docs/workers.md``).
"""

from headwater._private.workers.base import BaseWorker, WorkerRun
from headwater._private.workers.plugins import ENTRY_POINT_GROUP, get_worker_class, worker_types
from headwater._private.workers.process import FLOW_RUN_ID_ENV, ProcessWorker

__all__ = [
    "ENTRY_POINT_GROUP",
    "FLOW_RUN_ID_ENV",
    "BaseWorker",
    "ProcessWorker",
    "WorkerRun",
    "get_worker_class",
    "worker_types",
]
