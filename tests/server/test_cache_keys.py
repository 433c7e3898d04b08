"""``GET /api/cache_keys/{key}``: the cache key index, kept by every path that stores states."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from headwater._private.storage.prepared import MAX_INDEXED_CACHE_KEY

from .server_helpers import at, make_flow_run, make_task_run, new_id

pytestmark = pytest.mark.anyio

_LATER = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)).isoformat()
_EARLIER = "2024-01-01T00:00:00+00:00"


def _run_with_states(states: list[tuple[str, float, dict[str, Any]]]) -> dict[str, Any]:
    """A records batch: one flow run, one task run with ``(type, seconds, details)`` states."""
    flow_run_id, task_run_id = new_id(), new_id()
    return {
        "flow_runs": [{"id": flow_run_id, "flow_name": "etl", "name": "n",
                       "expected_start_time": at(0)}],
        "task_runs": [{"id": task_run_id, "flow_run_id": flow_run_id, "task_key": "k",
                       "dynamic_key": "0", "name": "k-0", "expected_start_time": at(0)}],
        "states": [{"id": new_id(), "run_id": task_run_id, "run_kind": "task", "type": t,
                    "timestamp": at(seconds), "state_details": details}
                   for t, seconds, details in states],
    }


async def _cached(client: Any, key: str) -> Any:
    return await client.get(f"/cache_keys/{key}")


async def test_a_completed_state_with_a_cache_key_is_indexed(client: Any) -> None:
    body = _run_with_states([("PENDING", 0, {}), ("RUNNING", 1, {"cache_key": "abc"}),
                             ("COMPLETED", 2, {"cache_key": "abc",
                                               "cache_expiration": _LATER})])
    assert (await client.post("/records/batch", json=body)).status_code == 200
    response = await _cached(client, "abc")
    assert response.status_code == 200, response.text
    entry = response.json()
    assert entry["task_run_id"] == body["task_runs"][0]["id"]
    assert entry["state"]["id"] == body["states"][2]["id"]
    assert entry["state"]["type"] == "COMPLETED"
    assert dt.datetime.fromisoformat(entry["cache_expiration"]) == dt.datetime.fromisoformat(
        _LATER)
    # A RUNNING state with a key (a run under way) is not a result to reuse.
    missing = await _cached(client, "nothing-here")
    assert missing.status_code == 404 and "nothing-here" in missing.json()["detail"]


async def test_the_newest_state_under_a_key_wins_in_any_order(client: Any) -> None:
    newer = _run_with_states([("COMPLETED", 20, {"cache_key": "k1"})])
    older = _run_with_states([("COMPLETED", 10, {"cache_key": "k1"})])
    for body in (newer, older):  # the older one arrives last
        assert (await client.post("/records/batch", json=body)).status_code == 200
    assert (await _cached(client, "k1")).json()["state"]["id"] == newer["states"][0]["id"]
    newest = _run_with_states([("COMPLETED", 30, {"cache_key": "k1"})])
    assert (await client.post("/records/batch", json=newest)).status_code == 200
    assert (await _cached(client, "k1")).json()["state"]["id"] == newest["states"][0]["id"]


async def test_an_expired_entry_is_a_miss_that_says_so(client: Any) -> None:
    body = _run_with_states([("COMPLETED", 1, {"cache_key": "old",
                                               "cache_expiration": _EARLIER})])
    assert (await client.post("/records/batch", json=body)).status_code == 200
    response = await _cached(client, "old")
    assert response.status_code == 404
    assert "expired at 2024-01-01T00:00:00" in response.json()["detail"]


async def test_keys_with_slashes_and_spaces(client: Any) -> None:
    key = "team a/etl:v2 #1"
    body = _run_with_states([("COMPLETED", 1, {"cache_key": key})])
    assert (await client.post("/records/batch", json=body)).status_code == 200
    from urllib.parse import quote

    assert (await _cached(client, quote(key, safe=""))).json()["cache_key"] == key


async def test_set_state_keeps_the_index_and_deleting_the_run_drops_it(client: Any) -> None:
    flow_run = await make_flow_run(client, "f")
    task_run = await make_task_run(client, flow_run["id"], "t")
    response = await client.post(f"/task_runs/{task_run['id']}/set_state", json={
        "state": {"type": "COMPLETED", "state_details": {"cache_key": "via-set-state"}},
        "force": True})
    assert response.status_code in (200, 201), response.text
    entry = (await _cached(client, "via-set-state")).json()
    assert entry["task_run_id"] == task_run["id"] and entry["cache_expiration"] is None
    # Deleting a run deletes its states, and their entries with them (a foreign key).
    assert (await client.delete(f"/flow_runs/{flow_run['id']}")).status_code == 204
    assert (await _cached(client, "via-set-state")).status_code == 404


async def test_very_long_keys_are_recorded_but_not_indexed(client: Any) -> None:
    # A cache_key_fn may return any text; a key too long for an index entry
    # (PostgreSQL's hold ~2.7 kB) must not fail the write of the whole batch.
    import secrets

    longest = "x" * MAX_INDEXED_CACHE_KEY
    too_long = secrets.token_hex(3000)
    body = _run_with_states([("COMPLETED", 1, {"cache_key": too_long})])
    assert (await client.post("/records/batch", json=body)).json()["states"] == 1
    task_run_id = body["task_runs"][0]["id"]
    states = await client.get("/task_run_states/", params={"task_run_id": task_run_id})
    assert states.json()[0]["state_details"]["cache_key"] == too_long
    indexed = _run_with_states([("COMPLETED", 1, {"cache_key": longest})])
    assert (await client.post("/records/batch", json=indexed)).status_code == 200
    assert (await _cached(client, longest)).status_code == 200
