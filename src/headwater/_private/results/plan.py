"""Decide, once per task run, whether and how its result is persisted and cached.

`plan_for` returns None on the fast path (no caching, nothing persisted), at
the cost of a few attribute reads: the ``HEADWATER_RESULTS_PERSIST_BY_DEFAULT``
setting is read once per flow run, not per task run.
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from headwater._private.cache_policies import CachePolicy
    from headwater._private.engine.jobs import TaskJob
    from headwater._private.results.serializers import Serializer
    from headwater._private.results.storage import ResultStorage

_by_flow_run: tuple[Any, bool] = (None, False)
_SAFE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}")


class ResultPlan:
    """How one task run's result is cached and stored."""

    __slots__ = ("in_memory", "persist", "policy", "serializer", "storage", "storage_key")

    def __init__(self, policy: CachePolicy | None, persist: bool,
                 storage: ResultStorage | None, serializer: Serializer | None,
                 storage_key: str | None, in_memory: bool) -> None:
        self.policy = policy
        self.persist = persist
        self.storage = storage
        self.serializer = serializer
        self.storage_key = storage_key
        self.in_memory = in_memory


def _persist_by_default(job: TaskJob) -> bool:
    global _by_flow_run
    parent = job.parent
    if parent is None:
        return _setting()
    run_id = parent._flow_run._id
    cached = _by_flow_run
    if cached[0] is run_id:
        return cached[1]
    value = _setting()
    _by_flow_run = (run_id, value)
    return value


def _setting() -> bool:
    from headwater._private.settings import get_current_settings

    return get_current_settings().results.persist_by_default


def _flow_option(job: TaskJob, name: str) -> Any:
    parent = job.parent
    return getattr(parent._flow.options, name) if parent is not None else None


def plan_for(job: TaskJob) -> ResultPlan | None:
    """Return the run's result plan, or None when nothing is cached or persisted.

    Raises:
        InvalidOptionError: The storage or serializer option cannot be used.
    """
    opts = job.task.options
    if opts.plain_results:
        if opts.persist_result is False:
            return None
        flow_persist = _flow_option(job, "persist_result")
        if flow_persist is False or (flow_persist is None and not _persist_by_default(job)):
            return None
    return _build(job)


def _persist(job: TaskJob, policy: CachePolicy | None) -> bool:
    opts = job.task.options
    if opts.persist_result is not None:
        return opts.persist_result
    # Prefect's rule: options that only make sense with stored results turn
    # persistence on.
    if (policy is not None or opts.result_storage is not None
            or opts.result_serializer is not None or opts.result_storage_key is not None
            or not opts.cache_result_in_memory):
        return True
    flow_persist = _flow_option(job, "persist_result")
    return flow_persist if flow_persist is not None else _persist_by_default(job)


def _build(job: TaskJob) -> ResultPlan | None:
    # Imported here so that runs that cache and store nothing never load them.
    from headwater._private.caching import effective_policy
    from headwater._private.results.serializers import get_serializer
    from headwater._private.results.storage import get_storage

    opts = job.task.options
    policy = effective_policy(opts)
    persist = _persist(job, policy)
    if not persist:
        return ResultPlan(policy, False, None, None, None, True) if policy else None
    storage_option = opts.result_storage
    if storage_option is None:
        storage_option = _flow_option(job, "result_storage")
    default_path = None
    if storage_option is None:
        from headwater._private.settings import get_current_settings

        default_path = get_current_settings().local_storage_path
    serializer_option = opts.result_serializer
    if serializer_option is None:
        serializer_option = _flow_option(job, "result_serializer")
    return ResultPlan(policy, True, get_storage(storage_option, default_path),
                      get_serializer(serializer_option), opts.result_storage_key,
                      opts.cache_result_in_memory)


def render_storage_key(template: str | None, job: TaskJob, cache_key: str | None) -> str:
    """Return the storage key: the template filled in, the cache key, or a random id.

    Templates see ``parameters`` (the call's arguments by name), ``flow_run``
    and ``task_run`` (as ``headwater.runtime`` has them): ``"{parameters[day]}.pkl"``.
    """
    if template is None:
        return safe_key(cache_key) if cache_key is not None else uuid.uuid4().hex
    from headwater.runtime import flow_run, task_run

    return template.format(parameters=job.run.parameters, flow_run=flow_run, task_run=task_run)


def safe_key(key: str) -> str:
    """Return ``key`` if it is a safe file name, else its SHA-256 digest."""
    if _SAFE.fullmatch(key):
        return key
    import hashlib

    return hashlib.sha256(key.encode()).hexdigest()


def flow_result_plan(options: Any) -> tuple[ResultStorage, Serializer] | None:
    """Return where and how a flow run's return value is persisted, or None (memory only).

    The flow's ``persist_result`` decides; unset, result options that only make
    sense with stored results (``result_storage``, ``result_serializer``,
    ``cache_result_in_memory=False``) or ``HEADWATER_RESULTS_PERSIST_BY_DEFAULT``
    turn it on.
    """
    persist = options.persist_result
    if persist is None:
        persist = (options.result_storage is not None or options.result_serializer is not None
                   or not options.cache_result_in_memory or _setting())
    if not persist:
        return None
    from headwater._private.results.serializers import get_serializer
    from headwater._private.results.storage import get_storage

    default_path = None
    if options.result_storage is None:
        from headwater._private.settings import get_current_settings

        default_path = get_current_settings().local_storage_path
    return (get_storage(options.result_storage, default_path),
            get_serializer(options.result_serializer))
