"""The current settings: cached, cheap to read repeatedly, overridable in tests.

The cache is keyed by a snapshot of the process environment and a
generation counter bumped by :func:`temporary_settings` and profile writes,
so a change made through ``os.environ`` at runtime is seen at the next read
at the cost of one dict comparison.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from headwater._private.settings.fields import normalize_key, setting_fields
from headwater._private.settings.models import Settings
from headwater._private.settings.sources import (
    DOTENV,
    ENVIRONMENT,
    RESTORE_DEFAULT,
    LoadedSettings,
    load_settings,
)
from headwater._private.settings.unknown import warn_unknown_names

_FROM_OUTSIDE = frozenset({ENVIRONMENT, DOTENV})  # profiles refuse unknown names on writing

_lock = threading.RLock()
_overrides: list[dict[str, Any]] = []
_generation = 0
_cached: tuple[int, dict[Any, Any], str, LoadedSettings] | None = None


def _environ_snapshot() -> dict[Any, Any]:
    # os.environ keeps its raw entries in _data (CPython); comparing that
    # dict is much cheaper than iterating os.environ, which decodes each key.
    data = getattr(os.environ, "_data", None)
    return data if isinstance(data, dict) else dict(os.environ)


def invalidate_settings_cache() -> None:
    """Forget the cached settings; the next read loads them again."""
    global _generation, _cached
    with _lock:
        _generation += 1
        _cached = None


def current_overrides() -> dict[str, Any]:
    """Return the merged ``temporary_settings`` overrides in effect."""
    merged: dict[str, Any] = {}
    for layer in _overrides:
        merged.update(layer)
    return merged


def get_current_loaded() -> LoadedSettings:
    """Return the current settings together with the source of each value."""
    global _cached
    cached = _cached
    environ = _environ_snapshot()
    if cached is not None and cached[0] == _generation and cached[1] == environ:
        try:
            if cached[2] == os.getcwd():
                return cached[3]
        except OSError:
            pass
    with _lock:
        generation = _generation
        loaded = load_settings(current_overrides())
        warn_unknown_names(loaded.values, _FROM_OUTSIDE)
        try:
            cwd = os.getcwd()
        except OSError:
            cwd = ""
        _cached = (generation, dict(environ), cwd, loaded)
        return loaded


def get_current_settings() -> Settings:
    """Return the settings in effect: overrides, environment, ``.env``, profile, defaults.

    Cheap to call repeatedly: the result is cached until the environment, the
    working directory, a profile or a ``temporary_settings`` block changes.

    Raises:
        SettingsError: A value is invalid; the message names the setting, the
            value, where it came from and what is allowed.
    """
    return get_current_loaded().settings


@contextmanager
def temporary_settings(updates: Mapping[str, Any] | None = None, *,
                       restore_defaults: Iterable[str] = (),
                       **settings: Any) -> Iterator[Settings]:
    """Override settings for the duration of a ``with`` block (process-wide; for tests).

    Keys are environment names (``HEADWATER_LOGGING_LEVEL``), with or without
    the prefix, or dotted paths (``logging.level``).

    Example:
        >>> from headwater.settings import temporary_settings
        >>> with temporary_settings(HEADWATER_LOGGING_LEVEL="DEBUG") as s:
        ...     s.logging.level
        'DEBUG'

    Args:
        updates: Settings to set.
        restore_defaults: Settings to drop back to their defaults, ignoring
            the environment and the profile.
        settings: More settings to set, as keyword arguments.

    Yields:
        The settings in effect inside the block.

    Raises:
        SettingsError: A value is invalid (raised on entering the block).
    """
    layer = {_checked(k): v for k, v in {**(updates or {}), **settings}.items()}
    layer.update({_checked(k): RESTORE_DEFAULT for k in restore_defaults})
    with _lock:
        # Validate before installing, so a bad value never leaks out of the block.
        load_settings({**current_overrides(), **layer})
        _overrides.append(layer)
        invalidate_settings_cache()
    try:
        yield get_current_settings()
    finally:
        with _lock:
            _overrides.remove(layer)
            invalidate_settings_cache()


def _checked(key: str) -> str:
    from headwater._private.settings.errors import SettingsError
    from headwater._private.settings.fields import is_logging_override, unknown_setting_message

    env = normalize_key(key)
    if env not in setting_fields() and not is_logging_override(env):
        raise SettingsError(unknown_setting_message(env))
    return env
