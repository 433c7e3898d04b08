"""Suspending a deployment's flow run, resuming it, and running it again from the top.

In-process: ``execute_flow_run`` runs the stored run as ``python -m
headwater.engine`` does (embedded SQLite, and a live API over SQLite and
PostgreSQL). The real-process paths (serve, a worker) are in
``test_suspend_processes.py``.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest

from headwater._private.deployments.execute import execute_flow_run
from headwater.client import get_client
from headwater.exceptions import FlowRunStateError, NotPausedError
from headwater.pausing import resume_flow_run

from .test_execute import write

FLOW_FILE = """
    from pathlib import Path

    from headwater import flow, task
    from headwater.input import RunInput
    from headwater.pausing import pause_flow_run, suspend_flow_run


    def bump(folder: str, name: str) -> None:
        path = Path(folder) / name
        path.write_text(str(int(path.read_text()) + 1 if path.exists() else 1))


    @task(persist_result=True)
    def first(folder: str, x: int) -> int:
        bump(folder, "first")
        return x + 1


    @task(persist_result=False)
    def unpersisted(folder: str, x: int) -> int:
        bump(folder, "unpersisted")
        return x * 10


    class Approval(RunInput):
        ok: bool


    @flow
    def approve(folder: str, x: int = 1, how: str = "suspend") -> str:
        a = first(folder, x)
        b = unpersisted(folder, a)
        if how == "suspend":
            answer = suspend_flow_run(wait_for_input=Approval, timeout=600, key="approval")
            ok = answer.ok
        else:
            ok = pause_flow_run(wait_for_input=bool, reschedule=True, timeout=600)
        bump(folder, "after")
        return f"{a} {b} {ok}"
"""


def _api(work: Any) -> Any:
    async def go() -> Any:
        async with get_client() as client:
            return await work(client)

    return asyncio.run(go())


def _deployment_run(code: Path, **parameters: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    async def work(client: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        flow = await client.request("POST", "flows/", json={"name": "approve"})
        version, _ = await client.create_deployment(
            name="prod", flow_id=flow["id"], entrypoint="flows/approve.py:approve",
            code_location={"kind": "local", "path": str(code)})
        run = await client.create_flow_run_from_deployment(version["id"], parameters=parameters)
        return version, run

    return _api(work)  # type: ignore[no-any-return]


def _counts(folder: Path) -> dict[str, int]:
    return {p.name: int(p.read_text()) for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("how", ["suspend", "pause"])
def test_a_suspended_run_resumes_in_a_new_run_reusing_persisted_task_results(
        target_home: Path, tmp_path: Path, how: str) -> None:
    write(tmp_path / "code" / "flows", "approve.py", FLOW_FILE)
    counts = tmp_path / "counts"
    counts.mkdir()
    version, run = _deployment_run(tmp_path / "code", folder=str(counts), x=1, how=how)

    state = execute_flow_run(run["id"], deployment=version)
    assert state.is_paused() and state.state_details.pause_reschedule
    stored = _api(lambda c: c.read_flow_run(run["id"]))
    assert stored["state_type"] == "PAUSED"
    name = "Suspended" if how == "suspend" else "Paused"
    details = stored["state"]["state_details"]
    assert stored["state_name"] == name
    assert details["pause_reschedule"] is True and details["pause_timeout"]
    assert details["pause_key"] == ("approval" if how == "suspend" else "1")
    assert _counts(counts) == {"first": 1, "unpersisted": 1}

    run_input = {"ok": True} if how == "suspend" else {"value": True}
    resume_flow_run(run["id"], run_input=run_input)
    stored = _api(lambda c: c.read_flow_run(run["id"]))
    assert (stored["state_type"], stored["state_name"]) == ("SCHEDULED", "Resuming")

    state = execute_flow_run(run["id"], deployment=version)
    assert state.is_completed() and state.result() == "2 20 True"
    # first() completed with a persisted result: reused; unpersisted() ran again.
    assert _counts(counts) == {"after": 1, "first": 1, "unpersisted": 2}
    stored = _api(lambda c: c.read_flow_run(run["id"]))
    assert stored["state_type"] == "COMPLETED" and stored["run_count"] == 2
    states = [s["name"] for s in _api(lambda c: c.read_flow_run_states(run["id"]))]
    assert states == ["Scheduled", "Pending", "Running", name, "Resuming", "Pending",
                      "Running", "Completed"]
    # One row per call: the re-run of unpersisted() is the same task run, run twice.
    tasks = _api(lambda c: c.read_task_runs(flow_run_id=run["id"]))
    runs = {t["task_key"].rsplit(".", 1)[-1]: t for t in tasks}
    assert sorted(runs) == ["first", "unpersisted"]
    assert (runs["first"]["run_count"], runs["unpersisted"]["run_count"]) == (1, 2)
    assert runs["unpersisted"]["state_type"] == "COMPLETED"


def test_resuming_with_input_that_does_not_fit_is_refused(home: Path, tmp_path: Path) -> None:
    write(tmp_path / "code" / "flows", "approve.py", FLOW_FILE)
    counts = tmp_path / "counts"
    counts.mkdir()
    version, run = _deployment_run(tmp_path / "code", folder=str(counts))
    assert execute_flow_run(run["id"], deployment=version).is_paused()
    with pytest.raises(FlowRunStateError, match="Cannot resume this run: Reason: "):
        resume_flow_run(run["id"], run_input={"ok": "maybe"})
    assert _api(lambda c: c.read_flow_run(run["id"]))["state_type"] == "PAUSED"
    resume_flow_run(run["id"], run_input={"ok": False})
    with pytest.raises(NotPausedError):
        resume_flow_run(run["id"], run_input={"ok": False})
    assert execute_flow_run(run["id"], deployment=version).result() == "2 20 False"


def test_resuming_an_unknown_run(home: Path) -> None:
    from headwater.exceptions import ObjectNotFound

    _api(lambda c: c.request("GET", "health"))
    with pytest.raises(ObjectNotFound):
        resume_flow_run(uuid.uuid4())


LOOP_FILE = """
    import time
    from pathlib import Path

    from headwater import flow, task


    @task
    def tick(folder: str, i: int) -> int:
        Path(folder, "ticks").write_text(str(i))
        time.sleep(0.02)
        return i


    @flow
    def looping(folder: str) -> int:
        i = 0
        while i < 5000:
            i = tick(folder, i) + 1
        return i
"""


@pytest.mark.parametrize("verb", ["suspend", "pause"])
def test_suspending_another_run_stops_its_process_paused(
        home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, verb: str) -> None:
    import threading

    from headwater.pausing import pause_flow_run, suspend_flow_run

    monkeypatch.setenv("HEADWATER_FLOW_RUN_WATCH_INTERVAL", "0.05")
    write(tmp_path / "code" / "flows", "looping.py", LOOP_FILE)

    async def deploy(client: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        flow = await client.request("POST", "flows/", json={"name": "looping"})
        version, _ = await client.create_deployment(
            name="prod", flow_id=flow["id"], entrypoint="flows/looping.py:looping",
            code_location={"kind": "local", "path": str(tmp_path / "code")})
        run = await client.create_flow_run_from_deployment(
            version["id"], parameters={"folder": str(tmp_path)})
        return version, run

    version, run = _api(deploy)
    ended: list[Any] = []
    thread = threading.Thread(target=lambda: ended.append(
        execute_flow_run(run["id"], deployment=version)), daemon=True)
    thread.start()
    while not ((tmp_path / "ticks").exists()
               and _api(lambda c: c.read_flow_run(run["id"]))["state_type"] == "RUNNING"):
        threading.Event().wait(0.02)
    if verb == "suspend":
        assert suspend_flow_run(flow_run_id=run["id"], timeout=600) is None
    else:
        assert pause_flow_run(flow_run_id=run["id"], timeout=600) is None
    thread.join(60)
    assert not thread.is_alive()
    assert ended[0].is_paused()
    stored = _api(lambda c: c.read_flow_run(run["id"]))
    assert stored["state_type"] == "PAUSED"
    assert stored["state_name"] == ("Suspended" if verb == "suspend" else "Paused")
    assert stored["state"]["state_details"]["pause_reschedule"] is True
    resume_flow_run(run["id"])
    assert _api(lambda c: c.read_flow_run(run["id"]))["state_name"] == "Resuming"


def test_the_cli_resumes_a_suspended_run_by_name(home: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from headwater.cli import app

    write(tmp_path / "code" / "flows", "approve.py", FLOW_FILE)
    counts = tmp_path / "counts"
    counts.mkdir()
    version, run = _deployment_run(tmp_path / "code", folder=str(counts))
    assert execute_flow_run(run["id"], deployment=version).is_paused()
    runner = CliRunner()
    bad = runner.invoke(app, ["flow-run", "resume", run["name"], "--input", "[1]"])
    assert bad.exit_code == 1 and "must be a JSON object" in bad.output
    refused = runner.invoke(app, ["flow-run", "resume", run["name"], "--input", '{"ok": 3}'])
    assert refused.exit_code == 1 and "Cannot resume this run: Reason:" in refused.output
    done = runner.invoke(app, ["flow-run", "resume", run["name"], "--input", '{"ok": true}'])
    assert done.exit_code == 0, done.output
    assert f"Resumed flow run {run['name']!r}" in done.output and "Resuming" in done.output
    again = runner.invoke(app, ["flow-run", "resume", run["id"]])
    assert again.exit_code == 1 and "not PAUSED" in again.output


ASYNC_FILE = """
    from headwater import flow, task
    from headwater.pausing import pause_flow_run_async, suspend_flow_run_async


    @task(persist_result=True)
    async def fetch(x: int) -> int:
        return x + 1


    @flow
    async def gate(x: int = 1, how: str = "suspend") -> int:
        a = await fetch(x)
        if how == "suspend":
            extra = await suspend_flow_run_async(wait_for_input=int, key="k")
        else:
            extra = await pause_flow_run_async(wait_for_input=int, reschedule=True)
        return a + extra
"""


@pytest.mark.parametrize("how", ["suspend", "pause"])
def test_an_async_flow_suspends_and_resumes(home: Path, tmp_path: Path, how: str) -> None:
    write(tmp_path / "code" / "flows", "gate.py", ASYNC_FILE)

    async def deploy(client: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        flow = await client.request("POST", "flows/", json={"name": "gate"})
        version, _ = await client.create_deployment(
            name="prod", flow_id=flow["id"], entrypoint="flows/gate.py:gate",
            code_location={"kind": "local", "path": str(tmp_path / "code")})
        run = await client.create_flow_run_from_deployment(version["id"],
                                                           parameters={"how": how})
        return version, run

    version, run = _api(deploy)
    assert execute_flow_run(run["id"], deployment=version).is_paused()
    resume_flow_run(run["id"], run_input={"value": 40})
    assert execute_flow_run(run["id"], deployment=version).result() == 42


def test_run_input_save_and_load_through_the_input_store(home: Path) -> None:
    from headwater import flow
    from headwater.input import (
        RunInput,
        create_flow_run_input,
        create_flow_run_input_from_model,
        delete_flow_run_input,
        filter_flow_run_input,
        keyset_from_base_key,
        read_flow_run_input,
    )

    class Approval(RunInput):
        ok: bool

    keyset = keyset_from_base_key("suspended-k")

    @flow
    def f() -> tuple[Any, ...]:
        Approval.with_initial_data(description="Approve?", ok=True).save(keyset)
        create_flow_run_input(keyset["response"], {"ok": False})
        loaded = Approval.load(keyset)
        create_flow_run_input_from_model("model", Approval(ok=True))
        found = filter_flow_run_input("suspended-k-", limit=5, exclude_keys={keyset["response"]})
        delete_flow_run_input("model")
        return (loaded, read_flow_run_input(keyset["description"]),
                [i.key for i in found], read_flow_run_input("model"),
                read_flow_run_input(keyset["schema"])["properties"]["ok"]["default"])

    loaded, description, keys, deleted, default = f()
    assert loaded.ok is False and loaded.metadata.key == keyset["response"]
    assert description == "Approve?" and deleted is None and default is True
    assert sorted(keys) == [keyset["description"], keyset["schema"]]


LOCKED_FILE = """
    from pathlib import Path

    from headwater import flow, task
    from headwater.pausing import suspend_flow_run


    @task(persist_result=True)
    def first(folder: str) -> int:
        path = Path(folder) / "first"
        path.write_text(str(int(path.read_text()) + 1 if path.exists() else 1))
        return 1


    @flow
    def locked(folder: str) -> int:
        value = first(folder)
        suspend_flow_run(timeout=600, key="gate")
        return value + 1
"""


def test_a_version_locked_run_that_was_suspended_runs_again_after_resume(
        target_home: Path, tmp_path: Path) -> None:
    write(tmp_path / "code" / "flows", "locked.py", LOCKED_FILE)
    counts = tmp_path / "counts"
    counts.mkdir()

    async def deploy(client: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        flow = await client.request("POST", "flows/", json={"name": "locked"})
        version, _ = await client.create_deployment(
            name="prod", flow_id=flow["id"], entrypoint="flows/locked.py:locked",
            code_location={"kind": "local", "path": str(tmp_path / "code")},
            version_lock=True)
        run = await client.create_flow_run_from_deployment(
            version["id"], parameters={"folder": str(counts)})
        return version, run

    version, run = _api(deploy)
    assert version["version_lock"] is True
    assert execute_flow_run(run["id"], deployment=version).is_paused()
    resume_flow_run(run["id"])
    # The suspended process's lock is released by the resume: the re-run is not refused.
    state = execute_flow_run(run["id"], deployment=version)
    assert state.is_completed() and state.result() == 2
    assert _counts(counts) == {"first": 1}
