"""Times in request bodies: converted to UTC; out of range in UTC, a 422 that stores nothing.

``0001-01-01T00:00:00+14:00`` is in year 0 once converted to UTC and
``9999-12-31T23:59:59-14:00`` in year 10000: Python cannot represent them,
so they passed validation and then failed deep in the write (500). Naive
times are taken as UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings

from .server_helpers import T0, any_datetimes, at, make_flow_run, new_id

pytestmark = pytest.mark.anyio

UTC = dt.timezone.utc
RANGE = "0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z"


def _zone(hours: int, minutes: int = 0) -> dt.timezone:
    return dt.timezone(dt.timedelta(hours=hours, minutes=minutes))


def _in_utc(when: dt.datetime) -> dt.datetime | None:
    """``when`` in UTC (naive means UTC); None when that is out of Python's range."""
    if when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    try:
        return when.astimezone(UTC)
    except OverflowError:
        return None


def _utc(text: str) -> dt.datetime:
    """A time the API returned, which must be in UTC."""
    assert text.endswith("Z"), text
    return dt.datetime.fromisoformat(text[:-1] + "+00:00")


def _assert_rejected(response: Any, *fields: str) -> None:
    """A 422 whose every error is an out-of-range time, naming its field and the range."""
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    assert {error["loc"][-1] for error in errors} == set(fields), errors
    for error in errors:
        assert error["type"] == "datetime_utc_range", error
        assert error["msg"].startswith(f"{error['loc'][-1]}: "), error
        assert RANGE in error["msg"], error


async def _assert_missing(client: Any, *paths: str) -> None:
    for path in paths:
        response = await client.get(path)
        assert response.status_code == 404, f"{path} was stored: {response.text}"


async def _logs_of(client: Any, run_id: str) -> list[dt.datetime]:
    body = {"logs": {"flow_run_id": {"any_": [run_id]}}}
    response = await client.post("/logs/filter", json=body)
    assert response.status_code == 200, response.text
    return sorted(_utc(line["timestamp"]) for line in response.json())


async def _create_flow_run(client: Any, text: str, utc: dt.datetime | None) -> None:
    flow_id = (await client.post("/flows/", json={"name": "dated"})).json()["id"]
    run_id, state_id = new_id(), new_id()
    response = await client.post("/flow_runs/", json={
        "flow_id": flow_id, "id": run_id, "expected_start_time": text,
        "state": {"type": "PENDING", "id": state_id, "timestamp": text}})
    if utc is None:
        _assert_rejected(response, "expected_start_time", "timestamp")
        await _assert_missing(client, f"/flow_runs/{run_id}", f"/flow_run_states/{state_id}")
        return
    assert response.status_code == 201, response.text
    run = response.json()
    assert _utc(run["expected_start_time"]) == utc
    assert _utc(run["state"]["timestamp"]) == utc


async def _set_state(client: Any, text: str, utc: dt.datetime | None) -> None:
    run = await make_flow_run(client, "dated")
    state_id = new_id()
    response = await client.post(f"/flow_runs/{run['id']}/set_state", json={
        "state": {"type": "RUNNING", "id": state_id, "timestamp": text}})
    if utc is None:
        _assert_rejected(response, "timestamp")
        await _assert_missing(client, f"/flow_run_states/{state_id}")
        after = (await client.get(f"/flow_runs/{run['id']}")).json()
        assert after["state_version"] == run["state_version"]
        return
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "ACCEPT", response.text
    assert _utc(response.json()["state"]["timestamp"]) == utc


async def _create_logs(client: Any, text: str, utc: dt.datetime | None) -> None:
    run_id = new_id()
    lines = [{"name": "dated", "level": 20, "message": message, "timestamp": when,
              "flow_run_id": run_id} for message, when in (("fine", at(0)), ("dated", text))]
    response = await client.post("/logs/", json=lines)
    if utc is None:
        _assert_rejected(response, "timestamp")
        assert await _logs_of(client, run_id) == []
        return
    assert response.status_code == 201, response.text
    assert await _logs_of(client, run_id) == sorted([T0, utc])


async def _batch_rows(client: Any, text: str, utc: dt.datetime | None) -> None:
    run_id, state_id = new_id(), new_id()
    response = await client.post("/records/batch", json={
        "flow_runs": [{"id": run_id, "flow_name": "dated", "name": "rows",
                       "expected_start_time": text}],
        "states": [{"id": state_id, "run_id": run_id, "run_kind": "flow", "type": "RUNNING",
                    "timestamp": text}],
        "logs": [{"name": "dated", "level": 20, "message": "m", "timestamp": text,
                  "flow_run_id": run_id}]})
    if utc is None:
        _assert_rejected(response, "expected_start_time", "timestamp")
        await _assert_missing(client, f"/flow_runs/{run_id}", f"/flow_run_states/{state_id}")
        assert await _logs_of(client, run_id) == []
        return
    assert response.status_code == 200, response.text
    assert response.json() | {"flows": 0} == {"flows": 0, "flow_runs": 1, "task_runs": 0,
                                              "states": 1, "logs": 1}
    run = (await client.get(f"/flow_runs/{run_id}")).json()
    assert _utc(run["expected_start_time"]) == _utc(run["start_time"]) == utc
    assert _utc(run["state"]["timestamp"]) == utc
    assert await _logs_of(client, run_id) == [utc]


async def _batch_columns(client: Any, text: str, utc: dt.datetime | None) -> None:
    # The second row of each column is the time under test.
    run_id = new_id()
    task_ids, state_ids = [new_id(), new_id()], [new_id(), new_id()]
    response = await client.post("/records/batch", json={
        "flow_runs": [{"id": run_id, "flow_name": "dated", "name": "columns"}],
        "task_runs": {"id": task_ids, "flow_run_id": [run_id, run_id], "task_key": ["t", "t"],
                      "dynamic_key": ["0", "1"], "name": ["t-0", "t-1"],
                      "expected_start_time": [at(0), text]},
        "states": {"id": state_ids, "run_id": task_ids, "run_kind": ["task", "task"],
                   "type": ["RUNNING", "RUNNING"], "timestamp": [at(0), text]}})
    if utc is None:
        _assert_rejected(response, "expected_start_time", "timestamp")
        assert {tuple(error["loc"][:3]) for error in response.json()["detail"]} == {
            ("body", "task_runs", 1), ("body", "states", 1)}
        await _assert_missing(client, f"/flow_runs/{run_id}",
                              *(f"/task_runs/{i}" for i in task_ids),
                              *(f"/task_run_states/{i}" for i in state_ids))
        return
    assert response.status_code == 200, response.text
    assert response.json()["task_runs"] == response.json()["states"] == 2
    task = (await client.get(f"/task_runs/{task_ids[1]}")).json()
    assert _utc(task["expected_start_time"]) == _utc(task["state"]["timestamp"]) == utc


async def _filters(client: Any, text: str, utc: dt.datetime | None) -> None:
    for path, body, fields in (
            ("/flow_runs/filter", {"flow_runs": {"start_time": {"after_": text}}}, ["after_"]),
            ("/logs/filter", {"logs": {"timestamp": {"before_": text}}}, ["before_"]),
            ("/task_runs/count", {"task_runs": {"expected_start_time": {
                "after_": text, "before_": text}}}, ["after_", "before_"])):
        response = await client.post(path, json=body)
        if utc is None:
            _assert_rejected(response, *fields)
        else:
            assert response.status_code == 200, response.text
    if utc is not None:
        # The task run _batch_columns stored at this time, whatever the offset.
        assert response.json() >= 1


@pytest.mark.slow
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@pytest.mark.slow
@given(when=any_datetimes())
@example(when=dt.datetime(1, 1, 1, tzinfo=_zone(14)))
@example(when=dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=_zone(-14)))
@example(when=dt.datetime(1, 1, 1, 0, 0, 0, 1, tzinfo=_zone(0, 1)))
@example(when=dt.datetime(1, 1, 1, 23, 59, tzinfo=_zone(23, 59)))
@example(when=dt.datetime.min)
@example(when=dt.datetime.max.replace(tzinfo=UTC))
@example(when=dt.datetime(9999, 12, 31, tzinfo=_zone(-23, -59)))
@example(when=dt.datetime(2024, 1, 1, 5))
async def test_any_time_is_stored_in_utc_or_rejected_with_422(client: Any,
                                                              when: dt.datetime) -> None:
    text, utc = when.isoformat(), _in_utc(when)
    await _create_flow_run(client, text, utc)
    await _set_state(client, text, utc)
    await _create_logs(client, text, utc)
    await _batch_rows(client, text, utc)
    await _batch_columns(client, text, utc)
    await _filters(client, text, utc)
