"""The lifeline: a run started by a worker does not outlive that worker.

A worker is the supervisor of the runs it starts: it reports how they end
and it is the one that cancels them. Each run has a process group of its
own (so a cancel stops everything the run started), which also means a
``kill -9`` of the worker would leave its runs running, unsupervised and
impossible to cancel. The lifeline closes that gap without a signal handler
or a ``preexec_fn``:

- the worker opens a pipe per run (:func:`open_lifeline`), passes the read
  end to the run's process (``pass_fds``, its number in
  ``HEADWATER__LIFELINE_FD``) and keeps the write end, writing nothing;
- the run's executor watches the read end (:func:`watch_from_env`) with one
  reader on headwater's background loop (no thread of its own);
- when the worker dies, however it dies, the kernel closes its end: the
  reader sees end-of-file and SIGKILLs the run's process group (the flow's
  code cannot be trusted to stop on a request). The run's pid is then gone,
  so the zombie check marks it Crashed at its next look and Lazarus
  reschedules it for another worker.

A process without the variable (``serve``'s runs, ``python -m
headwater.engine`` by hand, a flow run from a script) is not affected. POSIX
only (Linux, macOS): elsewhere :data:`SUPPORTED` is False, the worker passes
no lifeline and runs outlive their worker as before.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import stat
import sys
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass

from headwater._private import background

__all__ = ["LIFELINE_FD_ENV", "SUPPORTED", "Lifeline", "open_lifeline", "stop_watching",
           "watch_from_env"]

#: The variable naming the file descriptor of a run's lifeline (the pipe's read end).
LIFELINE_FD_ENV = "HEADWATER__LIFELINE_FD"
#: Whether this platform has lifelines (pipes passed to a child, process groups, SIGKILL).
SUPPORTED = os.name == "posix" and sys.platform != "emscripten"

_log = logging.getLogger("headwater.engine")
_watched: int | None = None  # the fd this process watches, if any


@dataclass
class Lifeline:
    """The worker's side of one run's lifeline: hand ``read_fd`` over, keep ``write_fd``."""

    read_fd: int
    write_fd: int

    def child_env(self) -> dict[str, str]:
        """The variable that tells the run's process which fd is its lifeline."""
        return {LIFELINE_FD_ENV: str(self.read_fd)}

    def handed_over(self) -> None:
        """The child has its copy of the read end: close the worker's."""
        self._close("read_fd")

    def cut(self) -> None:
        """Close the worker's ends (the run ended, or could not start); idempotent."""
        self._close("read_fd")
        self._close("write_fd")

    def _close(self, end: str) -> None:
        fd = getattr(self, end)
        if fd >= 0:
            setattr(self, end, -1)  # never close a number the process reused since
            with contextlib.suppress(OSError):
                os.close(fd)


def open_lifeline() -> Lifeline | None:
    """A new lifeline for one run; None where lifelines are not supported.

    Both ends are non-inheritable (``os.pipe``): only the child it is passed
    to with ``pass_fds`` gets the read end, and no other child of the worker
    holds the write end (it would keep the run alive after the worker died).
    """
    if not SUPPORTED:
        return None
    read_fd, write_fd = os.pipe()
    return Lifeline(read_fd, write_fd)


def watch_from_env(environ: MutableMapping[str, str] | None = None,
                   on_cut: Callable[[], None] | None = None) -> bool:
    """Watch the lifeline named in ``HEADWATER__LIFELINE_FD``, if any; return whether it is.

    The variable is removed from the environment, so the run's own child
    processes do not take it for theirs. A value that is not the read end of
    a pipe is ignored with a warning (the run then simply is not tied to a
    worker).

    Args:
        environ: The environment to read (``os.environ`` by default).
        on_cut: What to do when the worker is gone (tests); by default
            :func:`kill_own_group`.
    """
    global _watched
    env = os.environ if environ is None else environ
    value = env.pop(LIFELINE_FD_ENV, None)
    if value is None or not SUPPORTED:
        return False
    try:
        fd = int(value)
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            raise OSError("not a pipe")
        os.set_blocking(fd, False)
    except (ValueError, OSError) as exc:
        _log.warning("%s=%r is not a lifeline (the read end of a pipe): %s; this run is not "
                     "tied to its worker.", LIFELINE_FD_ENV, value, exc)
        return False
    cut = on_cut or kill_own_group
    loop = background.get_loop()

    def readable() -> None:
        try:
            data = os.read(fd, 512)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            return  # a worker writes nothing; anything else is not an end
        _stop(fd)
        cut()

    def start() -> None:
        loop.add_reader(fd, readable)

    _watched = fd
    background.call_soon(start)
    return True


def stop_watching() -> None:
    """Stop watching this process's lifeline (the run ended: nothing left to stop)."""
    fd = _watched
    if fd is not None:
        background.call_soon(lambda: _stop(fd))


def _stop(fd: int) -> None:
    """On the loop: remove the reader and close the fd (once)."""
    global _watched
    if _watched != fd:
        return
    _watched = None
    with contextlib.suppress(Exception):
        background.get_loop().remove_reader(fd)
    with contextlib.suppress(OSError):
        os.close(fd)


def kill_own_group() -> None:
    """The worker is gone: SIGKILL this run's process group (this process included).

    Only a group that leads its own session is killed whole (what a worker
    starts: ``start_new_session``); otherwise (the variable was set by hand in
    a shell) only this process, never the shell's job.
    """
    _log.error("The worker that started this flow run is gone (its lifeline closed): "
               "stopping the run's processes. The zombie check marks the run Crashed.")
    for handler in logging.getLogger().handlers + _log.handlers:
        with contextlib.suppress(Exception):
            handler.flush()
    group = os.getpgrp()
    sigkill = getattr(signal, "SIGKILL", signal.SIGTERM)
    if os.getsid(0) == group:
        os.killpg(group, sigkill)
    os.kill(os.getpid(), sigkill)
