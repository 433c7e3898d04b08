"""Decide, once per task run, whether and how its result is persisted and cached.

`needs_plan` is the machine's pure check (a few attribute reads) that lets an
ordinary run skip planning altogether; `plan_for` and `flow_result_plan`
build the plan (storage and serializer objects) when the driver carries out
a ``PlanResult`` step. ``HEADWATER_RESULTS_PERSIST_BY_DEFAULT`` comes in as
an argument: the jobs read it once per flow run.
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from headwater._private.cache_policies import CachePolicy
    from headwater._private.options import FlowOptions, TaskOptions
    from headwater._private.protocols import FlowOptionsView
    from headwater._private.results.serializers import Serializer
    from headwater._private.results.storage import ResultStorage
    from headwater._private.run_records import TaskRun

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


def needs_plan(options: TaskOptions, flow_options: FlowOptionsView | None,
               persist_by_default: bool) -> bool:
    """Return False when a task run neither caches nor persists (no plan to build)."""
    if not options.plain_results:
        return True
    if options.persist_result is False:
        return False
    flow_persist = flow_options.persist_result if flow_options is not None else None
    return flow_persist is True or (flow_persist is None and persist_by_default)


def plan_for(options: TaskOptions, flow_options: FlowOptionsView | None,
             persist_by_default: bool) -> ResultPlan | None:
    """Return a task run's result plan, or None when nothing is cached or persisted.

    Raises:
        InvalidOptionError: The storage or serializer option cannot be used.
    """
    if not needs_plan(options, flow_options, persist_by_default):
        return None
    # Imported here so that runs that cache and store nothing never load them.
    from headwater._private.caching import effective_policy
    from headwater._private.results.serializers import get_serializer

    policy = effective_policy(options)
    if not _persist(options, flow_options, policy, persist_by_default):
        return ResultPlan(policy, False, None, None, None, True) if policy else None
    storage_option = options.result_storage
    if storage_option is None and flow_options is not None:
        storage_option = flow_options.result_storage
    serializer_option = options.result_serializer
    if serializer_option is None and flow_options is not None:
        serializer_option = flow_options.result_serializer
    return ResultPlan(policy, True, _storage(storage_option), get_serializer(serializer_option),
                      options.result_storage_key, options.cache_result_in_memory)


def _persist(options: TaskOptions, flow_options: FlowOptionsView | None,
             policy: CachePolicy | None, persist_by_default: bool) -> bool:
    if options.persist_result is not None:
        return options.persist_result
    # Prefect's rule: options that only make sense with stored results turn
    # persistence on.
    if (policy is not None or options.result_storage is not None
            or options.result_serializer is not None or options.result_storage_key is not None
            or not options.cache_result_in_memory):
        return True
    flow_persist = flow_options.persist_result if flow_options is not None else None
    return flow_persist if flow_persist is not None else persist_by_default


def _storage(option: Any) -> ResultStorage:
    """The storage an option names; the default local folder when it names none."""
    from headwater._private.results.storage import get_storage

    default_path = None
    if option is None:
        from headwater._private.settings import get_current_settings

        default_path = get_current_settings().local_storage_path
    return get_storage(option, default_path)


def render_storage_key(template: str | None, run: TaskRun | None, cache_key: str | None) -> str:
    """Return the storage key: the template filled in, the cache key, or a random id.

    Templates see ``parameters`` (the call's arguments by name), ``flow_run``
    and ``task_run`` (as ``headwater.runtime`` has them): ``"{parameters[day]}.pkl"``.
    """
    if template is None:
        return safe_key(cache_key) if cache_key is not None else uuid.uuid4().hex
    from headwater._private.run_views import FLOW_RUN, TASK_RUN

    parameters = run.parameters if run is not None else {}
    return template.format(parameters=parameters, flow_run=FLOW_RUN, task_run=TASK_RUN)


def safe_key(key: str) -> str:
    """Return ``key`` if it is a safe file name, else its SHA-256 digest."""
    if _SAFE.fullmatch(key):
        return key
    import hashlib

    return hashlib.sha256(key.encode()).hexdigest()


def flow_persists(options: FlowOptions, persist_by_default: bool) -> bool:
    """Return True when a flow run persists its return value.

    The flow's ``persist_result`` decides; unset, result options that only make
    sense with stored results (``result_storage``, ``result_serializer``,
    ``cache_result_in_memory=False``) or ``HEADWATER_RESULTS_PERSIST_BY_DEFAULT``
    turn it on.
    """
    persist = options.persist_result
    if persist is None:
        persist = (options.result_storage is not None or options.result_serializer is not None
                   or not options.cache_result_in_memory or persist_by_default)
    return bool(persist)


def flow_result_plan(options: FlowOptions, persist_by_default: bool) -> ResultPlan | None:
    """Return where and how a flow run's return value is persisted, or None (memory only)."""
    if not flow_persists(options, persist_by_default):
        return None
    from headwater._private.results.serializers import get_serializer

    return ResultPlan(None, True, _storage(options.result_storage),
                      get_serializer(options.result_serializer), None,
                      options.cache_result_in_memory)
