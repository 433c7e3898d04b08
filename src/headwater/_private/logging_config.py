"""Build and apply headwater's logging configuration.

Load order: the packaged ``logging.yml``, then the user's file
(``HEADWATER_LOGGING_SETTINGS_PATH``, else ``HEADWATER_HOME/logging.yml``)
merged over it, then ``HEADWATER_LOGGING_LEVEL``, then every
``HEADWATER_LOGGING_<PATH>`` override, which sets the nested key whose
folded path matches (``LOGGERS_HEADWATER_FLOW_RUNS_LEVEL`` ->
``loggers["headwater.flow_runs"]["level"]``).

Applying it never takes over the program's logging: ``dictConfig`` sees
only headwater's loggers; the root logger and other loggers (``uvicorn``,
``httpx``...) get their level and propagation set when asked, and handlers
only when they have none of their own; handlers made by someone else are
never closed.
"""

from __future__ import annotations

import copy
import difflib
import itertools
import json
import logging
import logging.config
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from headwater._private.context import flow_run_ctx, task_run_ctx
from headwater._private.run_logging import default_logging_config_path, flow_run_extra

if TYPE_CHECKING:
    from headwater._private.settings import Settings

__all__ = ["build_logging_config", "setup_logging", "reset_logging"]

ENV_PREFIX = "HEADWATER_LOGGING_"
EXTRA_LOGGER = "headwater.extra"
LOGGER_KEYS = ("level", "propagate", "handlers", "filters")
HANDLER_KEYS = ("level", "formatter", "filters", "stream", "class")
_BOOL_KEYS = ("propagate", "disable_existing_loggers", "incremental")
_LIST_KEYS = ("handlers", "filters")

_lock = threading.RLock()
_applied_key: str | None = None
_owned_handlers: list[logging.Handler] = []
_attached: list[tuple[logging.Logger, logging.Handler]] = []
_leveled: list[logging.Logger] = []  # extra loggers whose level headwater set


# --------------------------------------------------------------------------- building
@cache
def _packaged_text() -> str:
    return default_logging_config_path().read_text(encoding="utf-8")


def _load_yaml(text: str, origin: str) -> dict[str, Any]:
    import yaml

    from headwater._private.settings import SettingsError

    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise SettingsError(f"The logging config {origin} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise SettingsError(f"The logging config {origin} must be a mapping (dictConfig).")
    return data


def packaged_logging_config() -> dict[str, Any]:
    """Return a fresh copy of the packaged default ``logging.yml``."""
    return _load_yaml(_packaged_text(), str(default_logging_config_path()))


def merge_configs(base: dict[str, Any], user: Mapping[str, Any]) -> dict[str, Any]:
    """Merge a user's logging config over ``base`` (in place) and return it.

    Mappings merge key by key; anything else replaces. A handler, formatter or
    filter that names its own ``class`` or factory ``()`` replaces the entry
    of the same name, since keyword arguments of one class mean nothing to
    another.
    """
    for key, value in user.items():
        old = base.get(key)
        if isinstance(old, dict) and isinstance(value, Mapping):
            if key in ("handlers", "formatters", "filters"):
                for name, entry in value.items():
                    replaces = isinstance(entry, Mapping) and ("class" in entry or "()" in entry)
                    if replaces or not isinstance(old.get(name), dict):
                        old[name] = copy.deepcopy(dict(entry)) if isinstance(
                            entry, Mapping) else entry
                    else:
                        merge_configs(old[name], entry)
            else:
                merge_configs(old, value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def build_logging_config(settings: Settings | None = None) -> dict[str, Any]:
    """Return the logging config headwater applies, without applying it.

    Args:
        settings: The settings to use (default: the current settings).

    Returns:
        A ``logging.config.dictConfig`` mapping (``root`` included; see
        :func:`setup_logging` for how it is applied).

    Raises:
        SettingsError: The user's file is unreadable, or an override names a
            key that does not exist (the message lists the closest keys) or
            has a bad value.
    """
    if settings is None:
        from headwater._private.settings import get_current_settings

        settings = get_current_settings()
    config = packaged_logging_config()
    user_path = settings.logging_settings_path()
    if user_path is not None:
        config = merge_configs(config, _read_user_file(user_path))
    if "level" in settings.logging.model_fields_set:
        config.setdefault("loggers", {}).setdefault("headwater", {})["level"] = (
            settings.logging.level)
    for suffix, raw in settings.logging.overrides.items():
        apply_override(config, suffix, raw)
    return config


def _read_user_file(path: Path) -> dict[str, Any]:
    from headwater._private.settings import SettingsError

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(
            f"Cannot read the logging config HEADWATER_LOGGING_SETTINGS_PATH={str(path)!r}: "
            f"{exc.strerror or exc}.") from None
    return _load_yaml(text, str(path))


# --------------------------------------------------------------------------- overrides
def _fold(key: object) -> tuple[str, ...]:
    return tuple(part for part in re.split(r"[._\-]", str(key).lower()) if part)


def apply_override(config: dict[str, Any], suffix: str, raw: str) -> None:
    """Set the key of ``config`` that ``HEADWATER_LOGGING_<suffix>`` names.

    Logger names contain dots: path parts are matched against existing keys
    with ``.``, ``-`` and ``_`` folded together, longest key first. A new
    logger may be created under ``loggers`` (``LOGGERS_HTTPX_LEVEL``), and a
    known attribute (``level``, ``propagate``...) under an existing logger,
    handler or ``root``.

    Raises:
        SettingsError: No key matches (the message names the closest ones),
            or the value is invalid for the key.
    """
    from headwater._private.settings import SettingsError

    tokens = _fold(suffix)
    path = _resolve(config, tokens, ())
    env = ENV_PREFIX + suffix.upper()
    if path is None:
        raise SettingsError(_no_such_key(config, env))
    node = config
    for part in path[:-1]:
        node = node.setdefault(part, {})
    if isinstance(node.get(path[-1]), dict):
        raise SettingsError(f"{env} names a whole section of the logging config; set one of "
                            f"its keys instead, e.g. {env}_LEVEL.")
    node[path[-1]] = _parse_value(path[-1], raw, env)


def _resolve(node: Mapping[str, Any], tokens: tuple[str, ...],
             path: tuple[str, ...]) -> tuple[str, ...] | None:
    if not tokens:
        return None
    candidates = []
    for key in node:
        folded = _fold(key)
        if folded and tokens[:len(folded)] == folded:
            candidates.append((len(tokens) - len(folded), str(key)))
    for remaining, key in sorted(candidates):
        if remaining == 0:
            return (*path, key)
        child = node[key]
        if isinstance(child, dict):
            found = _resolve(child, tokens[len(tokens) - remaining:], (*path, key))
            if found is not None:
                return found
    return _create(tokens, path)


def _create(tokens: tuple[str, ...], path: tuple[str, ...]) -> tuple[str, ...] | None:
    section = path[0] if path else None
    if path == ("loggers",) and len(tokens) >= 2 and tokens[-1] in LOGGER_KEYS:
        return (*path, _logger_name(tokens[:-1]), tokens[-1])
    if len(tokens) == 1 and (
            (len(path) == 2 and section == "loggers" and tokens[0] in LOGGER_KEYS)
            or (path == ("root",) and tokens[0] in LOGGER_KEYS)
            or (len(path) == 2 and section == "handlers" and tokens[0] in HANDLER_KEYS)):
        return (*path, tokens[0])
    if path == () and tokens in (("root", "level"), ("root", "handlers")):
        return tokens
    return None


def _logger_name(tokens: tuple[str, ...]) -> str:
    # ``_`` in an environment name may be a ``.`` or a ``_`` of the logger's
    # name: prefer a logger that exists already, else dots.
    existing = logging.Logger.manager.loggerDict
    if len(tokens) <= 8:
        for seps in itertools.product("._", repeat=len(tokens) - 1):
            name = tokens[0] + "".join(s + t for s, t in zip(seps, tokens[1:], strict=True))
            if name in existing:
                return name
    return ".".join(tokens)


def _env_paths(node: Mapping[str, Any], prefix: str) -> Iterator[str]:
    for key, value in node.items():
        name = f"{prefix}_{'_'.join(_fold(key)).upper()}"
        if isinstance(value, dict) and value:
            yield from _env_paths(value, name)
        else:
            yield name


def _no_such_key(config: Mapping[str, Any], env: str) -> str:
    from headwater._private.settings.fields import setting_fields

    known = [*_env_paths(config, ENV_PREFIX.rstrip("_")),
             *(k for k in setting_fields() if k.startswith(ENV_PREFIX))]
    close = difflib.get_close_matches(env, known, n=3, cutoff=0.5)
    hint = f" Closest: {', '.join(close)}." if close else ""
    return (f"{env} does not match any key of the logging config (logging.yml) nor any "
            f"logging setting.{hint}")


def _parse_value(key: str, raw: str, env: str) -> Any:
    from headwater._private.settings import SettingsError

    text = raw.strip()
    if key == "level":
        if text.lstrip("-").isdigit():
            return int(text)
        level = text.upper()
        if not isinstance(logging.getLevelName(level), int):
            allowed = "DEBUG, INFO, WARNING, ERROR, CRITICAL, NOTSET"
            raise SettingsError(f"Invalid value {env}={raw!r}: a level is one of {allowed}, "
                                "or a number.")
        return level
    if key in _BOOL_KEYS:
        lowered = text.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise SettingsError(f"Invalid value {env}={raw!r}: expected true or false.")
    if key in _LIST_KEYS:
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    if text.lstrip("-").isdigit():
        return int(text)
    return raw


# --------------------------------------------------------------------------- applying
class _ExtraLoggerBridge(logging.Handler):
    """Attached to each extra logger: passes its records inside runs to ``headwater.extra``.

    The extra logger's propagation and other handlers are untouched. The
    record goes to the handlers of ``headwater.extra`` and, while it
    propagates, of its parents, but never to the root logger's: the record
    reaches those through its own logger, once.
    """

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "headwater_extra_logger", False):
            return  # already bridged (a logger listed twice, or nested in another)
        task_ctx = task_run_ctx.get()
        flow_ctx = flow_run_ctx.get()
        if task_ctx is None and flow_ctx is None:
            return
        fields: dict[str, Any] = {"headwater_extra_logger": True}
        if flow_ctx is not None:
            fields.update(flow_run_extra(flow_ctx))
        if task_ctx is not None:
            run = task_ctx.task_run
            fields.update(task_run_id=str(run.id), task_run_name=run.name,
                          task_name=run.task_name)
        for key, value in fields.items():
            if not hasattr(record, key):
                setattr(record, key, value)
        _handle_below_root(logging.getLogger(EXTRA_LOGGER), record)


def _handle_below_root(logger: logging.Logger, record: logging.LogRecord) -> None:
    """``logger.handle(record)``, except that propagation stops before the root logger."""
    if logger.disabled or not logger.filter(record):
        return
    node: logging.Logger | None = logger
    while node is not None and node is not logging.getLogger():
        for handler in node.handlers:
            if record.levelno >= handler.level:
                handler.handle(record)
        node = node.parent if node.propagate else None


_bridge = _ExtraLoggerBridge()


@contextmanager
def _only_own_handlers_cleared() -> Iterator[None]:
    # dictConfig starts by flushing and closing *every* handler in the process
    # (logging.config._clearExistingHandlers), which silences a user's
    # basicConfig(filename=..., filemode="w"). Close only the handlers that
    # headwater created instead.
    def clear() -> None:
        for handler in _owned_handlers:
            _close_quietly(handler)
        _owned_handlers.clear()

    original = logging.config._clearExistingHandlers  # type: ignore[attr-defined]
    logging.config._clearExistingHandlers = clear  # type: ignore[attr-defined]
    try:
        yield
    finally:
        logging.config._clearExistingHandlers = original  # type: ignore[attr-defined]


def _close_quietly(handler: logging.Handler) -> None:
    try:
        handler.flush()
        handler.close()
    except Exception:
        pass


def _is_own(name: str) -> bool:
    return name == "headwater" or name.startswith("headwater.")


def _detach_all() -> None:
    for logger, handler in _attached:
        logger.removeHandler(handler)
    _attached.clear()
    for logger in _leveled:
        logger.setLevel(logging.NOTSET)
    _leveled.clear()


def _listen_to_extra(logger: logging.Logger) -> None:
    # As in Prefect 2, an extra logger whose level is unset gets headwater's
    # (that of ``headwater.extra``), so its INFO records are shipped: unset,
    # it would inherit the root logger's WARNING.
    _attach(logger, _bridge)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.getLogger(EXTRA_LOGGER).getEffectiveLevel())
        _leveled.append(logger)


def _attach(logger: logging.Logger, handler: logging.Handler) -> None:
    if handler not in logger.handlers:
        logger.addHandler(handler)
        _attached.append((logger, handler))


def _apply_foreign(logger: logging.Logger, entry: Mapping[str, Any],
                   handlers: Mapping[str, logging.Handler]) -> None:
    if entry.get("level") is not None:
        logger.setLevel(entry["level"])
    if "propagate" in entry and logger is not logging.getLogger():
        logger.propagate = bool(entry["propagate"])
    if not logger.handlers:
        for name in entry.get("handlers") or ():
            _attach(logger, handlers[name])


def _apply(config: dict[str, Any], extra_loggers: tuple[str, ...]) -> None:
    config = copy.deepcopy(config)
    root = config.pop("root", None) or {}
    loggers = config.get("loggers") or {}
    foreign = {name: entry for name, entry in loggers.items() if not _is_own(name)}
    config["loggers"] = {name: e for name, e in loggers.items() if _is_own(name)}
    config.setdefault("disable_existing_loggers", False)
    with _only_own_handlers_cleared():
        logging.config.dictConfig(config)
    named: dict[str, logging.Handler] = getattr(logging, "_handlers", {})
    handlers = {name: named[name] for name in config.get("handlers", {}) if name in named}
    _owned_handlers.extend(handlers.values())
    for name, entry in foreign.items():
        _apply_foreign(logging.getLogger(name), entry or {}, handlers)
    _apply_foreign(logging.getLogger(), root, handlers)
    for name in extra_loggers:
        if not _is_own(name):
            _listen_to_extra(logging.getLogger(name))


def setup_logging(settings: Settings | None = None, *, force: bool = False) -> dict[str, Any]:
    """Apply headwater's logging config; call it at entry points (idempotent).

    Calling it again with the same settings does nothing, so it never
    duplicates handlers; with changed settings (or ``force=True``) it applies
    the new config, shipping records queued by the old API handler first.

    Args:
        settings: The settings to use (default: the current settings).
        force: Apply even if the same config was applied already.

    Returns:
        The config that is in effect.

    Raises:
        SettingsError: A setting, the user's file or an override is invalid.
    """
    global _applied_key
    if settings is None:
        from headwater._private.settings import get_current_settings

        settings = get_current_settings()
    config = build_logging_config(settings)
    key = json.dumps([config, settings.logging.model_dump(mode="json")], sort_keys=True,
                     default=str)
    with _lock:
        if force or key != _applied_key:
            from headwater._private.logging_check import check_logging_config

            user_path = settings.logging_settings_path()
            check_logging_config(config, repr(str(user_path)) if user_path is not None
                                 else "(headwater's, with HEADWATER_LOGGING_* overrides)")
            _detach_all()
            _apply(config, settings.logging.extra_loggers)
            _applied_key = key
    return config


def reset_logging() -> None:
    """Undo :func:`setup_logging`: detach and close headwater's handlers (for tests)."""
    global _applied_key
    with _lock:
        _detach_all()
        for name in list(logging.Logger.manager.loggerDict):
            if _is_own(name):
                logger = logging.getLogger(name)
                for handler in [h for h in logger.handlers if h in _owned_handlers]:
                    logger.removeHandler(handler)
        for handler in _owned_handlers:
            handler.close()
        _owned_handlers.clear()
        _applied_key = None
