"""The servers this home runs: one small file per port, for ``server status`` and ``stop``.

``headwater server start`` writes ``HEADWATER_HOME/servers/<port>.json``
(its process id, host, port and URL) once it is about to listen, and removes
it when it stops. A file whose process is gone (the machine rebooted, the
process was killed) is stale: ``status`` and ``stop`` remove it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["ServerFile", "port_in_use", "read_servers", "removed_on_exit", "stop_server",
           "write_server"]


@dataclass(frozen=True)
class ServerFile:
    """One running server, as its file says."""

    pid: int
    host: str
    port: int
    url: str
    path: Path

    def alive(self) -> bool:
        """Whether its process still exists."""
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True  # another user's process: it exists
        return True


def _folder(home: Path) -> Path:
    return home / "servers"


def write_server(home: Path, host: str, port: int, url: str) -> Path:
    """Record this process as the server on ``port``; returns the file to remove at exit."""
    folder = _folder(home)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{port}.json"
    record = {"pid": os.getpid(), "host": host, "port": port, "url": url}
    path.write_text(json.dumps(record), encoding="utf-8")
    return path


def read_servers(home: Path) -> list[ServerFile]:
    """The servers started from this home that are still running; stale files are removed."""
    found = []
    folder = _folder(home)
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            server = ServerFile(int(data["pid"]), str(data["host"]), int(data["port"]),
                                str(data["url"]), path)
        except (OSError, ValueError, KeyError, TypeError):
            path.unlink(missing_ok=True)
            continue
        if server.alive():
            found.append(server)
        else:
            path.unlink(missing_ok=True)
    return found


def stop_server(server: ServerFile, timeout: float = 15.0) -> bool:
    """Ask the server to stop (SIGTERM: uvicorn finishes its requests); True once it is gone.

    Gone: its process ended, or it removed its file (its last act on a clean stop).
    """
    try:
        os.kill(server.pid, signal.SIGTERM)
    except ProcessLookupError:
        server.path.unlink(missing_ok=True)
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.path.exists() or not server.alive():
            server.path.unlink(missing_ok=True)
            return True
        time.sleep(0.1)
    return False


def port_in_use(host: str, port: int) -> bool:
    """Whether ``host:port`` cannot be listened on now (another process has it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        if os.name != "nt":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def as_dict(server: ServerFile) -> dict[str, object]:
    """A server as ``status --json`` prints it."""
    return {**asdict(server), "path": str(server.path)}


@contextlib.contextmanager
def removed_on_exit(path: Path) -> Iterator[None]:
    """Remove ``path`` when the block ends, also when SIGTERM ends the process.

    uvicorn shuts down on SIGTERM, puts back the handler it found and raises
    the signal again, so that the process ends as SIGTERM ends it; the
    default handler would end it before any ``finally``. The handler put in
    place here removes the file, then lets the signal end the process.
    """
    def on_sigterm(signum: int, frame: Any) -> None:
        path.unlink(missing_ok=True)
        signal.signal(signum, signal.SIG_DFL)
        signal.raise_signal(signum)

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
        signal.signal(signal.SIGTERM, previous)
