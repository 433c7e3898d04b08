"""An API outage while slots are held: released slots are given back as soon as it answers.

Before, a release that failed in an outage was lost: the slot stayed taken
until its lease expired (30 s by default), stalling every waiter, and each
failed call logged a warning of its own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from concurrency_helpers import httpx
from headwater._private.concurrency.remote import APIConcurrencyBackend


class Outage(httpx.AsyncBaseTransport):  # type: ignore[misc]
    """The app behind a switch: while ``down``, every request fails to connect."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.down = False
        self.paths: list[tuple[str, bool]] = []  # (path, answered)

    async def handle_async_request(self, request: Any) -> Any:
        self.paths.append((request.url.path, not self.down))
        if self.down:
            raise httpx.ConnectError("the API is down", request=request)
        return await self.inner.handle_async_request(request)


@pytest.fixture
def outage(tmp_path: Path) -> Iterator[tuple[APIConcurrencyBackend, Outage]]:
    wire: list[Outage] = []

    def factory() -> Any:
        from headwater.client import HeadwaterClient
        from headwater.server.app import create_app

        app = create_app(f"sqlite:///{tmp_path / 'headwater.db'}", use_settings=False)
        transport = Outage(httpx.ASGITransport(app=app))
        wire.append(transport)
        client = HeadwaterClient("http://localhost/api", transport=transport, retries=0)
        client.on_close(app.state.database.aclose)
        return client

    # Leases of an hour: only giving the slot back can free it within the test.
    backend = APIConcurrencyBackend(factory, lease_duration=3600.0)
    backend.set_limit("db", 1)
    try:
        yield backend, wire[0]
    finally:
        wire[0].down = False
        backend.close()


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.mark.slow
def test_a_slot_released_during_an_outage_is_given_back_when_the_api_answers(
        outage: tuple[APIConcurrencyBackend, Outage]) -> None:
    backend, wire = outage
    kept = _Kept()
    logger = logging.getLogger("headwater.concurrency")
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(kept)
    try:
        held = backend.acquire(["db"])
        assert held is not None
        wire.down = True
        held.release()  # fails: the API is down
        got: list[bool] = []

        def waiter() -> None:
            lease = backend.acquire(["db"], timeout=120)
            got.append(lease is not None)
            if lease is not None:
                lease.release()

        thread = threading.Thread(target=waiter)
        thread.start()
        # The waiter asks, and the release is retried, a few times while it is down.
        while sum(1 for _, answered in wire.paths if not answered) < 6:
            threading.Event().wait(0.01)
        wire.down = False
        thread.join(120)
        assert got == [True]
    finally:
        logger.removeHandler(kept)
        logger.setLevel(level)
    # The hour-long lease was given back, not waited out...
    decrements = [i for i, (path, ok) in enumerate(wire.paths)
                  if ok and path.endswith("/decrement")]
    grants = [i for i, (path, ok) in enumerate(wire.paths)
              if ok and path.endswith("/increment")]
    assert decrements and grants[-1] > decrements[0]
    # ...and the outage was told once, and its end once.
    warnings = [r.getMessage() for r in kept.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "retried until the API answers" in warnings[0]
    assert any("answers concurrency calls again" in r.getMessage() for r in kept.records)
