"""The client's deployment methods, against the app in process (both databases)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from headwater.client import APIError, HeadwaterClient
from headwater.exceptions import InvalidNameError

from .deployment_helpers import HOURLY, SCHEMA

pytestmark = pytest.mark.anyio


@pytest.fixture
async def api(app: Any) -> Any:
    client = HeadwaterClient("http://test/api", transport=httpx.ASGITransport(app=app))
    async with client:
        yield client


async def test_the_client_covers_the_deployment_routes(api: HeadwaterClient) -> None:
    flow = dict(await api.request("POST", "flows/", json={"name": "etl"}))
    fields = {"name": "nightly", "flow_id": flow["id"], "parameters": {"x": 1},
              "parameter_openapi_schema": SCHEMA, "project": "sales",
              "schedules": [{"schedule": HOURLY, "active": False}]}
    dep, created = await api.create_deployment(**fields)
    again, created_again = await api.create_deployment(**fields)
    assert (created, created_again) == (True, False) and again["id"] == dep["id"]
    assert (await api.read_deployment_by_name("etl/nightly"))["id"] == dep["id"]
    assert (await api.read_deployment(dep["id"]))["project"] == "sales"
    assert [d["id"] for d in await api.read_deployments(project="sales")] == [dep["id"]]
    assert await api.read_deployments(flow_name="other") == []
    run = await api.create_flow_run_from_deployment(dep["id"], parameters={"y": "b"},
                                                    idempotency_key="k")
    assert run["parameters"] == {"x": 1, "y": "b"}
    runs = await api.read_deployment_flow_runs("etl/nightly")
    assert [r["id"] for r in runs] == [run["id"]]
    with pytest.raises(APIError) as bad:
        await api.create_flow_run_from_deployment(dep["id"], parameters={"x": "no"})
    assert bad.value.status_code == 422 and "'x'" in bad.value.detail
    schedules = await api.read_deployment_schedules(dep["id"])
    await api.update_deployment_schedule(dep["id"], schedules[0]["id"], active=True)
    assert (await api.read_deployment_schedules(dep["id"]))[0]["active"] is True
    added = await api.create_deployment_schedules(dep["id"], [{"schedule": HOURLY}])
    await api.delete_deployment_schedule(dep["id"], added[0]["id"])
    assert len(await api.read_deployment_schedules(dep["id"])) == 1
    assert (await api.pause_deployment(dep["id"]))["paused"] is True
    assert (await api.resume_deployment(dep["id"]))["paused"] is False
    report = await api.schedule_deployments([dep["id"]])
    assert report["deployments"] == 1
    await api.update_deployment(dep["id"], description="nightly load")
    v2, created = await api.create_deployment(**{**fields, "version": "2"})
    versions = await api.read_deployment_versions("etl/nightly")
    assert created and [v["version"] for v in versions] == ["2", dep["version"]]
    await api.delete_deployment(v2["id"])
    assert [p["name"] for p in await api.read_projects()] == ["sales"]
    assert (await api.create_project("ops", "operations"))["description"] == "operations"
    with pytest.raises(InvalidNameError, match="FLOW_NAME/DEPLOYMENT_NAME"):
        await api.read_deployment_by_name("nightly")
