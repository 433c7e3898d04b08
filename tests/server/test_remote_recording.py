"""Remote recording: runs and states go to ``POST /records/batch``, their logs to ``POST /logs/``.

The recorder talks to the real app in process (``httpx.ASGITransport``),
wrapped in an ASGI layer that notes each request and can fail a route.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from headwater import flow, get_run_logger, runtime, task
from headwater._private import recording
from headwater._private.recording import Recorder
from headwater._private.recording.transports import ClientTransport
from headwater.client import HeadwaterClient
from recording_helpers import active

from .server_helpers import at, new_id

RECORDS, LOGS = ("POST", "/api/records/batch"), ("POST", "/api/logs/")


class Wire:
    """An ASGI layer over the API app: keeps each request's body, fails routes on demand."""

    def __init__(self) -> None:
        self.app: Any = None  # set by _client(), on the event loop that uses it
        self.requests: list[tuple[tuple[str, str], bytes]] = []
        self.failures: dict[tuple[str, str], int] = {}  # route -> how many 500s to answer

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = (scope["method"], scope["path"])
        chunks: list[bytes] = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        self.requests.append((route, body))
        if self.failures.get(route):
            self.failures[route] -= 1
            await send({"type": "http.response.start", "status": 500,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": b'{"detail": "injected"}'})
            return

        async def replay() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    def bodies(self, route: tuple[str, str]) -> list[Any]:
        return [json.loads(body) for r, body in self.requests if r == route]


def _client(database_url: str, wire: Wire) -> HeadwaterClient:
    """A client over ``wire`` and a new app on ``database_url`` (made on the caller's loop)."""
    import httpx

    from headwater.server.app import create_app

    app = wire.app = create_app(database_url, use_settings=False)
    client = HeadwaterClient("http://test/api", transport=httpx.ASGITransport(app=wire),
                             retries=0)
    client.on_close(app.state.database.aclose)
    return client


@pytest.fixture
def remote(database_url: str) -> Iterator[Wire]:
    """A recorder shipping through ``ClientTransport`` to the app; yields the app's wire."""
    wire = Wire()

    async def factory() -> ClientTransport:
        return ClientTransport(_client(database_url, wire))

    # A long interval: batches leave at a flush (a flow's end), so a test knows their content.
    with active(Recorder(factory, interval=60)):
        yield wire


def read(database_url: str, flow_run_id: Any) -> tuple[list[Any], list[Any], list[Any]]:
    """A flow run's state history, its task runs' state histories, and its logs."""
    async def go() -> tuple[list[Any], list[Any], list[Any]]:
        async with _client(database_url, Wire()) as client:
            states = await client.read_flow_run_states(flow_run_id)
            tasks = await client.read_task_runs(flow_run_id=flow_run_id)
            task_states = [await client.read_task_run_states(t["id"]) for t in tasks]
            logs = await client.read_logs(flow_run_id=flow_run_id, limit=1000)
            return states, task_states, logs

    return asyncio.run(go())


@task
def shout(word: str) -> str:
    get_run_logger().info("shouting %s", word)
    return word.upper()


@flow
def loud(words: list[str]) -> list[str]:
    get_run_logger().info("starting")
    return [f.result() for f in shout.map(words)]


def _check_stored_once(database_url: str, state: Any, words: list[str]) -> None:
    states, task_states, logs = read(database_url, state.state_details.flow_run_id)
    assert [s["name"] for s in states] == ["Pending", "Running", "Completed"]
    assert len(task_states) == len(words)
    assert all([s["name"] for s in h] == ["Pending", "Running", "Completed"]
               for h in task_states)
    # Each line once (the engine's own lines among them).
    lines = Counter((line["message"], line["task_run_id"]) for line in logs)
    assert set(lines.values()) == {1}
    ours = sorted(m for m, _ in lines if m.startswith("shouting") or m == "starting")
    assert ours == sorted([f"shouting {w}" for w in words] + ["starting"])


def test_logs_are_shipped_to_the_logs_route_after_their_runs(remote: Wire,
                                                             database_url: str) -> None:
    words = ["a", "b", "c"]
    state = loud(words, return_state=True)
    assert state.result() == ["A", "B", "C"]
    assert recording.ACTIVE is not None and recording.ACTIVE.flush(10)
    routes = [route for route, _ in remote.requests]
    assert LOGS in routes and RECORDS in routes
    # No log in a records batch; every log line carries the id the recorder gave it.
    assert all("logs" not in body for body in remote.bodies(RECORDS))
    lines = [line for body in remote.bodies(LOGS) for line in body]
    assert len({line["id"] for line in lines}) == len(lines) > len(words)
    # The runs a request's lines name were stored by an earlier request.
    first_logs = routes.index(LOGS)
    assert RECORDS in routes[:first_logs]
    _check_stored_once(database_url, state, words)


def test_a_run_sends_its_liveness_row_in_the_request_that_creates_it(remote: Wire) -> None:
    seen: list[Any] = []

    @flow
    def live() -> str:
        assert recording.ACTIVE is not None and recording.ACTIVE.flush(10)
        seen.extend(remote.bodies(RECORDS))
        return str(runtime.flow_run.id)

    run_id = live()
    [created] = [body for body in seen
                 if any(run["id"] == run_id for run in body.get("flow_runs", ()))]
    [row] = created["liveness"]
    assert (row["flow_run_id"], row["pid"]) == (run_id, os.getpid())
    # No request of its own: records and their logs only.
    assert {route for route, _ in remote.requests} <= {RECORDS, LOGS}


def test_a_failed_logs_request_is_retried_without_duplicates(remote: Wire,
                                                             database_url: str) -> None:
    remote.failures[LOGS] = 1
    words = ["x", "y"]
    state = loud(words, return_state=True)
    assert state.result() == ["X", "Y"]
    recorder = recording.ACTIVE
    assert recorder is not None
    assert recorder.flush(10)  # the retry: the whole batch again
    assert remote.failures[LOGS] == 0
    records, logs = remote.bodies(RECORDS), remote.bodies(LOGS)
    assert len(logs) >= 2
    # The batch sent again is the same one: same state and log ids.
    assert records[-1] == records[-2] and logs[-1] == logs[-2]
    _check_stored_once(database_url, state, words)


def test_a_batch_sent_again_stores_nothing_twice(database_url: str) -> None:
    flow_run_id = new_id()
    batch = {
        "flows": [{"name": "f"}],
        "flow_runs": [{"id": flow_run_id, "flow_name": "f", "name": "r"}],
        "states": [{"id": new_id(), "run_id": flow_run_id, "run_kind": "flow",
                    "type": "COMPLETED", "timestamp": at(0)}],
        "logs": [{"id": new_id(), "name": "n", "level": 20, "message": f"m{i}",
                  "timestamp": at(i), "flow_run_id": flow_run_id} for i in range(20)],
    }
    wire = Wire()

    async def go() -> None:
        # Lines of ~120 bytes: a few per request.
        transport = ClientTransport(_client(database_url, wire), max_log_bytes=500)
        try:
            await transport.send(batch)
            await transport.send(json.loads(json.dumps(batch)))  # as read back from the spool
        finally:
            await transport.close()

    asyncio.run(go())
    sizes = [len(body) for route, body in wire.requests if route == LOGS]
    assert len(sizes) > 4 and max(sizes) <= 500
    states, _, logs = read(database_url, flow_run_id)
    assert [s["type"] for s in states] == ["COMPLETED"]
    assert [line["message"] for line in logs] == [f"m{i}" for i in range(20)]


def test_a_batch_of_logs_alone_skips_the_records_route(database_url: str) -> None:
    # Logs naming runs the server does not know are stored, as POST /logs/ always did.
    unknown = new_id()
    lines = [{"id": new_id(), "name": "n", "level": 20, "message": "orphan",
              "timestamp": at(0), "flow_run_id": unknown, "task_run_id": new_id()}]
    batch = {"flows": [], "flow_runs": [], "task_runs": {"id": [], "flow_run_id": []},
             "states": {"id": [], "run_id": []}, "logs": lines}
    wire = Wire()

    async def go() -> None:
        transport = ClientTransport(_client(database_url, wire))
        try:
            await transport.send(batch)
            await transport.send(batch)
        finally:
            await transport.close()

    asyncio.run(go())
    assert [route for route, _ in wire.requests] == [LOGS, LOGS]
    assert [line["message"] for line in read(database_url, unknown)[2]] == ["orphan"]
