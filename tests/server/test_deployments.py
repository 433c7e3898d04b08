"""Deployments on the server: versions by content hash, reads, filters, runs, pause, delete."""

from __future__ import annotations

from typing import Any

import pytest

from .deployment_helpers import HOURLY, deploy, deployed
from .server_helpers import make_flow, new_id

pytestmark = pytest.mark.anyio


async def test_registering_the_same_content_twice_is_one_version(client: Any) -> None:
    first = await deploy(client)
    second = await deploy(client)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.headers.get("X-Headwater-Unchanged") == "1"
    assert "X-Headwater-Unchanged" not in first.headers
    assert first.json()["id"] == second.json()["id"]
    body = first.json()
    assert body["project"] == "default" and body["flow_name"] == "etl"
    assert body["version"] == body["version_hash"][:12] and not body["archived"]
    assert body["code_location"] == {"kind": "local", "path": "/srv/app"}
    versions = (await client.get("/deployments/name/etl/nightly/versions")).json()
    assert [v["id"] for v in versions] == [body["id"]]


async def test_new_content_archives_the_current_version(client: Any) -> None:
    old = await deployed(client, version="1")
    new_response = await deploy(client, version="2", parameters={"x": 2})
    assert new_response.status_code == 201
    new = new_response.json()
    assert new["id"] != old["id"] and new["version"] == "2"
    current = (await client.get("/deployments/name/etl/nightly")).json()
    assert current["id"] == new["id"]
    archived = (await client.get(f"/deployments/{old['id']}")).json()
    assert archived["archived"] is True
    versions = (await client.get("/deployments/name/etl/nightly/versions")).json()
    assert [v["version"] for v in versions] == ["2", "1"]
    response = await client.post(f"/deployments/{old['id']}/create_flow_run", json={})
    assert response.status_code == 409
    assert "archived" in response.json()["detail"] and "'2'" in response.json()["detail"]


async def test_the_content_of_an_archived_version_makes_it_current_again(client: Any) -> None:
    one = await deployed(client, version="1")
    await deployed(client, version="2")
    again = await deploy(client, version="1")
    assert again.status_code == 200 and "X-Headwater-Unchanged" not in again.headers
    assert again.json()["id"] == one["id"] and again.json()["archived"] is False
    current = (await client.get("/deployments/name/etl/nightly")).json()
    assert current["id"] == one["id"]


async def test_create_flow_run_merges_and_validates_parameters(client: Any) -> None:
    dep = await deployed(client, tags=["team-a"], work_queue_name="q")
    response = await client.post(f"/deployments/{dep['id']}/create_flow_run",
                                 json={"parameters": {"y": "b"}, "tags": ["adhoc"]})
    assert response.status_code == 201, response.text
    run = response.json()
    assert run["parameters"] == {"x": 1, "y": "b"}
    assert run["deployment_id"] == dep["id"] and run["deployment_version"] == dep["version"]
    assert run["tags"] == ["team-a", "adhoc"] and run["work_queue_name"] == "q"
    assert run["state"]["type"] == "SCHEDULED" and run["state"]["name"] == "Scheduled"
    assert run["auto_scheduled"] is False and run["expected_start_time"]
    bad = await client.post(f"/deployments/{dep['id']}/create_flow_run",
                            json={"parameters": {"x": "one"}})
    assert bad.status_code == 422 and "'x'" in bad.json()["detail"]


async def test_a_missing_required_parameter_is_named(client: Any) -> None:
    dep = await deployed(client, parameters={})
    response = await client.post(f"/deployments/{dep['id']}/create_flow_run", json={})
    assert response.status_code == 422
    assert "missing required parameter(s) 'x'" in response.json()["detail"]
    unchecked = await client.post(f"/deployments/{dep['id']}/create_flow_run",
                                  json={"enforce_parameter_schema": False})
    assert unchecked.status_code == 201


async def test_create_flow_run_is_idempotent_by_key(client: Any) -> None:
    dep = await deployed(client)
    body = {"idempotency_key": "once"}
    first = await client.post(f"/deployments/{dep['id']}/create_flow_run", json=body)
    second = await client.post(f"/deployments/{dep['id']}/create_flow_run", json=body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]


async def test_active_schedules_need_every_required_parameter(client: Any) -> None:
    refused = await deploy(client, parameters={}, schedules=[{"schedule": HOURLY}])
    assert refused.status_code == 422
    assert "required parameter(s) 'x'" in refused.json()["detail"]
    inactive = await deploy(client, parameters={},
                            schedules=[{"schedule": HOURLY, "active": False}])
    assert inactive.status_code == 201
    per_schedule = await deploy(client, "other", parameters={},
                                schedules=[{"schedule": HOURLY, "parameters": {"x": 5}}])
    assert per_schedule.status_code == 201
    dep = inactive.json()
    schedule_id = dep["schedules"][0]["id"]
    response = await client.patch(f"/deployments/{dep['id']}/schedules/{schedule_id}",
                                  json={"active": True})
    assert response.status_code == 422 and "'x'" in response.json()["detail"]


async def test_filter_by_name_flow_project_tags_and_archived(client: Any) -> None:
    a = await deployed(client, "a", tags=["prod"], project="sales")
    await deployed(client, "a", tags=["prod"], project="sales", version="2")
    b = await deployed(client, "b", flow_name="other")

    async def names(body: dict[str, Any]) -> list[tuple[str, str]]:
        response = await client.post("/deployments/filter", json=body)
        assert response.status_code == 200, response.text
        return [(r["name"], r["version"]) for r in response.json()]

    assert await names({}) == [("a", "2"), ("b", b["version"])]
    assert await names({"deployments": {"archived": {"eq_": True}}}) == [("a", a["version"])]
    assert len(await names({"deployments": {"archived": None}})) == 3
    assert await names({"flows": {"name": {"any_": ["other"]}}}) == [("b", b["version"])]
    assert await names({"deployments": {"project": {"any_": ["sales"]}}}) == [("a", "2")]
    assert await names({"deployments": {"tags": {"all_": ["prod"]}}}) == [("a", "2")]
    assert await names({"limit": 1, "offset": 1}) == [("b", b["version"])]
    count = await client.post("/deployments/count", json={})
    assert count.json() == 2
    projects = (await client.get("/projects/")).json()
    assert [p["name"] for p in projects] == ["default", "sales"]


async def test_flow_runs_filter_by_deployment(client: Any) -> None:
    dep = await deployed(client)
    run = (await client.post(f"/deployments/{dep['id']}/create_flow_run", json={})).json()
    flow = await make_flow(client, "etl")
    await client.post("/flow_runs/", json={"flow_id": flow["id"]})
    body = {"deployments": {"id": {"any_": [dep["id"]]}}}
    found = (await client.post("/flow_runs/filter", json=body)).json()
    assert [r["id"] for r in found] == [run["id"]]
    by_name = {"deployments": {"name": {"any_": ["nightly"]}}}
    assert len((await client.post("/flow_runs/filter", json=by_name)).json()) == 1
    by_column = {"flow_runs": {"deployment_id": {"is_null_": True}}}
    assert len((await client.post("/flow_runs/filter", json=by_column)).json()) == 1
    assert (await client.post("/flow_runs/count", json=body)).json() == 1


async def test_pause_resume_patch_and_delete(client: Any) -> None:
    dep = await deployed(client)
    paused = (await client.post(f"/deployments/{dep['id']}/pause_deployment")).json()
    assert paused["paused"] is True
    listed = (await client.post("/deployments/filter",
                                json={"deployments": {"paused": {"eq_": True}}})).json()
    assert [r["id"] for r in listed] == [dep["id"]]
    resumed = (await client.post(f"/deployments/{dep['id']}/resume_deployment")).json()
    assert resumed["paused"] is False
    patched = await client.patch(f"/deployments/{dep['id']}",
                                 json={"description": "d", "late_runs": "skip"})
    assert patched.status_code == 204
    after = (await client.get(f"/deployments/{dep['id']}")).json()
    assert after["description"] == "d" and after["late_runs"] == "skip"
    run = (await client.post(f"/deployments/{dep['id']}/create_flow_run", json={})).json()
    assert (await client.delete(f"/deployments/{dep['id']}")).status_code == 204
    assert (await client.get(f"/deployments/{dep['id']}")).status_code == 404
    # The ad-hoc run's history stays.
    assert (await client.get(f"/flow_runs/{run['id']}")).json()["deployment_id"] == dep["id"]


async def test_bad_bodies_are_422_naming_the_field(client: Any) -> None:
    flow = await make_flow(client, "etl")
    cases = [
        {"name": "a/b", "flow_id": flow["id"]},
        {"name": "ok", "flow_id": flow["id"], "late_runs": "never"},
        {"name": "ok", "flow_id": flow["id"], "code_location": {"kind": "git"}},
        {"name": "ok", "flow_id": flow["id"], "schedules": [{"schedule": {"every": 1}}]},
        {"name": "ok", "flow_id": flow["id"], "surprise": 1},
    ]
    for body in cases:
        response = await client.post("/deployments/", json=body)
        assert response.status_code == 422, body
    bad_zone = {"name": "ok", "flow_id": flow["id"],
                "schedules": [{"schedule": {"cron": "0 9 * * *", "timezone": "Mars/Base"}}]}
    response = await client.post("/deployments/", json=bad_zone)
    message = response.json()["detail"][0]["msg"]
    assert response.status_code == 422 and "timezone" in message and "Mars/Base" in message
    unknown = await client.post("/deployments/", json={"name": "ok", "flow_id": new_id()})
    assert unknown.status_code == 422 and "not found" in unknown.json()["detail"]
    assert (await client.get("/deployments/name/etl/none")).status_code == 404


async def test_deployment_routes_need_the_key_and_keep_the_body_limit(database_url: str) -> None:
    import httpx

    from headwater.server.app import create_app

    app = create_app(database_url, api_key="k3y", max_body_size=64 * 1024, use_settings=False)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t/api") as anonymous, \
                httpx.AsyncClient(transport=transport, base_url="http://t/api",
                                  headers={"Authorization": "Bearer k3y"}) as right:
            for method, path in (("POST", "/deployments/"), ("POST", "/deployments/filter"),
                                 ("POST", "/deployments/schedule"), ("GET", "/projects/"),
                                 ("GET", f"/deployments/{new_id()}/schedules")):
                response = await anonymous.request(method, path, json={})
                assert response.status_code == 401, path
            flow = (await right.post("/flows/", json={"name": "etl"})).json()
            huge = {"name": "big", "flow_id": flow["id"], "parameters": {"x": "y" * 100_000}}
            assert (await right.post("/deployments/", json=huge)).status_code == 413
            assert (await right.post("/deployments/filter")).json() == []
    finally:
        await app.state.database.aclose()
