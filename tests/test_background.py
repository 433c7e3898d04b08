"""The background loop: one loop and at most two long-lived threads, whatever a flow uses.

Each scenario runs in a fresh interpreter, so the threads listed are the
ones a user's process would have: none started by other tests.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from headwater._private import background

# A sync flow that records (default), logs, prints, takes slots of a tag limit
# in the embedded database, and runs an async task (on the background loop),
# both called and submitted; the thread names are read inside a task and after.
_SYNC_SCENARIO = """
import json, threading
from headwater import flow, task, get_run_logger

def names():
    return sorted(t.name for t in threading.enumerate())

@task(tags=["db"])
def limited(i):
    get_run_logger().info("task %s", i)
    return names()

@task
async def on_loop(i):
    return names()

@flow(log_prints=True)
def main():
    print("hello")
    seen = [limited(0), on_loop(1)]
    seen += limited.map(range(4)).result()
    seen += [on_loop.submit(2).result()]
    return seen

during = main()
print(json.dumps({"during": during, "after": names()}))
"""

# The same from an async flow run by asyncio.run: the user's loop runs the
# flow and its async tasks; headwater adds its background threads only.
_ASYNC_SCENARIO = """
import asyncio, json, threading
from headwater import flow, task, get_run_logger

def names():
    return sorted(t.name for t in threading.enumerate())

@task(tags=["db"])
async def limited(i):
    get_run_logger().info("task %s", i)
    await asyncio.sleep(0.01)
    return names()

@task
def sync_task(i):
    return names()

@flow(log_prints=True)
async def main():
    print("hello")
    seen = [await limited(0), sync_task(1)]
    seen += [await f.result_async() for f in limited.map(range(4))]
    return seen

during = asyncio.run(main())
print(json.dumps({"during": during, "after": names()}))
"""

_ALLOWED = {"MainThread", background.LOOP_THREAD_NAME, background.IO_THREAD_NAME}


def _run(script: str, home: Path) -> dict[str, list[object]]:
    # The limit is made by another process, as the CLI would: creating one
    # goes through the API app (its own database threads), running flows not.
    _create_limit(home, "db", 2)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    env["HEADWATER_HOME"] = str(home)
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result: dict[str, list[object]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _create_limit(home: Path, tag: str, limit: int) -> None:
    script = (f"from headwater.concurrency import set_concurrency_limit; "
              f"set_concurrency_limit({tag!r}, {limit})")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    env["HEADWATER_HOME"] = str(home)
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=120)


def _headwater_threads(names: list[str]) -> set[str]:
    """Threads that are neither the task runner's workers nor the main thread."""
    return {n for n in names if not n.startswith("headwater-task")} - {"MainThread"}


@pytest.mark.slow
@pytest.mark.parametrize("script", [_SYNC_SCENARIO, _ASYNC_SCENARIO], ids=["sync", "async"])
def test_a_process_running_flows_has_one_loop_and_two_threads(script: str,
                                                              tmp_path: Path) -> None:
    seen = _run(script, tmp_path / "home")
    for names in [*seen["during"], seen["after"]]:
        assert isinstance(names, list)
        extra = _headwater_threads([str(n) for n in names])
        assert extra <= _ALLOWED, f"unexpected threads: {sorted(extra - _ALLOWED)}"
        assert len(extra) <= 2
    # The recorder, the log shipper and the slots all ran, so the loop did too.
    assert background.LOOP_THREAD_NAME in _headwater_threads([str(n) for n in seen["after"]])


def test_run_blocking_keeps_the_order_of_calls() -> None:
    order: list[int] = []

    async def scenario() -> None:
        await asyncio.gather(*(background.run_blocking(order.append, i) for i in range(50)))

    background.run(scenario)
    assert order == list(range(50))


def test_run_blocking_raises_the_calls_error() -> None:
    def fails() -> None:
        raise ValueError("no disk")

    async def scenario() -> None:
        await background.run_blocking(fails)

    with pytest.raises(ValueError, match="no disk"):
        background.run(scenario)


def test_run_from_the_loops_own_thread_does_not_deadlock() -> None:
    async def inner() -> str:
        return threading.current_thread().name

    async def outer() -> str:
        # Sync code on the loop's thread asking for async work (a sync task
        # called directly by an async task): a helper thread serves it.
        return background.run(inner)

    assert background.run(outer) == "headwater-nested-loop"


def test_a_waker_set_from_another_thread_ends_the_wait() -> None:
    waker = background.Waker()
    started = threading.Event()

    async def wait() -> bool:
        started.set()
        return await waker.wait(60)

    future = background.submit(wait)
    started.wait(10)
    # The wait may not have begun when set() comes: it is set again until seen.
    while not future.done():
        waker.set()
        time.sleep(0.001)
    assert future.result() is True


def test_a_waker_times_out_when_not_set() -> None:
    async def wait() -> bool:
        return await background.Waker().wait(0)

    assert background.run(wait) is False


def test_a_spawned_service_error_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    async def broken() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        background.spawn(broken, "test service").result(10)
    assert any("test service" in r.getMessage() for r in caplog.records)
