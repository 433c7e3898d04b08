"""Interrupts end runs Crashed (with on_crashed hooks) and are re-raised."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from headwater import flow, get_run_context, task
from headwater.client import get_client
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


def _terminate_when_started(script: str, *, started: int = 1,
                            home: Path | None = None) -> tuple[str, str, int]:
    """Run ``script``; send SIGTERM once it printed ``started`` STARTED lines.

    Returns its stdout, stderr and exit status. Waits for the lines, never
    for a fixed time, so a loaded machine only makes it slower.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    if home is not None:
        env["HEADWATER_HOME"] = str(home)
    else:
        env["HEADWATER_API_ENABLE_RECORDING"] = "false"
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        while sum(line.startswith("STARTED") for line in lines) < started:
            line = proc.stdout.readline()
            if not line:
                break  # it ended early: the caller's asserts show its output
            lines.append(line)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return "".join(lines) + out, err, proc.returncode


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

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


@posix_only
def test_sigterm_crashes_flow_and_kills_process() -> None:
    out, err, status = _terminate_when_started(SIGTERM_SCRIPT)
    assert "CRASHED HOOK: Crashed - Execution was aborted by a termination signal." in out
    assert "NOT REACHED" not in out
    assert status == -signal.SIGTERM, err


ASYNC_SIGTERM_SCRIPT = textwrap.dedent("""
    import asyncio
    from headwater import flow, get_run_context, task
    from headwater.logging.handlers import set_default_log_sink

    class PrintSink:  # shows which log records were shipped before the process ended
        def send(self, batch):
            for record in batch:
                print("SHIPPED:", record["message"], flush=True)

    task_runs = []

    def on_crashed(flow, flow_run, state):
        print("CRASHED HOOK:", state.name, "-", state.message, "-", state.data, flush=True)
        for run in task_runs:
            print("TASK RUN:", run.state.name, "-", run.state.message, flush=True)

    @task
    async def slow():
        task_runs.append(get_run_context().task_run)
        print("STARTED", flush=True)
        await asyncio.sleep(30)

    @flow(on_crashed=[on_crashed])
    async def sleepy():
        await slow()

    if RECORDING:
        print("FLOW RUN:", asyncio.run(sleepy(return_state=True)))
    else:
        set_default_log_sink(PrintSink())
        asyncio.run(sleepy())
    print("NOT REACHED", flush=True)
""")


@posix_only
def test_sigterm_crashes_async_flow_and_its_task_and_kills_process() -> None:
    out, err, status = _terminate_when_started("RECORDING = False\n" + ASYNC_SIGTERM_SCRIPT)
    message = "Execution was aborted by a termination signal."
    assert f"CRASHED HOOK: Crashed - {message} - Received signal SIGTERM" in out, err
    assert f"TASK RUN: Crashed - {message}" in out
    # Log records are shipped (flushed) before the process ends.
    assert f"SHIPPED: Finished in state Crashed('{message}')" in out
    assert "NOT REACHED" not in out
    assert status == -signal.SIGTERM, err


@posix_only
def test_sigterm_during_async_flow_records_the_crash(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    out, err, status = _terminate_when_started("RECORDING = True\n" + ASYNC_SIGTERM_SCRIPT,
                                               home=home)
    assert status == -signal.SIGTERM, err
    assert "CRASHED HOOK: Crashed" in out

    for key in list(os.environ):
        if key.startswith("HEADWATER_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HEADWATER_HOME", str(home))

    async def read() -> tuple[list, list]:
        async with get_client() as client:
            runs = await client.read_flow_runs()
            ids = [run["id"] for run in runs]
            return runs, [await client.read_task_runs(flow_run_id=i) for i in ids]

    # The run's records were shipped before the process ended.
    runs, tasks = asyncio.run(read())
    assert [(r["state_type"], r["state_name"]) for r in runs] == [("CRASHED", "Crashed")], runs
    assert [[t["state_type"] for t in runs_tasks] for runs_tasks in tasks] == [["CRASHED"]]


@posix_only
def test_sigterm_crashes_concurrent_async_flows() -> None:
    script = textwrap.dedent("""
        import asyncio
        from headwater import flow

        def on_crashed(flow, flow_run, state):
            print("CRASHED HOOK:", flow.name, state.name, flush=True)

        @flow(on_crashed=[on_crashed])
        async def sleepy(n: int):
            print("STARTED", n, flush=True)
            await asyncio.sleep(30)

        async def main():
            await asyncio.gather(sleepy(1), sleepy(2))

        asyncio.run(main())
        print("NOT REACHED", flush=True)
    """)
    out, err, status = _terminate_when_started(script, started=2)
    assert out.count("CRASHED HOOK: sleepy Crashed") == 2, err
    assert "NOT REACHED" not in out
    assert status == -signal.SIGTERM, err


@posix_only
def test_sigterm_crashes_async_subflow_of_sync_flow() -> None:
    # The async subflow runs on the runtime loop while the sync parent waits
    # in the main thread: both crash, child first, as with a sync subflow.
    script = textwrap.dedent("""
        import asyncio
        from headwater import flow

        def on_crashed(flow, flow_run, state):
            print("CRASHED HOOK:", flow.name, state.name, "-", state.message, flush=True)

        @flow(on_crashed=[on_crashed])
        async def child():
            print("STARTED", flush=True)
            await asyncio.sleep(30)

        @flow(on_crashed=[on_crashed])
        def parent():
            child()

        parent()
        print("NOT REACHED", flush=True)
    """)
    out, err, status = _terminate_when_started(script)
    hooks = [line for line in out.splitlines() if line.startswith("CRASHED HOOK")]
    message = "Crashed - Execution was aborted by a termination signal."
    assert hooks == [f"CRASHED HOOK: child {message}", f"CRASHED HOOK: parent {message}"], err
    assert status == -signal.SIGTERM, err


@posix_only
def test_async_app_keeps_its_own_sigterm_handler() -> None:
    script = textwrap.dedent("""
        import asyncio, signal
        from headwater import flow

        async def main():
            loop = asyncio.get_running_loop()
            stop = asyncio.Event()
            loop.add_signal_handler(signal.SIGTERM, stop.set)

            @flow(on_crashed=[lambda *args: print("CRASHED HOOK", flush=True)])
            async def service():
                print("STARTED", flush=True)
                await stop.wait()
                return "stopped by the app"

            state = await service(return_state=True)
            print("FINAL:", state.name, "-", state.result(), flush=True)
            print("APP HANDLER KEPT:", loop.remove_signal_handler(signal.SIGTERM), flush=True)

        asyncio.run(main())
    """)
    out, err, status = _terminate_when_started(script)
    assert "FINAL: Completed - stopped by the app" in out, err
    assert "APP HANDLER KEPT: True" in out
    assert "CRASHED HOOK" not in out
    assert status == 0, err


@posix_only
def test_async_flow_that_handles_the_interruption_keeps_the_process() -> None:
    # As a sync flow catching TerminationSignal: the run decides, the process
    # goes on, and SIGTERM has its default action again.
    script = textwrap.dedent("""
        import asyncio, signal
        from headwater import flow

        @flow
        async def careful():
            print("STARTED", flush=True)
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                return "cleaned up"

        async def main():
            state = await careful(return_state=True)
            print("FINAL:", state.name, "-", state.result(), flush=True)
            print("DEFAULT AGAIN:", signal.getsignal(signal.SIGTERM) is signal.SIG_DFL, flush=True)
            print("CANCELLING:", getattr(asyncio.current_task(), "cancelling", lambda: 0)())

        asyncio.run(main())
    """)
    out, err, status = _terminate_when_started(script)
    assert "FINAL: Completed - cleaned up" in out, err
    assert "DEFAULT AGAIN: True" in out
    assert "CANCELLING: 0" in out
    assert status == 0, err


@posix_only
def test_async_flow_handles_sigterm_only_while_it_runs() -> None:
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        pytest.skip("the test process handles SIGTERM itself")
    seen: list = []

    @flow
    async def child() -> None:
        seen.append(signal.getsignal(signal.SIGTERM))

    @flow
    async def parent() -> None:
        seen.append(signal.getsignal(signal.SIGTERM))
        await child()

    asyncio.run(parent())
    assert seen[0] is not signal.SIG_DFL
    assert seen[1] is seen[0]  # one handler, installed by the top-level run
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


@posix_only
def test_async_flow_leaves_a_user_sigterm_handler_alone() -> None:
    def mine(signum, frame) -> None:
        raise AssertionError("not called")

    seen: list = []

    @flow
    async def f() -> None:
        seen.append(signal.getsignal(signal.SIGTERM))

    previous = signal.signal(signal.SIGTERM, mine)
    try:
        asyncio.run(f())
        assert seen == [mine]
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, previous)
