"""Property-based fuzzing of every operation in the OpenAPI document: no 500s.

hypothesis builds requests for each operation of ``/api/openapi.json``:
path parameters (UUIDs or any text) and JSON bodies made of the field names
the schemas use with arbitrary values (nested objects, lists, huge integers,
NaN, NUL characters, wrong types, times near the ends of the datetime range
with any offset), bodies shaped by the operation's own schema (so that they
pass validation often enough to reach the database), plus arbitrary JSON
and raw bytes. They go to a real uvicorn server on SQLite; every response
must be below 500. Bounded to 1,500 requests (about 15 s).

(schemathesis is not used: its pytest plugin, once installed, breaks the
anyio-marked tests of the rest of the suite.)
"""

from __future__ import annotations

import datetime as dt
import functools
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

from .server_helpers import LiveServer, any_datetimes


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
    any_datetimes().map(dt.datetime.isoformat), st.just("2024-01-01T00:00:00Z"),
)
keys = st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=8))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)), max_leaves=20)
bodies = st.one_of(st.dictionaries(keys, values, max_size=6), values,
                   st.lists(st.dictionaries(keys, values, max_size=6), max_size=3))
COMPONENTS = SPEC["components"]["schemas"]
FORMATS = {"uuid": st.uuids().map(str), "date-time": any_datetimes().map(dt.datetime.isoformat)}


@functools.cache
def _component(name: str) -> st.SearchStrategy[Any]:
    return _shaped(COMPONENTS[name])


def _shaped(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values of ``schema``'s shape (bounds and lengths loosely: many pass validation)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return st.deferred(lambda: _component(name))
    if "anyOf" in schema:
        return st.one_of([_shaped(option) for option in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind, properties = schema.get("type"), schema.get("properties", {})
    if kind == "object" and properties:
        required = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {name: _shaped(properties[name]) for name in required},
            optional={name: _shaped(s) for name, s in properties.items() if name not in required})
    if kind == "array":
        return st.lists(_shaped(schema.get("items", {})), min_size=schema.get("minItems", 0),
                        max_size=3)
    if kind == "string":
        return FORMATS.get(schema.get("format"), st.text(max_size=20))
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "number":
        return st.floats(schema.get("minimum"), schema.get("maximum"), allow_nan=False)
    simple = {"object": st.dictionaries(keys, values, max_size=3), "boolean": st.booleans(),
              "null": st.none()}
    return simple.get(kind, values)


SHAPED = {(method.upper(), path): _shaped(
    operation["requestBody"]["content"]["application/json"]["schema"])
    for path, item in SPEC["paths"].items() for method, operation in item.items()
    if "requestBody" in operation}


def _with_body(operation: tuple[str, str]) -> st.SearchStrategy[tuple[tuple[str, str], Any]]:
    # Half the bodies of the schema's shape, a quarter of made-up JSON, a quarter of bytes.
    shaped = SHAPED.get(operation, bodies)
    body = st.sampled_from((shaped, shaped, bodies, st.binary(max_size=40))).flatmap(lambda s: s)
    return st.tuples(st.just(operation), body)


requests = st.sampled_from(OPERATIONS).flatmap(_with_body)
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
          body: Any) -> httpx.Response:
    """Send ``body``: bytes as they are, anything else as JSON."""
    for name, value in zip(re.findall(r"\{(\w+)\}", path), params, strict=False):
        path = path.replace("{" + name + "}", quote(value, safe="") or "x")
    query = {"flow_run_id": params[0], "task_run_id": params[0]} if path.endswith(
        "_states/") else None
    if method in ("GET", "DELETE"):
        return client.request(method, path, params=query)
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.request(method, path, content=content,
                          headers={"content-type": "application/json"})


@pytest.mark.slow
# 300 examples by default (16 s at load 2, so under the timeout at load 6);
# the "thorough" profile (tests/conftest.py) tries 1,500.
@settings(max_examples=3 * settings().max_examples, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(call=requests, params=st.lists(path_values, min_size=1, max_size=2))
def test_no_server_errors(live: httpx.Client, call: tuple[tuple[str, str], Any],
                          params: list[str]) -> None:
    (method, path), body = call
    response = _call(live, method, path, params, body)
    assert response.status_code < 500, (
        f"{method} {path} {body!r} -> {response.status_code}: {response.text[:300]}")
