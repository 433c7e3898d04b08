"""The steps a run's state machine asks its driver to carry out.

Steps are plain data; the machine never touches threads, loops or clocks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import datetime as _dt

    from headwater._private.context import RunTracker
    from headwater._private.futures import HeadwaterFuture
    from headwater._private.results.serializers import Serializer
    from headwater._private.results.storage import CacheLock, ResultStorage


class Call:
    """Call ``fn(*args, **kwargs)``; answer ``(True, value)`` or ``(False, exception)``.

    With ``timeout`` set, the driver stops waiting after that many seconds and
    answers ``(False, on_timeout())``.
    """

    __slots__ = ("args", "fn", "kwargs", "on_timeout", "timeout")

    def __init__(self, fn: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any],
                 timeout: float | None = None,
                 on_timeout: Callable[[], BaseException] | None = None) -> None:
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.timeout = timeout
        self.on_timeout = on_timeout


class WaitFutures:
    """Wait until every future is final; answer None."""

    __slots__ = ("futures",)

    def __init__(self, futures: Sequence[HeadwaterFuture[Any]]) -> None:
        self.futures = futures


class WaitChildren:
    """Wait until every child run a flow run started is final; answer None."""

    __slots__ = ("tracker",)

    def __init__(self, tracker: RunTracker) -> None:
        self.tracker = tracker


class Sleep:
    """Sleep ``seconds`` on the engine's clock; answer None."""

    __slots__ = ("seconds",)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


class RunHooks:
    """Call each hook with ``args`` (sync or async); log, never raise, their errors."""

    __slots__ = ("args", "hooks", "kind")

    def __init__(self, kind: str, hooks: Sequence[Callable[..., Any]],
                 args: tuple[Any, ...]) -> None:
        self.kind = kind
        self.hooks = hooks
        self.args = args


class LoadCached:
    """Look ``key`` up in ``storage``; answer a ``CacheLookup`` (hit or miss).

    With ``lock``, a miss also takes the key's lock (where the storage has
    locks), so a racing process waits for this run's result; the lookup
    carries the lock and `PersistResult` or the machine releases it.
    """

    __slots__ = ("key", "lock", "storage")

    def __init__(self, key: str, storage: ResultStorage, lock: bool = True) -> None:
        self.key = key
        self.storage = storage
        self.lock = lock


class PersistResult:
    """Serialize ``value`` and write it (and the cache index entry for ``cache_key``).

    Answer ``(True, ResultRecord)`` or ``(False, exception)``; ``lock`` is
    released either way.
    """

    __slots__ = ("cache_key", "expiration", "lock", "serializer", "storage", "storage_key",
                 "value")

    def __init__(self, value: Any, storage: ResultStorage, serializer: Serializer,
                 storage_key: str, cache_key: str | None, expiration: _dt.datetime | None,
                 lock: CacheLock | None) -> None:
        self.value = value
        self.storage = storage
        self.serializer = serializer
        self.storage_key = storage_key
        self.cache_key = cache_key
        self.expiration = expiration
        self.lock = lock


class AcquireSlots:
    """Take one concurrency slot of every limited tag; answer ``(True, lease or None)``.

    Answers ``(False, error)`` when a tag's limit can never be met (limit 0).
    """

    __slots__ = ("holder", "tags")

    def __init__(self, tags: frozenset[str], holder: str) -> None:
        self.tags = tags
        self.holder = holder


Step = (Call | WaitFutures | WaitChildren | Sleep | RunHooks | LoadCached | PersistResult
        | AcquireSlots)
