"""The tables, as SQLAlchemy Core ``Table`` objects (one ``MetaData``).

Core, not ORM: the hot paths (the records batch, filters) are bulk
statements, and no code needs identity-mapped objects. The alembic
migrations in ``migrations/versions`` create exactly these tables; a test
compares the two.

On SQLite, the tables keyed by a UUID are ``WITHOUT ROWID``: the primary
key is the table's own B-tree, so an insert updates one tree fewer.

Every run row carries its current state denormalized (``state_id``,
``state_type``, ``state_name``, ``state_timestamp``) so filters and counts by
state need no join, and ``state_version``, bumped by every state change, for
optimistic concurrency.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect

__all__ = [
    "JSONValue",
    "Timestamp",
    "WAITING",
    "concurrency_lease",
    "concurrency_limit",
    "deployment",
    "deployment_schedule",
    "flow",
    "flow_run",
    "flow_run_liveness",
    "flow_run_state",
    "global_concurrency_limit",
    "log",
    "metadata",
    "project",
    "run_lock",
    "task_run",
    "task_run_state",
    "task_run_state_cache",
    "work_pool",
    "work_queue",
    "worker",
]

_UTC = dt.timezone.utc

#: Flow runs waiting for their start time (the scheduler's partial index).
#: ``Scheduled`` is only ever the name of a SCHEDULED state.
WAITING = "state_name = 'Scheduled'"


class Timestamp(sa.types.TypeDecorator[dt.datetime]):
    """A UTC timestamp on every database.

    PostgreSQL stores ``timestamptz``. SQLite has no such type: values are
    stored as naive UTC text in SQLAlchemy's fixed-width format, so text order
    is time order, and read back as aware UTC datetimes.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.DateTime(timezone=False))
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        # Naive means UTC, as in the API.
        value = value.replace(tzinfo=_UTC) if value.tzinfo is None else value.astimezone(_UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=_UTC)  # type: ignore[no-any-return]
        return value.astimezone(_UTC)  # type: ignore[no-any-return]


#: JSON everywhere, JSONB on PostgreSQL (containment queries on tags).
JSONValue = sa.JSON().with_variant(JSONB(), "postgresql")

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s__%(column_0_N_name)s",
        "uq": "uq_%(table_name)s__%(column_0_N_name)s",
        "fk": "fk_%(table_name)s__%(column_0_name)s__%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _stamps() -> list[sa.Column[Any]]:
    return [
        sa.Column("created", Timestamp(), nullable=False),
        sa.Column("updated", Timestamp(), nullable=False),
    ]


def _run_state_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("state_id", sa.Uuid(), nullable=True),
        sa.Column("state_type", sa.String(16), nullable=True),
        sa.Column("state_name", sa.String(), nullable=True),
        sa.Column("state_timestamp", Timestamp(), nullable=True),
        sa.Column("state_version", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("run_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("expected_start_time", Timestamp(), nullable=True),
        sa.Column("start_time", Timestamp(), nullable=True),
        sa.Column("end_time", Timestamp(), nullable=True),
        sa.Column("total_run_time", sa.Float(), nullable=False, server_default="0"),
    ]


flow = sa.Table(
    "flow",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    *_stamps(),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("tags", JSONValue, nullable=False),
    sa.UniqueConstraint("name"),
)

flow_run = sa.Table(
    "flow_run",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    *_stamps(),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("flow_id", sa.Uuid(), sa.ForeignKey("flow.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("flow_version", sa.String(), nullable=True),
    sa.Column("parameters", JSONValue, nullable=False),
    sa.Column("tags", JSONValue, nullable=False),
    sa.Column("idempotency_key", sa.String(), nullable=True),
    # No foreign keys on the parent links: a batch may record a subflow run
    # before its parent task run, and deleting a parent keeps its children.
    sa.Column("parent_task_run_id", sa.Uuid(), nullable=True),
    sa.Column("parent_flow_run_id", sa.Uuid(), nullable=True),
    *_run_state_columns(),
    # Runs created from a deployment (migration 0006). Nullable, no defaults
    # to compute, no foreign key (a deleted deployment keeps its runs'
    # history): the embedded recorder's inserts leave them out and pay nothing.
    sa.Column("deployment_id", sa.Uuid(), nullable=True),
    sa.Column("deployment_version", sa.String(), nullable=True),
    sa.Column("auto_scheduled", sa.Boolean(), nullable=True),
    sa.Column("work_queue_name", sa.String(), nullable=True),
    sa.Column("work_pool_name", sa.String(), nullable=True),
    sa.Column("labels", JSONValue, nullable=True),
    sa.Column("schedule_id", sa.Uuid(), nullable=True),
    sa.UniqueConstraint("flow_id", "idempotency_key"),
    sa.Index(None, "flow_id"),
    sa.Index(None, "state_type"),
    sa.Index(None, "expected_start_time"),
    sa.Index(None, "start_time"),
    sa.Index(None, "name"),
    sa.Index(None, "parent_task_run_id"),
    sa.Index(None, "parent_flow_run_id"),
    # Partial: runs without a deployment (every run the engine records
    # itself) add no index entry, so recording costs what it did.
    sa.Index(None, "deployment_id", "expected_start_time",
             sqlite_where=sa.text("deployment_id IS NOT NULL"),
             postgresql_where=sa.text("deployment_id IS NOT NULL")),
    # The scheduler's slice of runs to mark Late: those still waiting in a
    # state named Scheduled, by time. Late runs leave the index, so however
    # many pile up, the next loop does not read them again.
    sa.Index("ix_flow_run__waiting", "expected_start_time",
             sqlite_where=sa.text(WAITING), postgresql_where=sa.text(WAITING)),
    sqlite_with_rowid=False,
)

task_run = sa.Table(
    "task_run",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    *_stamps(),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("flow_run_id", sa.Uuid(), sa.ForeignKey("flow_run.id", ondelete="CASCADE"),
              nullable=True),
    sa.Column("task_key", sa.String(), nullable=False),
    sa.Column("task_name", sa.String(), nullable=True),
    sa.Column("dynamic_key", sa.String(), nullable=False),
    sa.Column("cache_key", sa.String(), nullable=True),
    sa.Column("task_version", sa.String(), nullable=True),
    sa.Column("tags", JSONValue, nullable=False),
    *_run_state_columns(),
    # Prefect's identity of a task run; its prefix serves flow_run_id lookups.
    sa.UniqueConstraint("flow_run_id", "task_key", "dynamic_key"),
    # By state alone (its prefix), and by state within a time range or sorted by time.
    sa.Index(None, "state_type", "expected_start_time"),
    sa.Index(None, "expected_start_time"),
    # No index on name: task names are "<task>-<n>", each new run would land at
    # a random place in it (the costliest task-run index to keep; migration 0004).
    sqlite_with_rowid=False,
)


def _state_table(name: str, run_table: str, run_column: str) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("created", Timestamp(), nullable=False),
        sa.Column(run_column, sa.Uuid(), sa.ForeignKey(f"{run_table}.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("timestamp", Timestamp(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("state_details", JSONValue, nullable=False),
        sa.Column("data", JSONValue, nullable=True),
        sa.Index(None, run_column, "timestamp"),
        sqlite_with_rowid=False,
    )


flow_run_state = _state_table("flow_run_state", "flow_run", "flow_run_id")
task_run_state = _state_table("task_run_state", "task_run", "task_run_id")

# The cache key index (Prefect's task_run_state_cache): for each cache key, the
# newest COMPLETED task run state recorded with it, kept up to date by every
# path that stores states (records batches and set_state). The engine's own
# lookups read the result storage's index (a result is reusable where its
# storage is shared); this one answers the API and the CLI.
task_run_state_cache = sa.Table(
    "task_run_state_cache",
    metadata,
    sa.Column("cache_key", sa.String(), primary_key=True),
    *_stamps(),
    sa.Column("task_run_state_id", sa.Uuid(),
              sa.ForeignKey("task_run_state.id", ondelete="CASCADE"), nullable=False),
    sa.Column("task_run_id", sa.Uuid(), nullable=False),
    sa.Column("timestamp", Timestamp(), nullable=False),  # the state's: the newest wins
    sa.Column("cache_expiration", Timestamp(), nullable=True),
    sa.Index(None, "task_run_state_id"),  # deleting states (with their runs) finds entries
    sqlite_with_rowid=False,
)

log = sa.Table(
    "log",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("created", Timestamp(), nullable=False),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("level", sa.Integer(), nullable=False),
    # Logs keep no foreign keys (as in Prefect): they outlive deleted runs.
    sa.Column("flow_run_id", sa.Uuid(), nullable=True),
    sa.Column("task_run_id", sa.Uuid(), nullable=True),
    sa.Column("message", sa.Text(), nullable=False),
    sa.Column("timestamp", Timestamp(), nullable=False),
    sa.Index(None, "flow_run_id", "timestamp"),
    sa.Index(None, "task_run_id"),
    sa.Index(None, "timestamp"),
    sqlite_with_rowid=False,
)

concurrency_limit = sa.Table(
    "concurrency_limit",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    *_stamps(),
    sa.Column("tag", sa.String(), nullable=False),
    sa.Column("concurrency_limit", sa.Integer(), nullable=False),
    sa.Column("active_slots", JSONValue, nullable=False),
    sa.UniqueConstraint("tag"),
)

global_concurrency_limit = sa.Table(
    "global_concurrency_limit",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    *_stamps(),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("limit", sa.Integer(), nullable=False),
    sa.Column("slot_decay_per_second", sa.Float(), nullable=False),
    # Rate-limit slots not decayed yet, as of ``decayed_at`` (recomputed lazily).
    sa.Column("decaying_slots", sa.Float(), nullable=False),
    sa.Column("decayed_at", Timestamp(), nullable=False),
    sa.UniqueConstraint("name"),
)

# Slots held on limits (``tag:<tag>`` names a tag limit, other names a global
# limit) until released or ``expires_at``; expired rows are deleted lazily by
# the next increment. A limit's used slots are the sum over live leases naming it.
concurrency_lease = sa.Table(
    "concurrency_lease",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("created", Timestamp(), nullable=False),
    sa.Column("names", JSONValue, nullable=False),
    sa.Column("slots", sa.Integer(), nullable=False),
    sa.Column("holder", sa.String(), nullable=True),
    sa.Column("expires_at", Timestamp(), nullable=False),
    sa.Index(None, "expires_at"),
)


project = sa.Table(
    "project",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    *_stamps(),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("description", sa.Text(), nullable=True),
    sa.UniqueConstraint("name"),
)

# One row per deployment VERSION: a new version archives the current one
# (``archived``), so a deployment's history stays readable and its old runs
# keep naming the version that made them.
deployment = sa.Table(
    "deployment",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    *_stamps(),
    sa.Column("flow_id", sa.Uuid(), sa.ForeignKey("flow.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("project", sa.String(), nullable=False, server_default="default"),
    sa.Column("version", sa.String(), nullable=True),
    sa.Column("version_hash", sa.String(), nullable=False),
    sa.Column("archived", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("paused", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("tags", JSONValue, nullable=False),
    sa.Column("labels", JSONValue, nullable=False),
    sa.Column("parameters", JSONValue, nullable=False),
    sa.Column("parameter_openapi_schema", JSONValue, nullable=True),
    sa.Column("entrypoint", sa.String(), nullable=True),
    sa.Column("code_location", JSONValue, nullable=True),
    sa.Column("work_pool_name", sa.String(), nullable=True),
    sa.Column("work_queue_name", sa.String(), nullable=True),
    sa.Column("enforce_parameter_schema", sa.Boolean(), nullable=False,
              server_default=sa.true()),
    sa.Column("max_lateness_seconds", sa.Float(), nullable=True),
    sa.Column("late_runs", sa.String(8), nullable=False, server_default="run"),
    sa.Column("catchup", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("last_scheduled_time", Timestamp(), nullable=True),
    # The liveness switches (migration 0009): the same on every version of a
    # deployment, not part of its content hash.
    sa.Column("heartbeat", sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Column("lazarus", sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Column("version_lock", sa.Boolean(), nullable=False, server_default=sa.false()),
    # Prefect 2's fields, stored as sent (see docs/migration.md).
    sa.Column("job_variables", JSONValue, nullable=True),
    sa.Column("pull_steps", JSONValue, nullable=True),
    sa.UniqueConstraint("flow_id", "name", "version_hash"),
    # At most one current (not archived) version per flow and name.
    sa.Index("ix_deployment__current", "flow_id", "name", unique=True,
             sqlite_where=sa.text("NOT archived"), postgresql_where=sa.text("NOT archived")),
    sa.Index(None, "name"),
)

deployment_schedule = sa.Table(
    "deployment_schedule",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    *_stamps(),
    sa.Column("deployment_id", sa.Uuid(),
              sa.ForeignKey("deployment.id", ondelete="CASCADE"), nullable=False),
    sa.Column("schedule", JSONValue, nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Column("parameters", JSONValue, nullable=False),
    sa.Column("slug", sa.String(), nullable=True),
    sa.Index(None, "deployment_id"),
)

# --- liveness and workers (migration 0007) -------------------------------------------------

# Where a flow run's process lives and when it last said so: written when the
# run starts running and by every heartbeat (``POST /flow_runs/heartbeat``, or
# the storage core's liveness statements in embedded mode). No foreign key: a
# heartbeat may arrive before the recorder's batch that creates the run; the
# zombie check joins on flow_run and ignores rows without a running run.
flow_run_liveness = sa.Table(
    "flow_run_liveness",
    metadata,
    sa.Column("flow_run_id", sa.Uuid(), primary_key=True),
    sa.Column("created", Timestamp(), nullable=False),
    sa.Column("host", sa.String(), nullable=False),
    sa.Column("pid", sa.Integer(), nullable=False),
    # An opaque token of the process's start ("linux:<boot id>:<ticks>"), so a
    # reused pid is not taken for the run's process; None where unknown.
    sa.Column("process_start", sa.String(), nullable=True),
    sa.Column("heartbeat_interval", sa.Float(), nullable=False),
    sa.Column("last_heartbeat", Timestamp(), nullable=False),
    sqlite_with_rowid=False,
)

# Who started a run whose version lock is on (migration 0009): inserting the
# row is the compare-and-set, so a second starter of the same flow run or
# task run finds it and is refused. No foreign key: a task run's row may
# arrive after its lock (the recorder writes in batches). Lazarus deletes a
# flow run's row when it reschedules the run.
run_lock = sa.Table(
    "run_lock",
    metadata,
    sa.Column("run_id", sa.Uuid(), primary_key=True),
    sa.Column("created", Timestamp(), nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),  # "flow_run" or "task_run"
    sa.Column("host", sa.String(), nullable=False),
    sa.Column("pid", sa.Integer(), nullable=False),
    sa.Column("process_start", sa.String(), nullable=True),
    sqlite_with_rowid=False,
)

# Work pools and their queues (Prefect 2's REST shape): where deployments'
# runs wait for a worker.
work_pool = sa.Table(
    "work_pool",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    *_stamps(),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("type", sa.String(), nullable=False, server_default="process"),
    sa.Column("base_job_template", JSONValue, nullable=False),
    sa.Column("is_paused", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("concurrency_limit", sa.Integer(), nullable=True),
    # Runs without labels go to any worker unless this is set.
    sa.Column("require_labels", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("default_queue_id", sa.Uuid(), nullable=True),
    sa.UniqueConstraint("name"),
)

work_queue = sa.Table(
    "work_queue",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    *_stamps(),
    sa.Column("work_pool_id", sa.Uuid(), sa.ForeignKey("work_pool.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("is_paused", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("concurrency_limit", sa.Integer(), nullable=True),
    sa.Column("priority", sa.Integer(), nullable=False, server_default="1"),
    sa.Column("last_polled", Timestamp(), nullable=True),
    sa.UniqueConstraint("work_pool_id", "name"),
)

worker = sa.Table(
    "worker",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    *_stamps(),
    sa.Column("work_pool_id", sa.Uuid(), sa.ForeignKey("work_pool.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("labels", JSONValue, nullable=False),
    sa.Column("host", sa.String(), nullable=True),
    sa.Column("heartbeat_interval_seconds", sa.Float(), nullable=True),
    sa.Column("last_heartbeat_time", Timestamp(), nullable=False),
    sa.UniqueConstraint("work_pool_id", "name"),
)
