"""The process's default concurrency backend, chosen from the settings on use.

- ``HEADWATER_API_URL`` set, or ``HEADWATER_API_ENABLE_RECORDING`` on (the
  target's ``shares_limits``): an `APIConcurrencyBackend`, so limits and
  slots are shared by every process using that API (the embedded SQLite
  database is shared by every process on the machine with the same
  ``HEADWATER_HOME``). Embedded on SQLite, it
  reads limits and takes slots in the file directly (`SQLiteSlots`), and
  imports the API's stack only to create, reset or delete a limit.
- Otherwise: a `SlotManager` in this process, with the limits of
  ``concurrency_limits.json`` loaded the first time.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from headwater._private.concurrency.manager import SlotManager
from headwater._private.concurrency.protocol import ConcurrencyBackend
from headwater._private.concurrency.store import limits_path, load_limits
from headwater.exceptions import SettingsError

if TYPE_CHECKING:
    from pathlib import Path

    from headwater._private.concurrency.remote import APIConcurrencyBackend
    from headwater._private.concurrency.slots import SlotStore
    from headwater._private.target import Target
    from headwater.client import HeadwaterClient

_logger = logging.getLogger("headwater.concurrency")
_lock = threading.Lock()
_override: ConcurrencyBackend | None = None
_manager: SlotManager | None = None
_remote: dict[Target, APIConcurrencyBackend] = {}


def get_slot_manager() -> ConcurrencyBackend:
    """Return the default backend: the target's when limits live there, else in-process."""
    override = _override
    if override is not None:
        return override
    from headwater._private.target import current_target

    target = current_target()
    if target.shares_limits:
        return _remote.get(target) or _create_remote(target)
    return _manager or _create_local()


def uses_api() -> bool:
    """True when the default backend is the API's (``headwater concurrency-limit`` uses it)."""
    from headwater._private.target import current_target

    return _override is None and current_target().shares_limits


def _create_remote(target: Target) -> APIConcurrencyBackend:
    from headwater._private.concurrency.remote import APIConcurrencyBackend

    with _lock:
        backend = _remote.get(target)
        if backend is None:
            path = target.sqlite
            backend = APIConcurrencyBackend(
                _client_factory(target), target.lease_duration,
                _local_limits_reader(path) if path is not None else None,
                _sqlite_slots(path) if path is not None else None)
            if not _remote:
                atexit.register(_close_remote)
            _remote[target] = backend
        return backend


def _client_factory(target: Target) -> Callable[[], HeadwaterClient]:
    """Build the client later, on the background loop (the target is resolved now)."""
    if target.api_url:
        return lambda: target.client(retries=2, backoff=0.1)
    return lambda: target.client(retries=2, backoff=0.05)


def _local_limits_reader(path: Path) -> Callable[[], dict[str, tuple[int, float]]]:
    """Embedded mode on SQLite: read which limits exist from the file itself.

    Most flows have no limits at all: learning that from the database file
    costs a query, where the in-process API would first import its whole
    stack (~600 ms).
    """
    from headwater._private.concurrency.store import read_sqlite_limits

    return lambda: read_sqlite_limits(path)


def _sqlite_slots(path: Path) -> SlotStore:
    """Embedded mode on SQLite: take, renew and release slots in the file itself.

    The API's lease rules over ``sqlite3``: about 0.1 ms a transaction where
    the in-process API took about 6 ms, and no server stack imported.
    """
    from headwater._private.concurrency.sqlite_slots import SQLiteSlots

    return SQLiteSlots(path)


def release_held_slots() -> None:
    """Give back the slots this process holds through the API or the file (an interrupt).

    The backends are closed (their leases released and the releases
    waited for); the next use opens new ones.
    """
    _close_remote()


def _close_remote() -> None:
    """At exit: give back the slots this process holds, so others need not wait for expiry."""
    with _lock:
        backends = list(_remote.values())
        _remote.clear()
    for backend in backends:
        backend.close()


def _create_local() -> SlotManager:
    global _manager
    with _lock:
        if _manager is None:
            manager = SlotManager()
            try:
                path = limits_path()
                for name, (limit, decay) in load_limits(path).items():
                    manager.set_limit(name, limit, decay)
            except (SettingsError, ValueError) as exc:
                _logger.warning("Concurrency limits were not loaded: %s", exc)
            _manager = manager
        return _manager


def reset_slot_manager() -> None:
    """Forget the default backends; the next use creates one (and reads the file again)."""
    global _manager
    _close_remote()
    with _lock:
        _manager = None


@contextmanager
def use_slot_manager(manager: ConcurrencyBackend) -> Iterator[ConcurrencyBackend]:
    """Make ``manager`` the default for the ``with`` block (tests)."""
    global _override
    with _lock:
        previous, _override = _override, manager
    try:
        yield manager
    finally:
        with _lock:
            _override = previous
