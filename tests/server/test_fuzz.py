"""Property-based fuzzing of every operation in the OpenAPI document: no 500s.

hypothesis builds requests for each operation of ``/api/openapi.json``:
path parameters (UUIDs or any text) and JSON bodies made of the field names
the schemas use with arbitrary values (nested objects, lists, huge integers,
NaN, NUL characters, wrong types), plus arbitrary JSON and raw bytes. They go
to a real uvicorn server on SQLite; every response must be below 500.
Bounded to 1,500 requests (about 15 s).

(schemathesis is not used: its pytest plugin, once installed, breaks the
anyio-marked tests of the rest of the suite.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .server_helpers import LiveServer


def _spec() -> dict[str, Any]:
    from headwater.server.app import create_app

    return create_app("sqlite://", use_settings=False).openapi()


SPEC = _spec()
OPERATIONS = sorted((method.upper(), path) for path, item in SPEC["paths"].items()
                    for method in item)
FIELD_NAMES = sorted({name for schema in SPEC["components"]["schemas"].values()
                      for name in schema.get("properties", {})})
ENUM_VALUES = sorted({value for schema in SPEC["components"]["schemas"].values()
                      for prop in schema.get("properties", {}).values()
                      for value in prop.get("enum", ()) if isinstance(value, str)}
                     | {"flow", "task", "RUNNING", "COMPLETED", "ID_DESC"})

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=2**31, max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
    st.uuids().map(str), st.sampled_from(ENUM_VALUES), st.just("\u0000"),
    st.datetimes().map(lambda d: d.isoformat()), st.just("2024-01-01T00:00:00Z"),
)
keys = st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=8))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)), max_leaves=20)
bodies = st.one_of(st.dictionaries(keys, values, max_size=6), values,
                   st.lists(st.dictionaries(keys, values, max_size=6), max_size=3))
path_values = st.one_of(st.uuids().map(str), st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/?#"),
    min_size=1, max_size=12))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    from headwater.server.app import create_app

    db = Path(tmp_path_factory.mktemp("fuzz")) / "headwater.db"
    app = create_app(f"sqlite:///{db}", use_settings=False)
    with LiveServer(app) as server, httpx.Client(base_url=server.url.removesuffix("/api"),
                                                 timeout=10) as client:
        yield client


def _call(client: httpx.Client, method: str, path: str, params: list[str],
          body: Any, raw: bytes | None) -> httpx.Response:
    for name, value in zip(re.findall(r"\{(\w+)\}", path), params, strict=False):
        path = path.replace("{" + name + "}", quote(value, safe="") or "x")
    query = {"flow_run_id": params[0], "task_run_id": params[0]} if path.endswith(
        "_states/") else None
    if method in ("GET", "DELETE"):
        return client.request(method, path, params=query)
    content = raw if raw is not None else json.dumps(body).encode()
    return client.request(method, path, content=content,
                          headers={"content-type": "application/json"})


@pytest.mark.slow
@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(operation=st.sampled_from(OPERATIONS), params=st.lists(path_values, min_size=1,
                                                              max_size=2),
       body=bodies, raw=st.one_of(st.none(), st.binary(max_size=40)))
def test_no_server_errors(live: httpx.Client, operation: tuple[str, str], params: list[str],
                          body: Any, raw: bytes | None) -> None:
    method, path = operation
    response = _call(live, method, path, params, body, raw)
    assert response.status_code < 500, (
        f"{method} {path} {body!r} -> {response.status_code}: {response.text[:300]}")
