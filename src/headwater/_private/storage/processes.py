"""Who this process is, and whether another process on this host still lives.

A flow run records its host, its pid and a token of its process's start, so
a zombie check on the same host knows at once when the process is gone, and
is not fooled by a pid the system has since given to another process:

- Linux: the token is ``linux:<boot id>:<pid namespace>:<start ticks>``
  (field 22 of ``/proc/<pid>/stat``: clock ticks since boot). The pid is
  only looked up where it means the same process: same kernel boot (a
  machine or VM that shares the host name is another kernel) and same pid
  namespace (a container started with ``--network host`` shares the host
  name, not the pids); anywhere else the check cannot tell (None) and the
  missed heartbeats decide.
- Elsewhere (psutil is not a dependency): no token (None); a process is
  known dead when ``os.kill(pid, 0)`` says it does not exist (POSIX), and
  otherwise only the missed heartbeats tell (a reused pid then looks alive,
  which delays the verdict, never makes a false one). On Windows the pid
  check is skipped altogether.

Standard library only: part of the storage core (the zombie check of
embedded processes and the server's share it).
"""

from __future__ import annotations

import functools
import os
import socket
import sys
from pathlib import Path

__all__ = ["local_host", "process_alive", "process_identity", "process_start_token"]

_PROC = Path("/proc")


@functools.cache
def local_host() -> str:
    """This machine's name, as runs record it."""
    return socket.gethostname()


@functools.cache
def _boot_id() -> str:
    try:
        return (_PROC / "sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "?"


@functools.cache
def _pid_namespace() -> str:
    try:
        return os.readlink(_PROC / "self/ns/pid").strip("pid:[]")
    except OSError:
        return "?"


def process_start_token(pid: int) -> str | None:
    """A token that differs between two processes that had the same pid.

    None if unknown (not Linux, no such process, or one that has exited).
    """
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    fields = stat.rpartition(")")[2].split()
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None  # a zombie (exited, not reaped yet) is gone
    return f"linux:{_boot_id()}:{_pid_namespace()}:{fields[19]}"  # field 22 overall


@functools.cache
def process_identity() -> tuple[str, int, str | None]:
    """This process's host, pid and start token: what its flow runs' liveness rows hold.

    Computed once per process (reading ``/proc`` per flow run cost tens of
    microseconds); a forked child computes its own (the cache is cleared in
    the child, see below).
    """
    pid = os.getpid()
    return local_host(), pid, process_start_token(pid)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=process_identity.cache_clear)


def process_alive(pid: int, token: str | None) -> bool | None:
    """Whether process ``pid`` of this host is the one that recorded ``token``.

    Returns:
        False when it is certainly gone (no such pid, or the pid now belongs
        to a process that started at another time); True when it is there;
        None when this platform cannot tell.
    """
    if pid <= 0:
        return None
    if token is not None and token.startswith("linux:"):
        parts = token.split(":")
        if len(parts) != 4 or parts[1:3] != [_boot_id(), _pid_namespace()]:
            return None  # another kernel or pid namespace: its pids are not ours to look up
        current = process_start_token(pid)
        if current is None:
            return False
        return current == token
    if sys.platform == "win32":
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    except OSError:
        return None
    return True
