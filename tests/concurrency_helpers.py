"""Helpers of the concurrency tests across processes: backends, child processes, overlaps.

Importing this module skips the importing test module without httpx and
FastAPI (the API backends need them).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from headwater._private.concurrency.remote import APIConcurrencyBackend

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")


class CountingTransport(httpx.AsyncBaseTransport):  # type: ignore[misc]
    """Counts the requests, by path, that go through to the app.

    While ``holding`` is true, answers to slot increments are held back (the
    app has answered; the client does not know yet): ``held`` is set then.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.paths: Counter[str] = Counter()
        self.holding = False
        self.held = threading.Event()

    async def handle_async_request(self, request: Any) -> Any:
        self.paths[request.url.path] += 1
        response = await self.inner.handle_async_request(request)
        if self.holding and request.url.path.endswith("/concurrency_limits/increment"):
            self.held.set()
            while self.holding:
                await asyncio.sleep(0.005)
        return response


def make_backend(home: Path, lease_duration: float = 30.0,
                 counter: list[CountingTransport] | None = None, *,
                 direct: bool = False) -> APIConcurrencyBackend:
    """A backend on ``home/headwater.db``, what another process would use.

    By default it takes slots through the embedded API (the in-process app);
    ``direct`` takes them in the file with ``sqlite3``, as embedded mode does
    now (limits are still created through the API).
    """
    db = home / "headwater.db"

    def factory() -> Any:
        from headwater.client import HeadwaterClient
        from headwater.server.app import create_app

        app = create_app(f"sqlite:///{db}", use_settings=False)
        transport = CountingTransport(httpx.ASGITransport(app=app))
        if counter is not None:
            counter.append(transport)
        client = HeadwaterClient("http://embedded/api", transport=transport)
        client.on_close(app.state.database.aclose)
        return client

    if not direct:
        return APIConcurrencyBackend(factory, lease_duration)
    from headwater._private.concurrency.sqlite_slots import SQLiteSlots
    from headwater._private.concurrency.store import read_sqlite_limits

    return APIConcurrencyBackend(factory, lease_duration, lambda: read_sqlite_limits(db),
                                 SQLiteSlots(db))


def child_env(home: Path, lease_duration: float = 30.0,
              api_url: str | None = None) -> dict[str, str]:
    """A child's environment: embedded mode on ``home``, or the server at ``api_url``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    env.update(HEADWATER_HOME=str(home), HEADWATER_API_ENABLE_RECORDING="true",
               HEADWATER_CONCURRENCY_LEASE_DURATION=str(lease_duration),
               HEADWATER_LOGGING_LEVEL="WARNING")
    if api_url is not None:
        env["HEADWATER_API_URL"] = api_url
    return env


def spawn(tmp_path: Path, home: Path, source: str, *args: str,
          lease_duration: float = 30.0, api_url: str | None = None) -> subprocess.Popen[str]:
    """Run ``source`` (dedented) with ``args`` in a child process (see `child_env`)."""
    # One file per source, written once: rewriting it while an earlier child
    # starts can hand that child an empty script (it then exits 0, idle).
    script = tmp_path / f"child_{abs(hash(source))}.py"
    if not script.exists():
        partial = script.with_suffix(".tmp")
        partial.write_text(textwrap.dedent(source), encoding="utf-8")
        partial.replace(script)
    return subprocess.Popen([sys.executable, str(script), *args],
                            env=child_env(home, lease_duration, api_url),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


WORKER = """
    import os, sys, time
    from headwater import flow, task

    log, count, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])

    @task(tags=["db", "other"])
    def work(i: int) -> None:
        start = time.time()
        time.sleep(seconds)
        with open(log, "a") as f:
            f.write(f"{os.getpid()} {start} {time.time()}\\n")

    @flow
    def run() -> None:
        work.map(range(count)).result()

    run()
"""
"""A child: ``WORKER log count seconds`` runs ``count`` tasks tagged db of ``seconds``
each and logs ``pid start end`` per task."""


def max_overlap(lines: list[str]) -> int:
    """The most ``pid start end`` intervals open at once."""
    events = []
    for line in lines:
        _, start, end = line.split()
        events += [(float(start), 1), (float(end), -1)]
    running = peak = 0
    for _, step in sorted(events):  # an end sorts before a start at the same time
        running += step
        peak = max(peak, running)
    return peak
