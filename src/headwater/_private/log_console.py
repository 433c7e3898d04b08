"""`ConsoleHandler`: headwater's console handler, named in ``logging.yml``.

It colours records with rich on a terminal and writes plain lines
elsewhere. headwater's loggers propagate to the root logger, so it skips a
record that is on the terminal already (see `ConsoleHandler.emit`): a line
is printed once, whatever handlers the user configured.
"""

from __future__ import annotations

import logging
import sys
from typing import IO, Any, ClassVar

__all__ = ["ConsoleHandler"]


class ConsoleHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that colours records with rich when a terminal is attached.

    Without a terminal (pipes, files, CI logs) it writes plain lines exactly
    like ``logging.StreamHandler``.

    Args:
        stream: Where to write (default ``sys.stderr``).
        level: The handler's level.
        colors: Colour output; None: the ``HEADWATER_LOGGING_COLORS`` setting.
        styles: rich styles by level name, e.g. ``{"WARNING": "yellow"}``.
    """

    DEFAULT_STYLES: ClassVar[dict[str, str]] = {
        "DEBUG": "dim", "INFO": "", "WARNING": "yellow", "ERROR": "red", "CRITICAL": "bold red"}

    def __init__(self, stream: IO[str] | None = None, level: int | str = logging.NOTSET,
                 colors: bool | None = None, styles: dict[str, str] | None = None) -> None:
        super().__init__(stream if stream is not None else sys.stderr)
        self.setLevel(level)
        self.styles = {**self.DEFAULT_STYLES, **(styles or {})}
        self._console: Any = None
        if colors is None:
            from headwater._private.settings import get_current_settings

            colors = get_current_settings().logging.colors
        if colors and _isatty(self.stream):
            from rich.console import Console

            self._console = Console(file=self.stream, highlight=False, soft_wrap=True)

    def emit(self, record: logging.LogRecord) -> None:
        """Write ``record``, coloured by level on a terminal, unless it is printed already.

        headwater's loggers propagate to the root logger. So that a line is
        not printed twice, the record is skipped when it is on the terminal
        already: another console handler printed it (one attached to the root
        logger as well), or a handler of the root logger will write it to
        stdout or stderr (``logging.basicConfig()``, rich's ``RichHandler``).
        Decided per record, so a ``basicConfig`` called after headwater's
        configuration counts too.
        """
        if _on_terminal(self.stream):
            if getattr(record, _PRINTED, False) or _printed_by_root(record):
                return
            setattr(record, _PRINTED, True)
        if self._console is None:
            super().emit(record)
            return
        try:
            from rich.text import Text

            text = Text(self.format(record), style=self.styles.get(record.levelname, ""))
            self._console.print(text)
        except Exception:
            self.handleError(record)


# Set on a record once a ConsoleHandler wrote it to stdout or stderr ("_": not an
# ``extra`` field, so the JSON formatter leaves it out).
_PRINTED = "_headwater_on_terminal"


def _on_terminal(stream: Any) -> bool:
    """True for stdout and stderr (the current objects, the originals, or fds 1 and 2)."""
    if stream is None:
        return False
    if any(stream is std for std in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)):
        return True
    try:
        return stream.fileno() in (1, 2)
    except Exception:
        return False


def _reaches_root(name: str) -> bool:
    """True when records of logger ``name`` propagate up to the root logger.

    Reads ``loggerDict`` without ``logging.getLogger`` (which takes the module
    lock): this runs inside ``emit``, under the handler's lock, and
    ``dictConfig`` takes the two locks in the other order. An unknown name
    (a record built by hand) counts as not reaching it: better twice than never.
    """
    root = logging.getLogger()
    logger = root if name == "root" else logging.Logger.manager.loggerDict.get(name)
    while isinstance(logger, logging.Logger) and logger is not root:
        if not logger.propagate:
            return False
        logger = logger.parent
    return logger is root


def _printed_by_root(record: logging.LogRecord) -> bool:
    """True when a handler of the root logger will write ``record`` to stdout or stderr."""
    handlers = logging.getLogger().handlers
    if not handlers or not _reaches_root(record.name):
        return False
    for handler in handlers:
        if isinstance(handler, ConsoleHandler) or record.levelno < handler.level:
            continue  # a ConsoleHandler there marks the record and skips it instead
        stream = getattr(handler, "stream", None)
        if stream is None:  # rich.logging.RichHandler writes through its console
            stream = getattr(getattr(handler, "console", None), "file", None)
        if _on_terminal(stream):
            return True
    return False


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except Exception:
        return False
