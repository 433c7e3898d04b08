"""Poison records: one bad record never stops recording, and never loses another.

Text Python cannot encode (lone surrogates, as ``os.fsdecode`` gives for a
file name that is not UTF-8), NUL, 100 kB strings and values nested 2,000
levels deep go into every field a run records: its name, parameters, tags,
log lines, printed lines and state messages. A clean flow run recorded in
the same batch must be stored whole, through the real recorder, to the
local database directly and through the API (SQLite and PostgreSQL), and
no request may answer 500.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headwater import flow, get_run_logger, task
from headwater._private.recording import Recorder
from headwater._private.recording.transports import ClientTransport, SQLiteTransport
from headwater.client import HeadwaterClient
from recording_helpers import active

from .conftest import _empty_postgres

SURROGATES = st.sampled_from(["\udcff", "\ud800", "a\udc80b", "name-\udcfe.txt"])
POISON_TEXT = st.one_of(
    st.text(max_size=30),
    st.builds(lambda a, s, b: a + s + b, st.text(max_size=5), SURROGATES, st.text(max_size=5)),
    st.sampled_from(["\x00", "a\x00b", "x" * 100_000, "", " ", "\u2028", "😀"]),
)


def _nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = [value]
    return value


POISON_VALUE = st.one_of(POISON_TEXT, st.integers(1, 2000).map(_nested))


class Server:
    """Counts the answers of the app behind a client: no 500 may happen."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.statuses: list[int] = []

    def client(self) -> HeadwaterClient:
        from headwater.server.app import create_app

        app = create_app(self.database_url, use_settings=False)
        statuses = self.statuses

        class Counting(httpx.AsyncBaseTransport):
            def __init__(self) -> None:
                self.inner = httpx.ASGITransport(app=app)

            async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
                response = await self.inner.handle_async_request(request)
                statuses.append(response.status_code)
                return response

        client = HeadwaterClient("http://localhost/api", transport=Counting(), retries=0)
        client.on_close(app.state.database.aclose)
        return client


@pytest.fixture(params=["direct", "api-sqlite", "api-postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Server]]:
    """Where the recorder writes: the SQLite file directly, or the API on each database."""
    if request.param == "direct":
        yield "direct", Server(f"sqlite+aiosqlite:///{tmp_path / 'direct.db'}")
    elif request.param == "api-sqlite":
        yield "api", Server(f"sqlite+aiosqlite:///{tmp_path / 'api.db'}")
    else:
        url = request.getfixturevalue("postgres_url")  # skips without PostgreSQL
        _empty_postgres(url)
        yield "api", Server(url)


def _recorder(kind: str, server: Server, spool: Path) -> Recorder:
    async def factory() -> SQLiteTransport | ClientTransport:
        if kind == "direct":
            path = Path(server.database_url.split("///", 1)[1])
            return await SQLiteTransport(path).open()
        return ClientTransport(server.client())

    # A long interval: both flows' records leave together, at the flush.
    return Recorder(factory, interval=60, spool_dir=spool)


def _stored(server: Server, flow_run_id: Any) -> tuple[list[str], int, list[str], list[str]]:
    """A flow run's state names, its task runs' count, its log lines and its task states."""
    async def read() -> tuple[list[str], int, list[str], list[str]]:
        async with server.client() as client:
            states = [s["name"] for s in await client.read_flow_run_states(flow_run_id)]
            tasks = await client.read_task_runs(flow_run_id=flow_run_id)
            task_states = [s["name"] for t in tasks
                           for s in await client.read_task_run_states(t["id"])]
            logs = [line["message"] for line in
                    await client.read_logs(flow_run_id=flow_run_id, limit=1000)]
            return states, len(tasks), logs, task_states

    return asyncio.run(read())


@task
def echo(value: Any) -> int:
    get_run_logger().info("echo %s", value)
    return 1


@flow(log_prints=True)
def clean() -> int:
    print("clean print")
    return sum(f.result() for f in echo.map(["a", "b", "c"]))


def _poisoned_flow(text: str, value: Any) -> Any:
    name = text[:200].replace("{", "{{").replace("}", "}}") or "empty"  # run names are templates

    @task(task_run_name=name, tags=[text[:600]])
    def bad(v: Any) -> None:
        get_run_logger().warning("poison %s", text)
        print(text)
        raise ValueError(text)

    @flow(flow_run_name=name, log_prints=True)
    def poisoned(p: Any) -> None:
        print(text)
        get_run_logger().info(text)
        bad.submit(p).wait()

    return poisoned


@pytest.mark.slow
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=POISON_TEXT, value=POISON_VALUE)
def test_a_poison_record_never_loses_another(store: tuple[str, Server], tmp_path: Path,
                                             text: str, value: Any) -> None:
    kind, server = store
    recorder = _recorder(kind, server, tmp_path / "spool")
    with active(recorder):
        poisoned = _poisoned_flow(text, value)
        bad_state = poisoned(value, return_state=True)
        good_state = clean(return_state=True)
        assert recorder.flush(60)
    assert good_state.result() == 3
    states, tasks, logs, task_states = _stored(server, good_state.state_details.flow_run_id)
    assert states == ["Pending", "Running", "Completed"]
    assert tasks == 3 and task_states.count("Completed") == 3
    assert "clean print" in logs and sum(m.startswith("echo ") for m in logs) == 3
    assert 500 not in server.statuses
    # The poisoned run is stored (its text made valid) or set aside alone, never lost silently.
    poisoned_states = _stored(server, bad_state.state_details.flow_run_id)[0]
    set_aside = list((tmp_path / "spool" / "rejected").glob("*.json"))
    assert poisoned_states == ["Pending", "Running", "Failed"] or set_aside
    assert recorder.records_set_aside == sum(
        _count(json.loads(p.read_text())) for p in set_aside)


def _count(batch: dict[str, Any]) -> int:
    from headwater._private.recording.spool import count_records

    return count_records(batch)


def test_a_lone_surrogate_is_stored_escaped(tmp_path: Path) -> None:
    server = Server(f"sqlite+aiosqlite:///{tmp_path / 'direct.db'}")
    recorder = _recorder("direct", server, tmp_path / "spool")
    name = "report-\udcff.csv"
    with active(recorder):
        @flow(flow_run_name=name)
        def reads() -> None:
            get_run_logger().info("read %s", name)

        state = reads(return_state=True)
        assert recorder.flush(30)

    async def read() -> tuple[str, list[str]]:
        async with server.client() as client:
            run = await client.read_flow_run(state.state_details.flow_run_id)
            logs = await client.read_logs(flow_run_id=run["id"])
            return run["name"], [line["message"] for line in logs]

    stored_name, logs = asyncio.run(read())
    assert stored_name == "report-\\udcff.csv"
    assert "read report-\\udcff.csv" in logs
    assert recorder.records_set_aside == 0


# ---------------------------------------------------------------------- the API alone
BAD = "bad-\udcff-\ud800-\x00-end"
STORED = "bad-\\udcff-\\ud800-\\u0000-end"  # what the API keeps: the escapes, as text


def _body(value: Any) -> bytes:
    return json.dumps(value).encode()  # ensure_ascii: lone surrogates travel as escapes


@pytest.mark.anyio
async def test_invalid_text_in_every_write_field_is_stored_escaped_never_a_500(
        client: Any) -> None:
    """Lone surrogates and NUL through every write route: stored as text, reads keep working."""
    import uuid

    headers = {"content-type": "application/json"}
    flow = await client.post("/flows/", content=_body({"name": BAD, "tags": [BAD]}),
                             headers=headers)
    assert flow.status_code == 201, flow.text
    assert flow.json()["name"] == STORED
    run = await client.post("/flow_runs/", headers=headers, content=_body({
        "flow_id": flow.json()["id"], "name": BAD, "parameters": {BAD: BAD}, "tags": [BAD],
        "idempotency_key": BAD, "state": {"type": "PENDING", "name": BAD, "message": BAD}}))
    assert run.status_code == 201, run.text
    run_id = run.json()["id"]
    task_run = await client.post("/task_runs/", headers=headers, content=_body({
        "flow_run_id": run_id, "task_key": BAD, "dynamic_key": BAD, "name": BAD,
        "tags": [BAD], "state": {"type": "PENDING", "name": BAD}}))
    assert task_run.status_code == 201, task_run.text
    state = await client.post(f"/flow_runs/{run_id}/set_state", headers=headers,
                              content=_body({"state": {"type": "RUNNING", "name": BAD,
                                                       "message": BAD}}))
    assert state.status_code in (200, 201), state.text
    logs = await client.post("/logs/", headers=headers, content=_body([{
        "name": BAD, "level": 20, "message": BAD, "timestamp": "2026-01-01T00:00:00Z",
        "flow_run_id": run_id}]))
    assert logs.status_code == 201, logs.text
    batch = await client.post("/records/batch", headers=headers, content=_body({
        "flows": [{"name": BAD + "2"}], "flow_runs": [{
            "id": str(uuid.uuid4()), "flow_name": BAD + "2", "name": BAD,
            "parameters": {"p": BAD}, "expected_start_time": "2026-01-01T00:00:00Z"}]}))
    assert batch.status_code == 200, batch.text
    for method, path, body in (("POST", "/flow_runs/filter", {}), ("POST", "/flows/filter", {}),
                               ("GET", f"/flow_runs/{run_id}", None),
                               ("GET", f"/flow_run_states/?flow_run_id={run_id}", None),
                               ("POST", "/task_runs/filter", {}),
                               ("POST", "/logs/filter", {})):
        read = await client.request(method, path, json=body)
        assert read.status_code == 200, (path, read.text)
    stored = (await client.get(f"/flow_runs/{run_id}")).json()
    assert stored["name"] == STORED and stored["parameters"] == {STORED: STORED}


@pytest.mark.anyio
@pytest.mark.parametrize("route", ["/flows/filter", "/flow_runs/filter", "/task_runs/filter",
                                   "/flow_runs/count"])
async def test_a_like_pattern_longer_than_any_name_is_a_422(client: Any, route: str) -> None:
    part = "flows" if route.startswith("/flows") else (
        "task_runs" if route.startswith("/task_runs") else "flow_runs")
    response = await client.post(route, json={part: {"name": {"like_": "x" * 60_000}}})
    assert response.status_code == 422
    assert "512" in response.text
    fine = await client.post(route, json={part: {"name": {"like_": "x" * 512}}})
    assert fine.status_code == 200
