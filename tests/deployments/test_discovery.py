"""Finding an entrypoint's flow statically (griffe): messages for what is not a flow."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from headwater._private.deployments.discovery import EntrypointError, check_entrypoint, find_flows

SOURCE = """
    import headwater as hw
    from headwater import flow, task

    raise SystemExit("never executed")

    @flow
    def plain(x: int = 1): ...

    @flow(name="named-flow", retries=2)
    def named(): ...

    @hw.flow
    async def dotted(): ...

    @task
    def a_task(): ...

    def helper(): ...

    assigned = flow(helper)
    configured = flow(name="configured-flow")(helper)

    def factory():
        @flow
        def inner(): ...
        return inner

    class Holder:
        @flow
        def method(self): ...
"""


@pytest.fixture
def flows_file(tmp_path: Path) -> Path:
    path = tmp_path / "pipelines" / "etl.py"
    path.parent.mkdir()
    path.write_text(textwrap.dedent(SOURCE))
    return path


def test_top_level_flows_are_found_without_running_the_file(flows_file: Path) -> None:
    flows, others = find_flows(flows_file)
    assert [(f.attribute, f.name) for f in flows] == [
        ("plain", "plain"), ("named", "named-flow"), ("dotted", "dotted"),
        ("assigned", "helper"), ("configured", "configured-flow")]
    assert others["a_task"] == "task" and others["helper"] == "function"


@pytest.mark.parametrize("name", ["plain", "named", "dotted", "assigned", "configured"])
def test_an_entrypoint_naming_a_flow_passes(flows_file: Path, name: str) -> None:
    found = check_entrypoint(f"pipelines/etl.py:{name}", flows_file.parents[1])
    assert found.attribute == name


LISTING = "Flows defined at the top level of pipelines/etl.py: plain, named, dotted, assigned, " \
    "configured."


@pytest.mark.parametrize(("name", "message"), [
    ("inner", "'inner' is a flow defined inside factory (line 26), which a deployment cannot "
     "import. Move it to the top level of the file."),
    ("method", "'method' is a flow defined inside Holder (line 31)"),
    ("a_task", "'a_task' in pipelines/etl.py is a task, not a flow. Decorate it with @flow"),
    ("helper", "'helper' in pipelines/etl.py is a function, not a flow."),
    ("missing", "pipelines/etl.py has no top-level name 'missing'."),
])
def test_what_is_not_a_top_level_flow_is_said_with_the_flows_found(
        flows_file: Path, name: str, message: str) -> None:
    with pytest.raises(EntrypointError) as info:
        check_entrypoint(f"pipelines/etl.py:{name}", flows_file.parents[1])
    assert message in str(info.value) and LISTING in str(info.value)


def test_a_file_without_flows_says_so(tmp_path: Path) -> None:
    (tmp_path / "empty.py").write_text("def f(): ...\n")
    message = "empty.py defines no flow at its top level"
    with pytest.raises(EntrypointError, match=re.escape(message)):
        check_entrypoint("empty.py:f", tmp_path)


def test_a_missing_file_or_a_bad_entrypoint(tmp_path: Path) -> None:
    with pytest.raises(EntrypointError, match=re.escape("No file 'nope.py'")):
        check_entrypoint("nope.py:f", tmp_path)
    message = "not of the form 'path/to/file.py:flow_function'"
    with pytest.raises(EntrypointError, match=re.escape(message)):
        check_entrypoint("nope.py", tmp_path)


def test_a_file_that_is_not_python(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("def (:\n")
    with pytest.raises(EntrypointError, match="Could not read"):
        check_entrypoint("bad.py:f", tmp_path)
