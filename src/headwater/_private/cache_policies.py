"""Cache policies: what a task run's cache key is made of (Prefect 3's ``cache_policy``).

Policies combine with ``+`` (``INPUTS + TASK_SOURCE``) and inputs are left
out with ``-`` (``INPUTS - "debug"``). Each built-in policy lists the parts it
hashed, which `headwater.caching.explain_cache_key` shows. A policy key is
scoped to the task (its module and qualified name) by the engine, so two
different tasks never share entries by accident; use ``cache_key_fn`` for a
key shared between tasks.
"""

from __future__ import annotations

import inspect
import marshal
import textwrap
import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from headwater._private.results.hashing import stable_hash
from headwater.exceptions import InvalidOptionError, UnhashableInputError

if TYPE_CHECKING:
    from headwater._private.context import TaskRunContext


class KeyPart(NamedTuple):
    """One ingredient of a cache key: where it came from, what it is, its digest."""

    source: str
    detail: str
    digest: str


class CachePolicy:
    """Base class: `compute_key` returns a cache key, or None for "do not cache".

    Subclass and override `compute_key` for a custom policy; it receives the
    task run context, the call's inputs by parameter name, and the flow run's
    parameters.
    """

    def compute_key(self, task_ctx: TaskRunContext | None, inputs: dict[str, Any],
                    flow_parameters: dict[str, Any], **kwargs: Any) -> str | None:
        """Return the key for this call, or None to run uncached."""
        parts = self.key_parts(task_ctx, inputs, flow_parameters)
        if parts is None:
            return None
        from headwater._private.caching import join_parts

        return join_parts(parts)

    def key_parts(self, task_ctx: TaskRunContext | None, inputs: dict[str, Any],
                  flow_parameters: dict[str, Any]) -> list[KeyPart] | None:
        """Return the parts of the key (None: no key); custom policies give one part."""
        key = self.compute_key(task_ctx, inputs, flow_parameters)
        return None if key is None else [KeyPart(repr(self), "compute_key()", key)]

    def __add__(self, other: CachePolicy) -> CachePolicy:
        if not isinstance(other, CachePolicy):
            return NotImplemented
        return CompoundCachePolicy([self, other])

    def __sub__(self, name: str) -> CachePolicy:
        raise InvalidOptionError(
            f"Only INPUTS takes exclusions ('INPUTS - {name!r}'); {self!r} has no inputs.")

    def __repr__(self) -> str:
        return type(self).__name__ + "()"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self) -> int:
        return hash(type(self))


class _NoCache(CachePolicy):
    """Never cache (``NONE``); ``NONE + X`` is ``X``."""

    def key_parts(self, task_ctx: TaskRunContext | None, inputs: dict[str, Any],
                  flow_parameters: dict[str, Any]) -> list[KeyPart] | None:
        return None

    def __add__(self, other: CachePolicy) -> CachePolicy:
        return other

    def __repr__(self) -> str:
        return "NONE"


class Inputs(CachePolicy):
    """Key on the call's inputs, except those named in ``exclude``."""

    def __init__(self, exclude: Iterable[str] = ()) -> None:
        self.exclude = tuple(sorted(set(exclude)))

    def key_parts(self, task_ctx: TaskRunContext | None, inputs: dict[str, Any],
                  flow_parameters: dict[str, Any]) -> list[KeyPart] | None:
        parts = [KeyPart("inputs", name, hash_input(name, value))
                 for name, value in sorted(inputs.items()) if name not in self.exclude]
        parts.extend(KeyPart("inputs", name, "excluded") for name in self.exclude)
        return parts

    def __sub__(self, name: str) -> CachePolicy:
        if not isinstance(name, str):
            return NotImplemented
        return Inputs(exclude=(*self.exclude, name))

    def __repr__(self) -> str:
        if not self.exclude:
            return "INPUTS"
        return "INPUTS - " + " - ".join(map(repr, self.exclude))


class TaskSource(CachePolicy):
    """Key on the task function's source code (its bytecode when the source is unknown)."""

    def key_parts(self, task_ctx: TaskRunContext | None, inputs: dict[str, Any],
                  flow_parameters: dict[str, Any]) -> list[KeyPart] | None:
        if task_ctx is None:
            return [KeyPart("task_source", "no task", stable_hash(None))]
        fn = task_ctx.task.fn
        return [KeyPart("task_source", getattr(fn, "__qualname__", repr(fn)), source_hash(fn))]

    def __repr__(self) -> str:
        return "TASK_SOURCE"


class FlowParameters(CachePolicy):
    """Key on the parameters of the flow run the task runs in."""

    def key_parts(self, task_ctx: TaskRunContext | None, inputs: dict[str, Any],
                  flow_parameters: dict[str, Any]) -> list[KeyPart] | None:
        if not flow_parameters:
            return [KeyPart("flow_parameters", "(none)", stable_hash({}))]
        return [KeyPart("flow_parameters", name, hash_input(name, value, "flow parameter"))
                for name, value in sorted(flow_parameters.items())]

    def __repr__(self) -> str:
        return "FLOW_PARAMETERS"


class RunId(CachePolicy):
    """Key on the flow run id (the task run id outside flows): cache within one run."""

    def key_parts(self, task_ctx: TaskRunContext | None, inputs: dict[str, Any],
                  flow_parameters: dict[str, Any]) -> list[KeyPart] | None:
        run_id = None
        if task_ctx is not None:
            run = task_ctx.task_run
            run_id = run.flow_run_id or run.id
        return [KeyPart("run_id", str(run_id), stable_hash(str(run_id)))]

    def __repr__(self) -> str:
        return "RUN_ID"


class CacheKeyFnPolicy(CachePolicy):
    """Key with a Prefect 2 ``cache_key_fn(context, arguments)``."""

    def __init__(self, cache_key_fn: Callable[..., str | None]) -> None:
        self.cache_key_fn = cache_key_fn

    def compute_key(self, task_ctx: TaskRunContext | None, inputs: dict[str, Any],
                    flow_parameters: dict[str, Any], **kwargs: Any) -> str | None:
        key = self.cache_key_fn(task_ctx, inputs)
        if key is not None and not isinstance(key, str):
            raise TypeError(f"cache_key_fn returned {type(key).__name__}, not a string")
        return key

    def key_parts(self, task_ctx: TaskRunContext | None, inputs: dict[str, Any],
                  flow_parameters: dict[str, Any]) -> list[KeyPart] | None:
        from headwater._private.caching import input_hash_parts, task_input_hash

        if self.cache_key_fn is task_input_hash and task_ctx is not None:
            return input_hash_parts(task_ctx, inputs)
        key = self.compute_key(task_ctx, inputs, flow_parameters)
        name = getattr(self.cache_key_fn, "__qualname__", repr(self.cache_key_fn))
        return None if key is None else [KeyPart("cache_key_fn", name, key)]

    def __repr__(self) -> str:
        return f"cache_key_fn={getattr(self.cache_key_fn, '__qualname__', self.cache_key_fn)}"


class CompoundCachePolicy(CachePolicy):
    """Several policies at once: the key covers every part of each."""

    def __init__(self, policies: Iterable[CachePolicy]) -> None:
        flat: list[CachePolicy] = []
        for policy in policies:
            members: list[CachePolicy] = (
                policy.policies if isinstance(policy, CompoundCachePolicy) else [policy])
            flat.extend(p for p in members
                        if not isinstance(p, _NoCache) and p not in flat)
        self.policies: list[CachePolicy] = flat

    def key_parts(self, task_ctx: TaskRunContext | None, inputs: dict[str, Any],
                  flow_parameters: dict[str, Any]) -> list[KeyPart] | None:
        parts: list[KeyPart] = []
        for policy in self.policies:
            sub = policy.key_parts(task_ctx, inputs, flow_parameters)
            if sub:
                parts.extend(sub)
        return parts or None

    def __sub__(self, name: str) -> CachePolicy:
        if not any(isinstance(p, Inputs) for p in self.policies):
            return super().__sub__(name)
        return CompoundCachePolicy(p - name if isinstance(p, Inputs) else p
                                   for p in self.policies)

    def __repr__(self) -> str:
        return " + ".join(map(repr, self.policies)) or "NONE"


def hash_input(name: str, value: Any, kind: str = "input") -> str:
    """Hash one input; an unhashable one raises `UnhashableInputError` naming it."""
    try:
        return stable_hash(value)
    except UnhashableInputError as exc:
        raise UnhashableInputError(
            f"The {kind} {name!r} (a {type(value).__name__}) cannot be hashed for the cache "
            f"key: {exc}."
        ) from exc.__cause__


_SOURCES: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def source_hash(fn: Any) -> str:
    """Return a digest of ``fn``'s source code (bytecode and constants if unavailable)."""
    try:
        return _SOURCES[fn]
    except (KeyError, TypeError):
        pass
    try:
        text = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        code = getattr(fn, "__code__", None)
        # marshal, not repr: a nested code object's repr holds its address.
        text = marshal.dumps(code).hex() if code is not None else getattr(
            fn, "__qualname__", type(fn).__qualname__)
    digest = stable_hash(text)
    try:
        _SOURCES[fn] = digest
    except TypeError:
        pass
    return digest


NONE = _NoCache()
INPUTS = Inputs()
TASK_SOURCE = TaskSource()
FLOW_PARAMETERS = FlowParameters()
RUN_ID = RunId()
DEFAULT = INPUTS + TASK_SOURCE
"""Inputs and task source: stable across runs, processes and machines (no run id)."""
