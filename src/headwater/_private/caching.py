"""Task result caching by key, in process memory: ``cache_key_fn`` and ``task_input_hash``.

A task with ``cache_key_fn`` computes a key from its run context and
(resolved) parameters; a later run with the same unexpired key is ``Cached``
without calling the function. Entries live in this process; they are
dropped when they expire.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import threading
from typing import Any

from headwater._private.context import TaskRunContext


def _stable_bytes(value: Any) -> bytes:
    try:
        return json.dumps(value, sort_keys=True, default=_json_default).encode()
    except (TypeError, ValueError):
        import cloudpickle

        return bytes(cloudpickle.dumps(value))


def _json_default(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def hash_objects(*objects: Any) -> str:
    """Return a hex digest of ``objects`` (JSON when possible, else cloudpickle)."""
    digest = hashlib.sha256()
    for obj in objects:
        digest.update(_stable_bytes(obj))
    return digest.hexdigest()


def task_input_hash(context: TaskRunContext, arguments: dict[str, Any]) -> str | None:
    """A ``cache_key_fn`` that keys on the task and its arguments.

    Two runs of the same task with equal arguments share a key, so the
    second is ``Cached``. Returns None (no caching) when an argument cannot be
    hashed.
    """
    try:
        code = getattr(context.task.fn, "__code__", None)
        source = code.co_code.hex() if code is not None else ""
        return hash_objects(context.task.task_key, source, arguments)
    except Exception:
        return None


class CacheStore:
    """Cached task states by key, with expiry. Thread-safe."""

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
