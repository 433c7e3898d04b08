"""One frozen options object per kind of run, shared by decorator, with_options and engine.

Every option is declared and validated here once. ``Task.with_options`` and
``Flow.with_options`` copy the object with ``dataclasses.replace``, so a bad
value is rejected the same way wherever it comes from.

With them, the protocols `TaskDefinition` and `FlowDefinition`: a task or a
flow as the modules below ``tasks.py`` and ``flows.py`` (the engine, run
names, parameters, cache keys) see it.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import inspect
import numbers
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from headwater._private.protocols import FlowLike, TaskLike
from headwater.exceptions import InvalidHookError, InvalidNameError, InvalidOptionError

_BAD_NAME_CHARS = ("/", "%", "&", ">", "<")
MAX_RETRY_DELAYS = 50

Hook = Callable[..., Any]
RetryDelay = float | int | list[float] | list[int] | Callable[[int], list[float]] | None


def _check_name(name: str, kind: str) -> None:
    if not isinstance(name, str) or not name:
        raise InvalidNameError(f"The {kind} name must be a non-empty string, got {name!r}.")
    bad = [c for c in _BAD_NAME_CHARS if c in name]
    if bad:
        raise InvalidNameError(
            f"The {kind} name {name!r} contains {', '.join(map(repr, bad))}; "
            f"names may not contain any of {' '.join(_BAD_NAME_CHARS)}. Rename it."
        )


def _check_number(value: Any, option: str, *, allow_zero: bool = True) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidOptionError(f"{option} must be a number, got {value!r}.")
    if value < 0 or (value == 0 and not allow_zero):
        need = "zero or more" if allow_zero else "more than zero"
        raise InvalidOptionError(f"{option} must be {need}, got {value!r}.")


def _check_retries(retries: int, delay: Any, jitter: float | None, *, lists_ok: bool) -> None:
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise InvalidOptionError(f"retries must be a whole number >= 0, got {retries!r}.")
    if isinstance(delay, (list, tuple)):
        if not lists_ok:
            raise InvalidOptionError(
                "retry_delay_seconds for a flow must be a number, not a list."
            )
        if len(delay) > MAX_RETRY_DELAYS:
            raise InvalidOptionError(
                f"retry_delay_seconds has {len(delay)} delays; at most "
                f"{MAX_RETRY_DELAYS} can be configured per task."
            )
        for item in delay:
            _check_number(item, "each retry delay")
    elif delay is not None and not callable(delay):
        _check_number(delay, "retry_delay_seconds")
    elif callable(delay) and not lists_ok:
        raise InvalidOptionError("retry_delay_seconds for a flow must be a number.")
    if jitter is not None:
        _check_number(jitter, "retry_jitter_factor")


def _task_keys(tasks: Any) -> frozenset[str]:
    keys = []
    for item in tasks or ():
        key = getattr(item, "task_key", None)
        if not isinstance(key, str):
            raise InvalidOptionError(
                f"reference_tasks takes tasks (functions decorated with @task), got {item!r}.")
        keys.append(key)
    return frozenset(keys)


def _check_hooks(hooks: tuple[Hook, ...], option: str) -> None:
    for hook in hooks:
        if not callable(hook):
            raise InvalidHookError(
                f"{option} takes a list of callables; {hook!r} is not callable."
            )


def _as_hooks(value: Iterable[Hook] | Hook | None) -> tuple[Hook, ...]:
    if value is None:
        return ()
    if callable(value):
        return (value,)
    return tuple(value)


def _check_timeout(value: float | None) -> float | None:
    """Return the timeout as a float (Prefect 2 reads ``30`` back as ``30.0``)."""
    if value is None:
        return None
    _check_number(value, "timeout_seconds", allow_zero=False)
    return float(value)


@dataclasses.dataclass(frozen=True)
class TaskOptions:
    """Everything a ``@task`` can be told. Prefect 2's names and defaults."""

    name: str
    description: str | None = None
    tags: frozenset[str] = frozenset()
    version: str | None = None
    cache_key_fn: Callable[..., str | None] | None = None
    cache_expiration: _dt.timedelta | None = None
    task_run_name: str | Callable[[], str] | None = None
    retries: int = 0
    retry_delay_seconds: RetryDelay = 0.0
    retry_jitter_factor: float | None = None
    retry_condition_fn: Callable[..., bool] | None = None
    persist_result: bool | None = None
    result_storage: Any = None
    result_storage_key: str | None = None
    result_serializer: Any = None
    cache_result_in_memory: bool = True
    timeout_seconds: float | None = None
    log_prints: bool | None = None
    refresh_cache: bool | None = None
    on_completion: tuple[Hook, ...] = ()
    on_failure: tuple[Hook, ...] = ()
    cache_policy: Any = None
    trigger: Callable[..., Any] | None = None
    plain_results: bool = dataclasses.field(default=True, init=False, repr=False, compare=False)
    """True when no option asks for caching or stored results (the engine's fast path)."""

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        _check_name(self.name, "task")
        _check_results(self)
        set_(self, "plain_results", self.cache_key_fn is None and self.cache_policy is None
             and self.persist_result is not True and self.result_storage is None
             and self.result_serializer is None and self.result_storage_key is None
             and self.cache_result_in_memory is not False)
        if not isinstance(self.tags, frozenset):
            tags = [self.tags] if isinstance(self.tags, str) else self.tags
            set_(self, "tags", frozenset(tags or ()))
        if self.retries is None:
            set_(self, "retries", 0)
        if self.retry_delay_seconds is None:
            set_(self, "retry_delay_seconds", 0.0)  # Prefect 2's task default reads back as 0.0
        if isinstance(self.retry_delay_seconds, tuple):
            set_(self, "retry_delay_seconds", list(self.retry_delay_seconds))
        _check_retries(self.retries, self.retry_delay_seconds, self.retry_jitter_factor,
                       lists_ok=True)
        set_(self, "timeout_seconds", _check_timeout(self.timeout_seconds))
        if self.cache_expiration is not None and not isinstance(
            self.cache_expiration, _dt.timedelta
        ):
            raise InvalidOptionError(
                f"cache_expiration must be a datetime.timedelta, got {self.cache_expiration!r}."
            )
        if self.task_run_name is not None and not (
            isinstance(self.task_run_name, str) or callable(self.task_run_name)
        ):
            raise InvalidOptionError(
                "task_run_name must be a template string or a callable returning a string, "
                f"got {self.task_run_name!r}."
            )
        for hook_option in ("on_completion", "on_failure"):
            hooks = _as_hooks(getattr(self, hook_option))
            _check_hooks(hooks, hook_option)
            set_(self, hook_option, hooks)
        if self.trigger is not None and not callable(self.trigger):
            raise InvalidOptionError(
                f"trigger must be a function such as headwater.triggers.all_failed, got "
                f"{self.trigger!r}.")


@dataclasses.dataclass(frozen=True)
class FlowOptions:
    """Everything a ``@flow`` can be told. Prefect 2's names and defaults."""

    name: str
    description: str | None = None
    version: str | None = None
    flow_run_name: str | Callable[[], str] | None = None
    task_runner: Any = None
    retries: int = 0
    retry_delay_seconds: float = 0
    timeout_seconds: float | None = None
    validate_parameters: bool = True
    persist_result: bool | None = None
    result_storage: Any = None
    result_serializer: Any = None
    cache_result_in_memory: bool = True
    log_prints: bool | None = None
    on_completion: tuple[Hook, ...] = ()
    on_failure: tuple[Hook, ...] = ()
    on_cancellation: tuple[Hook, ...] = ()
    on_crashed: tuple[Hook, ...] = ()
    on_running: tuple[Hook, ...] = ()
    reference_tasks: frozenset[str] = frozenset()
    """Task keys whose runs alone decide the final state of a run returning None."""
    heartbeat: bool | None = None
    """Send heartbeats for its runs (None: when ``HEADWATER_FLOW_RUN_HEARTBEAT_SECONDS`` > 0)."""
    version_lock: bool | None = None
    """Start its task runs once and only once (None: ``HEADWATER_FLOW_RUN_VERSION_LOCK``)."""

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        _check_name(self.name, "flow")
        for switch in ("heartbeat", "version_lock"):
            if getattr(self, switch) not in (None, True, False):
                raise InvalidOptionError(f"{switch} must be True, False or None, got "
                                         f"{getattr(self, switch)!r}.")
        if not (isinstance(self.reference_tasks, frozenset)
                and all(isinstance(k, str) for k in self.reference_tasks)):
            set_(self, "reference_tasks", _task_keys(self.reference_tasks))
        _check_results(self)
        if self.retries is None:
            set_(self, "retries", 0)
        if self.retry_delay_seconds is None:
            set_(self, "retry_delay_seconds", 0)
        _check_retries(self.retries, self.retry_delay_seconds, None, lists_ok=False)
        set_(self, "timeout_seconds", _check_timeout(self.timeout_seconds))
        if self.flow_run_name is not None and not (
            isinstance(self.flow_run_name, str) or callable(self.flow_run_name)
        ):
            raise InvalidOptionError(
                "flow_run_name must be a template string or a callable returning a string, "
                f"got {self.flow_run_name!r}."
            )
        for hook_option in ("on_completion", "on_failure", "on_cancellation", "on_crashed",
                            "on_running"):
            hooks = _as_hooks(getattr(self, hook_option))
            _check_hooks(hooks, hook_option)
            set_(self, hook_option, hooks)


def _check_results(options: TaskOptions | FlowOptions) -> None:
    """Validate the result and cache options shared by tasks and flows."""
    from headwater._private.results.serializers import check_serializer_option
    from headwater._private.results.storage import check_storage_option

    check_serializer_option(options.result_serializer)
    check_storage_option(options.result_storage)
    if options.persist_result not in (None, True, False):
        raise InvalidOptionError(
            f"persist_result must be True, False or None, got {options.persist_result!r}.")
    if options.persist_result is False and options.cache_result_in_memory is False:
        raise InvalidOptionError(
            f"{options.name!r} has persist_result=False and cache_result_in_memory=False: the "
            "result would be kept nowhere. Drop one of them.")
    if not isinstance(options, TaskOptions):
        return
    key = options.result_storage_key
    if key is not None and not isinstance(key, str):
        raise InvalidOptionError(f"result_storage_key must be a template string, got {key!r}.")
    policy = options.cache_policy
    if policy is not None:
        from headwater._private.cache_policies import CachePolicy

        if not isinstance(policy, CachePolicy):
            raise InvalidOptionError(
                "cache_policy must be a cache policy such as INPUTS, TASK_SOURCE or "
                f"INPUTS + TASK_SOURCE (from headwater.cache_policies), got {policy!r}.")
        if options.cache_key_fn is not None:
            raise InvalidOptionError(
                f"{options.name!r} has both cache_key_fn and cache_policy; give one of them.")


def replace_options(options: Any, changes: dict[str, Any], not_set: Any) -> Any:
    """Copy ``options`` with every change whose value is not the ``not_set`` sentinel."""
    given = {k: v for k, v in changes.items() if v is not not_set}
    return dataclasses.replace(options, **given)


class TaskDefinition(TaskLike, Protocol):
    """A task as the engine, run names and cache keys see it (``Task`` is the one).

    The modules below ``tasks.py`` type against it, so they never import it.
    """

    @property
    def options(self) -> TaskOptions:
        """The task's options."""
        ...

    @property
    def is_async(self) -> bool:
        """Whether the function is a coroutine function."""
        ...

    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """Return the arguments of a call by parameter name (defaults included)."""
        ...


class FlowDefinition(FlowLike, Protocol):
    """A flow as the engine and parameter validation see it (``Flow`` is the one).

    The modules below ``flows.py`` type against it, so they never import it.
    """

    _validators: dict[str, Any] | None
    """Parameter validators, built on the first validated run (``parameters.py``)."""

    _returns_value: bool | None
    """Whether the function returns a value on every path; read on the first run
    (``engine/returns.py``)."""

    @property
    def options(self) -> FlowOptions:
        """The flow's options."""
        ...

    @property
    def fn(self) -> Callable[..., Any]:
        """The undecorated function."""
        ...

    @property
    def is_async(self) -> bool:
        """Whether the function is a coroutine function."""
        ...

    @property
    def signature(self) -> inspect.Signature:
        """The function's signature."""
        ...
