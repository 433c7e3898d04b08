"""API key authentication, oversized and malformed bodies, values the database refuses."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from .server_helpers import at, make_flow_run, new_id

pytestmark = pytest.mark.anyio
KEY = "s3cret-key-value"


@pytest.fixture
async def locked(database_url: str) -> AsyncIterator[Any]:
    """An app requiring KEY, with a 1 MiB body limit."""
    from headwater.server.app import create_app

    app = create_app(database_url, api_key=KEY, max_body_size=1024 * 1024, use_settings=False)
    try:
        yield app
    finally:
        await app.state.database.aclose()


def _client(app: Any, key: str | None = None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                             base_url="http://test/api", headers=headers)


async def test_api_key_required_everywhere_but_health(
        locked: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with _client(locked) as anonymous, _client(locked, "wrong") as wrong, \
            _client(locked, KEY) as right:
        assert (await anonymous.get("/health")).json() is True
        for path in ("/hello", "/openapi.json", f"/flow_runs/{new_id()}"):
            response = await anonymous.get(path)
            assert response.status_code == 401
            assert "Missing API key" in response.json()["detail"]
            assert response.headers["www-authenticate"] == "Bearer"
        response = await wrong.post("/flows/", json={"name": "x"})
        assert response.status_code == 401 and "Invalid API key" in response.json()["detail"]
        assert KEY not in response.text
        assert (await right.get("/hello")).status_code == 200
        assert (await right.post("/flows/", json={"name": "x"})).status_code == 201
        assert (await anonymous.post("/flows/filter")).status_code == 401
    assert KEY not in caplog.text


async def test_settings_api_key_is_used(database_url: str) -> None:
    from headwater.server.app import create_app
    from headwater.settings import temporary_settings

    with temporary_settings(HEADWATER_SERVER_API_KEY=KEY):
        app = create_app(database_url)
    try:
        async with _client(app) as anonymous, _client(app, KEY) as right:
            assert (await anonymous.get("/hello")).status_code == 401
            assert (await right.get("/hello")).status_code == 200
    finally:
        await app.state.database.aclose()


async def test_oversized_body_is_413_and_writes_nothing(locked: Any) -> None:
    async with _client(locked, KEY) as client:
        huge = [{"name": "x", "level": 20, "message": "m" * 1000, "timestamp": at(0)}] * 2000
        response = await client.post("/logs/", json=huge)
        assert response.status_code == 413
        assert "too large" in response.json()["detail"]

        async def chunks() -> AsyncIterator[bytes]:  # no content-length: streamed
            for _ in range(2048):
                yield b" " * 1024

        streamed = await client.post("/records/batch", content=chunks())
        assert streamed.status_code == 413
        assert (await client.post("/logs/filter")).json() == []


@pytest.mark.parametrize(("path", "body"), [
    ("/flows/", b"{"),
    ("/flows/", b'{"name": 3}'),
    ("/flows/", b'{"name": "x", "extra": 1}'),
    ("/flow_runs/", b'{"flow_id": "not-a-uuid"}'),
    ("/flow_runs/filter", b'{"limit": -1}'),
    ("/flow_runs/filter", b'{"limit": 99999999999999999999}'),
    ("/flow_runs/filter", b'{"sort": "SIDEWAYS"}'),
    ("/task_runs/count", b'{"task_runs": {"state": {"type": {"any_": ["BOGUS"]}}}}'),
    ("/logs/", b'{"not": "a list"}'),
    ("/concurrency_limits/", b'{"tag": "x", "concurrency_limit": 1e30}'),
    ("/logs/filter", b"\xff\xfe"),
])
async def test_malformed_bodies_are_4xx(client: Any, path: str, body: bytes) -> None:
    response = await client.post(path, content=body, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
    assert "detail" in response.json()


async def test_values_the_database_refuses_are_4xx(client: Any) -> None:
    # PostgreSQL refuses NUL characters in text and in JSON.
    response = await client.post("/flows/", json={"name": "nul\u0000name"})
    assert response.status_code in (201, 422), response.text
    run = await make_flow_run(client)
    response = await client.post(f"/flow_runs/{run['id']}/set_state", json={
        "state": {"type": "RUNNING", "message": "a\u0000b", "state_details": {"k": "\u0000"}}})
    assert response.status_code in (201, 422), response.text
    assert (await client.get(f"/flow_runs/{run['id']}")).status_code == 200


async def test_indexed_text_longer_than_an_index_entry_is_422(client: Any) -> None:
    # An index entry holds about 2.7 kB on PostgreSQL: a longer name or key
    # failed its write with a 500. Random text, so compression cannot save it.
    import secrets

    from headwater.server.schemas.text import MAX_INDEXED_LENGTH

    too_long, longest = secrets.token_hex(1500), "é" * MAX_INDEXED_LENGTH
    flow = (await client.post("/flows/", json={"name": longest})).json()
    run = await make_flow_run(client)
    task = {"flow_run_id": run["id"], "task_key": "k", "dynamic_key": "0"}
    bodies = [
        ("/flows/", {"name": too_long}),
        ("/flow_runs/", {"flow_id": flow["id"], "name": too_long}),
        ("/flow_runs/", {"flow_id": flow["id"], "idempotency_key": too_long}),
        ("/task_runs/", {**task, "task_key": too_long}),
        ("/task_runs/", {**task, "dynamic_key": too_long}),
        ("/concurrency_limits/", {"tag": too_long, "concurrency_limit": 1}),
        ("/records/batch", {"flows": [{"name": too_long}]}),
        ("/records/batch", {"task_runs": {
            "id": [new_id()], "flow_run_id": [run["id"]], "task_key": [too_long],
            "dynamic_key": ["0"], "name": ["t-0"]}}),
    ]
    for path, body in bodies:
        response = await client.post(path, json=body)
        assert response.status_code == 422, (path, response.text)
        assert f"at most {MAX_INDEXED_LENGTH} characters" in response.text, response.text
    created = await client.post("/flow_runs/", json={"flow_id": flow["id"], "name": longest,
                                                     "idempotency_key": longest})
    assert created.status_code == 201, created.text
    assert (await client.post("/task_runs/", json={**task, "task_key": longest,
                                                   "dynamic_key": longest})).status_code == 201
