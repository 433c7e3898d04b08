"""Cancelling and resuming a flow run that runs in another process, through the API.

The flow runs in a subprocess recording to a home of its own (embedded
SQLite) or to a real uvicorn server; the test process asks through the CLI
or the public functions, and the subprocess's watcher (polling every 0.1 s
here) acts on the request.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from headwater import cancel_flow_run, flow
from headwater.cli import app
from headwater.client import get_client
from headwater.exceptions import FlowRunStateError, NotPausedError, ObjectNotFound
from headwater.pausing import resume_flow_run
from headwater.settings import temporary_settings

INTERVAL = 0.1
runner = CliRunner()

SLOW_LOOP = """
    import time
    from headwater import flow, task, runtime

    @task
    def step(i):
        time.sleep(0.05)
        return i

    def on_cancellation(flow, flow_run, state):
        print("HOOK", state.type.value, state.message, flush=True)

    @flow(on_cancellation=[on_cancellation])
    def looper():
        print("ID", runtime.flow_run.id, flush=True)
        for i in range(2000):
            step(i)

    looper()
    print("NOT REACHED", flush=True)
"""

PAUSED = """
    from pydantic import BaseModel
    from headwater import flow, runtime
    from headwater.pausing import pause_flow_run

    class Approval(BaseModel):
        approved: bool
        reviewer: str

    @flow
    def publish():
        print("ID", runtime.flow_run.id, flush=True)
        answer = pause_flow_run(wait_for_input=Approval, timeout=60)
        print("GOT", answer.approved, answer.reviewer, flush=True)

    publish()
"""


class Child:
    """A flow script in a subprocess; its stdout lines arrive in a queue."""

    def __init__(self, tmp_path: Path, source: str, env: dict[str, str]) -> None:
        script = tmp_path / "child.py"
        script.write_text(textwrap.dedent(source), encoding="utf-8")
        self.proc = subprocess.Popen([sys.executable, str(script)], env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def expect(self, prefix: str, timeout: float = 30.0) -> str:
        """The next line starting with ``prefix`` (fails after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"no {prefix!r} line within {timeout} s; got {self.seen}; "
                            f"stderr: {self._stderr()}")
            self.seen.append(line)
            if line.startswith(prefix):
                return line

    def _stderr(self) -> str:
        if self.proc.poll() is None:
            return "(still running)"
        assert self.proc.stderr is not None
        return self.proc.stderr.read()[-2000:]

    def wait(self, timeout: float = 30.0) -> tuple[int, str]:
        """Exit code and stderr."""
        _, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


@pytest.fixture(params=["embedded", "server"])
def api(request: pytest.FixtureRequest, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The settings both processes share: a home of their own, and for "server" a live API."""
    for key in list(os.environ):
        if key.startswith("HEADWATER_"):
            monkeypatch.delenv(key)
    settings = {"HEADWATER_HOME": str(tmp_path / "home"),
                "HEADWATER_FLOW_RUN_WATCH_INTERVAL": str(INTERVAL),
                "HEADWATER_LOGGING_LEVEL": "WARNING"}
    try:
        if request.param == "embedded":
            with temporary_settings(**settings):
                yield settings
            return
        from headwater.server.app import create_app
        from server.server_helpers import LiveServer

        application = create_app(f"sqlite:///{tmp_path / 'server.db'}", use_settings=False)
        with LiveServer(application) as server:
            settings["HEADWATER_API_URL"] = server.url
            with temporary_settings(**settings):
                yield settings
    finally:
        # The CLI applied logging at WARNING in this process: later tests log at INFO.
        from headwater._private.logging_config import setup_logging

        setup_logging()


def child(tmp_path: Path, source: str, settings: dict[str, str]) -> Child:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    return Child(tmp_path, source, {**env, **settings})


def cli(*args: str) -> Any:
    return runner.invoke(app, list(args))


async def _read(flow_run_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    async with get_client() as client:
        return (await client.read_flow_run(flow_run_id),
                await client.read_flow_run_states(flow_run_id))


def stored(flow_run_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The flow run and its state history, as the API has them."""
    import asyncio

    return asyncio.run(_read(flow_run_id))


def wait_stored(flow_run_id: str, state_type: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            run, _ = stored(flow_run_id)
        except Exception:  # not recorded yet
            run = {}
        if (run.get("state") or {}).get("type") == state_type:
            return run
        assert time.monotonic() < deadline, f"not {state_type} within {timeout} s: {run}"
        time.sleep(0.05)


@pytest.mark.slow
def test_cli_cancels_a_flow_running_in_another_process(tmp_path: Path,
                                                       api: dict[str, str]) -> None:
    proc = child(tmp_path, SLOW_LOOP, api)
    try:
        run_id = proc.expect("ID").split()[1]
        wait_stored(run_id, "RUNNING")
        result = cli("flow-run", "cancel", run_id, "--reason", "enough", "--wait")
        assert result.exit_code == 0, result.output
        assert "Cancelling" in result.output and run_id in result.output
        assert result.output.rstrip().endswith("is Cancelled.")  # --wait: until it stopped
        assert proc.expect("HOOK") == "HOOK CANCELLED enough"
        code, err = proc.wait()
    finally:
        proc.kill()
    assert code == 1 and "CancelledRun: enough" in err  # calling a cancelled flow raises
    assert "NOT REACHED" not in proc.seen
    run = wait_stored(run_id, "CANCELLED")
    assert run["state"]["message"] == "enough"
    _, states = stored(run_id)
    assert [s["type"] for s in states][-2:] == ["CANCELLING", "CANCELLED"]


@pytest.mark.slow
def test_a_paused_flow_in_another_process_is_resumed_with_input(tmp_path: Path,
                                                                api: dict[str, str]) -> None:
    proc = child(tmp_path, PAUSED, api)
    try:
        run_id = proc.expect("ID").split()[1]
        wait_stored(run_id, "PAUSED")
        # Invalid input cannot be checked here: the paused process logs it, records
        # Paused again and keeps waiting.
        resume_flow_run(run_id, run_input={"approved": "perhaps"})
        run = wait_stored(run_id, "PAUSED")
        assert "does not match Approval" in run["state"]["message"]
        resume_flow_run(run_id, run_input={"approved": True, "reviewer": "ana"})
        assert proc.expect("GOT") == "GOT True ana"
        code, err = proc.wait()
    finally:
        proc.kill()
    assert code == 0, err
    wait_stored(run_id, "COMPLETED")
    _, states = stored(run_id)
    resumes = [s for s in states if s["message"] == "Resumed through the API."]
    assert [r["state_details"]["run_input"] for r in resumes] == [
        {"approved": "perhaps"}, {"approved": True, "reviewer": "ana"}]
    with pytest.raises(NotPausedError, match="is COMPLETED, not PAUSED"):
        resume_flow_run(run_id)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for key in list(os.environ):
        if key.startswith("HEADWATER_"):
            monkeypatch.delenv(key)
    with temporary_settings(HEADWATER_HOME=str(tmp_path / "home"),
                            HEADWATER_FLOW_RUN_WATCH_INTERVAL=str(INTERVAL)):
        yield tmp_path / "home"


@pytest.mark.slow
def test_cancelling_a_finished_run_says_in_which_state(home: Path) -> None:
    @flow
    def quick() -> int:
        return 1

    state = quick(return_state=True)
    run_id = str(state.state_details.flow_run_id)
    with pytest.raises(FlowRunStateError, match="already finished in state COMPLETED"):
        cancel_flow_run(run_id)
    result = cli("flow-run", "cancel", run_id)
    assert result.exit_code == 1
    assert "already finished in state COMPLETED" in result.output
    assert stored(run_id)[0]["state"]["type"] == "COMPLETED"


def test_an_unknown_run_is_named_in_the_error(home: Path) -> None:
    missing = uuid.uuid4()
    with pytest.raises(ObjectNotFound, match="nothing was recorded"):
        cancel_flow_run(missing)
    assert not (home / "headwater.db").exists()  # looking does not create the database

    @flow
    def quick() -> None:
        return None

    quick()
    with pytest.raises(ObjectNotFound, match=str(missing)) as info:
        cancel_flow_run(missing)
    assert "HEADWATER_API_ENABLE_RECORDING=false" in str(info.value)
    with pytest.raises(ObjectNotFound, match=str(missing)):
        resume_flow_run(missing, run_input={"x": 1})
    result = cli("flow-run", "cancel", str(missing))
    assert result.exit_code == 1 and str(missing) in result.output
    assert "no flow run with id or name 'nope'" in cli("flow-run", "cancel", "nope").output


def test_a_run_that_is_not_paused_cannot_be_resumed(home: Path) -> None:
    seen: list[str] = []

    @flow
    def busy() -> None:
        from headwater import runtime

        run_id = str(runtime.flow_run.id)
        wait_stored(run_id, "RUNNING")
        try:  # not paused in this process: asks the API, which says why not
            resume_flow_run(run_id)
        except NotPausedError as exc:
            seen.append(str(exc))

    busy()
    assert len(seen) == 1 and "is RUNNING, not PAUSED" in seen[0]


def test_run_input_for_another_process_must_be_json(home: Path) -> None:
    from headwater.exceptions import RunInputError

    with pytest.raises(RunInputError, match="JSON-serialisable"):
        resume_flow_run(uuid.uuid4(), run_input={"x": object()})
