"""The engine's result I/O: look up a cache key in storage, persist a result.

The drivers call these from the task's thread (sync) or from an executor
thread (async), so the event loop never waits on disk or network. Nothing
here raises for a bad cache entry: a missing, expired, damaged or unreadable
entry is a miss, with a warning for the run log when it was unexpected.
"""

from __future__ import annotations

import datetime as _dt
import json
from typing import TYPE_CHECKING, Any

from headwater._private.caching import CACHE
from headwater._private.results.plan import render_storage_key, safe_key
from headwater._private.results.records import ResultRecord, checksum, pack
from headwater._private.results.serializers import serialize
from headwater._private.results.storage import CacheLock, ResultStorage
from headwater._private.states import now
from headwater.exceptions import InvalidOptionError, MissingResult, SerializationError

if TYPE_CHECKING:
    from headwater._private.results.serializers import Serializer
    from headwater._private.run_records import TaskRun

INDEX = ".cache"
LOCK_TIMEOUT = 300.0
"""Seconds a run waits for another process computing the same key, then runs anyway."""


class CacheLookup:
    """The answer to `LoadCached`: a hit (value, record, expiry) or a miss, maybe a lock.

    A hit in the in-process cache has no record.
    """

    __slots__ = ("expiration", "hit", "lock", "record", "value", "warning")

    def __init__(self, hit: bool = False, value: Any = None, record: ResultRecord | None = None,
                 warning: str | None = None, expiration: _dt.datetime | None = None) -> None:
        self.hit = hit
        self.value = value
        self.record = record
        self.warning = warning
        self.expiration = record.expiration if record is not None else expiration
        self.lock: CacheLock | None = None


def index_key(cache_key: str) -> str:
    """Return the storage key of the index entry for ``cache_key``."""
    return f"{INDEX}/{safe_key(cache_key)}"


def lookup(storage: ResultStorage, key: str) -> CacheLookup:
    """Return the unexpired, readable entry for ``key``, or a miss."""
    try:
        raw = storage.read(index_key(key))
    except FileNotFoundError:
        return CacheLookup()
    except Exception as exc:
        return CacheLookup(warning=f"could not read the cache index ({type(exc).__name__}: "
                                   f"{exc})")
    try:
        record = ResultRecord.from_metadata(json.loads(raw), storage)
    except Exception:
        return CacheLookup(warning="its cache index entry is damaged")
    if record.cache_key != key or record.is_expired(now()):
        return CacheLookup()
    try:
        value = record.load()
    except (MissingResult, SerializationError) as exc:
        return CacheLookup(warning=str(exc))
    except Exception as exc:
        return CacheLookup(warning=f"reading it failed: {type(exc).__name__}: {exc}")
    return CacheLookup(True, value, record)


def load_cached(key: str, storage: ResultStorage | None, lock: bool = True) -> CacheLookup:
    """Look ``key`` up (the `LoadCached` step); on a miss take the key's lock and look again.

    Holding the lock while the task runs makes a second process that races on
    the same key wait and then hit, instead of computing it too. Without a
    lock (or after `LOCK_TIMEOUT`), both compute and the last write wins.
    Without storage, the key is looked up in the in-process cache.
    """
    if storage is None:
        hit, value, expires = CACHE.get(key, now())
        return CacheLookup(hit, value, expiration=expires)
    found = lookup(storage, key)
    if found.hit or not lock:
        return found
    key_lock = storage.lock(safe_key(key))
    if key_lock is None:
        return found
    try:
        if not key_lock.acquire(LOCK_TIMEOUT):
            return found
    except OSError:
        return found
    again = lookup(storage, key)
    if again.hit:
        key_lock.release()
        return again
    again.warning = again.warning or found.warning
    again.lock = key_lock
    return again


def persist_result(value: Any, storage: ResultStorage | None, serializer: Serializer | None,
                   key_template: str | None, cache_key: str | None,
                   expiration: _dt.datetime | None, lock: CacheLock | None = None,
                   run: TaskRun | None = None) -> tuple[bool, Any]:
    """Write a result (the `PersistResult` step): ``(True, record)`` or ``(False, error)``.

    Without storage the value goes to the in-process cache: ``(True, None)``.
    """
    if storage is None:
        assert cache_key is not None
        CACHE.put(cache_key, value, expiration)
        return True, None
    assert serializer is not None
    try:
        storage_key = _storage_key(key_template, run, cache_key)
    except Exception as exc:
        if lock is not None:
            lock.release()
        return False, exc
    try:
        payload = serialize(serializer, value)
        record = ResultRecord(storage, storage_key, serializer.type, checksum(payload),
                              expiration, cache_key, serializer)
        # Payload first, then the index: an index entry never points at
        # nothing, and a crash between the two leaves only an unindexed file.
        storage.write(storage_key, pack(record, payload))
        if cache_key is not None:
            storage.write(index_key(cache_key), json.dumps(record.metadata()).encode())
        return True, record
    except Exception as exc:  # storage backends raise their own errors
        return False, exc
    finally:
        if lock is not None:
            lock.release()


def _storage_key(key_template: str | None, run: TaskRun | None, cache_key: str | None) -> str:
    """The key the result is written under (see `render_storage_key`).

    Raises:
        InvalidOptionError: ``result_storage_key`` could not be filled in.
    """
    try:
        return render_storage_key(key_template, run, cache_key)
    except Exception as exc:
        owner = f"task {run.task_name!r}" if run is not None else "the run"
        raise InvalidOptionError(
            f"result_storage_key {key_template!r} of {owner} could not be filled in: "
            f"{type(exc).__name__}: {exc}. It may use {{parameters[name]}}, "
            "{flow_run.<field>} and {task_run.<field>}.") from None
