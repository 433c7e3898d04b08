"""The process's default `SlotManager`, created and loaded from the limits file on first use."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from headwater._private.concurrency.manager import SlotManager
from headwater._private.concurrency.store import limits_path, load_limits
from headwater.exceptions import SettingsError

_logger = logging.getLogger("headwater.concurrency")
_lock = threading.Lock()
_manager: SlotManager | None = None


def get_slot_manager() -> SlotManager:
    """Return the default manager, loading ``concurrency_limits.json`` the first time."""
    manager = _manager
    if manager is not None:
        return manager
    return _create()


def _create() -> SlotManager:
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
    """Forget the default manager; the next use creates one and reads the file again."""
    global _manager
    with _lock:
        _manager = None


@contextmanager
def use_slot_manager(manager: SlotManager) -> Iterator[SlotManager]:
    """Make ``manager`` the default for the ``with`` block (tests)."""
    global _manager
    with _lock:
        previous, _manager = _manager, manager
    try:
        yield manager
    finally:
        with _lock:
            _manager = previous
