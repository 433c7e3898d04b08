"""Running a stored flow run as itself (``execute_flow_run``), and finding its code."""

from __future__ import annotations

import asyncio
import subprocess
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

from headwater._private.deployments.execute import FlowRunNotRunnable, execute_flow_run
from headwater.client import get_client

FLOW_FILE = """
    from headwater import flow, get_run_logger, runtime, task

    @task
    def double(x: int) -> int:
        return 2 * x

    @flow(log_prints=True)
    def etl(x: int, label: str = "plain") -> int:
        print(f"deployment {runtime.deployment.name} version {runtime.deployment.version}")
        get_run_logger().info("run %s label %s", runtime.flow_run.name, label)
        return double(x)
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def new_run(flow_name: str = "etl", **fields: Any) -> dict[str, Any]:
    """A Scheduled flow run created through the API, as a deployment's would be."""
    async def create() -> dict[str, Any]:
        async with get_client() as client:
            flow = await client.request("POST", "flows/", json={"name": flow_name})
            body = {"flow_id": flow["id"], "name": "stored-run",
                    "state": {"type": "SCHEDULED", "name": "Scheduled"}, **fields}
            return dict(await client.request("POST", "flow_runs/", json=body))

    return asyncio.run(create())


def read(run_id: Any) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]],
                                list[dict[str, Any]]]:
    async def go() -> Any:
        async with get_client() as client:
            return (await client.read_flow_run(run_id), await client.read_flow_run_states(run_id),
                    await client.read_task_runs(flow_run_id=run_id),
                    await client.read_logs(flow_run_id=run_id))

    return asyncio.run(go())  # type: ignore[no-any-return]


def deployment(root: Path, entrypoint: str = "flows/etl.py:etl", **fields: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "name": "prod", "version": "v1",
            "entrypoint": entrypoint, "parameters": {"label": "from-deployment"},
            "code_location": {"kind": "local", "path": str(root)}, **fields}


def test_a_stored_run_runs_as_itself_with_the_deployment_parameters(target_home: Path,
                                                                     tmp_path: Path) -> None:
    write(tmp_path / "code" / "flows", "etl.py", FLOW_FILE)
    run = new_run(parameters={"x": 21})
    state = execute_flow_run(run["id"], deployment=deployment(tmp_path / "code"))
    assert state.is_completed() and state.result() == 42

    stored, states, tasks, logs = read(run["id"])
    assert stored["state_type"] == "COMPLETED" and stored["name"] == "stored-run"
    assert stored["run_count"] == 1 and stored["start_time"] is not None
    assert [s["name"] for s in states] == ["Scheduled", "Pending", "Running", "Completed"]
    assert [t["name"] for t in tasks] == ["double-0"]
    messages = [line["message"] for line in logs]
    assert "deployment prod version v1" in messages
    assert "run stored-run label from-deployment" in messages

    async def count() -> int:
        async with get_client() as client:
            return len(await client.read_flow_runs(flow_name="etl"))

    assert asyncio.run(count()) == 1  # no second row


def test_a_claimed_run_is_not_given_a_second_pending_state(target_home: Path,
                                                           tmp_path: Path) -> None:
    write(tmp_path / "code" / "flows", "etl.py", FLOW_FILE)
    run = new_run(parameters={"x": 1})

    async def claim() -> dict[str, Any]:
        async with get_client() as client:
            return await client.set_flow_run_state(run["id"], {"type": "PENDING"},
                                                   expected_state_version=run["state_version"])

    assert asyncio.run(claim())["status"] == "ACCEPT"
    assert execute_flow_run(run["id"], deployment=deployment(tmp_path / "code")).is_completed()
    _, states, _, _ = read(run["id"])
    assert [s["name"] for s in states] == ["Scheduled", "Pending", "Running", "Completed"]


def test_a_run_that_ended_is_not_run_again(home: Path, tmp_path: Path) -> None:
    write(tmp_path / "code" / "flows", "etl.py", FLOW_FILE)
    run = new_run(parameters={"x": 1})
    execute_flow_run(run["id"], deployment=deployment(tmp_path / "code"))
    with pytest.raises(FlowRunNotRunnable, match="Completed, not Scheduled or Pending"):
        execute_flow_run(run["id"], deployment=deployment(tmp_path / "code"))


@pytest.mark.parametrize(("entrypoint", "files", "expected"), [
    ("flows/etl.py:etl", {}, "The entrypoint file 'flows/etl.py' is not in"),
    ("flows/etl.py:nope", {"etl.py": FLOW_FILE},
     "'flows/etl.py' has no 'nope' at module level (flows in it: etl)"),
    ("flows/etl.py:double", {"etl.py": FLOW_FILE}, "'double' in 'flows/etl.py' is a Task, "
     "not a flow"),
    ("flows/etl.py:etl", {"etl.py": "import not_installed_anywhere\n"},
     "module 'not_installed_anywhere' was not found. Install it"),
    ("flows/etl.py:etl", {"etl.py": "raise RuntimeError('boom')\n"},
     "Importing 'flows/etl.py' failed: RuntimeError: boom"),
    ("etl", {}, "is not of the form 'path/to/file.py:flow_function'"),
])
def test_missing_code_fails_the_run_with_a_message_naming_it(
        home: Path, tmp_path: Path, entrypoint: str, files: dict[str, str],
        expected: str) -> None:
    for name, text in files.items():
        write(tmp_path / "code" / "flows", name, text)
    (tmp_path / "code").mkdir(exist_ok=True)
    run = new_run()
    state = execute_flow_run(run["id"], deployment=deployment(tmp_path / "code", entrypoint))
    assert state.is_failed() and expected in str(state.message)
    stored, _, _, logs = read(run["id"])
    assert stored["state_type"] == "FAILED" and expected in stored["state"]["message"]
    assert any(expected in line["message"] for line in logs)


def test_a_missing_code_folder_names_it(home: Path, tmp_path: Path) -> None:
    run = new_run()
    state = execute_flow_run(run["id"], deployment=deployment(tmp_path / "gone"))
    assert state.is_failed()
    assert f"code folder {str(tmp_path / 'gone')!r} does not exist" in str(state.message)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def make_repo(path: Path) -> tuple[str, str]:
    """A git repository with two commits of flows/etl.py; returns their hashes."""
    write(path / "flows", "etl.py", FLOW_FILE)
    git(path, "init", "-q")
    git(path, "-c", "user.email=t@t", "-c", "user.name=t", "add", ".")
    git(path, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "one")
    first = git(path, "rev-parse", "HEAD")
    write(path / "flows", "etl.py", FLOW_FILE.replace("2 * x", "3 * x"))
    git(path, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qam", "two")
    return first, git(path, "rev-parse", "HEAD")


def test_code_from_a_git_repository_at_a_commit(home: Path, tmp_path: Path) -> None:
    first, second = make_repo(tmp_path / "repo")
    url = (tmp_path / "repo").as_uri()
    for commit, expected in ((first, 10), (second, 15), (first, 10)):
        run = new_run(parameters={"x": 5})
        location = {"kind": "git", "url": url, "commit": commit}
        state = execute_flow_run(run["id"], deployment=deployment(tmp_path, code_location=location))
        assert state.result() == expected
    cached = list((home / "code" / "git").iterdir())
    assert len(cached) == 2  # one checkout per commit, reused


def test_an_unknown_commit_fails_the_run_naming_it(home: Path, tmp_path: Path) -> None:
    make_repo(tmp_path / "repo")
    run = new_run()
    location = {"kind": "git", "url": (tmp_path / "repo").as_uri(), "commit": "0" * 40}
    state = execute_flow_run(run["id"], deployment=deployment(tmp_path, code_location=location))
    assert state.is_failed()
    assert f"Could not check out commit {'0' * 40} of the git repository" in str(state.message)
