"""``headwater deployment set`` (the liveness switches), ``deployment inspect`` showing them,
and ``headwater deploy --version-lock``: against the embedded API under a temporary home."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from headwater.cli import app


def _deploy(**fields: Any) -> dict[str, Any]:
    from headwater.client import get_client

    with get_client(sync_client=True) as client:
        flow = client.request("POST", "flows/", json={"name": "etl"})
        body = {"name": "nightly", "flow_id": flow["id"], "entrypoint": "flows.py:etl",
                **fields}
        deployment, _ = client.create_deployment(**body)
        return dict(deployment)


def _run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_set_turns_switches_on_and_off_without_a_new_version(home: Path) -> None:
    first = _deploy()
    shown = _run("deployment", "inspect", "etl/nightly")
    assert "Liveness: heartbeats on, Lazarus on, version lock off" in shown.output
    result = _run("deployment", "set", "etl/nightly", "--version-lock", "--no-lazarus")
    assert result.exit_code == 0, result.output
    assert "heartbeats on, Lazarus off, version lock on" in result.output
    after = json.loads(_run("deployment", "inspect", "etl/nightly", "--json").output)
    assert (after["id"], after["version"]) == (first["id"], first["version"])
    assert (after["heartbeat"], after["lazarus"], after["version_lock"]) == (True, False, True)
    again = json.loads(_run("deployment", "set", first["id"][:8], "--no-heartbeat",
                            "--no-version-lock", "--json").output)
    assert (again["heartbeat"], again["lazarus"], again["version_lock"]) == (False, False, False)
    versions = json.loads(_run("deployment", "versions", "etl/nightly", "--json").output)
    assert len(versions) == 1


def test_set_through_an_archived_version_sets_the_deployment(home: Path) -> None:
    old = _deploy(version="1")
    _deploy(version="2")
    result = _run("deployment", "set", old["id"], "--no-heartbeat")
    assert result.exit_code == 0, result.output
    versions = json.loads(_run("deployment", "versions", "etl/nightly", "--json").output)
    assert [v["heartbeat"] for v in versions] == [False, False]


def test_set_without_a_switch_or_with_a_wrong_name_says_what_to_do(home: Path) -> None:
    _deploy()
    nothing = _run("deployment", "set", "etl/nightly")
    assert nothing.exit_code == 1 and "--version-lock" in nothing.output
    missing = _run("deployment", "set", "etl/other", "--version-lock")
    assert missing.exit_code == 1 and "Error:" in missing.output
    assert "Traceback" not in missing.output


@pytest.mark.parametrize("flag, expected", [("--version-lock", (True, True, True)),
                                            ("--no-heartbeat", (False, True, False))])
def test_deploy_takes_the_switches(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   flag: str, expected: tuple[bool, bool, bool]) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "flows.py").write_text(textwrap.dedent("""
        from headwater import flow

        @flow
        def etl() -> int:
            return 1
    """))
    monkeypatch.chdir(code)
    result = _run("deploy", "flows.py:etl", "--name", "prod", flag)
    assert result.exit_code == 0, result.output
    d = json.loads(_run("deployment", "inspect", "etl/prod", "--json").output)
    assert (d["heartbeat"], d["lazarus"], d["version_lock"]) == expected
    # Deploying the same code with the switch turned back changes no version.
    flipped = flag.replace("--no-", "--") if flag.startswith("--no-") else \
        flag.replace("--", "--no-", 1)
    again = _run("deploy", "flows.py:etl", "--name", "prod", flipped)
    assert again.exit_code == 0 and "unchanged" in again.output
    d2 = json.loads(_run("deployment", "inspect", "etl/prod", "--json").output)
    assert d2["id"] == d["id"] and (d2["heartbeat"], d2["version_lock"]) == (True, False)
