"""Small builders shared by the server tests."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

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


def start_cli_server(home: Path, port: int, **env: str) -> subprocess.Popen[str]:
    """``headwater server start`` in a subprocess on ``home``; returns once it answers.

    Fails the test if the server exits early or does not answer within 60 s.
    """
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    full_env.update(HEADWATER_HOME=str(home), **env)
    process = subprocess.Popen(
        [sys.executable, "-m", "headwater.cli", "server", "start", "--port", str(port)],
        env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).json() is True:
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise AssertionError(f"the server exited early: {process.communicate()[0]}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("the server did not answer within 60 s")
        time.sleep(0.1)


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


def _zone(minutes: int) -> dt.timezone:
    return dt.timezone(dt.timedelta(minutes=minutes))


#: The ends of Python's datetime range, in UTC and with the widest offsets; the
#: first four are a minute or nearly a day out of the range in UTC.
_EDGES = [dt.datetime.min.replace(tzinfo=_zone(1)), dt.datetime.min.replace(tzinfo=_zone(1439)),
          dt.datetime.max.replace(tzinfo=_zone(-1)), dt.datetime.max.replace(tzinfo=_zone(-1439)),
          dt.datetime.min.replace(tzinfo=dt.timezone.utc),
          dt.datetime.max.replace(tzinfo=dt.timezone.utc),
          (dt.datetime.min + dt.timedelta(minutes=1439)).replace(tzinfo=_zone(1439)),
          (dt.datetime.max - dt.timedelta(minutes=1439)).replace(tzinfo=_zone(-1439))]


def any_datetimes() -> Any:
    """A hypothesis strategy: datetimes over Python's whole range, naive or with any offset
    from -23:59 to +23:59, many of them within a day of either end of the range with an
    offset pointing out of it: about a tenth are out of the range once converted to UTC."""
    from hypothesis import strategies as st

    def zones(low: int, high: int) -> Any:
        return st.integers(low, high).map(_zone)

    def placed(when: dt.datetime, zone: dt.tzinfo | None) -> dt.datetime:
        return when.replace(tzinfo=zone)

    day = dt.timedelta(days=1)
    return st.one_of(
        st.builds(placed, st.datetimes(), st.one_of(st.none(), zones(-1439, 1439))),
        st.builds(placed, st.datetimes(max_value=dt.datetime.min + day), zones(1, 1439)),
        st.builds(placed, st.datetimes(min_value=dt.datetime.max - day), zones(-1439, -1)),
        st.sampled_from(_EDGES))
