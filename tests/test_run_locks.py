"""The storage core's version lock rule and the zombie check's race, on a real SQLite file.

The claim is tested over every stored state (and with or without a lock
already there); the race puts the run's own completion before each step of
the sweep in turn (hypothesis picks where, with or without task runs, a
deployment and its Lazarus switch): the run always keeps Completed.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headwater._private.driving import drive
from headwater._private.storage import liveness_rules as rules
from headwater._private.storage import liveness_sqlite, run_locks
from headwater._private.storage.sqlite_schema import ensure_sqlite_schema
from headwater._private.storage.stored_values import stored_time
from headwater._private.storage.transactions import sqlite_transaction

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
STAMP = stored_time(T0)
ME = run_locks.Holder("here", 1, "token")
STATES = [None, "SCHEDULED", "PENDING", "PAUSED", "RUNNING", "CANCELLING", "COMPLETED",
          "FAILED", "CANCELLED", "CRASHED"]


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sqlite3.Connection]:
    path: Path = tmp_path_factory.mktemp("locks") / "headwater.db"
    con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    assert ensure_sqlite_schema(con)
    con.execute("INSERT INTO flow (id, created, updated, name, tags) VALUES (?, ?, ?, 'f', '[]')",
                (uuid.uuid4().hex, STAMP, STAMP))
    yield con
    con.close()


def flow_id(con: sqlite3.Connection) -> str:
    return str(con.execute("SELECT id FROM flow").fetchone()[0])


def add_flow_run(con: sqlite3.Connection, state: str | None,
                 deployment_id: uuid.UUID | None = None) -> uuid.UUID:
    run_id = uuid.uuid4()
    con.execute("INSERT INTO flow_run (id, created, updated, name, flow_id, parameters, tags, "
                "state_type, state_name, state_timestamp, state_version, deployment_id) VALUES "
                "(?, ?, ?, 'r', ?, '{}', '[]', ?, ?, ?, 3, ?)",
                (run_id.hex, STAMP, STAMP, flow_id(con), state,
                 state.title() if state else None, STAMP if state else None,
                 deployment_id.hex if deployment_id else None))
    return run_id


# ---------------------------------------------------------------------- the claim
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=40)
@given(state=st.sampled_from(STATES), locked_before=st.booleans(), stored=st.booleans())
def test_a_run_is_claimed_only_when_nobody_started_it(
        database: sqlite3.Connection, state: str | None, locked_before: bool,
        stored: bool) -> None:
    run_id = add_flow_run(database, state) if stored else uuid.uuid4()
    other = run_locks.Holder("there", 2, None)
    if locked_before:  # another process took it (before the run reached this state)
        database.execute("INSERT INTO run_lock (run_id, created, kind, host, pid) VALUES "
                         "(?, ?, 'flow_run', 'there', 2)", (run_id.hex, STAMP))
    answer = run_locks.run(database, run_locks.claim("flow_run", run_id, ME, T0))
    busy = stored and state in {"RUNNING", "CANCELLING", "COMPLETED", "FAILED", "CANCELLED",
                                "CRASHED"}
    assert answer.claimed is (not busy and not locked_before)
    if answer.claimed:
        assert answer.holder == ME
    else:
        assert answer.holder == (other if locked_before else None)
        assert answer.state_type == (state if stored else None)
    # Whoever holds it, a second claim is always refused.
    assert not run_locks.run(database, run_locks.claim("flow_run", run_id, ME, T0)).claimed


# ---------------------------------------------------------------------- the race
def dead_run(con: sqlite3.Connection, deployment: bool, lazarus: bool,
             task_runs: int) -> uuid.UUID:
    deployment_id = None
    if deployment:
        deployment_id = uuid.uuid4()
        con.execute("INSERT INTO deployment (id, created, updated, flow_id, name, version_hash, "
                    "tags, labels, parameters, lazarus) VALUES (?, ?, ?, ?, ?, 'h', '[]', '[]', "
                    "'{}', ?)", (deployment_id.hex, STAMP, STAMP, flow_id(con),
                                 deployment_id.hex, lazarus))
    run_id = add_flow_run(con, "RUNNING", deployment_id)
    for n in range(task_runs):
        con.execute("INSERT INTO task_run (id, created, updated, name, flow_run_id, task_key, "
                    "dynamic_key, tags, state_type, state_name, state_timestamp, state_version) "
                    "VALUES (?, ?, ?, 't', ?, 't', ?, '[]', 'RUNNING', 'Running', ?, 1)",
                    (uuid.uuid4().hex, STAMP, STAMP, run_id.hex, str(n), STAMP))
    beat = rules.Beat((run_id,), "another-host", 7, None, 30.0, T0)
    liveness_sqlite.run(con, rules.heartbeat(beat))
    return run_id


def complete(con: sqlite3.Connection, run_id: uuid.UUID) -> None:
    """What the run's own process writes when it finishes: its state, one version on."""
    con.execute("UPDATE flow_run SET state_type = 'COMPLETED', state_name = 'Completed', "
                "state_version = state_version + 1 WHERE id = ?", (run_id.hex,))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
@given(k=st.integers(min_value=0, max_value=3), deployment=st.booleans(),
       lazarus=st.booleans(), task_runs=st.integers(min_value=0, max_value=2))
def test_a_completion_racing_the_zombie_check_never_yields_crashed(
        database: sqlite3.Connection, k: int, deployment: bool, lazarus: bool,
        task_runs: int) -> None:
    run_id = dead_run(database, deployment, lazarus, task_runs)
    seen: list[rules.Step] = []
    landed = False

    def carry_out(step: rules.Step) -> Any:
        nonlocal landed
        mine = (isinstance(step, rules.FinishRun) and step.table == "flow_run"
                and step.run_id == run_id)
        # The completion lands before the k-th step, or at the latest right before
        # the sweep's compare-and-set on the run.
        if not landed and (len(seen) >= k or mine):
            landed = True
            complete(database, run_id)
        seen.append(step)
        answer: list[Any] | int = 0
        for sql in liveness_sqlite.statements(step):
            cursor = database.execute(sql.sql, sql.params)
            answer = cursor.fetchall() if sql.query else cursor.rowcount
        return liveness_sqlite.decode(step, answer)

    with sqlite_transaction(database):
        verdicts = drive(rules.sweep(T0 + dt.timedelta(hours=1), host="here",
                                     process_check=lambda pid, token: None,
                                     lazarus_max_attempts=3), carry_out)
    assert landed
    assert all(v.flow_run_id != run_id for v in verdicts)
    row = database.execute("SELECT state_type FROM flow_run WHERE id = ?",
                           (run_id.hex,)).fetchone()
    assert row == ("COMPLETED",)
    crashed = database.execute(
        "SELECT count(*) FROM flow_run_state WHERE flow_run_id = ? AND type = 'CRASHED'",
        (run_id.hex,)).fetchone()[0]
    assert crashed == 0
    left = database.execute("SELECT count(*) FROM task_run WHERE flow_run_id = ? AND "
                            "state_type = 'RUNNING'", (run_id.hex,)).fetchone()[0]
    assert left == task_runs  # a run that completed keeps its task runs' states


def test_lazarus_follows_the_switch_and_frees_the_lock(database: sqlite3.Connection) -> None:
    on = dead_run(database, deployment=True, lazarus=True, task_runs=0)
    off = dead_run(database, deployment=True, lazarus=False, task_runs=0)
    for run_id in (on, off):
        assert not run_locks.run(database, run_locks.claim("flow_run", run_id, ME, T0)).claimed
        database.execute("INSERT INTO run_lock (run_id, created, kind, host, pid) VALUES "
                         "(?, ?, 'flow_run', 'there', 2)", (run_id.hex, STAMP))
    verdicts = liveness_sqlite.run(database, rules.sweep(
        T0 + dt.timedelta(hours=2), host="here", process_check=lambda pid, token: None,
        lazarus_max_attempts=3))
    by_run = {v.flow_run_id: v for v in verdicts}
    assert by_run[on].rescheduled == 1 and by_run[off].rescheduled == 0
    assert run_locks.run(database, run_locks.claim("flow_run", on, ME, T0)).claimed
    refused = run_locks.run(database, run_locks.claim("flow_run", off, ME, T0))
    assert not refused.claimed and refused.state_type == "CRASHED"
