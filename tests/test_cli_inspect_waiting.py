"""``headwater flow-run inspect`` of a Scheduled run says why it does not start (embedded)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from headwater._private import background
from headwater._private.target import current_target
from headwater.cli import app
from headwater.settings import temporary_settings

runner = CliRunner()


@pytest.fixture(autouse=True)
def home(tmp_path: Path) -> Iterator[Path]:
    with temporary_settings(HEADWATER_HOME=str(tmp_path / "home")):
        yield tmp_path / "home"


def with_client(fn: Any) -> Any:
    async def main() -> Any:
        async with current_target().client() as client:
            return await fn(client)

    return background.run(main)


async def waiting_run(client: Any) -> str:
    flow = await client.request("POST", "flows/", json={"name": "etl"})
    deployment, _ = await client.create_deployment(
        name="nightly", flow_id=flow["id"], entrypoint="flows.py:etl",
        code_location={"kind": "local", "path": "/srv"}, work_pool_name="gpu-pool",
        labels=["gpu", "eu"], enforce_parameter_schema=False)
    await client.create_work_pool("gpu-pool")
    await client.send_worker_heartbeat("gpu-pool", "box-1", labels=["gpu"])
    run = await client.create_flow_run_from_deployment(deployment["id"])
    return str(run["id"])


def test_inspect_names_the_label_mismatch_with_both_sets() -> None:
    run_id = with_client(waiting_run)
    result = runner.invoke(app, ["flow-run", "inspect", run_id])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "it has not started yet, because:" in said
    assert "the run requires labels ['eu', 'gpu'], the worker offers ['gpu'] (missing ['eu'])" \
        in said and "box-1" in said
    shown = json.loads(runner.invoke(app, ["flow-run", "inspect", run_id, "--json"]).output)
    assert [r["code"] for r in shown["waiting_reasons"]] == ["label_mismatch"]


def test_inspect_says_the_pool_is_paused() -> None:
    run_id = with_client(waiting_run)
    assert runner.invoke(app, ["work-pool", "pause", "gpu-pool"]).exit_code == 0
    said = " ".join(runner.invoke(app, ["flow-run", "inspect", run_id]).output.split())
    assert "Work pool 'gpu-pool' is paused: `headwater work-pool resume gpu-pool`." in said
