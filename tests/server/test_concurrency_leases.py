"""Slot leases and global limits: increment, decrement, renew, expiry, status."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from headwater.server.services import flows_and_runs, leases
from headwater.testing import FakeClock

from .server_helpers import make_flow_run, make_task_run, set_state

pytest.importorskip("fastapi")
pytestmark = pytest.mark.anyio


async def post(client: Any, path: str, body: Any = None, code: int = 200) -> Any:
    response = await client.post(path, json=body)
    assert response.status_code == code, response.text
    return response.json()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClock]:
    """The server's lease time, moved on by ``clock.sleep()`` instead of real sleeps."""
    fake = FakeClock()
    start = dt.datetime.now(dt.timezone.utc)

    def now() -> dt.datetime:
        return start + dt.timedelta(seconds=fake.monotonic())

    monkeypatch.setattr(leases, "now", now)
    monkeypatch.setattr(flows_and_runs, "now", now)
    yield fake


async def inc(client: Any, *names: str, slots: int = 1, duration: float = 30.0,
              mode: str = "concurrency", code: int = 200) -> Any:
    return await post(client, "/concurrency_limits/increment",
                      {"names": list(names), "slots": slots, "lease_duration": duration,
                       "holder": "me", "mode": mode}, code)


async def test_tag_limit_grants_up_to_the_limit_then_refuses(client: Any) -> None:
    await post(client, "/concurrency_limits/", {"tag": "db", "concurrency_limit": 2}, 201)
    first, second, third = [await inc(client, "tag:db") for _ in range(3)]
    assert first["granted"] and second["granted"] and not third["granted"]
    assert first["names"] == ["tag:db"] and first["lease_id"] and first["expires_at"]
    status = await post(client, "/concurrency_limits/status", {"names": ["tag:db"]})
    assert status[0]["active_slots"] == 2 and status[0]["holders"] == ["me", "me"]
    assert (await post(client, "/concurrency_limits/decrement",
                       {"lease_id": first["lease_id"]}))["released"] is True
    assert (await post(client, "/concurrency_limits/decrement",
                       {"lease_id": first["lease_id"]}))["released"] is False
    assert (await inc(client, "tag:db"))["granted"]


async def test_unlimited_names_are_granted_with_no_lease(client: Any) -> None:
    grant = await inc(client, "nothing", "tag:none")
    assert grant == {"granted": True, "lease_id": None, "names": [], "expires_at": None}


async def test_all_names_at_once_or_none(client: Any) -> None:
    await post(client, "/v2/concurrency_limits/", {"name": "a", "limit": 1}, 201)
    await post(client, "/v2/concurrency_limits/", {"name": "b", "limit": 2}, 201)
    assert (await inc(client, "a"))["granted"]
    assert not (await inc(client, "a", "b"))["granted"]
    b = (await client.get("/v2/concurrency_limits/b")).json()
    assert b["active_slots"] == 0 and b["limit"] == 2


async def test_impossible_requests_are_409(client: Any) -> None:
    await post(client, "/concurrency_limits/", {"tag": "zero", "concurrency_limit": 0}, 201)
    await post(client, "/v2/concurrency_limits/", {"name": "w", "limit": 2}, 201)
    await inc(client, "tag:zero", code=409)
    await inc(client, "w", slots=3, code=409)
    await inc(client, "w", mode="rate_limit", code=409)


async def test_expired_leases_are_reclaimed_by_the_next_increment(client: Any,
                                                                   clock: FakeClock) -> None:
    await post(client, "/v2/concurrency_limits/", {"name": "x", "limit": 1}, 201)
    lease = await inc(client, "x", duration=1.0)
    assert not (await inc(client, "x"))["granted"]
    clock.sleep(0.9)
    assert not (await inc(client, "x"))["granted"]
    clock.sleep(0.2)
    await post(client, f"/concurrency_leases/{lease['lease_id']}/renew",
               {"lease_duration": 5}, 404)
    assert (await inc(client, "x"))["granted"]


async def test_renew_keeps_a_lease_alive(client: Any, clock: FakeClock) -> None:
    await post(client, "/v2/concurrency_limits/", {"name": "x", "limit": 1}, 201)
    lease = await inc(client, "x", duration=1.5)
    for _ in range(3):
        clock.sleep(1.0)
        renewed = await post(client, f"/concurrency_leases/{lease['lease_id']}/renew",
                             {"lease_duration": 1.5})
        assert renewed["expires_at"] > lease["expires_at"]
    assert not (await inc(client, "x"))["granted"]


async def test_rate_limit_slots_decay(client: Any, clock: FakeClock) -> None:
    await post(client, "/v2/concurrency_limits/",
               {"name": "api", "limit": 2, "slot_decay_per_second": 2}, 201)
    assert (await inc(client, "api", mode="rate_limit"))["lease_id"] is None
    assert (await inc(client, "api", mode="rate_limit"))["granted"]
    assert not (await inc(client, "api", mode="rate_limit"))["granted"]
    clock.sleep(0.4)
    assert not (await inc(client, "api", mode="rate_limit"))["granted"]
    clock.sleep(0.2)
    assert (await inc(client, "api", mode="rate_limit"))["granted"]


async def test_global_limit_routes(client: Any) -> None:
    created = await post(client, "/v2/concurrency_limits/", {"name": "w", "limit": 2}, 201)
    assert created["active_slots"] == 0 and created["slot_decay_per_second"] == 0.0
    changed = await post(client, "/v2/concurrency_limits/", {"name": "w", "limit": 3}, 200)
    assert changed["id"] == created["id"] and changed["limit"] == 3
    await inc(client, "w", slots=2)
    listed = await post(client, "/v2/concurrency_limits/filter", {})
    assert [(x["name"], x["active_slots"]) for x in listed] == [("w", 2)]
    assert (await client.post("/v2/concurrency_limits/w/reset")).status_code == 200
    assert (await client.get("/v2/concurrency_limits/w")).json()["active_slots"] == 0
    assert (await client.delete("/v2/concurrency_limits/w")).status_code == 200
    assert (await client.get("/v2/concurrency_limits/w")).status_code == 404
    assert (await client.delete("/v2/concurrency_limits/w")).status_code == 404


async def test_status_lists_tag_and_global_limits(client: Any) -> None:
    await post(client, "/concurrency_limits/", {"tag": "db", "concurrency_limit": 2}, 201)
    await post(client, "/v2/concurrency_limits/", {"name": "w", "limit": 1}, 201)
    names = await post(client, "/concurrency_limits/status", {"usage": False})
    assert [(x["name"], x["limit"]) for x in names] == [("tag:db", 2), ("w", 1)]


async def test_tag_reset_and_delete_free_lease_slots(client: Any) -> None:
    await post(client, "/concurrency_limits/", {"tag": "db", "concurrency_limit": 1}, 201)
    await inc(client, "tag:db")
    assert (await client.post("/concurrency_limits/tag/db/reset")).status_code == 200
    assert (await inc(client, "tag:db"))["granted"]
    assert (await client.delete("/concurrency_limits/tag/db")).status_code == 200
    await post(client, "/concurrency_limits/", {"tag": "db", "concurrency_limit": 1}, 201)
    assert (await inc(client, "tag:db"))["granted"]


async def test_prefect2_running_rule_counts_lease_slots(client: Any) -> None:
    await post(client, "/concurrency_limits/", {"tag": "db", "concurrency_limit": 1}, 201)
    await inc(client, "tag:db")
    run = await make_flow_run(client)
    task = await make_task_run(client, run["id"], tags=["db"])
    assert (await set_state(client, "task", task["id"], "RUNNING"))["status"] == "WAIT"


async def test_concurrent_increments_never_exceed_the_limit(client: Any) -> None:
    await post(client, "/v2/concurrency_limits/", {"name": "w", "limit": 3}, 201)
    grants = await asyncio.gather(*(inc(client, "w") for _ in range(20)))
    assert sum(g["granted"] for g in grants) == 3
