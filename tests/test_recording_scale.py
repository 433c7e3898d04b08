"""Run recording at scale and across crashes, with real processes.

Every test here starts ``python`` subprocesses that run flows with recording on
(``HEADWATER_API_ENABLE_RECORDING=true``), either into one SQLite file shared by
several processes (embedded mode: same ``HEADWATER_HOME``) or into a real
``headwater server start``, and then reads everything back through
``get_client()`` and checks the SQLite file itself. Every wait is bounded; a
failure prints the tails of the subprocesses' output.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("uvicorn")  # recording stores through the API app, even embedded

from headwater.client import get_client

# A flow script run by every worker process.
#   python worker.py map  N LABEL   one flow mapping a trivial, logging task over N items
#   python worker.py walk N LABEL   one flow calling a ~10 ms task N times, one after another
#   python worker.py resume N LABEL [GO_FILE]   a "map" flow, then wait for GO_FILE, then another
WORKER = textwrap.dedent('''
    import sys
    import time
    from pathlib import Path

    from headwater import flow, get_run_logger, task


    @task
    def work(i: int) -> int:
        get_run_logger().info("item %d done", i)
        return i * 2


    @task
    def nap(i: int) -> int:
        time.sleep(0.01)
        get_run_logger().info("nap %d done", i)
        return i


    @flow
    def scale(n: int, label: str) -> int:
        return sum(f.result() for f in work.map(range(n)))


    @flow
    def walk(n: int, label: str) -> int:
        return sum(nap(i) for i in range(n))


    def report(state) -> None:
        print("RESULT", state.state_details.flow_run_id, state.type.value, flush=True)


    mode, n, label = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if mode == "walk":
        report(walk(n, label, return_state=True))
    else:
        report(scale(n, label, return_state=True))
    if mode == "resume":
        go = Path(sys.argv[4])
        deadline = time.monotonic() + 30
        while not go.exists():
            if time.monotonic() > deadline:
                sys.exit("the go file never appeared")
            time.sleep(0.05)
        report(scale(n, label + "-again", return_state=True))
''')

# Lines that say something went wrong, in a worker's or the server's output.
TROUBLE = re.compile(r"locked|Traceback|Could not record|refused a batch|Error|"
                     r'HTTP/1\.1" 5\d\d', re.IGNORECASE)
# The workers' own log lines (one per task): left out of the tails shown on failure.
CHATTER = re.compile(r"Task run '(work|nap)-\d+' - (item|nap) \d+ done$")

PAGE = 300  # read in pages smaller than a flow's task runs, so pagination is exercised


# --------------------------------------------------------------------------- processes
def free_port() -> int:
    """A TCP port free on localhost right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def clean_env(**settings: str) -> dict[str, str]:
    """This process's environment without any inherited HEADWATER_* setting, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    env.update(PYTHONUNBUFFERED="1", COLUMNS="250", NO_COLOR="1")
    env.update(settings)
    return env


def tail(path: Path, lines: int = 25) -> str:
    """The last lines of a process's output file, without the per-task log chatter."""
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"<{exc}>"
    kept = [line for line in text.splitlines() if not CHATTER.search(line)]
    return "\n".join(kept[-lines:])


def trouble(path: Path) -> list[str]:
    """The lines of an output file that report a problem."""
    return [line for line in path.read_text(errors="replace").splitlines()
            if TROUBLE.search(line)]


@dataclass
class Proc:
    """A subprocess whose stdout and stderr go to files (no pipe can fill up and block it)."""

    name: str
    popen: subprocess.Popen[bytes]
    out: Path
    err: Path

    def describe(self) -> str:
        return (f"--- {self.name} (exit code {self.popen.returncode})\n"
                f"stdout:\n{tail(self.out)}\nstderr:\n{tail(self.err)}")

    def results(self) -> list[tuple[str, str]]:
        """``(flow_run_id, final state type)`` for each flow the worker reported."""
        return [(parts[1], parts[2]) for parts in
                (line.split() for line in self.out.read_text().splitlines())
                if len(parts) == 3 and parts[0] == "RESULT"]


def spawn(name: str, args: list[str], env: dict[str, str], logs: Path) -> Proc:
    logs.mkdir(parents=True, exist_ok=True)
    out, err = logs / f"{name}.out", logs / f"{name}.err"
    with out.open("wb") as out_file, err.open("wb") as err_file:
        popen = subprocess.Popen([sys.executable, *args], env=env, stdout=out_file,
                                 stderr=err_file, stdin=subprocess.DEVNULL)
    return Proc(name, popen, out, err)


def stop(proc: Proc, timeout: float = 10) -> None:
    """End a process (SIGTERM, then SIGKILL) and reap it; bounded."""
    if proc.popen.poll() is None:
        proc.popen.terminate()
        try:
            proc.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.popen.kill()
            proc.popen.wait(timeout)


def wait_all(procs: list[Proc], timeout: float) -> None:
    """Wait for every process to exit 0 within ``timeout`` s; else kill them and fail."""
    deadline = time.monotonic() + timeout
    try:
        for proc in procs:
            proc.popen.wait(max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        for proc in procs:
            stop(proc, 5)
        pytest.fail(f"workers did not finish within {timeout} s\n"
                    + "\n".join(p.describe() for p in procs))
    failed = [p for p in procs if p.popen.returncode != 0]
    assert not failed, "workers failed:\n" + "\n".join(p.describe() for p in failed)


def run_workers(script: Path, specs: list[list[str]], env: dict[str, str], logs: Path,
                timeout: float) -> list[Proc]:
    """Run one worker per spec, all at once; return them once all exited 0."""
    procs = [spawn(f"worker{i}", [str(script), *spec], env, logs) for i, spec in enumerate(specs)]
    wait_all(procs, timeout)
    return procs


@contextmanager
def headwater_server(home: Path, logs: Path, port: int | None = None) -> Iterator[str]:
    """``headwater server start`` in a subprocess on a free port; yields the API URL."""
    port = port or free_port()
    env = clean_env(HEADWATER_HOME=str(home))
    proc = spawn(f"server-{port}", ["-m", "headwater.cli", "server", "start",
                                    "--host", "127.0.0.1", "--port", str(port)], env, logs)
    url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).json() is True:
                    break
            except (httpx.HTTPError, ValueError):
                pass
            if proc.popen.poll() is not None:
                pytest.fail("the server exited early\n" + proc.describe())
            if time.monotonic() > deadline:
                pytest.fail("the server did not answer within 30 s\n" + proc.describe())
            time.sleep(0.1)
        yield url
    except BaseException:
        stop(proc, 15)
        print(proc.describe())  # shown by pytest with the failure
        raise
    finally:
        stop(proc, 15)
    problems = trouble(proc.out) + trouble(proc.err)
    assert not problems, "the server reported problems:\n" + "\n".join(problems[:20])


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "worker.py"
    path.write_text(WORKER)
    return path


@pytest.fixture
def point_at(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Point this process's settings (and so ``get_client()``) at a home or a server."""
    for key in list(os.environ):
        if key.startswith("HEADWATER_"):
            monkeypatch.delenv(key)

    def point(home: Path, url: str | None = None) -> None:
        monkeypatch.setenv("HEADWATER_HOME", str(home))
        if url is None:
            monkeypatch.delenv("HEADWATER_API_URL", raising=False)
        else:
            monkeypatch.setenv("HEADWATER_API_URL", url)

    return point


# --------------------------------------------------------------------------- reading back
def read(fn: Callable[[Any], Awaitable[Any]], timeout: float = 30) -> Any:
    """Call ``fn(client)`` with a ``get_client()`` client, bounded."""

    async def main() -> Any:
        async with get_client() as client:
            return await asyncio.wait_for(fn(client), timeout)

    return asyncio.run(main())


async def every_page(fetch: Callable[..., Awaitable[list[dict[str, Any]]]],
                     **filters: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while True:
        page = await fetch(**filters, limit=PAGE, offset=len(rows))
        rows += page
        if len(page) < PAGE:
            return rows
        assert len(rows) <= 1_000_000, "pagination never ends"


def verify_runs(results: list[tuple[str, str]], tasks_per_run: int, log_word: str) -> None:
    """Through the client: every flow run, task run, state history and task log line is there."""
    flow_run_ids = {run_id for run_id, _ in results}
    assert all(state == "COMPLETED" for _, state in results), results

    async def check(client: Any) -> None:
        runs = await client.read_flow_runs(limit=1000)
        assert {r["id"] for r in runs} == flow_run_ids
        assert all(r["state_type"] == "COMPLETED" for r in runs), [r["state_type"] for r in runs]
        for run_id in sorted(flow_run_ids):
            states = await client.read_flow_run_states(run_id)
            assert [s["name"] for s in states] == ["Pending", "Running", "Completed"]
            task_runs = await every_page(client.read_task_runs, flow_run_id=run_id)
            assert len(task_runs) == tasks_per_run
            assert len({t["id"] for t in task_runs}) == tasks_per_run, "duplicate task runs"
            assert {t["dynamic_key"] for t in task_runs} == {str(i) for i in range(tasks_per_run)}
            assert all(t["flow_run_id"] == run_id for t in task_runs)
            bad = [t for t in task_runs if t["state_type"] != "COMPLETED" or t["run_count"] != 1
                   or t["start_time"] is None or t["end_time"] is None]
            assert not bad, f"{len(bad)} task runs not completed once, e.g. {bad[0]}"
            # A sample of state histories (all of them are checked in SQL).
            step = max(1, tasks_per_run // 4)
            for t in task_runs[::step] + task_runs[-1:]:
                history = await client.read_task_run_states(t["id"])
                assert [s["name"] for s in history] == ["Pending", "Running", "Completed"], t
                assert history[-1]["id"] == t["state_id"]
            logs = await every_page(client.read_logs, flow_run_id=run_id)
            ours = [line for line in logs if f"{log_word} " in line["message"]]
            numbers = sorted(int(line["message"].split()[1]) for line in ours)
            assert numbers == list(range(tasks_per_run)), (
                f"{len(ours)} task log lines for {run_id}, expected {tasks_per_run}")
            task_ids = {t["id"] for t in task_runs}
            assert all(line["task_run_id"] in task_ids for line in ours)
            assert len({line["id"] for line in logs}) == len(logs), "duplicate log lines"

    read(check, timeout=60)


# --------------------------------------------------------------------------- the database
def check_database(path: Path) -> dict[str, int]:
    """Open the SQLite file and check it is whole and self-consistent; return row counts."""
    assert path.exists(), f"no database at {path}"
    db = sqlite3.connect(path, timeout=30)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        counts = {table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                  for table in ("flow", "flow_run", "task_run", "flow_run_state",
                                "task_run_state", "log")}
        problems: dict[str, Any] = {}

        def expect_none(label: str, sql: str) -> None:
            rows = db.execute(sql).fetchall()
            if rows:
                problems[label] = rows[:5]

        for table in counts:
            expect_none(f"duplicate {table} ids",
                        f"SELECT id, count(*) FROM {table} GROUP BY id HAVING count(*) > 1")
        expect_none("duplicate task run identities",
                    "SELECT flow_run_id, task_key, dynamic_key FROM task_run "
                    "GROUP BY 1, 2, 3 HAVING count(*) > 1")
        for kind in ("flow", "task"):
            run, states = f"{kind}_run", f"{kind}_run_state"
            expect_none(f"{states} rows without a stored run",
                        f"SELECT s.id FROM {states} s LEFT JOIN {run} r "
                        f"ON r.id = s.{run}_id WHERE r.id IS NULL")
            # The current state is a stored state of the run, with the latest timestamp.
            expect_none(f"{run} rows whose current state is not their latest",
                        f"SELECT r.id, r.state_type FROM {run} r WHERE NOT EXISTS ("
                        f"SELECT 1 FROM {states} s WHERE s.id = r.state_id "
                        f"AND s.{run}_id = r.id AND s.type = r.state_type "
                        f"AND s.timestamp = r.state_timestamp AND s.timestamp = "
                        f"(SELECT max(timestamp) FROM {states} WHERE {run}_id = r.id))")
        expect_none("task runs of unknown flow runs",
                    "SELECT t.id FROM task_run t LEFT JOIN flow_run f ON f.id = t.flow_run_id "
                    "WHERE t.flow_run_id IS NOT NULL AND f.id IS NULL")
        expect_none("logs of unknown flow runs",
                    "SELECT l.id FROM log l LEFT JOIN flow_run f ON f.id = l.flow_run_id "
                    "WHERE l.flow_run_id IS NOT NULL AND f.id IS NULL")
        expect_none("logs of unknown task runs",
                    "SELECT l.id FROM log l LEFT JOIN task_run t ON t.id = l.task_run_id "
                    "WHERE l.task_run_id IS NOT NULL AND t.id IS NULL")
        assert not problems, f"inconsistent database {path}: {problems}"
        return counts
    finally:
        db.close()


def task_histories(path: Path) -> dict[str, str]:
    """Each task run's state types, oldest first, joined by commas (by hex id)."""
    db = sqlite3.connect(path, timeout=30)
    try:
        rows = db.execute(
            "SELECT t.id, (SELECT group_concat(type, ',') FROM (SELECT type FROM task_run_state "
            "WHERE task_run_id = t.id ORDER BY timestamp)) FROM task_run t").fetchall()
    finally:
        db.close()
    return {row[0]: row[1] or "" for row in rows}


def assert_complete_histories(path: Path, expected_task_runs: int) -> None:
    histories = task_histories(path)
    assert len(histories) == expected_task_runs
    odd = {k: v for k, v in histories.items() if v != "PENDING,RUNNING,COMPLETED"}
    assert not odd, f"{len(odd)} task runs with another history, e.g. {list(odd.items())[:3]}"


def assert_quiet(procs: list[Proc]) -> None:
    problems = [f"{p.name}: {line}" for p in procs for line in trouble(p.err) + trouble(p.out)]
    assert not problems, "problems reported:\n" + "\n".join(problems[:20]) + "\n" + "\n".join(
        p.describe() for p in procs)


def results_of(procs: list[Proc], flows_each: int = 1) -> list[tuple[str, str]]:
    results = [r for p in procs for r in p.results()]
    assert len(results) == flows_each * len(procs), "\n".join(p.describe() for p in procs)
    return results


# --------------------------------------------------------------------------- the tests
@pytest.mark.slow
def test_eight_processes_record_into_one_sqlite_file(
        tmp_path: Path, script: Path, point_at: Callable[..., None]) -> None:
    """8 processes x 500 tasks (one log line each) into one embedded database at once."""
    home = tmp_path / "home"
    env = clean_env(HEADWATER_HOME=str(home), HEADWATER_API_ENABLE_RECORDING="true")
    procs = run_workers(script, [["map", "500", f"p{i}"] for i in range(8)], env,
                        tmp_path / "logs", timeout=50)
    assert_quiet(procs)
    results = results_of(procs)

    point_at(home)
    verify_runs(results, 500, "item")
    counts = check_database(home / "headwater.db")
    assert counts["flow"] == 1
    assert counts["flow_run"] == 8 and counts["flow_run_state"] == 8 * 3
    assert counts["task_run"] == 8 * 500 and counts["task_run_state"] == 8 * 500 * 3
    assert_complete_histories(home / "headwater.db", 8 * 500)
    assert not (home / "spool").exists(), "records were spooled: the database refused them"


@pytest.mark.slow
def test_eight_processes_record_into_one_server(
        tmp_path: Path, script: Path, point_at: Callable[..., None]) -> None:
    """8 processes x 500 tasks (one log line each) into a real ``headwater server start``."""
    server_home, client_home = tmp_path / "server-home", tmp_path / "client-home"
    with headwater_server(server_home, tmp_path / "logs") as url:
        env = clean_env(HEADWATER_HOME=str(client_home), HEADWATER_API_URL=url,
                        HEADWATER_API_ENABLE_RECORDING="true")
        procs = run_workers(script, [["map", "500", f"p{i}"] for i in range(8)], env,
                            tmp_path / "logs", timeout=90)
        assert_quiet(procs)
        results = results_of(procs)
        point_at(client_home, url)
        verify_runs(results, 500, "item")
    counts = check_database(server_home / "headwater.db")
    assert counts["flow_run"] == 8 and counts["task_run"] == 8 * 500
    assert counts["task_run_state"] == 8 * 500 * 3
    assert_complete_histories(server_home / "headwater.db", 8 * 500)
    # Nothing went to the workers' own home: no local database, nothing spooled.
    assert not (client_home / "headwater.db").exists()
    assert not (client_home / "spool").exists()


@pytest.mark.slow
def test_a_flow_killed_mid_run_leaves_a_consistent_database(
        tmp_path: Path, script: Path, point_at: Callable[..., None]) -> None:
    """SIGKILL a recording flow process mid-run; the database stays whole and usable."""
    home = tmp_path / "home"
    db_path = home / "headwater.db"
    logs = tmp_path / "logs"
    env = clean_env(HEADWATER_HOME=str(home), HEADWATER_API_ENABLE_RECORDING="true")
    point_at(home)
    victim = spawn("victim", [str(script), "walk", "200", "victim"], env, logs)
    try:
        # Wait until the run is recorded as RUNNING with some task runs stored.
        async def progress(client: Any) -> tuple[str, str, int] | None:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and victim.popen.poll() is None:
                if db_path.exists():
                    runs = await client.read_flow_runs(limit=10)
                    if runs and runs[0]["state_type"] == "RUNNING":
                        tasks = await client.read_task_runs(flow_run_id=runs[0]["id"], limit=500)
                        if len(tasks) >= 10:
                            return runs[0]["id"], runs[0]["state_type"], len(tasks)
                await asyncio.sleep(0.05)
            return None

        seen = read(progress, timeout=35)
        assert seen is not None, "never saw the run RUNNING with task runs\n" + victim.describe()
        assert victim.popen.poll() is None, "the flow ended before it could be killed"
        os.kill(victim.popen.pid, signal.SIGKILL)
        victim.popen.wait(10)
    finally:
        stop(victim)
    assert victim.popen.returncode == -signal.SIGKILL
    run_id = seen[0]

    counts = check_database(db_path)
    assert counts["flow_run"] == 1
    histories = task_histories(db_path)
    assert 10 <= len(histories) < 200, f"{len(histories)} task runs: not killed mid-run?"
    allowed = {"PENDING", "PENDING,RUNNING", "PENDING,RUNNING,COMPLETED"}
    assert set(histories.values()) <= allowed, set(histories.values())
    assert "PENDING,RUNNING,COMPLETED" in histories.values()

    # The killed run stays RUNNING (nothing could report its end) and the CLI says why.
    async def killed(client: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        run = await client.read_flow_run(run_id)
        return run, await client.read_flow_run_states(run_id)

    run, states = read(killed)
    assert run["state_type"] == "RUNNING"
    assert [s["name"] for s in states] == ["Pending", "Running"]
    inspect = subprocess.run(
        [sys.executable, "-m", "headwater.cli", "flow-run", "inspect", run_id],
        env=env, capture_output=True, text=True, timeout=30)
    assert inspect.returncode == 0, inspect.stderr[-3000:]
    said = " ".join(inspect.stdout.split())
    assert "Running" in said and "process died" in said, inspect.stdout[-3000:]

    # A new process records into the same database as if nothing happened.
    after = run_workers(script, [["map", "20", "after"]], env, logs, timeout=30)
    assert_quiet(after)
    (new_id, new_state), = results_of(after)
    assert new_state == "COMPLETED"

    async def new_run(client: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        return (await client.read_flow_run(new_id),
                await every_page(client.read_task_runs, flow_run_id=new_id))

    run, tasks = read(new_run)
    assert run["state_type"] == "COMPLETED"
    assert len(tasks) == 20 and all(t["state_type"] == "COMPLETED" for t in tasks)
    counts = check_database(db_path)
    assert counts["flow_run"] == 2
    assert read(lambda c: c.read_flow_run(run_id))["state_type"] == "RUNNING"


@pytest.mark.slow
def test_records_survive_the_server_being_down_and_ship_when_it_is_back(
        tmp_path: Path, script: Path, point_at: Callable[..., None]) -> None:
    """Server down: the flow completes, one warning, records spooled; shipped by the next run."""
    port = free_port()  # nothing listens here until the server starts below
    url = f"http://127.0.0.1:{port}/api"
    client_home, server_home, logs = tmp_path / "client-home", tmp_path / "server-home", \
        tmp_path / "logs"
    env = clean_env(HEADWATER_HOME=str(client_home), HEADWATER_API_URL=url,
                    HEADWATER_API_ENABLE_RECORDING="true")
    first = spawn("first", [str(script), "map", "20", "offline"], env, logs)
    wait_all([first], timeout=30)
    (first_id, first_state), = results_of([first])
    assert first_state == "COMPLETED"
    warnings = [line for line in first.err.read_text().splitlines()
                if "headwater.recording" in line]
    # One warning for the outage, and one at exit for what is left in the spool.
    assert len(warnings) == 2, first.describe()
    assert "Could not record runs" in warnings[0], first.describe()
    assert "could not be stored and are kept in" in warnings[1], first.describe()
    assert not (client_home / "headwater.db").exists(), "recorded locally instead"

    # Checked softly from here, so one run reports every broken step at once.
    failures: list[str] = []
    spooled = sorted((client_home / "spool").glob("*.json"))
    if not spooled:
        failures.append(f"nothing spooled under {client_home / 'spool'} after the process "
                        "exited: its records were only in memory and are lost")

    with headwater_server(server_home, logs, port=port):
        second = spawn("second", [str(script), "map", "20", "online"], env, logs)
        wait_all([second], timeout=30)
        assert_quiet([second])
        (second_id, _), = results_of([second])
        point_at(client_home, url)

        async def stored(client: Any) -> dict[str, Any]:
            runs = {r["id"]: r for r in await client.read_flow_runs(limit=100)}
            tasks = {run_id: await every_page(client.read_task_runs, flow_run_id=run_id)
                     for run_id in runs}
            return {"runs": runs, "tasks": tasks}

        seen = read(stored)
    runs, tasks = seen["runs"], seen["tasks"]
    if second_id not in runs or runs[second_id]["state_type"] != "COMPLETED":
        failures.append(f"the second flow run {second_id} is not stored as COMPLETED")
    if first_id not in runs:
        failures.append(f"the first flow run {first_id} (recorded while the server was down) "
                        "never reached the server")
    else:
        if runs[first_id]["state_type"] != "COMPLETED":
            failures.append(f"the first flow run is {runs[first_id]['state_type']}")
        if len(tasks[first_id]) != 20:
            failures.append(f"the first flow run has {len(tasks[first_id])} task runs, not 20")
    left = sorted((client_home / "spool").glob("*.json"))
    if left:
        failures.append(f"{len(left)} spool files were not shipped: {left}")
    assert not failures, "\n".join(failures) + "\n" + first.describe() + "\n" + second.describe()


@pytest.mark.slow
def test_buffered_and_spooled_records_ship_once_the_server_answers(
        tmp_path: Path, script: Path, point_at: Callable[..., None]) -> None:
    """A process keeps recording through an outage: what it buffered, and what an earlier
    process left in the spool folder, reaches the server when it comes up."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    client_home, server_home, logs = tmp_path / "client-home", tmp_path / "server-home", \
        tmp_path / "logs"
    # A batch spooled earlier (the /api/records/batch body, one JSON file per batch).
    spool = client_home / "spool"
    spool.mkdir(parents=True)
    old_id = str(uuid.uuid4())
    stamp = "2024-01-01T00:00:00+00:00"
    batch = {"flows": [{"name": "old"}],
             "flow_runs": [{"id": old_id, "flow_name": "old", "name": "old-run",
                            "parameters": {}, "tags": [], "expected_start_time": stamp}],
             "states": [{"id": str(uuid.uuid4()), "run_id": old_id, "run_kind": "flow",
                         "type": "COMPLETED", "name": "Completed", "timestamp": stamp}]}
    (spool / "20240101T000000000000-0123abcd.json").write_text(json.dumps(batch))

    go = tmp_path / "go"
    env = clean_env(HEADWATER_HOME=str(client_home), HEADWATER_API_URL=url,
                    HEADWATER_API_ENABLE_RECORDING="true")
    worker = spawn("resume", [str(script), "resume", "30", "outage", str(go)], env, logs)
    try:
        deadline = time.monotonic() + 30
        while not worker.results():
            assert worker.popen.poll() is None, "the worker exited early\n" + worker.describe()
            assert time.monotonic() < deadline, "the first flow never finished\n" + \
                worker.describe()
            time.sleep(0.05)
        with headwater_server(server_home, logs, port=port):
            go.touch()
            wait_all([worker], timeout=30)
            point_at(client_home, url)
            results = results_of([worker], flows_each=2)
            runs = read(lambda c: c.read_flow_runs(limit=100))
            verify_ids = {r["id"]: r["state_type"] for r in runs}
            tasks = {run_id: len(read(lambda c, i=run_id: every_page(c.read_task_runs,
                                                                    flow_run_id=i)))
                     for run_id, _ in results}
    finally:
        stop(worker)
    assert verify_ids.get(old_id) == "COMPLETED", "the spooled batch was not shipped"
    for run_id, state in results:
        assert state == "COMPLETED"
        assert verify_ids.get(run_id) == "COMPLETED", worker.describe()
        assert tasks[run_id] == 30
    assert not list(spool.glob("*.json")), "the spool file was not removed once shipped"
    recording_lines = [line for line in worker.err.read_text().splitlines()
                       if "headwater.recording" in line]
    assert len(recording_lines) == 2, worker.describe()
    assert "Could not record runs" in recording_lines[0]
    assert "reachable again" in recording_lines[1]
    check_database(server_home / "headwater.db")
