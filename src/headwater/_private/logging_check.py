"""Checking a logging config before ``dictConfig`` sees it: names that point nowhere.

A ``logging.yml`` that is valid YAML can still name a handler class that
does not import, a formatter or handler that is not defined, or a filter
that is not: ``dictConfig`` then raises "Unable to configure handler
'console'" with the cause three exceptions down. This check finds the key
first and says it in one `SettingsError`: the key's path, what is wrong, and
the closest valid name.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["check_logging_config"]

#: Handler classes people mean, for "did you mean" on a misspelled one.
KNOWN_HANDLERS = (
    "headwater.logging.handlers.ConsoleHandler", "headwater.logging.handlers.APILogHandler",
    "logging.StreamHandler", "logging.FileHandler", "logging.NullHandler",
    "logging.handlers.RotatingFileHandler", "logging.handlers.TimedRotatingFileHandler",
    "logging.handlers.WatchedFileHandler", "logging.handlers.SysLogHandler",
    "logging.handlers.QueueHandler", "logging.handlers.SocketHandler",
    "logging.handlers.HTTPHandler", "logging.handlers.MemoryHandler",
    "rich.logging.RichHandler",
)
KNOWN_FORMATTERS = (
    "headwater.logging.formatters.RunFormatter", "headwater.logging.formatters.JsonFormatter",
    "logging.Formatter",
)


def check_logging_config(config: Mapping[str, Any], origin: str) -> None:
    """Raise one `SettingsError` for the first name in ``config`` that points nowhere.

    Args:
        config: A ``dictConfig`` mapping (headwater's merged with the user's).
        origin: Where it comes from, for the message (a file path, or a phrase).

    Raises:
        SettingsError: A handler or formatter class does not import, or a
            handler, formatter or filter is named but not defined.
    """
    from headwater._private.settings import SettingsError

    problem = next(_problems(config), None)
    if problem is not None:
        raise SettingsError(f"The logging config {origin}: {problem}")


def _problems(config: Mapping[str, Any]) -> Iterator[str]:
    formatters = _section(config, "formatters")
    handlers = _section(config, "handlers")
    filters = _section(config, "filters")
    for name, entry in formatters.items():
        yield from _importable(f"formatters.{name}", entry, KNOWN_FORMATTERS)
    for name, entry in handlers.items():
        yield from _importable(f"handlers.{name}", entry, KNOWN_HANDLERS)
        if isinstance(entry, Mapping):
            formatter = entry.get("formatter")
            if formatter is not None:
                yield from _defined(f"handlers.{name}.formatter", formatter, formatters,
                                    "formatter")
            for used in entry.get("filters") or ():
                yield from _defined(f"handlers.{name}.filters", used, filters, "filter")
    loggers = dict(_section(config, "loggers"))
    if isinstance(config.get("root"), Mapping):
        loggers = {**loggers, "root": config["root"]}
    for name, entry in loggers.items():
        if not isinstance(entry, Mapping):
            continue
        where = "root" if name == "root" else f"loggers.{name}"
        for used in entry.get("handlers") or ():
            yield from _defined(f"{where}.handlers", used, handlers, "handler")
        for used in entry.get("filters") or ():
            yield from _defined(f"{where}.filters", used, filters, "filter")


def _section(config: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = config.get(key)
    return value if isinstance(value, Mapping) else {}


def _defined(path: str, name: Any, defined: Mapping[str, Any], kind: str) -> Iterator[str]:
    if isinstance(name, str) and name in defined:
        return
    from headwater._private.did_you_mean import suggestion

    known = ", ".join(sorted(defined)) or "none"
    yield (f"{path} names the {kind} {name!r}, which is not defined (defined: {known})"
           f"{suggestion(str(name), defined)}")


def _importable(path: str, entry: Any, known: tuple[str, ...]) -> Iterator[str]:
    if not isinstance(entry, Mapping):
        return
    for key in ("class", "()"):
        target = entry.get(key)
        if isinstance(target, str) and not _imports(target):
            from headwater._private.did_you_mean import suggestion

            yield (f"{path}.{key} is {target!r}, which cannot be imported"
                   f"{suggestion(target, known)}")


def _imports(dotted: str) -> bool:
    """Whether ``package.module.Name`` resolves as ``dictConfig`` would resolve it."""
    if dotted.startswith("ext://"):
        dotted = dotted[len("ext://"):]
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        try:
            for attribute in parts[split:]:
                found = getattr(found, attribute)
        except AttributeError:
            return False
        return True
    return False
