"""Interrupts end runs Crashed (with on_crashed hooks) and are re-raised."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from headwater import flow, get_run_context, task
from headwater.states import StateType


def crashed_hook(log: list):
    def hook(flow_, run, state):
        log.append((flow_.name, state.type, state.message))

    return hook


@pytest.mark.parametrize(
    ("exc_type", "message"),
    [(KeyboardInterrupt, "Execution was aborted by an interrupt signal."),
     (SystemExit, "Execution was aborted by Python system exit call.")],
)
def test_interrupt_in_task_crashes_task_and_flow(exc_type, message) -> None:
    log: list = []
    task_runs: list = []

    @task
    def interrupted() -> None:
        task_runs.append(get_run_context().task_run)
        raise exc_type()

    @flow(on_crashed=[crashed_hook(log)], on_failure=[crashed_hook(log)])
    def f() -> None:
        interrupted()

    with pytest.raises(exc_type):
        f()
    assert task_runs[0].state.type is StateType.CRASHED
    assert task_runs[0].state.message == message
    assert log == [("f", StateType.CRASHED, message)]


def test_interrupt_in_flow_body() -> None:
    log: list = []
    runs: list = []

    @flow(on_crashed=[crashed_hook(log)])
    def f() -> None:
        runs.append(get_run_context().flow_run)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        f()
    assert runs[0].state.is_crashed()
    assert len(log) == 1


def test_interrupt_in_subflow_crashes_both() -> None:
    log: list = []

    @flow(on_crashed=[crashed_hook(log)])
    def child() -> None:
        raise SystemExit(3)

    @flow(on_crashed=[crashed_hook(log)])
    def parent() -> None:
        child()

    with pytest.raises(SystemExit):
        parent()
    assert [name for name, *_ in log] == ["child", "parent"]


def test_cancellation_gives_cancelled_state() -> None:
    log: list = []
    runs: list = []

    @flow(on_cancellation=[crashed_hook(log)])
    async def f() -> None:
        runs.append(get_run_context().flow_run)
        raise asyncio.CancelledError()

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(f())
    assert runs[0].state.is_cancelled()
    assert log[0][1] is StateType.CANCELLED


SIGTERM_SCRIPT = textwrap.dedent("""
    import time
    from headwater import flow

    def on_crashed(flow, flow_run, state):
        print("CRASHED HOOK:", state.name, "-", state.message, flush=True)

    @flow(on_crashed=[on_crashed])
    def sleepy():
        print("STARTED", flush=True)
        time.sleep(30)

    sleepy()
    print("NOT REACHED", flush=True)
""")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_crashes_flow_and_kills_process() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    proc = subprocess.Popen([sys.executable, "-c", SIGTERM_SCRIPT], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.strip() == "STARTED"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert "CRASHED HOOK: Crashed - Execution was aborted by a termination signal." in out
    assert "NOT REACHED" not in out
    assert proc.returncode == -signal.SIGTERM, err
