"""Cache keys and the in-process cache: ``cache_key_fn``, ``cache_policy``, ``task_input_hash``.

A task with ``cache_key_fn`` or ``cache_policy`` gets a key for each call. A
later run with the same unexpired key ends ``Cached`` without calling the
function. Where the entry lives depends on persistence: with results
persisted, the key index lives with the results in storage (see
``results/io.py``), so other processes hit it too; with ``persist_result=False``,
entries live in this process only, in `CACHE`.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from headwater._private.cache_policies import (
    CacheKeyFnPolicy,
    CachePolicy,
    KeyPart,
    hash_input,
    source_hash,
)
from headwater._private.collections import resolve
from headwater._private.context import TaskRunContext, task_run_ctx
from headwater._private.results.hashing import stable_hash
from headwater.exceptions import UnhashableInputError

if TYPE_CHECKING:
    from headwater._private.options import TaskDefinition, TaskOptions
    from headwater._private.run_records import FlowRun, TaskRun

_log = logging.getLogger("headwater.task_runs")


def hash_objects(*objects: Any) -> str | None:
    """Return a stable hex digest of ``objects``, or None when one cannot be hashed."""
    try:
        return stable_hash(*objects)
    except UnhashableInputError:
        return None


def input_hash_parts(context: TaskRunContext, arguments: dict[str, Any]) -> list[KeyPart]:
    """Return the parts `task_input_hash` hashes: the task, its source, each argument."""
    task = context.task
    parts = [KeyPart("task", task.task_key, stable_hash(task.task_key)),
             KeyPart("task_source", getattr(task.fn, "__qualname__", task.name),
                     source_hash(task.fn))]
    parts.extend(KeyPart("inputs", name, hash_input(name, value))
                 for name, value in sorted(arguments.items()))
    return parts


def task_input_hash(context: TaskRunContext, arguments: dict[str, Any]) -> str | None:
    """A ``cache_key_fn`` that keys on the task, its source code and its arguments.

    Two runs of the same task with equal arguments share a key, in any
    process, so the second is ``Cached``. When an argument cannot be hashed,
    a warning names it and None is returned: the run goes ahead uncached.
    """
    try:
        parts = input_hash_parts(context, arguments)
    except UnhashableInputError as exc:
        _run_logger().warning("%s This run is not cached; pass a hashable value, or leave "
                              "the argument out with cache_policy=INPUTS - 'name'.", exc)
        return None
    return join_parts(parts)


def _outside_runs() -> logging.Logger:
    return _log


run_logger: Callable[[], logging.Logger | logging.LoggerAdapter[Any]] = _outside_runs
"""The current run's logger, else ``headwater.task_runs``: set by ``run_logging`` when
imported (caching sits below it; before it no run can exist)."""


def _run_logger() -> logging.Logger | logging.LoggerAdapter[Any]:
    try:
        return run_logger()
    except Exception:  # outside a run
        return _log


def join_parts(parts: list[KeyPart]) -> str:
    """Return the key made of ``parts``."""
    # Parts are strings already; separators that cannot appear in them keep
    # the joined text unambiguous.
    text = "\x1f".join(f"{p.source}\x1e{p.detail}\x1e{p.digest}" for p in parts)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def effective_policy(options: TaskOptions) -> CachePolicy | None:
    """Return the cache policy a task's options ask for (None: no caching)."""
    if options.cache_policy is not None:
        return options.cache_policy  # type: ignore[no-any-return]
    if options.cache_key_fn is not None:
        return CacheKeyFnPolicy(options.cache_key_fn)
    return None


def cache_key_for(policy: CachePolicy, ctx: TaskRunContext, arguments: dict[str, Any],
                  flow_parameters: dict[str, Any]) -> str | None:
    """Return the key of one call; policy keys are scoped to the task."""
    key = policy.compute_key(ctx, arguments, flow_parameters)
    if key is None or isinstance(policy, CacheKeyFnPolicy):
        return key
    return stable_hash(ctx.task.task_key, key)


def compute_cache_key(task: TaskDefinition, run: TaskRun, flow_run: FlowRun | None,
                      args: Any, kwargs: Any) -> tuple[str | None, str | None]:
    """Return the key of a run of ``task`` (the ``ComputeCacheKey`` step) and a warning.

    Any failure gives no key and a warning. Policies see the run's context as
    ``headwater.runtime`` does: the task run context the job set for the run
    (a bare one when driven without it).
    """
    policy = effective_policy(task.options)
    if policy is None:
        return None, None
    try:
        ctx = task_run_ctx.get()
        if ctx is None or ctx.task_run is not run:
            ctx = TaskRunContext(task, run, task.is_async, None, False)
        parameters = flow_run.parameters if flow_run is not None else {}
        arguments = task.bind(args, kwargs)
        return cache_key_for(policy, ctx, arguments, parameters), None
    except UnhashableInputError as exc:
        return None, (f"{exc} This run is not cached; pass a hashable value, or leave the "
                      "argument out of the key with cache_policy=INPUTS - 'name'.")
    except Exception as exc:
        source = "cache_key_fn" if isinstance(policy, CacheKeyFnPolicy) else "cache_policy"
        return None, (f"{source} raised {type(exc).__name__}: {exc}; this run is not "
                      f"cached. Fix the {source} or remove it.")


# ---------------------------------------------------------------------- explain
class CacheKeyExplanation:
    """What `explain_cache_key` found: the key, and the parts it was made from.

    Attributes:
        task: The task's name.
        policy: The policy, as written (``INPUTS + TASK_SOURCE``).
        key: The cache key, or None when the call would run uncached.
        parts: ``KeyPart(source, detail, digest)`` for each ingredient.
        error: Why there is no key, if there is none.
    """

    def __init__(self, task: str, policy: str, key: str | None, parts: list[KeyPart],
                 error: str | None = None) -> None:
        self.task = task
        self.policy = policy
        self.key = key
        self.parts = parts
        self.error = error

    def __str__(self) -> str:
        lines = [f"Cache key of task {self.task!r} with {self.policy}: {self.key}"]
        if self.error:
            lines.append(f"  not cached: {self.error}")
        width = max((len(p.source) + len(p.detail) + 1 for p in self.parts), default=0)
        for part in self.parts:
            label = f"{part.source}.{part.detail}" if part.detail else part.source
            lines.append(f"  {label:<{width}}  {part.digest[:16]}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"CacheKeyExplanation(key={self.key!r}, parts={len(self.parts)})"


def explain_cache_key(task: TaskDefinition, *args: Any, **kwargs: Any) -> CacheKeyExplanation:
    """Show which parts make the cache key of ``task(*args, **kwargs)``.

    Run it twice with the calls you expected to share a key and compare the
    digests: the part that differs is why the second call missed. Futures
    and States among the arguments count as their results. Inside a flow run,
    ``FLOW_PARAMETERS`` and ``RUN_ID`` use that run; outside, they are empty.

    Returns:
        A `CacheKeyExplanation`; print it for a table of parts.
    """
    from headwater._private.context import flow_run_ctx
    from headwater._private.run_records import TaskRun
    from headwater._private.states import now

    policy = effective_policy(task.options)
    name = task.name
    if policy is None:
        return CacheKeyExplanation(name, "no cache policy", None, [],
                                   "the task has no cache_key_fn or cache_policy")
    args = resolve(args, _result_of)
    kwargs = resolve(kwargs, _result_of)
    arguments = task.bind(args, kwargs)
    flow_ctx = flow_run_ctx.get()
    flow_run_id = flow_ctx._flow_run._id if flow_ctx is not None else None
    parameters = flow_ctx._flow_run.parameters if flow_ctx is not None else {}
    run = TaskRun(_explain_id(), "explain", task.name, task.task_key, "0", flow_run_id,
                  task.options.tags, now())
    ctx = TaskRunContext(task, run, task.is_async, None, False)
    try:
        parts = policy.key_parts(ctx, arguments, parameters) or []
        key = cache_key_for(policy, ctx, arguments, parameters)
    except Exception as exc:
        return CacheKeyExplanation(name, repr(policy), None, [], f"{exc}")
    if not isinstance(policy, CacheKeyFnPolicy) and key is not None:
        parts.insert(0, KeyPart("task", task.task_key, stable_hash(task.task_key)))
    return CacheKeyExplanation(name, repr(policy), key, parts,
                               None if key is not None else "the policy gave no key")


def _explain_id() -> Any:
    import uuid

    return uuid.UUID(int=0)


def _result_of(upstream: Any) -> Any:
    return upstream.result()


class CacheStore:
    """Cached task results by key, in process memory, with expiry. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[Any, _dt.datetime | None]] = {}

    def get(self, key: str, now: _dt.datetime) -> tuple[bool, Any, _dt.datetime | None]:
        """Return ``(hit, value, expiration)`` for ``key``; an expired entry is a miss."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return False, None, None
            value, expires = entry
            if expires is not None and expires <= now:
                del self._entries[key]
                return False, None, None
            return True, value, expires

    def put(self, key: str, value: Any, expires: _dt.datetime | None) -> None:
        """Store ``value`` under ``key`` until ``expires`` (forever if None)."""
        with self._lock:
            self._entries[key] = (value, expires)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()


CACHE = CacheStore()
