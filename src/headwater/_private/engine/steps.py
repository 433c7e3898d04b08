"""The steps a run's state machine asks its driver to carry out.

Steps are plain data: the machines decide, the drivers act. Each step is a
slotted dataclass declared ``frozen`` so that mypy rejects any assignment to
its fields. At run time the freeze is left out (see :func:`step_type`): a
frozen dataclass's ``__init__`` goes through ``object.__setattr__`` once per
field, which costs about 0.1 us a field on the engine's hot path (three steps
per ordinary task run), for a guarantee the type checker already gives.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import datetime as _dt

    # The type checker sees (and enforces) frozen dataclasses.
    from dataclasses import dataclass as step_type

    from headwater._private.context import RunTracker
    from headwater._private.engine.specs import FlowRunSpec, TaskRunSpec
    from headwater._private.futures import HeadwaterFuture
    from headwater._private.results.serializers import Serializer
    from headwater._private.results.storage import CacheLock, ResultStorage
    from headwater._private.run_records import TaskRun
    from headwater._private.states import State
else:
    def step_type(*, frozen: bool, slots: bool) -> Any:
        """``dataclass(frozen=True, slots=True)`` for mypy; slotted, unfrozen at run time."""
        del frozen  # enforced statically; see the module docstring
        return dataclass(slots=slots)


__all__ = ["AcquireSlots", "Call", "ClaimRun", "ComputeCacheKey", "LoadCached", "Log",
           "PersistResult", "PlanResult", "Record", "RunHooks", "Sleep", "Step", "WaitChildren",
           "WaitFutures", "step_type"]


@step_type(frozen=True, slots=True)
class Call:
    """Call ``fn(*args, **kwargs)``; answer ``(True, value)`` or ``(False, exception)``.

    With ``timeout`` set, the driver stops waiting after that many seconds and
    answers ``(False, on_timeout())``.
    """

    fn: Callable[..., Any]
    args: Sequence[Any]
    kwargs: dict[str, Any]
    timeout: float | None = None
    on_timeout: Callable[[], BaseException] | None = None


@step_type(frozen=True, slots=True)
class Record:
    """Record that the run of ``about`` entered ``state``; log ``message`` with it if set.

    The run's in-memory state is already set (by the machine); this is what
    the outside world hears: the recorder (when recording is on) and, for
    the line that goes with a transition, the run logger at ``level`` (0: no
    line). ``message`` None with a level means "Finished in state <state>",
    formatted only if the level is enabled. Answer None.
    """

    about: TaskRunSpec | FlowRunSpec
    state: State[Any]
    level: int = 0
    message: str | None = None
    exc: BaseException | None = None


@step_type(frozen=True, slots=True)
class Log:
    """Log ``message`` at ``level`` on the run logger of ``about``; answer None.

    ``exc`` adds its traceback (engine frames cut off).
    """

    about: TaskRunSpec | FlowRunSpec
    level: int
    message: str
    exc: BaseException | None = None


@step_type(frozen=True, slots=True)
class WaitFutures:
    """Wait until every future is final; answer None."""

    futures: Sequence[HeadwaterFuture[Any]]


@step_type(frozen=True, slots=True)
class WaitChildren:
    """Wait until every child run a flow run started is final; answer None."""

    tracker: RunTracker


@step_type(frozen=True, slots=True)
class Sleep:
    """Sleep ``seconds`` on the engine's clock; answer None."""

    seconds: float


@step_type(frozen=True, slots=True)
class RunHooks:
    """Call each hook with ``args`` (sync or async); log, never raise, their errors."""

    kind: str
    hooks: Sequence[Callable[..., Any]]
    args: tuple[Any, ...]


@step_type(frozen=True, slots=True)
class PlanResult:
    """Decide where and how the run of ``about`` persists and caches its result.

    Answer ``(True, ResultPlan or None)`` (None: memory only, no cache) or
    ``(False, error)`` when a storage or serializer option cannot be used.
    Machines only ask when the options do not already say "nothing to do".
    """

    about: TaskRunSpec | FlowRunSpec


@step_type(frozen=True, slots=True)
class ComputeCacheKey:
    """Compute the cache key of a task run called with ``args`` and ``kwargs``.

    Answer ``(key or None, warning or None)``: a policy that fails gives no
    key and a warning for the run log, never an error.
    """

    about: TaskRunSpec
    args: Any
    kwargs: Any


@step_type(frozen=True, slots=True)
class LoadCached:
    """Look ``key`` up; answer a ``CacheLookup`` (hit or miss).

    ``storage`` None means the in-process cache (results kept in memory).
    With ``lock``, a storage miss also takes the key's lock (where the
    storage has locks), so a racing process waits for this run's result; the
    lookup carries the lock and `PersistResult` or the machine releases it.
    """

    key: str
    storage: ResultStorage | None
    lock: bool = True


@step_type(frozen=True, slots=True)
class PersistResult:
    """Store ``value`` (and the cache index entry for ``cache_key``).

    ``storage`` None puts the value in the in-process cache under
    ``cache_key``. Otherwise the value is serialized and written under the
    key ``key_template`` gives (filled in with ``run``'s parameters), the
    cache key made file-safe, or a random id. Answer ``(True, ResultRecord or
    None)`` or ``(False, exception)``; ``lock`` is released either way.
    """

    value: Any
    storage: ResultStorage | None
    serializer: Serializer | None
    key_template: str | None
    cache_key: str | None
    expiration: _dt.datetime | None
    lock: CacheLock | None = None
    run: TaskRun | None = None


@step_type(frozen=True, slots=True)
class AcquireSlots:
    """Take one concurrency slot of every limited tag; answer ``(True, lease or None)``.

    Answers ``(False, error)`` when a tag's limit can never be met (limit 0).
    """

    tags: frozenset[str]
    holder: str


@step_type(frozen=True, slots=True)
class ClaimRun:
    """Take the version lock of a task run (only when it is on); answer ``(True, None)``
    or ``(False, VersionLockError)``: another process started it."""

    run_id: Any


Step = (Call | Record | Log | WaitFutures | WaitChildren | Sleep | RunHooks | PlanResult
        | ComputeCacheKey | LoadCached | PersistResult | AcquireSlots | ClaimRun)
