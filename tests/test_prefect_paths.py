"""Prefect 2's import paths that headwater provides: they hold the real objects."""

from __future__ import annotations

import subprocess
import sys

from headwater import flow, runtime
from headwater.client.schemas.objects import FlowRun, State, StateType, TaskRun
from headwater.serializers import (
    CompressedJSONSerializer,
    CompressedPickleSerializer,
    get_serializer,
)


def test_hooks_receive_the_schema_objects() -> None:
    seen: list[object] = []

    @flow(on_completion=[lambda f, run, state: seen.extend([run, state])])
    def f() -> None:
        pass

    f()
    assert isinstance(seen[0], FlowRun)
    assert isinstance(seen[1], State) and seen[1].type is StateType.COMPLETED
    assert TaskRun.__module__ == "headwater.client.schemas.objects"


def test_runtime_deployment_is_empty_outside_and_inside_a_flow() -> None:
    @flow
    def f() -> tuple[object, ...]:
        d = runtime.deployment
        return d.id, d.name, d.version, d.flow_run_id, d.parameters, \
            runtime.flow_run.parent_deployment_id

    assert f() == (None, None, None, None, {}, None)
    runtime.deployment.parameters["x"] = 1
    assert runtime.deployment.parameters == {}
    assert runtime.flow_run.parent_deployment_id is None


def test_compressed_serializers_are_the_registered_ones() -> None:
    for serializer, name in [(CompressedPickleSerializer(), "compressed/pickle"),
                             (CompressedJSONSerializer("bz2"), "compressed/json")]:
        assert serializer.type == name
        assert serializer.loads(serializer.dumps({"a": [1]})) == {"a": [1]}
        assert type(get_serializer(name)) is type(serializer)


def test_get_client_is_top_level_and_imported_lazily() -> None:
    code = ("import sys, headwater; assert 'httpx' not in sys.modules; "
            "from headwater import get_client; "
            "from headwater.client.orchestration import get_client as g; assert g is get_client")
    subprocess.run([sys.executable, "-c", code], check=True)
