"""Liveness in embedded mode: heartbeats of running flows, and the zombie check on SQLite.

The rules are pure (`judge` takes the time, the host and the process check);
the SQLite driver is tested with an injected ``now``. One slow test kills a
real flow process with SIGKILL and asks the CLI.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from headwater import flow, runtime, task
from headwater._private import heartbeats
from headwater._private.storage import liveness_rules as rules
from headwater._private.storage.bookkeeping import EMPTY_BOOK
from headwater._private.storage.processes import local_host, process_alive, process_start_token
from headwater.cli import app
from headwater.settings import temporary_settings

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
RUNNING_BOOK = (uuid.uuid4(), "RUNNING", "Running", T0, 2, 1, T0, None, 0.0)


def suspect(*, host: str = "elsewhere", pid: int = 10, token: str | None = None,
            interval: float = 30.0, last: dt.datetime = T0,
            state: str = "RUNNING") -> rules.Suspect:
    book = (RUNNING_BOOK[0], state, state.title(), *RUNNING_BOOK[3:])
    return rules.Suspect(uuid.uuid4(), book, host, pid, token, interval, last)


# ---------------------------------------------------------------------- the pure rule
@given(silent=st.floats(min_value=0, max_value=4 * 30.0),
       alive=st.sampled_from([True, None]))
def test_a_run_that_missed_fewer_than_four_heartbeats_is_never_judged(
        silent: float, alive: bool | None) -> None:
    verdict = rules.judge(suspect(host="here"), T0 + dt.timedelta(seconds=silent), host="here",
                          process_check=lambda pid, token: alive)
    assert verdict is None


@given(extra=st.floats(min_value=0.001, max_value=1e6), interval=st.floats(0.01, 3600))
def test_a_run_that_missed_four_heartbeats_is_crashed(extra: float, interval: float) -> None:
    now = T0 + dt.timedelta(seconds=4 * interval + extra)
    verdict = rules.judge(suspect(interval=interval), now, host="here",
                          process_check=lambda pid, token: True)
    assert verdict is not None and verdict.state_type == "CRASHED"
    assert "2026-01-01 00:00:00 UTC" in verdict.message  # when the last heartbeat came


def test_a_dead_process_of_this_host_is_judged_at_once() -> None:
    verdict = rules.judge(suspect(host="here", pid=77), T0, host="here",
                          process_check=lambda pid, token: False)
    assert verdict is not None and "pid 77 on here" in verdict.message


def test_a_dead_process_of_another_host_needs_the_missed_heartbeats() -> None:
    assert rules.judge(suspect(host="there"), T0, host="here",
                       process_check=lambda pid, token: False) is None


def test_a_cancelling_run_ends_cancelled() -> None:
    verdict = rules.judge(suspect(host="here", state="CANCELLING"), T0, host="here",
                          process_check=lambda pid, token: False)
    assert verdict is not None and verdict.state_type == "CANCELLED"


def test_process_tokens_tell_a_reused_pid() -> None:
    pid = os.getpid()
    token = process_start_token(pid)
    assert process_alive(pid, token) is True
    if token is not None:  # Linux
        reused = token.rsplit(":", 1)[0] + ":1"  # this boot and namespace, another start
        assert process_alive(pid, reused) is False
        _, boot, namespace, ticks = token.split(":")
        # Another kernel, or another pid namespace (a container sharing the host name):
        # its pids cannot be looked up here, so no verdict.
        assert process_alive(pid, f"linux:other-boot:{namespace}:{ticks}") is None
        assert process_alive(pid, f"linux:{boot}:4026000000:{ticks}") is None
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    assert process_alive(done.pid, token) is False


# ---------------------------------------------------------------------- the SQLite driver
@pytest.fixture
def home(tmp_path: Path) -> Any:
    with temporary_settings(HEADWATER_HOME=str(tmp_path / "home"),
                            HEADWATER_FLOW_RUN_HEARTBEAT_SECONDS="0.05"):
        yield tmp_path / "home"


def connect(home: Path) -> sqlite3.Connection:
    con = sqlite3.connect(home / "headwater.db", isolation_level=None)
    con.execute("PRAGMA busy_timeout=30000")
    return con


def read_liveness(home: Path, run_id: str) -> list[Any]:
    """The liveness row of a run, once the recorder has created the database."""
    if not (home / "headwater.db").exists():
        return []
    con = connect(home)
    try:
        return con.execute("SELECT host, pid, process_start, heartbeat_interval, last_heartbeat "
                           "FROM flow_run_liveness WHERE flow_run_id = ?",
                           (uuid.UUID(run_id).hex,)).fetchall()
    except sqlite3.OperationalError:  # no tables yet
        return []
    finally:
        con.close()


def test_a_running_flow_sends_heartbeats_with_its_process(home: Path) -> None:
    seen: list[Any] = []

    @flow
    def beating() -> str:
        run_id = str(runtime.flow_run.id)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            rows = read_liveness(home, run_id)
            if rows and (not seen or rows[0][4] != seen[0][4]):
                seen.append(rows[0])
                if len(seen) == 2:  # two heartbeats: the first and a later one
                    break
            time.sleep(0.02)
        return run_id

    run_id = beating()
    assert len(seen) == 2, seen
    host, pid, token, interval, _ = seen[0]
    assert (host, pid, token, interval) == (local_host(), os.getpid(),
                                            process_start_token(os.getpid()), 0.05)
    assert uuid.UUID(run_id) not in heartbeats.beating()


def test_heartbeats_are_off_at_zero(tmp_path: Path) -> None:
    with temporary_settings(HEADWATER_HOME=str(tmp_path / "home"),
                            HEADWATER_FLOW_RUN_HEARTBEAT_SECONDS="0"):
        @flow
        def quiet() -> list[uuid.UUID]:
            return heartbeats.beating()

        assert quiet() == []


def test_the_sqlite_sweep_crashes_a_dead_local_run_and_its_task_runs(home: Path) -> None:
    from headwater._private.zombie_check import sweep

    @task
    def t() -> int:
        return 1

    @flow
    def finished() -> str:
        t()
        return str(runtime.flow_run.id)

    finished()  # creates the database; a completed run is never touched
    con = connect(home)
    run_id, task_id = uuid.uuid4(), uuid.uuid4()
    flow_id = con.execute("SELECT id FROM flow LIMIT 1").fetchone()[0]
    stamp = "2026-01-01 00:00:00.000000"
    con.execute("INSERT INTO flow_run (id, created, updated, name, flow_id, parameters, tags, "
                "state_type, state_name, state_timestamp, state_version) VALUES "
                "(?, ?, ?, 'zombie', ?, '{}', '[]', 'RUNNING', 'Running', ?, 3)",
                (run_id.hex, stamp, stamp, flow_id, stamp))
    con.execute("INSERT INTO task_run (id, created, updated, name, flow_run_id, task_key, "
                "dynamic_key, tags, state_type, state_name, state_timestamp, state_version) "
                "VALUES (?, ?, ?, 't-0', ?, 't', '0', '[]', 'RUNNING', 'Running', ?, 1)",
                (task_id.hex, stamp, stamp, run_id.hex, stamp))
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    beat = rules.Beat((run_id,), local_host(), gone.pid, None, 30.0, T0)
    from headwater._private.storage import liveness_sqlite

    assert liveness_sqlite.run(con, rules.heartbeat(beat)) == [run_id]
    ended = sweep(con, T0 + dt.timedelta(seconds=1))
    assert [v.flow_run_id for v in ended] == [run_id]
    row = con.execute("SELECT r.state_type, r.state_version, r.end_time, s.message FROM flow_run "
                      "r JOIN flow_run_state s ON s.id = r.state_id WHERE r.id = ?",
                      (run_id.hex,)).fetchone()
    assert row[:2] == ("CRASHED", 4) and row[2] is not None and "is gone" in row[3]
    task_row = con.execute("SELECT state_type FROM task_run WHERE id = ?",
                           (task_id.hex,)).fetchone()
    assert task_row == ("CRASHED",)
    assert sweep(con, T0 + dt.timedelta(days=1)) == []  # once only
    assert liveness_sqlite.run(con, rules.heartbeat(beat)) == []  # final: nothing changes


def test_a_fresh_empty_book_is_not_a_suspect() -> None:
    # A liveness row of a run not recorded yet has no book: the sweep's join skips it.
    assert EMPTY_BOOK[1] is None


# ---------------------------------------------------------------------- a real kill -9
def running(home: Path, run_id: uuid.UUID) -> bool:
    con = connect(home)
    try:
        row = con.execute("SELECT state_type FROM flow_run WHERE id = ?",
                          (run_id.hex,)).fetchone()
    except sqlite3.OperationalError:
        return False
    finally:
        con.close()
    return row == ("RUNNING",)


SCRIPT = """
    import time
    from headwater import flow, runtime

    @flow
    def sleeper():
        print("ID", runtime.flow_run.id, flush=True)
        time.sleep(120)

    sleeper()
"""


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_sigkilled_local_run_shows_crashed_at_the_next_cli_call(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("HEADWATER_"):
            monkeypatch.delenv(key)
    env = {**os.environ, "HEADWATER_HOME": str(tmp_path / "home"),
           "HEADWATER_LOGGING_LEVEL": "WARNING"}
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(SCRIPT), encoding="utf-8")
    child = subprocess.Popen([sys.executable, str(script)], env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.startswith("ID"), (line, child.stderr.read() if child.poll() else "")
        run_id = uuid.UUID(line.split()[1])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # until its RUNNING state and heartbeat are stored
            if (read_liveness(tmp_path / "home", str(run_id))
                    and running(tmp_path / "home", run_id)):
                break
            time.sleep(0.05)
        else:
            pytest.fail("the run's RUNNING state and heartbeat were not stored")
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.communicate()
    with temporary_settings(HEADWATER_HOME=str(tmp_path / "home")):
        result = CliRunner().invoke(app, ["flow-run", "inspect", str(run_id)])
    assert result.exit_code == 0, result.output
    assert "CRASHED" in result.output.upper()
    assert "is gone" in result.output


# ---------------------------------------------------------------------- through the API
def test_heartbeats_through_the_api_are_stored(tmp_path: Path) -> None:
    """A process whose target is not a SQLite file sends heartbeats through the API."""
    from headwater._private import background
    from headwater._private.target import Target

    url = f"sqlite+aiosqlite:///{tmp_path / 'api.db'}"
    target = Target(recording=True, api_url=None, api_key=None, home=tmp_path,
                    database_url=url, sqlite=None, lease_duration=30.0, watch_interval=1.0,
                    heartbeat_interval=5.0)
    run_id = uuid.uuid4()

    async def send() -> list[uuid.UUID]:
        sender = heartbeats._sender_for(target)
        try:
            return await sender.send([run_id], 5.0, T0)  # the server stamps its own time
        finally:
            await sender.close()

    assert background.run(send) == [run_id]
    con = sqlite3.connect(tmp_path / "api.db")
    row = con.execute("SELECT pid, heartbeat_interval FROM flow_run_liveness").fetchone()
    con.close()
    assert row == (os.getpid(), 5.0)


# ---------------------------------------------------------------------- Lazarus (the rule)
def drive_sweep(suspects: list[rules.Suspect], *, max_attempts: int,
                race: bool = False) -> tuple[list[rules.Verdict], list[Any]]:
    """Run the sweep's steps against made-up answers; return the verdicts and the steps."""
    from headwater._private.driving import drive

    steps: list[Any] = []

    def answer(step: Any) -> Any:
        steps.append(step)
        if isinstance(step, rules.ReadSuspects):
            return suspects
        if isinstance(step, rules.ReadRunningTaskRuns):
            return []
        if isinstance(step, rules.FinishRun):
            # ``race``: the run moved on before the reschedule (the second write) landed.
            return 0 if race and step.expected_start_time is not None else 1
        return None

    verdicts = drive(rules.sweep(T0 + dt.timedelta(hours=1), host="here",
                                 process_check=lambda pid, token: None,
                                 lazarus_max_attempts=max_attempts), answer)
    return verdicts, steps


def test_lazarus_reschedules_a_crashed_deployment_run_on_its_version() -> None:
    crashed = suspect()._replace(deployment_id=uuid.uuid4(), lazarus_attempts=1)
    [verdict], steps = drive_sweep([crashed], max_attempts=3)
    assert (verdict.state_type, verdict.rescheduled) == ("CRASHED", 2)
    states = [s for s in steps if isinstance(s, rules.InsertState)]
    assert [s.book[2] for s in states] == ["Crashed", "Rescheduled"]
    assert states[1].book[1] == "SCHEDULED" and states[1].stamp > states[0].stamp
    assert dict(states[1].details) == {"lazarus_attempt": 2}
    assert "attempt 2 of 3" in states[1].message
    # The dead process's liveness row goes: it would crash the rerun before its first beat.
    assert [s for s in steps if isinstance(s, rules.DropBeat)] == [
        rules.DropBeat(crashed.flow_run_id)]


def test_lazarus_stops_after_the_last_attempt_and_skips_runs_without_deployment() -> None:
    spent = suspect()._replace(deployment_id=uuid.uuid4(), lazarus_attempts=3)
    local = suspect()
    verdicts, steps = drive_sweep([spent, local], max_attempts=3)
    assert [v.rescheduled for v in verdicts] == [0, 0]
    assert all(s.book[1] == "CRASHED" for s in steps if isinstance(s, rules.InsertState))


def test_lazarus_never_reschedules_a_cancelled_run_or_a_run_that_moved_on() -> None:
    cancelling = suspect(state="CANCELLING")._replace(deployment_id=uuid.uuid4())
    [verdict], _ = drive_sweep([cancelling], max_attempts=3)
    assert (verdict.state_type, verdict.rescheduled) == ("CANCELLED", 0)
    raced = suspect()._replace(deployment_id=uuid.uuid4())
    [verdict], steps = drive_sweep([raced], max_attempts=3, race=True)
    assert verdict.rescheduled == 0
    assert [s.book[2] for s in steps if isinstance(s, rules.InsertState)] == ["Crashed"]
    assert not any(isinstance(s, rules.DropBeat) for s in steps)
