"""``headwater deploy`` and ``python -m headwater.engine``, as users run them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .processes import api, clean_env, write

FLOW = """
    from headwater import flow, task

    @task
    def load(n: int) -> int:
        return n

    @flow
    def etl(n: int = 1) -> int:
        return load(n) * 2
"""


@pytest.fixture
def settings(tmp_path: Path) -> dict[str, str]:
    return {"HEADWATER_HOME": str(tmp_path / "home")}


def run(settings: dict[str, str], cwd: Path, *args: str,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], env=clean_env({**settings, **(env or {})}),
                          cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def deploy(settings: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(settings, cwd, "-m", "headwater.cli", "deploy", "flows/etl.py:etl", "--name",
               "prod", *args)


def versions(settings: dict[str, str]) -> list[dict[str, Any]]:
    return list(api(settings, lambda c: c.read_deployment_versions("etl/prod")))


@pytest.mark.slow
def test_deploying_twice_unchanged_keeps_one_version_and_a_change_archives_it(
        settings: dict[str, str], tmp_path: Path) -> None:
    write(tmp_path / "flows", "etl.py", FLOW)
    first = deploy(settings, tmp_path, "--cron", "0 * * * *", "--param", "n=5")
    assert first.returncode == 0, first.stderr
    assert "registered deployment 'etl/prod' version" in first.stdout
    again = deploy(settings, tmp_path, "--cron", "0 * * * *", "--param", "n=5")
    assert again.returncode == 0, again.stderr
    [only] = versions(settings)
    assert again.stdout.startswith(f"unchanged: version {only['version']} already registered")
    assert only["parameters"] == {"n": 5} and only["entrypoint"] == "flows/etl.py:etl"
    assert only["code_location"] == {"kind": "local", "path": str(tmp_path.resolve()),
                                     "url": None, "commit": None, "subdirectory": None} or \
        only["code_location"]["path"] == str(tmp_path.resolve())

    write(tmp_path / "flows", "etl.py", FLOW.replace("* 2", "* 3"))
    changed = deploy(settings, tmp_path, "--cron", "0 * * * *", "--param", "n=5")
    assert "registered deployment" in changed.stdout, changed.stderr
    by_version = {v["version"]: v for v in versions(settings)}
    assert len(by_version) == 2
    assert by_version[only["version"]]["archived"] is True


def test_deploy_refuses_what_is_not_a_flow_and_missing_required_parameters(
        settings: dict[str, str], tmp_path: Path) -> None:
    write(tmp_path / "flows", "etl.py", FLOW.replace("n: int = 1", "n: int"))
    result = run(settings, tmp_path, "-m", "headwater.cli", "deploy", "flows/etl.py:load",
                 "--name", "prod")
    assert result.returncode == 1
    assert "'load' in flows/etl.py is a task, not a flow" in result.stderr
    assert "Flows defined at the top level of flows/etl.py: etl." in result.stderr
    result = deploy(settings, tmp_path, "--interval", "60")
    assert result.returncode == 1
    assert "Flow 'etl' requires 'n', which neither the deployment's parameters" in result.stderr


@pytest.mark.slow
def test_the_engine_runs_a_deployment_run_and_fails_one_whose_code_is_gone(
        settings: dict[str, str], tmp_path: Path) -> None:
    write(tmp_path / "flows", "etl.py", FLOW)
    assert deploy(settings, tmp_path, "--param", "n=4").returncode == 0
    [version] = versions(settings)

    def new_run() -> str:
        created = api(settings, lambda c: c.create_flow_run_from_deployment(version["id"]))
        return str(created["id"])

    ok = new_run()
    result = run(settings, tmp_path / "home", "-m", "headwater.engine",
                 env={"HEADWATER__FLOW_RUN_ID": ok})
    assert result.returncode == 0, result.stderr
    stored = api(settings, lambda c: c.read_flow_run(ok))
    assert stored["state_type"] == "COMPLETED" and stored["deployment_id"] == version["id"]

    (tmp_path / "flows" / "etl.py").unlink()
    gone = new_run()
    result = run(settings, tmp_path / "home", "-m", "headwater.engine",
                 env={"HEADWATER__FLOW_RUN_ID": gone})
    assert result.returncode == 1
    assert "ModuleNotFoundError" not in result.stderr
    stored = api(settings, lambda c: c.read_flow_run(gone))
    assert stored["state_type"] == "FAILED"
    assert "The entrypoint file 'flows/etl.py' is not in" in stored["state"]["message"]

    orphan = new_run()
    api(settings, lambda c: c.delete_deployment(version["id"]))
    result = run(settings, tmp_path, "-m", "headwater.engine",
                 env={"HEADWATER__FLOW_RUN_ID": orphan})
    assert result.returncode == 1
    stored = api(settings, lambda c: c.read_flow_run(orphan))
    assert stored["state_type"] == "FAILED"
    assert f"The deployment version {version['id']} of flow run {orphan} was deleted" in \
        stored["state"]["message"]

    result = run(settings, tmp_path, "-m", "headwater.engine",
                 env={"HEADWATER__FLOW_RUN_ID": "not-an-id"})
    assert result.returncode == 1 and "'not-an-id' is not a flow run id" in result.stderr
    result = run(settings, tmp_path, "-m", "headwater.engine")
    assert result.returncode == 2 and "set HEADWATER__FLOW_RUN_ID" in result.stderr


@pytest.mark.slow
def test_a_deployment_from_a_git_commit_runs_anywhere(settings: dict[str, str],
                                                      tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(repo / "flows", "etl.py", FLOW)

    def git(*args: str) -> str:
        return subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args],
                              cwd=repo, check=True, capture_output=True, text=True).stdout.strip()

    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "etl")
    commit = git("rev-parse", "HEAD")
    result = deploy(settings, repo, "--git-url", repo.as_uri(), "--commit", commit)
    assert result.returncode == 0, result.stderr
    [version] = versions(settings)
    assert version["code_location"]["url"] == repo.as_uri()
    assert version["code_location"]["commit"] == commit

    # Not committed, so not what runs:
    write(repo / "flows", "etl.py", FLOW.replace("return load(n) * 2", "raise RuntimeError"))
    created = api(settings, lambda c: c.create_flow_run_from_deployment(
        version["id"], parameters={"n": 3}))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run(settings, elsewhere, "-m", "headwater.engine",
                 env={"HEADWATER__FLOW_RUN_ID": str(created["id"])})
    assert result.returncode == 0, result.stderr
    stored = api(settings, lambda c: c.read_flow_run(created["id"]))
    assert stored["state_type"] == "COMPLETED"
    assert any((Path(settings["HEADWATER_HOME"]) / "code" / "git").iterdir())
