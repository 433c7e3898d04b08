"""The Flow object and the ``@flow`` decorator."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

from typing_extensions import ParamSpec

from headwater._private import background
from headwater._private.annotations import NotSet
from headwater._private.context import in_sync_run
from headwater._private.did_you_mean import check_keywords, keywords_checked
from headwater._private.engine import entry
from headwater._private.futures import wait
from headwater._private.options import FlowOptions, replace_options
from headwater._private.parameters import (
    ParameterSchema,
    bind_parameters,
    check_reserved_arguments,
    parameter_schema,
)

P = ParamSpec("P")
R = TypeVar("R")

_OPTION_NAMES = frozenset(FlowOptions.__dataclass_fields__)


class Flow(Generic[P, R]):
    """A function whose calls are recorded as flow runs, with the tasks they run.

    Create one with ``@flow``. Calling it runs it and returns its result
    (``return_state=True`` for the final State). Async flows return a
    coroutine, except when called from a sync flow or task, where they run on
    headwater's background loop and return the result.
    """

    def __init__(
        self,
        fn: Callable[P, R],
        name: str | None = None,
        version: str | None = None,
        flow_run_name: str | Callable[[], str] | None = None,
        retries: int | None = None,
        retry_delay_seconds: float | None = None,
        task_runner: Any = None,
        description: str | None = None,
        timeout_seconds: float | None = None,
        validate_parameters: bool = True,
        persist_result: bool | None = None,
        result_storage: Any = None,
        result_serializer: Any = None,
        cache_result_in_memory: bool = True,
        log_prints: bool | None = None,
        on_completion: list[Callable[..., Any]] | None = None,
        on_failure: list[Callable[..., Any]] | None = None,
        on_cancellation: list[Callable[..., Any]] | None = None,
        on_crashed: list[Callable[..., Any]] | None = None,
        on_running: list[Callable[..., Any]] | None = None,
        reference_tasks: list[Any] | None = None,
        heartbeat: bool | None = None,
        version_lock: bool | None = None,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"@flow decorates functions; got {fn!r}, which is not callable.")
        default_name = getattr(fn, "__name__", type(fn).__name__).strip("<>").replace("_", "-")
        options = FlowOptions(
            name=name or default_name,
            description=description if description is not None else inspect.getdoc(fn),
            version=version, flow_run_name=flow_run_name, task_runner=_runner(task_runner),
            retries=retries if retries is not None else 0,
            retry_delay_seconds=retry_delay_seconds if retry_delay_seconds is not None else 0,
            timeout_seconds=timeout_seconds, validate_parameters=validate_parameters,
            persist_result=persist_result, result_storage=result_storage,
            result_serializer=result_serializer, cache_result_in_memory=cache_result_in_memory,
            log_prints=log_prints,
            on_completion=on_completion or (), on_failure=on_failure or (),  # type: ignore[arg-type]
            on_cancellation=on_cancellation or (), on_crashed=on_crashed or (),  # type: ignore[arg-type]
            on_running=on_running or (),  # type: ignore[arg-type]
            reference_tasks=reference_tasks or (),  # type: ignore[arg-type]
            heartbeat=heartbeat, version_lock=version_lock,
        )
        self._setup(fn, options)

    def _setup(self, fn: Callable[P, R], options: FlowOptions) -> None:
        self.fn = fn
        self.options = options
        self.is_async = inspect.iscoroutinefunction(fn)
        self.signature = inspect.signature(fn)
        check_reserved_arguments(fn, self.signature, "flow")
        self._validators: dict[str, Any] | None = None
        self._returns_value: bool | None = None  # set on the first run (engine/returns.py)
        functools.update_wrapper(self, fn)

    @property
    def name(self) -> str:
        """The flow's name (the function's name with ``_`` as ``-`` unless given)."""
        return self.options.name

    @property
    def parameters(self) -> ParameterSchema:
        """The JSON schema of the flow's parameters (``.properties``, ``.required``...)."""
        return parameter_schema(self)

    def __getattr__(self, item: str) -> Any:
        if item in _OPTION_NAMES:
            value = getattr(self.options, item)
            return list(value) if isinstance(value, tuple) else value
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {item!r}")

    @keywords_checked
    def with_options(self, *, name: Any = NotSet, version: Any = NotSet,
                     flow_run_name: Any = NotSet, retries: Any = NotSet,
                     retry_delay_seconds: Any = NotSet, task_runner: Any = NotSet,
                     description: Any = NotSet, timeout_seconds: Any = NotSet,
                     validate_parameters: Any = NotSet, persist_result: Any = NotSet,
                     result_storage: Any = NotSet, result_serializer: Any = NotSet,
                     cache_result_in_memory: Any = NotSet, log_prints: Any = NotSet,
                     on_completion: Any = NotSet, on_failure: Any = NotSet,
                     on_cancellation: Any = NotSet, on_crashed: Any = NotSet,
                     on_running: Any = NotSet, reference_tasks: Any = NotSet,
                     heartbeat: Any = NotSet, version_lock: Any = NotSet) -> Flow[P, R]:
        """Return a copy of the flow with some options changed; the rest are kept."""
        changes = dict(locals())
        del changes["self"]
        if changes["task_runner"] is not NotSet:
            changes["task_runner"] = _runner(changes["task_runner"])
        new = Flow.__new__(Flow)
        new._setup(self.fn, replace_options(self.options, changes, NotSet))
        return new

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run the flow and return its result (``return_state=True``: its final State)."""
        return_state = bool(kwargs.pop("return_state", False))
        wait_for: Any = kwargs.pop("wait_for", None)
        parameters = bind_parameters(self.fn, self.signature, args, kwargs)
        if wait_for:
            wait(list(wait_for))
        if self.is_async:
            if in_sync_run():
                return background.run(  # type: ignore[no-any-return]
                    lambda: entry.call_flow_async(self, parameters, return_state))
            running = entry.call_flow_async(self, parameters, return_state)
            # Named for Python's "coroutine ... was never awaited" when the
            # caller forgets ``await``: the warning then says which flow.
            called = getattr(self.fn, "__qualname__", self.name)  # as the caller wrote it
            running.__qualname__ = f"{called} (an async flow: call it with await)"  # type: ignore[attr-defined]
            return running  # type: ignore[return-value]
        return entry.call_flow(self, parameters, return_state)  # type: ignore[no-any-return]

    def to_deployment(
        self, name: str, interval: Any = None, cron: Any = None, rrule: Any = None,
        paused: bool | None = None, schedules: list[Any] | None = None, schedule: Any = None,
        is_schedule_active: bool | None = None, parameters: dict[str, Any] | None = None,
        triggers: list[Any] | None = None, description: str | None = None,
        tags: list[str] | None = None, version: str | None = None,
        enforce_parameter_schema: bool = True, work_pool_name: str | None = None,
        work_queue_name: str | None = None, job_variables: dict[str, Any] | None = None,
        *, timezone: str | None = None, anchor_date: Any = None,
        labels: list[str] | None = None, project: str | None = None,
        entrypoint: str | None = None, code_location: dict[str, Any] | None = None,
        max_lateness_seconds: float | None = None, late_runs: str | None = None,
        catchup: bool | None = None, heartbeat: bool | None = None,
        lazarus: bool | None = None, version_lock: bool | None = None,
    ) -> Any:
        """Describe a deployment of this flow (a ``RunnerDeployment``), without registering it.

        Pass it to ``headwater.serve(...)``, or call its ``apply()``. The
        schedules are ``cron=``, ``interval=`` (seconds or a timedelta, with
        ``anchor_date=``), ``rrule=`` (each one value or a list, in
        ``timezone=``) and ``schedules=[...]``. Parameters are checked against
        the flow's signature here; a schedule that would start runs without a
        required parameter is refused. The version is the content hash of the
        flow's file, parameters, schedules and settings unless ``version=``
        is given. ``heartbeat=``, ``lazarus=`` and ``version_lock=`` are the
        deployment's liveness switches (``docs/liveness.md``); unset, a new
        deployment takes the flow's ``heartbeat``/``version_lock`` options and
        an existing one keeps what it has.
        """
        options = {k: v for k, v in locals().items() if k != "self"}
        from headwater._private.deployments.flow_methods import to_deployment

        return to_deployment(self, **options)

    def serve(
        self, name: str | None = None, interval: Any = None, cron: Any = None,
        rrule: Any = None, paused: bool | None = None, schedules: list[Any] | None = None,
        schedule: Any = None, is_schedule_active: bool | None = None,
        triggers: list[Any] | None = None, parameters: dict[str, Any] | None = None,
        description: str | None = None, tags: list[str] | None = None,
        version: str | None = None, enforce_parameter_schema: bool = True,
        pause_on_shutdown: bool = True, print_starting_message: bool = True,
        limit: int | None = None, webserver: bool = False, *, timezone: str | None = None,
        labels: list[str] | None = None, project: str | None = None,
        heartbeat: bool | None = None, lazarus: bool | None = None,
        version_lock: bool | None = None,
    ) -> None:
        """Register a deployment of this flow, then run its scheduled and ad-hoc runs here.

        A long-lived process (Prefect 2's ``flow.serve``): see
        ``headwater.serve`` for how runs are claimed and run. Ctrl-C stops it.
        """
        from headwater._private.deployments.serve import serve

        deployment = self.to_deployment(
            name or self.name, interval=interval, cron=cron, rrule=rrule, paused=paused,
            schedules=schedules, schedule=schedule, is_schedule_active=is_schedule_active,
            triggers=triggers, parameters=parameters, description=description, tags=tags,
            version=version, enforce_parameter_schema=enforce_parameter_schema,
            timezone=timezone, labels=labels, project=project, heartbeat=heartbeat,
            lazarus=lazarus, version_lock=version_lock)
        serve(deployment, pause_on_shutdown=pause_on_shutdown,
              print_starting_message=print_starting_message, limit=limit, webserver=webserver)

    def deploy(
        self, name: str, work_pool_name: str | None = None, image: Any = None,
        build: bool = True, push: bool = True, work_queue_name: str | None = None,
        job_variables: dict[str, Any] | None = None, interval: Any = None, cron: Any = None,
        rrule: Any = None, paused: bool | None = None, schedules: list[Any] | None = None,
        schedule: Any = None, is_schedule_active: bool | None = None,
        triggers: list[Any] | None = None, parameters: dict[str, Any] | None = None,
        description: str | None = None, tags: list[str] | None = None,
        version: str | None = None, enforce_parameter_schema: bool = True,
        entrypoint_type: Any = None, print_next_steps: bool = True,
        ignore_warnings: bool = False, *, timezone: str | None = None,
        labels: list[str] | None = None, project: str | None = None,
        heartbeat: bool | None = None, lazarus: bool | None = None,
        version_lock: bool | None = None,
    ) -> Any:
        """Register a deployment of this flow for workers of ``work_pool_name``; return its id.

        Deploying unchanged code is a no-op (the registered version is kept
        and its id returned); a changed flow registers a new version and
        archives the previous one. Images (``image``, ``build``, ``push``) are
        not supported: the code is found where it is deployed from.
        """
        options = {k: v for k, v in locals().items() if k != "self"}
        from headwater._private.deployments.flow_methods import deploy

        return deploy(self, **options)

    def __repr__(self) -> str:
        return f"Flow(name={self.name!r}, fn={getattr(self.fn, '__qualname__', self.fn)!r})"


def serve(*deployments: Any, pause_on_shutdown: bool = True, print_starting_message: bool = True,
          limit: int | None = None, **kwargs: Any) -> None:
    """Serve several deployments in this process: ``serve(a.to_deployment("x"), ...)``.

    Registers them, then schedules, claims and runs their runs, each in a
    child process, at most ``limit`` at once, until Ctrl-C or SIGTERM (see
    ``docs/deployments.md``).
    """
    from headwater._private.deployments.serve import serve as serve_deployments

    serve_deployments(*deployments, pause_on_shutdown=pause_on_shutdown,
                      print_starting_message=print_starting_message, limit=limit, **kwargs)


def _runner(value: Any) -> Any:
    """Accept a runner instance or class (Prefect 2 allowed both); None is the default one."""
    from headwater._private.runners import TaskRunner, ThreadPoolTaskRunner

    if value is None:
        # Prefect 2's default, readable as flow.task_runner; each run uses a duplicate.
        return ThreadPoolTaskRunner()
    if isinstance(value, type) and issubclass(value, TaskRunner):
        return value()
    if not isinstance(value, TaskRunner):
        from headwater.exceptions import InvalidOptionError

        raise InvalidOptionError(
            f"task_runner must be a TaskRunner such as ThreadPoolTaskRunner() or "
            f"SequentialTaskRunner(), got {value!r}."
        )
    return value


@overload
def flow(__fn: Callable[P, R]) -> Flow[P, R]: ...


@overload
def flow(
    *,
    name: str | None = None,
    version: str | None = None,
    flow_run_name: str | Callable[[], str] | None = None,
    retries: int | None = None,
    retry_delay_seconds: float | None = None,
    task_runner: Any = None,
    description: str | None = None,
    timeout_seconds: float | None = None,
    validate_parameters: bool = True,
    persist_result: bool | None = None,
    result_storage: Any = None,
    result_serializer: Any = None,
    cache_result_in_memory: bool = True,
    log_prints: bool | None = None,
    on_completion: list[Callable[..., Any]] | None = None,
    on_failure: list[Callable[..., Any]] | None = None,
    on_cancellation: list[Callable[..., Any]] | None = None,
    on_crashed: list[Callable[..., Any]] | None = None,
    on_running: list[Callable[..., Any]] | None = None,
    reference_tasks: list[Any] | None = None,
    heartbeat: bool | None = None,
    version_lock: bool | None = None,
) -> Callable[[Callable[P, R]], Flow[P, R]]: ...


def flow(__fn: Any = None, **options: Any) -> Any:
    """Turn a function into a `Flow`: ``@flow`` or ``@flow(retries=2, ...)``.

    Every option keeps Prefect 2's name and default; see `Flow`.
    """
    _check_options(options)
    if __fn is not None:
        return Flow(__fn, **options)
    return functools.partial(Flow, **options)


def _check_options(options: dict[str, Any]) -> None:
    """A misspelled option is Prefect 2's TypeError, naming the option meant."""
    check_keywords("flow()", options, _option_names())


@functools.cache
def _option_names() -> frozenset[str]:
    return frozenset(inspect.signature(Flow.__init__).parameters) - {"self", "fn"}
