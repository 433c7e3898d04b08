"""Builders shared by the deployment and scheduler tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .server_helpers import make_flow

#: A flow's parameter schema as headwater generates it: x required, y with a default.
SCHEMA: dict[str, Any] = {
    "title": "Parameters", "type": "object",
    "properties": {"x": {"title": "x", "type": "integer", "position": 0},
                   "y": {"title": "y", "type": "string", "default": "a", "position": 1}},
    "required": ["x"], "definitions": {},
}

HOURLY = {"interval": 3600.0, "anchor_date": "2024-01-01T00:00:00+00:00", "timezone": "UTC"}


async def deploy(client: Any, name: str = "nightly", flow_name: str = "etl",
                 **fields: Any) -> Any:
    """``POST /deployments/``; returns the response."""
    flow = await make_flow(client, flow_name)
    body = {"name": name, "flow_id": flow["id"], "parameter_openapi_schema": SCHEMA,
            "parameters": {"x": 1}, "entrypoint": "flows.py:etl",
            "code_location": {"kind": "local", "path": "/srv/app"}, **fields}
    return await client.post("/deployments/", json=body)


async def deployed(client: Any, name: str = "nightly", flow_name: str = "etl",
                   **fields: Any) -> dict[str, Any]:
    """A registered deployment version."""
    response = await deploy(client, name, flow_name, **fields)
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]


def utc(*args: int) -> dt.datetime:
    """An aware UTC datetime."""
    return dt.datetime(*args, tzinfo=dt.timezone.utc)  # type: ignore[misc]
