"""``run_deployment`` and ``Flow.deploy`` in process, on the embedded database."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from headwater import flow
from headwater.client import get_client
from headwater.deployments import run_deployment
from headwater.exceptions import ObjectNotFound
from headwater.testing import FakeClock, use_clock

SOURCE = """
    from headwater import flow

    @flow
    def etl(day: str = "mon", n: int = 1) -> str:
        return day * n
"""


@pytest.fixture
def etl(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "etl_flows.py"
    path.write_text(textwrap.dedent(SOURCE))
    spec = importlib.util.spec_from_file_location("etl_flows", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "etl_flows", module)
    spec.loader.exec_module(module)
    return module.etl


def read(coroutine_factory: Any) -> Any:
    async def main() -> Any:
        async with get_client() as client:
            return await coroutine_factory(client)

    return asyncio.run(main())


def test_deploy_twice_unchanged_says_so(etl: Any, capsys: pytest.CaptureFixture[str]) -> None:
    first = etl.deploy("prod", work_pool_name="pool", parameters={"n": 2})
    assert "registered deployment 'etl/prod' version" in capsys.readouterr().out
    second = etl.deploy("prod", work_pool_name="pool", parameters={"n": 2})
    out = capsys.readouterr().out
    assert second == first and out.startswith("unchanged: version ")
    stored = read(lambda c: c.read_deployment(first))
    assert stored["work_pool_name"] == "pool" and stored["parameters"] == {"n": 2}


def test_run_deployment_with_timeout_0_returns_the_scheduled_run(etl: Any) -> None:
    etl.deploy("prod", parameters={"n": 2}, print_next_steps=False)
    run = run_deployment("etl/prod", parameters={"day": "tue"}, timeout=0, tags=["adhoc"],
                         idempotency_key="once")
    assert run.state is not None and run.state.is_scheduled()
    assert run.parameters == {"day": "tue", "n": 2} and "adhoc" in run.tags
    again = run_deployment("etl/prod", parameters={"day": "tue"}, timeout=0,
                           idempotency_key="once")
    assert again.id == run.id  # the same key: the same run


def test_run_deployment_waits_on_the_clock_until_its_timeout(etl: Any) -> None:
    etl.deploy("prod", print_next_steps=False)
    clock = FakeClock()
    with use_clock(clock):
        run = run_deployment("etl/prod", timeout=30, poll_interval=5)
    assert run.state is not None and run.state.is_scheduled()  # nothing serves it here
    assert sum(clock.sleeps) == 30 and set(clock.sleeps) == {5}


def test_run_deployment_inside_a_flow_links_a_task_run(etl: Any) -> None:
    etl.deploy("prod", print_next_steps=False)

    @flow
    def parent() -> Any:
        return run_deployment("etl/prod", timeout=0)

    state = parent(return_state=True)
    child = state.result()
    assert child.parent_task_run_id is not None
    tasks = read(lambda c: c.read_task_runs(flow_run_id=state.state_details.flow_run_id))
    assert [t["id"] for t in tasks] == [str(child.parent_task_run_id)]
    assert tasks[0]["name"] == "etl/prod"

    unlinked = run_deployment("etl/prod", timeout=0, as_subflow=False)
    assert unlinked.parent_task_run_id is None


def test_run_deployment_is_awaitable_in_async_code(etl: Any) -> None:
    etl.deploy("prod", print_next_steps=False)

    async def main() -> Any:
        return await run_deployment("etl/prod", timeout=0)

    assert asyncio.run(main()).state.is_scheduled()


def test_an_unknown_deployment_is_named(etl: Any) -> None:
    with pytest.raises(ObjectNotFound, match="No deployment 'etl/nope'"):
        run_deployment("etl/nope", timeout=0)
    with pytest.raises(ObjectNotFound, match="give it as 'flow-name/deployment-name'"):
        run_deployment("nope", timeout=0)
    with pytest.raises(ValueError, match="`timeout` cannot be negative"):
        run_deployment("etl/prod", timeout=-1)
