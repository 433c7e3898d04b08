"""``POST /logs/``: lines sent with an ``id`` are stored once, however often they are sent."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from .server_helpers import at, new_id

pytestmark = pytest.mark.anyio


def _lines(n: int, **fields: Any) -> list[dict[str, Any]]:
    return [{"id": new_id(), "name": "headwater.task_runs", "level": 20, "message": f"line {i}",
             "timestamp": at(i), **fields} for i in range(n)]


async def _messages(client: Any) -> list[str]:
    got = (await client.post("/logs/filter", json={"sort": "TIMESTAMP_ASC"})).json()
    return [g["message"] for g in got]


async def test_lines_sent_again_are_stored_once(client: Any) -> None:
    lines = _lines(5, flow_run_id=new_id())
    assert (await client.post("/logs/", json=lines)).status_code == 201
    # A replay, in whole and in part, with a new line among the old ones.
    extra = _lines(1)[0] | {"message": "new", "timestamp": at(10)}
    assert (await client.post("/logs/", json=[*lines[2:], extra])).status_code == 201
    assert (await client.post("/logs/", json=lines)).status_code == 201
    assert await _messages(client) == [f"line {i}" for i in range(5)] + ["new"]
    got = (await client.post("/logs/filter", json={"sort": "TIMESTAMP_ASC"})).json()
    assert [g["id"] for g in got[:5]] == [line["id"] for line in lines]


async def test_a_repeated_id_in_one_request_is_stored_once(client: Any) -> None:
    line = _lines(1)[0]
    assert (await client.post("/logs/", json=[line, line, line])).status_code == 201
    assert await _messages(client) == ["line 0"]


async def test_lines_without_ids_get_new_ones_each_time(client: Any) -> None:
    line = {"name": "x", "level": 20, "message": "no id", "timestamp": at(0)}
    for _ in range(2):
        assert (await client.post("/logs/", json=[line])).status_code == 201
    got = (await client.post("/logs/filter", json={})).json()
    assert len(got) == 2 and got[0]["id"] != got[1]["id"]


async def test_lines_naming_unknown_runs_are_stored_as_before(client: Any) -> None:
    # Logs keep no foreign keys: a line may name a run that is not stored.
    flow_run_id, task_run_id = new_id(), new_id()
    lines = _lines(2, flow_run_id=flow_run_id, task_run_id=task_run_id)
    for _ in range(2):
        assert (await client.post("/logs/", json=lines)).status_code == 201
    body = {"logs": {"flow_run_id": {"any_": [flow_run_id]}}}
    got = (await client.post("/logs/filter", json=body)).json()
    assert [(g["message"], g["task_run_id"]) for g in got] == [
        ("line 0", task_run_id), ("line 1", task_run_id)]


@pytest.mark.parametrize("bad", [
    {"id": "not-a-uuid"},
    {"id": 12},
    {"id": [new_id()]},
    {"ids": new_id()},
    {"level": -1},
])
async def test_malformed_lines_are_422_and_store_nothing(client: Any, bad: dict[str, Any]) -> None:
    lines = [*_lines(1), _lines(1)[0] | bad]
    response = await client.post("/logs/", json=lines)
    assert response.status_code == 422, response.text
    assert await _messages(client) == []


async def test_the_client_creates_logs_idempotently(app: Any) -> None:
    import httpx

    from headwater.client import HeadwaterClient

    run_id = uuid.uuid4()
    lines = [{"id": uuid.uuid4(), "name": "n", "level": 30, "message": "warned",
              "timestamp": dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
              "flow_run_id": run_id}]
    async with HeadwaterClient("http://test/api",
                               transport=httpx.ASGITransport(app=app)) as client:
        await client.create_logs(lines)
        await client.create_logs(iter(lines))
        got = await client.read_logs(flow_run_id=run_id)
    assert [(g["id"], g["message"]) for g in got] == [(str(lines[0]["id"]), "warned")]
