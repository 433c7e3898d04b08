"""Small builders shared by the server tests."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
import uuid
from typing import Any

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


def at(seconds: float) -> str:
    """An ISO timestamp ``seconds`` after 2024-01-01T00:00:00Z."""
    return (T0 + dt.timedelta(seconds=seconds)).isoformat()


def new_id() -> str:
    """A fresh UUID as text."""
    return str(uuid.uuid4())


async def make_flow(client: Any, name: str = "my-flow") -> dict[str, Any]:
    """Create (or get) a flow."""
    response = await client.post("/flows/", json={"name": name})
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]


async def make_flow_run(client: Any, flow_name: str = "my-flow", **fields: Any) -> dict[str, Any]:
    """Create a flow run of a flow (created if needed)."""
    flow = await make_flow(client, flow_name)
    response = await client.post("/flow_runs/", json={"flow_id": flow["id"], **fields})
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]


async def make_task_run(client: Any, flow_run_id: str | None, key: str = "t",
                        dynamic_key: str = "0", **fields: Any) -> dict[str, Any]:
    """Create a task run."""
    body = {"flow_run_id": flow_run_id, "task_key": key, "dynamic_key": dynamic_key, **fields}
    response = await client.post("/task_runs/", json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]


async def set_state(client: Any, kind: str, run_id: str, type_: str, name: str | None = None,
                    **fields: Any) -> dict[str, Any]:
    """Propose a state; return the orchestration result."""
    state: dict[str, Any] = {"type": type_}
    if name is not None:
        state["name"] = name
    response = await client.post(f"/{kind}_runs/{run_id}/set_state",
                                 json={"state": state, **fields})
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]


def free_port() -> int:
    """A TCP port free on localhost right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    """uvicorn serving an app in a thread; ``url`` ends in ``/api``."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{self.port}/api"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start within 20 s")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
