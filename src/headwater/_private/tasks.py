"""The Task object and the ``@task`` decorator."""

from __future__ import annotations

import datetime as _dt
import functools
import inspect
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from typing_extensions import ParamSpec

from headwater._private import background
from headwater._private.annotations import NotSet, unmapped
from headwater._private.context import in_sync_run
from headwater._private.did_you_mean import check_keywords, keywords_checked
from headwater._private.engine import entry
from headwater._private.futures import HeadwaterFuture, HeadwaterFutureList
from headwater._private.options import TaskOptions, replace_options
from headwater._private.parameters import bind_parameters, check_reserved_arguments
from headwater._private.states import State
from headwater.exceptions import MappingLengthMismatch, MappingMissingIterable

if TYPE_CHECKING:
    from headwater._private.cache_policies import CachePolicy

P = ParamSpec("P")
R = TypeVar("R")

_OPTION_NAMES = frozenset(TaskOptions.__dataclass_fields__)


class Task(Generic[P, R]):
    """A function whose calls are tracked, retried, timed out and cached as task runs.

    Create one with the ``@task`` decorator. Call it to run it and get its
    result; ``.submit()`` to run it on the flow's task runner and get a
    future; ``.map()`` to submit one run per item. The undecorated function
    is ``task.fn``; the options are readable as attributes (``task.retries``).
    """

    def __init__(
        self,
        fn: Callable[P, R],
        name: str | None = None,
        description: str | None = None,
        tags: Iterable[str] | None = None,
        version: str | None = None,
        cache_key_fn: Callable[..., str | None] | None = None,
        cache_expiration: _dt.timedelta | None = None,
        task_run_name: str | Callable[[], str] | None = None,
        retries: int | None = None,
        retry_delay_seconds: Any = None,
        retry_jitter_factor: float | None = None,
        retry_condition_fn: Callable[..., bool] | None = None,
        persist_result: bool | None = None,
        result_storage: Any = None,
        result_storage_key: str | None = None,
        result_serializer: Any = None,
        cache_result_in_memory: bool = True,
        timeout_seconds: float | None = None,
        log_prints: bool | None = None,
        refresh_cache: bool | None = None,
        on_completion: list[Callable[..., Any]] | None = None,
        on_failure: list[Callable[..., Any]] | None = None,
        cache_policy: CachePolicy | None = None,
        trigger: Callable[..., Any] | None = None,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"@task decorates functions; got {fn!r}, which is not callable.")
        options = TaskOptions(
            name=name or str(getattr(fn, "__name__", type(fn).__name__).strip("<>")),
            description=description if description is not None else inspect.getdoc(fn),
            tags=frozenset(tags or ()), version=version, cache_key_fn=cache_key_fn,
            cache_expiration=cache_expiration, task_run_name=task_run_name,
            retries=retries if retries is not None else 0,
            retry_delay_seconds=retry_delay_seconds,
            retry_jitter_factor=retry_jitter_factor, retry_condition_fn=retry_condition_fn,
            persist_result=persist_result, result_storage=result_storage,
            result_storage_key=result_storage_key, result_serializer=result_serializer,
            cache_result_in_memory=cache_result_in_memory, timeout_seconds=timeout_seconds,
            log_prints=log_prints, refresh_cache=refresh_cache,
            on_completion=on_completion or (), on_failure=on_failure or (),  # type: ignore[arg-type]
            cache_policy=cache_policy, trigger=trigger,
        )
        self._setup(fn, options)

    def _setup(self, fn: Callable[P, R], options: TaskOptions) -> None:
        self.fn = fn
        self.options = options
        self.is_async = inspect.iscoroutinefunction(fn)
        self.signature = inspect.signature(fn)
        check_reserved_arguments(fn, self.signature, "task")
        module = getattr(fn, "__module__", None) or "__main__"
        self.task_key = f"{module}.{getattr(fn, '__qualname__', options.name)}"
        functools.update_wrapper(self, fn)

    # ------------------------------------------------------------------ options
    @property
    def name(self) -> str:
        """The task's name (the function's name unless given)."""
        return self.options.name

    def __getattr__(self, item: str) -> Any:
        if item in _OPTION_NAMES:
            value = getattr(self.options, item)
            if item == "tags":
                # A set, as in Prefect 2; a copy, since the options stay frozen.
                return set(value)
            return list(value) if isinstance(value, tuple) else value
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {item!r}")

    @keywords_checked
    def with_options(self, *, name: Any = NotSet, description: Any = NotSet, tags: Any = NotSet,
                     version: Any = NotSet, cache_key_fn: Any = NotSet,
                     cache_expiration: Any = NotSet, task_run_name: Any = NotSet,
                     retries: Any = NotSet, retry_delay_seconds: Any = NotSet,
                     retry_jitter_factor: Any = NotSet, retry_condition_fn: Any = NotSet,
                     persist_result: Any = NotSet, result_storage: Any = NotSet,
                     result_storage_key: Any = NotSet, result_serializer: Any = NotSet,
                     cache_result_in_memory: Any = NotSet, timeout_seconds: Any = NotSet,
                     log_prints: Any = NotSet, refresh_cache: Any = NotSet,
                     on_completion: Any = NotSet, on_failure: Any = NotSet,
                     cache_policy: Any = NotSet, trigger: Any = NotSet) -> Task[P, R]:
        """Return a copy of the task with some options changed; the rest are kept.

        Example:
            ``fetch.with_options(retries=5, tags=["slow"])``
        """
        changes = dict(locals())
        del changes["self"]
        if changes["tags"] is not NotSet:
            changes["tags"] = frozenset(changes["tags"] or ())
        # A new cache_policy replaces a cache_key_fn, and the other way round.
        if changes["cache_policy"] not in (NotSet, None) and cache_key_fn is NotSet:
            changes["cache_key_fn"] = None
        if changes["cache_key_fn"] not in (NotSet, None) and cache_policy is NotSet:
            changes["cache_policy"] = None
        new = Task.__new__(Task)
        new._setup(self.fn, replace_options(self.options, changes, NotSet))
        return new

    # ------------------------------------------------------------------ calling
    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """Return the arguments of a call by parameter name (defaults included)."""
        return bind_parameters(self.fn, self.signature, args, kwargs)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run the task now and return its result.

        Pass ``return_state=True`` for the final State instead, and
        ``wait_for=[...]`` for runs that must finish first. An async task
        returns a coroutine, except when called from a sync flow or task,
        where it runs on headwater's background loop and returns the result.
        """
        return_state = bool(kwargs.pop("return_state", False))
        wait_for: Any = kwargs.pop("wait_for", None)
        if self.is_async:
            if in_sync_run():
                return background.run(  # type: ignore[no-any-return]
                    lambda: entry.call_task_async(self, args, kwargs, wait_for, return_state))
            return entry.call_task_async(  # type: ignore[return-value]
                self, args, kwargs, wait_for, return_state)
        return entry.call_task(  # type: ignore[no-any-return]
            self, args, kwargs, wait_for, return_state)

    def submit(self, *args: P.args, **kwargs: P.kwargs) -> HeadwaterFuture[R]:
        """Run the task on the flow's task runner; return a future at once.

        Never awaited, in sync and async flows alike. Futures among the
        arguments (also nested in lists, dicts, dataclasses...) are resolved to
        their results first. ``return_state=True`` waits and returns the State.
        """
        return_state = bool(kwargs.pop("return_state", False))
        wait_for: Any = kwargs.pop("wait_for", None)
        future = entry.submit_task(self, args, kwargs, wait_for)
        if return_state:
            return entry.wait_for_states([future])[0]  # type: ignore[return-value]
        return future

    def map(self, *args: Any, **kwargs: Any) -> HeadwaterFutureList[R]:
        """Submit one run per item of the iterable arguments; return their futures.

        Iterables are zipped: ``add.map([1, 2], [10, 20])`` runs ``add(1, 10)``
        and ``add(2, 20)``. Wrap an iterable in ``unmapped(...)`` to pass it whole
        to every run. Strings, bytes and mappings are never iterated.

        Raises:
            MappingMissingIterable: No argument is iterable.
            MappingLengthMismatch: The iterables have different lengths.
        """
        return_state = bool(kwargs.pop("return_state", False))
        wait_for: Any = kwargs.pop("wait_for", None)
        calls = self._map_calls(args, kwargs)
        futures: HeadwaterFutureList[R] = HeadwaterFutureList(
            entry.submit_task(self, call_args, call_kwargs, wait_for)
            for call_args, call_kwargs in calls
        )
        if return_state:
            return entry.wait_for_states(futures)  # type: ignore[return-value]
        return futures

    def _map_calls(self, args: tuple[Any, ...], kwargs: dict[str, Any],
                   ) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        names = self._positional_names(len(args))
        items: list[tuple[str, Any, bool]] = []  # (parameter, value, is mapped)
        for name, value in [*zip(names, args, strict=True), *kwargs.items()]:
            value = _resolve_direct(value)
            if isinstance(value, unmapped):
                items.append((name, value.value, False))
            elif _is_mappable(value):
                items.append((name, list(value), True))
            else:
                items.append((name, value, False))
        mapped = {name: len(value) for name, value, is_mapped in items if is_mapped}
        if not mapped:
            raise MappingMissingIterable(
                f"Task {self.name!r}.map() got no iterable argument to map over (got "
                f"{', '.join(f'{n}={type(v).__name__}' for n, v, _ in items) or 'no arguments'}). "
                "Pass a list or other iterable, or call the task directly for a single run."
            )
        if len(set(mapped.values())) > 1:
            lengths = ", ".join(f"{name!r} has {n}" for name, n in mapped.items())
            raise MappingLengthMismatch(
                f"Task {self.name!r}.map() got iterables of different lengths: {lengths}. "
                "Give them equal lengths, or wrap arguments meant for every run in unmapped()."
            )
        count = next(iter(mapped.values()))
        n_positional = len(args)
        calls = []
        for i in range(count):
            values = [value[i] if is_mapped else value for _, value, is_mapped in items]
            call_kwargs = {name: v for (name, _, _), v in zip(items[n_positional:],
                                                              values[n_positional:], strict=True)}
            calls.append((tuple(values[:n_positional]), call_kwargs))
        return calls

    def _positional_names(self, count: int) -> list[str]:
        names: list[str] = []
        for param in self.signature.parameters.values():
            if param.kind is inspect.Parameter.VAR_POSITIONAL:
                names.extend(f"*{param.name}[{i}]" for i in range(count - len(names)))
                break
            if param.kind in (inspect.Parameter.POSITIONAL_ONLY,
                              inspect.Parameter.POSITIONAL_OR_KEYWORD):
                names.append(param.name)
        names.extend(f"arg{i}" for i in range(len(names), count))
        return names[:count]

    def __repr__(self) -> str:
        return f"Task(name={self.name!r}, fn={getattr(self.fn, '__qualname__', self.fn)!r})"


def _resolve_direct(value: Any) -> Any:
    """Map over the *result* of a future or State given directly to ``map``."""
    if isinstance(value, HeadwaterFuture):
        return value.result()
    if isinstance(value, State):
        return value.result()
    return value


def _is_mappable(value: Any) -> bool:
    if isinstance(value, (str, bytes, bytearray, dict)):
        return False
    try:
        iter(value)
    except TypeError:
        return False
    return not hasattr(value, "read")


@overload
def task(__fn: Callable[P, R]) -> Task[P, R]: ...


@overload
def task(
    *,
    name: str | None = None,
    description: str | None = None,
    tags: Iterable[str] | None = None,
    version: str | None = None,
    cache_key_fn: Callable[..., str | None] | None = None,
    cache_expiration: _dt.timedelta | None = None,
    task_run_name: str | Callable[[], str] | None = None,
    retries: int | None = None,
    retry_delay_seconds: Any = None,
    retry_jitter_factor: float | None = None,
    retry_condition_fn: Callable[..., bool] | None = None,
    persist_result: bool | None = None,
    result_storage: Any = None,
    result_storage_key: str | None = None,
    result_serializer: Any = None,
    cache_result_in_memory: bool = True,
    timeout_seconds: float | None = None,
    log_prints: bool | None = None,
    refresh_cache: bool | None = None,
    on_completion: list[Callable[..., Any]] | None = None,
    on_failure: list[Callable[..., Any]] | None = None,
    cache_policy: CachePolicy | None = None,
    trigger: Callable[..., Any] | None = None,
) -> Callable[[Callable[P, R]], Task[P, R]]: ...


def task(__fn: Any = None, **options: Any) -> Any:
    """Turn a function into a `Task`: ``@task`` or ``@task(retries=3, ...)``.

    Every option keeps Prefect 2's name and default; see `Task`.
    """
    _check_options(options)
    if __fn is not None:
        return Task(__fn, **options)
    return functools.partial(Task, **options)


def _check_options(options: dict[str, Any]) -> None:
    """A misspelled option is Prefect 2's TypeError, naming the option meant."""
    check_keywords("task()", options, _option_names())


@functools.cache
def _option_names() -> frozenset[str]:
    return frozenset(inspect.signature(Task.__init__).parameters) - {"self", "fn"}
