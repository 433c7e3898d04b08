"""Real processes for the end-to-end tests: a live server on a free loopback port, workers,
each in its own session, all killed (whole process groups) when the test ends, even on failure.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from .processes import clean_env, eventually


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Processes:
    """The test's child processes, each leading a session (so its group can be killed whole)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: dict[str, subprocess.Popen[bytes]] = {}
        self.groups: set[int] = set()  # more process groups to kill at the end (runs)

    def start(self, name: str, args: list[str], env: dict[str, str],
              cwd: Path | None = None) -> subprocess.Popen[bytes]:
        log = (self.folder / f"{name}.log").open("wb")
        proc = subprocess.Popen([sys.executable, *args], env=env, cwd=cwd or self.folder,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.started[name] = proc
        return proc

    def output(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")

    def kill_all(self) -> None:
        for pgid in [p.pid for p in self.started.values()] + sorted(self.groups):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
        for proc in self.started.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=30)


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    procs = Processes(tmp_path)
    try:
        yield procs
    finally:
        procs.kill_all()


#: Short intervals for every process of a test (seconds): heartbeats, polls, the cancel grace.
HEARTBEAT = 1.0
FAST = {
    "HEADWATER_FLOW_RUN_HEARTBEAT_SECONDS": str(HEARTBEAT),
    "HEADWATER_FLOW_RUN_WATCH_INTERVAL": "0.5",
    "HEADWATER_WORKER_HEARTBEAT_SECONDS": "1",
    "HEADWATER_WORKER_QUERY_SECONDS": "0.2",
    "HEADWATER_WORKER_CANCEL_GRACE_SECONDS": "2",
}


class Target:
    """Where a test's processes record: a live server, or the embedded database of a home."""

    def __init__(self, home: Path, url: str | None, database: Path) -> None:
        self.home, self.url, self.database = home, url, database

    @property
    def settings(self) -> dict[str, str]:
        settings = {"HEADWATER_HOME": str(self.home), **FAST}
        if self.url:
            settings["HEADWATER_API_URL"] = self.url
        return settings

    @property
    def env(self) -> dict[str, str]:
        return clean_env(self.settings)

    def last_heartbeat(self, run_id: str) -> dt.datetime | None:
        """The run's last heartbeat as stored (read straight from the SQLite file)."""
        con = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=30)
        try:
            row = con.execute("SELECT last_heartbeat FROM flow_run_liveness WHERE "
                              "flow_run_id = ?", (uuid.UUID(run_id).hex,)).fetchone()
        finally:
            con.close()
        return None if row is None else _aware(dt.datetime.fromisoformat(str(row[0])))


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def start_server(processes: Processes, folder: Path) -> Target:
    """``headwater server start`` on a free loopback port (its zombie check every HEARTBEAT s)."""
    home = folder / "server-home"
    port = free_port()
    processes.start("server", ["-m", "headwater.cli", "server", "start", "--port", str(port),
                               "--log-level", "warning"],
                    clean_env({"HEADWATER_HOME": str(home), **FAST}))
    url = f"http://127.0.0.1:{port}/api"

    def up() -> bool:
        if processes.started["server"].poll() is not None:
            pytest.fail("the server exited:\n" + processes.output("server"))
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=5) as answer:
                return bool(answer.status == 200)
        except OSError:
            return False

    eventually(up, "the server answers", timeout=90)
    return Target(folder / "home", url, home / "headwater.db")


def embedded(folder: Path) -> Target:
    """The embedded SQLite database of a home (no server)."""
    home = folder / "home"
    return Target(home, None, home / "headwater.db")


def timestamp(state: dict[str, object]) -> dt.datetime:
    return _aware(dt.datetime.fromisoformat(str(state["timestamp"])))


def gone(pid: int) -> bool:
    """Whether no process ``pid`` runs any more (a zombie waiting for its reaper counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z"
    except OSError:
        return False  # no /proc: it runs


def wait_gone(pid: int, what: str) -> None:
    eventually(lambda: gone(pid), what, timeout=60)
