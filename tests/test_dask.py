"""DaskTaskRunner on a real LocalCluster with worker processes (the ``headwater[dask]`` extra).

One cluster (2 worker processes, 1 thread each) serves the whole module;
each flow connects to it by address. The tests that need a cluster of their
own (a temporary one, sized by a flow parameter) make it.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Skips only for users without the extra (CI installs it: tests/test_extras_installed.py).
distributed = pytest.importorskip(
    "distributed", reason="the dask extra is not installed: pip install -e '.[test]'")

from headwater import allow_failure, cancel_flow_run, flow, get_run_logger, runtime, task  # noqa: E402
from headwater._private import recording  # noqa: E402
from headwater.client import get_client  # noqa: E402
from headwater.dask import get_dask_client  # noqa: E402
from headwater.settings import temporary_settings  # noqa: E402
from headwater.states import StateType  # noqa: E402
from headwater.task_runners import DaskTaskRunner  # noqa: E402
from headwater.triggers import any_failed  # noqa: E402

pytestmark = pytest.mark.slow

CLUSTER = {"n_workers": 2, "threads_per_worker": 1, "processes": True,
           "dashboard_address": ":0"}


@pytest.fixture(scope="module")
def address() -> Iterator[str]:
    with distributed.LocalCluster(**CLUSTER) as cluster:
        yield cluster.scheduler_address


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Recording on, to a database of the test's own (the workers write to it too)."""
    for key in list(os.environ):
        if key.startswith("HEADWATER_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HEADWATER_HOME", str(tmp_path / "home"))
    with temporary_settings(HEADWATER_API_ENABLE_RECORDING="true"):
        yield tmp_path / "home"
        recorder = recording.ACTIVE
    recording.ensure_recorder()
    if recorder is not None:
        recorder.close()


def read_back(flow_run_id: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The task runs and logs of a flow run, as stored."""
    async def read() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        async with get_client() as client:
            tasks = await client.read_task_runs(flow_run_id=str(flow_run_id))
            logs = await client.read_logs(flow_run_id=str(flow_run_id))
            return tasks, logs

    return asyncio.run(read())


@task
def double(x: int) -> int:
    return 2 * x


@task
async def add(x: int, y: int) -> int:
    await asyncio.sleep(0)
    return x + y


@task
def pid() -> int:
    return os.getpid()


@task
def boom(message: str) -> None:
    raise ValueError(message)


@task
def describe(value: Any) -> str:
    return type(value).__name__


def test_results_of_submit_map_and_async_tasks_come_back(address: str) -> None:
    @flow(task_runner=DaskTaskRunner(address=address))
    def pipeline() -> tuple[list[int], int, list[int], int]:
        doubled = double.map([1, 2, 3])
        total = add.submit(doubled[0], doubled[2])
        pids = [pid.submit() for _ in range(4)]
        with get_dask_client() as client:  # in the flow: a client of the same cluster
            plain = client.submit(sum, [1, 2], pure=False).result()
        return doubled.result(), total.result(), [p.result() for p in pids], plain

    doubled, total, pids, plain = pipeline()
    assert doubled == [2, 4, 6]
    assert total == 8
    assert plain == 3
    assert os.getpid() not in pids  # ran in the worker processes


def test_async_flow_awaits_runs_on_the_cluster(address: str) -> None:
    @flow(task_runner=DaskTaskRunner(address=address))
    async def pipeline() -> int:
        first = double.submit(5)
        second = add.submit(first, 1)
        return await second.result_async()

    assert asyncio.run(pipeline()) == 11


def test_a_mapped_flow_of_a_thousand_tasks(address: str) -> None:
    @flow(task_runner=DaskTaskRunner(address=address))
    def many() -> int:
        return sum(double.map(range(1000)).result())

    assert many() == 2 * sum(range(1000))


def test_failures_states_wait_for_and_allow_failure(address: str) -> None:
    @flow(task_runner=DaskTaskRunner(address=address))
    def pipeline() -> dict[str, Any]:
        failed = boom.submit("no good")
        blocked = double.submit(failed)  # upstream failed: NotReady, never sent
        allowed = describe.submit(allow_failure(failed))
        after = double.submit(2, wait_for=[allowed])
        states = double.map([1, 2], return_state=True)
        return {
            "failed": failed.wait(),
            "error": failed.result(raise_on_failure=False),
            "blocked": blocked.wait(),
            "allowed": allowed.result(),
            "after": after.result(),
            "states": states,
        }

    seen = pipeline()
    assert seen["failed"].type is StateType.FAILED
    assert isinstance(seen["error"], ValueError) and str(seen["error"]) == "no good"
    with pytest.raises(ValueError, match="no good"):
        seen["failed"].result()
    assert seen["blocked"].name == "NotReady"
    assert seen["allowed"] == "ValueError"  # the failed upstream's exception, passed on
    assert seen["after"] == 4
    assert [s.result() for s in seen["states"]] == [2, 4]



@task(trigger=any_failed)
def on_any_failure(*upstream: Any) -> list[str]:
    return [type(u).__name__ for u in upstream]


def test_a_trigger_decides_as_on_the_thread_runner(address: str) -> None:
    @flow(task_runner=DaskTaskRunner(address=address))
    def pipeline() -> tuple[Any, str]:
        ran = on_any_failure.submit(double.submit(1), boom.submit("x")).wait()
        skipped = on_any_failure.submit(double.submit(1), double.submit(2)).wait()
        return (ran.type, ran.result()), skipped.name

    (kind, seen), skipped = pipeline()
    assert kind is StateType.COMPLETED and seen == ["int", "ValueError"]
    assert skipped == "NotReady"

def test_a_failed_task_run_fails_the_flow_run(address: str) -> None:
    @flow(task_runner=DaskTaskRunner(address=address))
    def pipeline() -> None:
        boom.submit("no good")

    state = pipeline(return_state=True)
    assert state.type is StateType.FAILED
    with pytest.raises(ValueError, match="no good"):
        state.result()



@task
def outer(x: int) -> tuple[int, int, str]:
    return double(x), runtime.flow_run.parameters["n"], runtime.task_run.name


def test_a_task_run_on_a_worker_sees_its_flow_run_and_calls_tasks_recorded_in_order(
        address: str, home: Path) -> None:
    @flow(task_runner=DaskTaskRunner(address=address))
    def nested(n: int) -> list[tuple[int, int, str]]:
        return outer.map(range(n)).result()

    state = nested(3, return_state=True)
    assert state.result() == [(0, 3, "outer-0"), (2, 3, "outer-1"), (4, 3, "outer-2")]
    tasks, _ = read_back(state.state_details.flow_run_id)
    # The flow's process stores each run before its worker stores the run's states.
    # A task called inside a task on a worker gets a name with a random suffix.
    assert sorted((t["name"][:7], t["state_type"], t["run_count"]) for t in tasks) == [
        *[("double-", "COMPLETED", 1)] * 3,
        *[(f"outer-{i}", "COMPLETED", 1) for i in range(3)]]
    assert len({t["dynamic_key"] for t in tasks if t["name"].startswith("double")}) == 3

@task(retries=2)
def third_time_lucky() -> int:
    attempt = runtime.task_run.run_count
    if attempt < 3:
        raise RuntimeError(f"attempt {attempt} failed")
    return attempt


def test_retries_run_on_the_worker_until_an_attempt_completes(address: str) -> None:
    @flow(task_runner=DaskTaskRunner(address=address))
    def pipeline() -> Any:
        return third_time_lucky.submit().wait()

    state = pipeline()
    assert state.result() == 3
    assert state.type is StateType.COMPLETED


@task(timeout_seconds=0.2)
def too_slow() -> None:
    time.sleep(3)


def test_a_timeout_fails_the_run_timed_out(address: str) -> None:
    @flow(task_runner=DaskTaskRunner(address=address))
    def pipeline() -> str:
        return too_slow.submit().wait().name

    assert pipeline() == "TimedOut"


def test_an_argument_that_cannot_be_pickled_fails_its_run_with_a_clear_message(
        address: str) -> None:
    @flow(task_runner=DaskTaskRunner(address=address))
    def pipeline() -> Any:
        state = describe.submit(threading.Lock()).wait()
        return state.type, state.message, describe.submit(1).result()

    kind, message, fine = pipeline()
    assert fine == "int"  # other runs are not affected
    assert kind is StateType.FAILED
    assert "'describe'" in message and "'value'" in message and "_thread.lock" in message
    assert "create them inside the task" in message



def test_a_flow_parameter_that_cannot_be_pickled_is_named(address: str) -> None:
    @flow(task_runner=DaskTaskRunner(address=address))
    def pipeline(guard: Any) -> Any:
        state = double.submit(1).wait()
        return state.type, state.message

    kind, message = pipeline(threading.Lock())
    assert kind is StateType.FAILED
    assert "the flow parameter 'guard' is a _thread.lock" in message

@task
def make_lock() -> Any:
    return threading.Lock()


def test_a_result_that_cannot_be_pickled_back_fails_its_run_with_a_clear_message(
        address: str) -> None:
    @flow(task_runner=DaskTaskRunner(address=address))
    def pipeline() -> Any:
        state = make_lock.submit().wait()
        return state.type, state.message

    kind, message = pipeline()
    assert kind is StateType.FAILED
    assert "'make_lock' returned a _thread.lock" in message
    assert "cannot be pickled back" in message


@task
def chatty(word: str) -> str:
    get_run_logger().info("saying %s", word)
    print(f"printed {word}")
    return word


def test_worker_logs_reach_the_database_and_the_console_with_their_run_ids(
        address: str, home: Path, caplog: pytest.LogCaptureFixture) -> None:
    @flow(task_runner=DaskTaskRunner(address=address), log_prints=True)
    def talk() -> list[str]:
        return chatty.map(["a", "b"]).result()

    caplog.set_level("INFO", logger="headwater")
    state = talk(return_state=True)
    assert state.result() == ["a", "b"]
    flow_run_id = str(state.state_details.flow_run_id)
    tasks, logs = read_back(flow_run_id)
    ids = {t["name"]: t["id"] for t in tasks}
    assert set(ids) == {"chatty-0", "chatty-1"}
    assert all(t["state_type"] == "COMPLETED" for t in tasks)
    stored = {(line["task_run_id"], line["message"].split("] ", 1)[1])
              for line in logs if "[dask worker tcp://" in line["message"]}
    assert stored == {(ids["chatty-0"], "saying a"), (ids["chatty-0"], "printed a"),
                      (ids["chatty-1"], "saying b"), (ids["chatty-1"], "printed b")}
    assert all(line["flow_run_id"] == flow_run_id for line in logs)
    printed = [r for r in caplog.records if "[dask worker tcp://" in r.getMessage()]
    assert {(getattr(r, "task_run_id", None), r.getMessage().split("] ", 1)[1])
            for r in printed} == stored


@task
def nap(i: int, marks: str) -> int:
    Path(marks, str(i)).touch()
    time.sleep(1)
    return i


def test_cancelling_the_flow_run_cancels_its_outstanding_dask_tasks(
        address: str, home: Path, tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    holder: dict[str, Any] = {}

    @flow(task_runner=DaskTaskRunner(address=address))
    def sleepy() -> list[Any]:
        holder["id"] = runtime.flow_run.id
        futures = nap.map(range(20), str(marks))
        holder["futures"] = futures
        return [f.wait() for f in futures]

    def canceller() -> None:
        while not any(marks.iterdir()):  # a run has started on a worker
            time.sleep(0.01)
        cancel_flow_run(holder["id"], reason="user asked")

    thread = threading.Thread(target=canceller, daemon=True)
    thread.start()
    state = sleepy(return_state=True)
    thread.join(10)
    assert state.is_cancelled()
    states = [f.state for f in holder["futures"]]
    assert sum(s.type is StateType.CANCELLED for s in states) >= 15
    time.sleep(1.5)  # the runs that were running end; no other run starts
    assert len(list(marks.iterdir())) < 6
    tasks, _ = read_back(holder["id"])
    # Those that were running when the flow run was cancelled too (their worker says so).
    assert len(tasks) == 20 and {t["state_type"] for t in tasks} == {"CANCELLED"}



def _cache_by_x(context: Any, parameters: dict[str, Any]) -> str:
    return f"square-{parameters['x']}"


@task(cache_key_fn=_cache_by_x, persist_result=True)
def square(x: int, marks: str) -> int:
    Path(marks, f"{x}-{os.getpid()}-{time.time_ns()}").touch()
    return x * x


def _mark(name: str) -> Any:
    def hook(task: Any, run: Any, state: Any) -> None:
        from headwater.settings import get_current_settings

        # On the worker, the settings are the flow process's (its home).
        Path(get_current_settings().home, f"{name}-{run.name}-{state.name}").touch()
    return hook


@task(on_completion=[_mark("done")], on_failure=[_mark("failed")])
def hooked(fail: bool) -> int:
    if fail:
        raise RuntimeError("asked to fail")
    return 1


def test_caching_and_hooks_work_across_worker_processes(
        address: str, home: Path, tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()

    @flow(task_runner=DaskTaskRunner(address=address))
    def pipeline() -> Any:
        first = square.submit(3, str(marks)).wait()
        again = [square.submit(3, str(marks)).wait() for _ in range(3)]
        hooked.submit(False).wait()
        hooked.submit(True).wait()
        return first.name, [s.name for s in again], [s.result() for s in again]

    first, again, results = pipeline()
    assert (first, again, results) == ("Completed", ["Cached"] * 3, [9] * 3)
    assert len(list(marks.iterdir())) == 1  # the function ran once
    assert (home / "done-hooked-0-Completed").exists()
    assert (home / "failed-hooked-1-Failed").exists()


@task(tags={"dask-one-at-a-time"})
def interval() -> tuple[float, float]:
    start = time.time()
    time.sleep(0.2)
    return start, time.time()


def test_a_tag_limit_holds_across_the_workers(address: str, home: Path) -> None:
    from headwater.concurrency import delete_concurrency_limit, set_concurrency_limit

    @flow(task_runner=DaskTaskRunner(address=address))
    def limited() -> list[tuple[float, float]]:
        return [f.result() for f in [interval.submit() for _ in range(4)]]

    set_concurrency_limit("dask-one-at-a-time", 1)
    try:
        spans = sorted(limited())
    finally:
        delete_concurrency_limit("dask-one-at-a-time")
    assert all(end <= next_start for (_, end), (next_start, _) in itertools.pairwise(spans))

made: list[Any] = []


def sized_cluster(**kwargs: Any) -> Any:
    """A cluster_class callable: as many workers as the flow's ``workers`` parameter."""
    cluster = distributed.LocalCluster(n_workers=runtime.flow_run.parameters["workers"],
                                       **kwargs)
    made.append(cluster)
    return cluster


@task
def count_workers() -> int:
    with get_dask_client() as client:
        futures = client.map(lambda x: x + 1, range(3))
        assert client.gather(futures) == [1, 2, 3]
        return len(client.scheduler_info()["workers"])


def test_cluster_class_callable_reads_a_flow_parameter_and_is_closed_at_the_end() -> None:
    @flow(task_runner=DaskTaskRunner(
        cluster_class=sized_cluster,
        cluster_kwargs={"threads_per_worker": 1, "dashboard_address": ":0"}))
    def sized(workers: int) -> int:
        return count_workers.submit().result()

    assert sized(1) == 1
    assert len(made) == 1
    assert made[0].status.name == "closed"



@task
async def async_dask_sum(n: int) -> int:
    from headwater.dask import get_async_dask_client

    async with get_async_dask_client() as client:
        futures = client.map(lambda x: x * x, range(n))
        return sum(await client.gather(futures))


def test_an_async_task_submits_dask_work_with_get_async_dask_client(address: str) -> None:
    @flow(task_runner=DaskTaskRunner(address=address))
    async def pipeline() -> int:
        return await async_dask_sum.submit(4).result_async()

    assert asyncio.run(pipeline()) == 0 + 1 + 4 + 9

def test_options_are_checked_when_the_runner_is_made() -> None:
    with pytest.raises(ValueError, match="either address"):
        DaskTaskRunner(address="tcp://127.0.0.1:8786", cluster_class="distributed.LocalCluster")
    with pytest.raises(TypeError, match="cluster_kwargs must be a dict"):
        DaskTaskRunner(cluster_kwargs=[1])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not in client_kwargs"):
        DaskTaskRunner(client_kwargs={"address": "tcp://x:1"})
    runner = DaskTaskRunner(cluster_class="distributed.LocalCluster",
                            cluster_kwargs={"n_workers": 1})
    assert runner.duplicate().cluster_kwargs == {"n_workers": 1}
    assert "cluster_class='distributed.LocalCluster'" in repr(runner)


def test_a_cluster_class_path_that_cannot_be_imported_fails_the_flow_run_clearly() -> None:
    @flow(task_runner=DaskTaskRunner(cluster_class="no_such_module.Cluster"))
    def nothing() -> None:
        pass

    with pytest.raises(ValueError, match="could not be imported"):
        nothing()


def test_get_dask_client_outside_dask_says_where_it_works() -> None:
    with pytest.raises(RuntimeError, match="inside a task run on a DaskTaskRunner"), \
            get_dask_client():
        pass


def test_a_locked_flows_task_runs_are_claimed_on_the_workers(address: str, home: Path) -> None:
    """Version locking on Dask: each task run is claimed where it runs, once."""
    import sqlite3

    @flow(task_runner=DaskTaskRunner(address=address), version_lock=True)
    def locked() -> list[int]:
        return double.map([1, 2, 3]).result()

    assert locked() == [2, 4, 6]
    con = sqlite3.connect(home / "headwater.db")
    try:
        rows = con.execute("SELECT kind, pid FROM run_lock").fetchall()
    finally:
        con.close()
    assert len(rows) == 3 and {kind for kind, _ in rows} == {"task_run"}
    assert os.getpid() not in {pid for _, pid in rows}  # claimed by the worker processes
