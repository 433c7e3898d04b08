"""``id.like_``: runs found by a part of their id (what the command line's tables show)."""

from __future__ import annotations

from typing import Any

import pytest

from .server_helpers import make_flow_run, make_task_run

pytestmark = pytest.mark.anyio

IDS = ["0190aaaa-0000-7000-8000-00000000beef", "0190aaaa-0000-7000-8000-00000000cafe"]


async def _ids(client: Any, route: str, like: str) -> list[str]:
    key = route.split("/")[0]
    response = await client.post(f"/{route}/filter", json={key: {"id": {"like_": like}}})
    assert response.status_code == 200, response.text
    return sorted(r["id"] for r in response.json())


async def test_runs_are_found_by_a_prefix_a_tail_or_a_dashed_part(client: Any) -> None:
    for run_id in IDS:
        await make_flow_run(client, id=run_id)
        await make_task_run(client, None, key=run_id, id=run_id.replace("0190", "0191", 1))
    assert await _ids(client, "flow_runs", "BEEF") == [IDS[0]]  # the tail, any case
    assert await _ids(client, "flow_runs", "0190aaaa-0000") == IDS  # a prefix, with a dash
    assert await _ids(client, "flow_runs", "70008000") == IDS  # dashes are not needed
    assert await _ids(client, "flow_runs", "0191") == []
    assert await _ids(client, "task_runs", "0191aaaa") == sorted(
        i.replace("0190", "0191", 1) for i in IDS)


@pytest.mark.parametrize("bad", ["abc", "xyz12", "%%%%", "0" * 33])
async def test_a_part_that_is_not_hex_is_422(client: Any, bad: str) -> None:
    response = await client.post("/flow_runs/filter", json={"flow_runs": {"id": {"like_": bad}}})
    assert response.status_code == 422
