"""SIGTERM during a top-level run ends it Crashed with hooks, then ends the process.

One mechanism for both kinds of top-level flow run in the main thread:

* a sync run installs a handler that raises `TerminationSignal` wherever
  the main thread is (``signal.signal``);
* an async run awaited on an event loop in the main thread installs a loop
  handler (``loop.add_signal_handler``) that cancels the asyncio task
  awaiting the run. While a termination is under way `termination_requested`
  says so, and the engine reports that cancellation as a `TerminationSignal`
  crash (``crash_state``), exactly as in a sync run: the run and the task
  runs interrupted with it end Crashed, and on_crashed hooks run. Several
  top-level async runs awaited concurrently on one loop share the handler.

Either way, once the run has crashed (and its records were flushed), the
default action is restored and the signal is sent again, so the process ends
the way SIGTERM ends it (exit status -15 / 143). A run that catches the
interruption and finishes normally keeps the process alive, as it would with
any other exception it handles.

A handler is installed only in the main thread, only for the duration of a
top-level run, and only while the process has the default SIGTERM action: a
handler the user (or an async app, with ``signal.signal`` or
``loop.add_signal_handler``) installed is never replaced, and SIGTERM then
does whatever it says. Nothing is installed at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from headwater.exceptions import TerminationSignal

__all__ = ["sigterm_as_exception", "termination_requested"]

# The termination under way (SIGTERM arrived during a top-level run), if any.
_terminating: TerminationSignal | None = None


class _LoopRuns:
    """The top-level async runs awaited on one loop, sharing its SIGTERM handler."""

    __slots__ = ("cancelled", "crashed", "handle", "handler", "tasks")

    def __init__(self, handler: Any, handle: Any) -> None:
        self.handler = handler  # signal.getsignal() right after we installed ours
        self.handle = handle  # the loop's record of our handler, when it keeps one
        self.tasks: set[asyncio.Task[Any]] = set()
        self.cancelled: set[asyncio.Task[Any]] = set()
        self.crashed = False  # a run ended by the termination: end the process last


_loop_runs: dict[asyncio.AbstractEventLoop, _LoopRuns] = {}


def termination_requested() -> TerminationSignal | None:
    """Return the termination under way (SIGTERM received during a top-level run), or None."""
    return _terminating


def _request_termination(signum: int) -> TerminationSignal:
    global _terminating
    _terminating = TerminationSignal(signum)
    return _terminating


def _raise_termination(signum: int, frame: FrameType | None) -> None:
    raise _request_termination(signum)


def _cancel_runs(loop: asyncio.AbstractEventLoop) -> None:
    """The loop's SIGTERM handler: interrupt every top-level run awaited on it."""
    runs = _loop_runs.get(loop)
    if runs is None:
        return  # a late call after the last run ended; its handler is gone
    _request_termination(signal.SIGTERM)
    for task in runs.tasks:
        task.cancel("Received signal SIGTERM")
        runs.cancelled.add(task)


def _sigterm_is_default() -> bool:
    """True in the main thread when SIGTERM has its default action (nobody handles it)."""
    if threading.current_thread() is not threading.main_thread():
        return False
    try:
        return signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    except (ValueError, OSError):
        return False


def _ended_by_termination(exc: BaseException) -> bool:
    return isinstance(exc, TerminationSignal) or (
        isinstance(exc, asyncio.CancelledError) and _terminating is not None)


def _end_process(before_exit: Callable[[], None] | None) -> None:
    """Let SIGTERM do what it would have done without us: end the process."""
    if before_exit is not None:
        before_exit()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


@contextmanager
def sigterm_as_exception(enabled: bool, loop: asyncio.AbstractEventLoop | None = None,
                         before_exit: Callable[[], None] | None = None) -> Iterator[None]:
    """Crash the run inside the block on SIGTERM, then end the process; see the module docstring.

    Args:
        enabled: False leaves signals alone (subflow runs: their top-level
            run handles SIGTERM).
        loop: The running loop of an async run (awaited in the block by the
            current asyncio task); None for a sync run.
        before_exit: Called right before the process is ended (the async
            run ships its records there; a sync run has done so already).
    """
    global _terminating
    if not enabled:
        yield
        return
    if loop is not None:
        with _sigterm_cancels_task(loop, before_exit):
            yield
        return
    if not _sigterm_is_default():
        yield
        return
    signal.signal(signal.SIGTERM, _raise_termination)
    try:
        yield
    except BaseException as exc:
        if _ended_by_termination(exc):
            _end_process(before_exit)
        raise
    finally:
        if signal.getsignal(signal.SIGTERM) is _raise_termination:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _terminating = None  # still alive: the run handled the interruption


@contextmanager
def _sigterm_cancels_task(loop: asyncio.AbstractEventLoop,
                          before_exit: Callable[[], None] | None) -> Iterator[None]:
    global _terminating
    task = asyncio.current_task(loop)
    runs = _loop_runs.get(loop)
    if task is None or (runs is None and not _sigterm_is_default()):
        yield
        return
    if runs is None:
        try:
            loop.add_signal_handler(signal.SIGTERM, _cancel_runs, loop)
        except (NotImplementedError, RuntimeError, ValueError):
            yield  # a loop without signal support (Windows): nothing to do
            return
        handlers = getattr(loop, "_signal_handlers", None)
        handle = handlers.get(signal.SIGTERM) if isinstance(handlers, dict) else None
        runs = _loop_runs[loop] = _LoopRuns(signal.getsignal(signal.SIGTERM), handle)
    runs.tasks.add(task)
    ended_by_termination = False
    try:
        yield
    except BaseException as exc:
        ended_by_termination = _ended_by_termination(exc)
        raise
    finally:
        runs.tasks.discard(task)
        runs.crashed = runs.crashed or ended_by_termination
        if task in runs.cancelled and not ended_by_termination and sys.version_info >= (3, 11):
            task.uncancel()  # the run swallowed our cancellation: leave the task as it was
        runs.cancelled.discard(task)
        if not runs.tasks:
            del _loop_runs[loop]
            if _loop_handler_is_ours(loop, runs):
                with contextlib.suppress(ValueError, RuntimeError):  # gone with its loop
                    loop.remove_signal_handler(signal.SIGTERM)  # back to SIG_DFL
            if runs.crashed:
                _end_process(before_exit)
            _terminating = None  # still alive: the runs handled the interruption


def _loop_handler_is_ours(loop: asyncio.AbstractEventLoop, runs: _LoopRuns) -> bool:
    """False when the app replaced our handler during the run (then it stays theirs)."""
    if signal.getsignal(signal.SIGTERM) is not runs.handler:
        return False
    handlers = getattr(loop, "_signal_handlers", None)
    if runs.handle is None or not isinstance(handlers, dict):
        return True  # a loop that does not say: the process-level check has to do
    return handlers.get(signal.SIGTERM) is runs.handle
