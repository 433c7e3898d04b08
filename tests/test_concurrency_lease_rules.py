"""The lease rules' sans-I/O core, and its SQLite statements against SQLAlchemy's rows.

The core (``_private/storage/lease_rules.py``) is driven by hand here: it
yields what it needs to read or write and decides from the answers. Its
SQLite statements (``lease_sqlite.py``) must store exactly what SQLAlchemy
stores for ``tables.py``'s types, since the API's other routes read and
write the same tables through SQLAlchemy.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from headwater._private.storage import lease_rules as rules
from headwater._private.storage import lease_sqlite

NOW = dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone.utc)


def drive(steps: rules.Steps[Any], answers: list[Any]) -> tuple[list[rules.Step], Any]:
    """Run ``steps``, answering each step with the next of ``answers``; return steps and result."""
    seen: list[rules.Step] = []
    answer: Any = None
    replies = iter(answers)
    while True:
        try:
            seen.append(steps.send(answer))
        except StopIteration as done:
            return seen, done.value
        answer = next(replies)


def tag_limit(tag: str, limit: int, *slots: str) -> rules.LimitRow:
    return rules.LimitRow(f"tag:{tag}", limit, 0.0, 0.0, None, slots, None)


def test_increment_reclaims_reads_and_grants() -> None:
    request = rules.LeaseRequest(("tag:db", "nolimit"), 1, 30.0, "run-1")
    steps, grant = drive(rules.increment(request, NOW), [None, [tag_limit("db", 2)], [], None])
    assert steps[:3] == [rules.DeleteExpired(NOW),
                         rules.ReadLimits(("nolimit", "tag:db"), lock=True),
                         rules.ReadLiveLeases(NOW)]
    inserted = steps[3]
    assert isinstance(inserted, rules.InsertLease)
    assert (inserted.names, inserted.slots, inserted.holder) == (("tag:db",), 1, "run-1")
    assert inserted.expires_at == NOW + dt.timedelta(seconds=30)
    assert grant == rules.Grant(True, inserted.id, ("tag:db",), inserted.expires_at)


def test_a_full_limit_refuses_and_writes_nothing() -> None:
    held = rules.LeaseRow(uuid.uuid4(), ("tag:db",), 1, "other")
    # One slot leased, one held by a task run through Prefect 2's rule: full.
    steps, grant = drive(rules.increment(rules.LeaseRequest(("tag:db",)), NOW),
                         [None, [tag_limit("db", 2, "task-run")], [held]])
    assert grant == rules.Grant(False, names=("tag:db",))
    assert not any(isinstance(s, rules.InsertLease) for s in steps)


def test_names_without_a_limit_are_granted_with_nothing_to_release() -> None:
    _, grant = drive(rules.increment(rules.LeaseRequest(("free",)), NOW), [None, []])
    assert grant == rules.Grant(True)


def test_impossible_requests_raise() -> None:
    with pytest.raises(rules.LeaseImpossible, match="its limit is 1"):
        drive(rules.increment(rules.LeaseRequest(("tag:db",), slots=2), NOW),
              [None, [tag_limit("db", 1)]])


def test_rate_limit_slots_decay_from_their_stored_time() -> None:
    row_id = uuid.uuid4()
    # 2 slots stored a second ago, decaying at 1.5 a second: 0.5 left, 1.5 free of 2.
    limit = rules.LimitRow("api", 2, 1.5, 2.0, NOW - dt.timedelta(seconds=1), (), row_id)
    request = rules.LeaseRequest(("api",), mode="rate_limit")
    steps, grant = drive(rules.increment(request, NOW), [None, [limit], [], None])
    assert steps[-1] == rules.SetDecaying(row_id, 1.5, NOW)
    assert grant == rules.Grant(True, names=("api",))


def test_renew_only_extends_a_live_lease() -> None:
    lease_id = uuid.uuid4()
    steps, expires = drive(rules.renew(lease_id, 5.0, NOW), [1])
    assert steps == [rules.ExtendLease(lease_id, NOW, NOW + dt.timedelta(seconds=5))]
    assert expires == NOW + dt.timedelta(seconds=5)
    assert drive(rules.renew(lease_id, 5.0, NOW), [0])[1] is None  # lapsed or unknown


# ---------------------------------------------------------------------- SQLite rows
@pytest.fixture
def database(tmp_path: Path) -> Path:
    from headwater._private.storage.sqlite_schema import ensure_sqlite_schema

    path = tmp_path / "headwater.db"
    con = sqlite3.connect(path)
    try:
        assert ensure_sqlite_schema(con)
    finally:
        con.close()
    return path


def test_sqlite_statements_store_what_sqlalchemy_stores(database: Path) -> None:
    sa = pytest.importorskip("sqlalchemy")
    from headwater.server.database import tables as t

    engine = sa.create_engine(f"sqlite:///{database}")
    theirs = uuid.uuid4()
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(t.concurrency_limit).values(
                id=uuid.uuid4(), created=NOW, updated=NOW, tag="db", concurrency_limit=3,
                active_slots=["task-run"]))
            conn.execute(sa.insert(t.concurrency_lease).values(
                id=theirs, created=NOW, names=["tag:db"], slots=1, holder=None,
                expires_at=NOW + dt.timedelta(seconds=60)))
        con = sqlite3.connect(database, isolation_level=None)
        try:
            request = rules.LeaseRequest(("tag:db",), 1, 30.5, "mine")
            grant = lease_sqlite.run(con, rules.increment(request, NOW))
            status = lease_sqlite.run(con, rules.limit_status(None, NOW), write=False)
        finally:
            con.close()
        assert grant.granted and grant.lease_id is not None
        # Read back through SQLAlchemy's types: the same values.
        with engine.connect() as conn:
            rows = {r.id: r for r in conn.execute(sa.select(t.concurrency_lease))}
    finally:
        engine.dispose()
    mine = rows[grant.lease_id]
    assert (mine.created, mine.expires_at) == (NOW, grant.expires_at)
    assert (mine.names, mine.slots, mine.holder) == (["tag:db"], 1, "mine")
    # And SQLAlchemy's rows read back through the statements.
    (usage,) = status
    assert usage._replace(holders=()) == rules.LimitUsage("tag:db", 3, 0.0, 3, 0.0, ())
    assert usage.holders[0] == "task-run"  # Prefect 2's slots first, then leases (any order)
    assert sorted(usage.holders[1:]) == sorted([str(theirs), "mine"])


def test_status_of_a_database_without_tables_is_empty(tmp_path: Path) -> None:
    from headwater._private.concurrency.store import read_sqlite_limits

    sqlite3.connect(tmp_path / "empty.db").close()
    assert read_sqlite_limits(tmp_path / "empty.db") == {}
    assert read_sqlite_limits(tmp_path / "missing.db") == {}
    assert not (tmp_path / "missing.db").exists()


def test_the_rules_and_the_direct_store_import_no_server_stack() -> None:
    code = ("import sys\n"
            "import headwater._private.concurrency.sqlite_slots\n"
            "import headwater._private.storage.lease_sqlite\n"
            "heavy = {'sqlalchemy', 'fastapi', 'starlette', 'aiosqlite', 'httpx', 'alembic'}\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
