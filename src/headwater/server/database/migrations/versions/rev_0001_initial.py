"""The initial schema: flows, flow and task runs, their states, logs, concurrency limits.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from headwater.server.database.tables import JSONValue, Timestamp

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TABLES = (
    "task_run_state",
    "task_run",
    "flow_run_state",
    "flow_run",
    "log",
    "flow",
    "concurrency_limit",
)


def upgrade() -> None:
    op.create_table(
        "concurrency_limit",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", Timestamp(), nullable=False),
        sa.Column("updated", Timestamp(), nullable=False),
        sa.Column("tag", sa.String(), nullable=False),
        sa.Column("concurrency_limit", sa.Integer(), nullable=False),
        sa.Column("active_slots", JSONValue, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concurrency_limit")),
        sa.UniqueConstraint("tag", name=op.f("uq_concurrency_limit__tag")),
    )
    op.create_table(
        "flow",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", Timestamp(), nullable=False),
        sa.Column("updated", Timestamp(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("tags", JSONValue, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow")),
        sa.UniqueConstraint("name", name=op.f("uq_flow__name")),
    )
    op.create_table(
        "log",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", Timestamp(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("flow_run_id", sa.Uuid(), nullable=True),
        sa.Column("task_run_id", sa.Uuid(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("timestamp", Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        op.f("ix_log__flow_run_id_timestamp"), "log", ["flow_run_id", "timestamp"], unique=False
    )
    op.create_index(op.f("ix_log__task_run_id"), "log", ["task_run_id"], unique=False)
    op.create_index(op.f("ix_log__timestamp"), "log", ["timestamp"], unique=False)
    op.create_table(
        "flow_run",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", Timestamp(), nullable=False),
        sa.Column("updated", Timestamp(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("flow_id", sa.Uuid(), nullable=False),
        sa.Column("flow_version", sa.String(), nullable=True),
        sa.Column("parameters", JSONValue, nullable=False),
        sa.Column("tags", JSONValue, nullable=False),
        sa.Column("idempotency_key", sa.String(), nullable=True),
        sa.Column("parent_task_run_id", sa.Uuid(), nullable=True),
        sa.Column("parent_flow_run_id", sa.Uuid(), nullable=True),
        sa.Column("state_id", sa.Uuid(), nullable=True),
        sa.Column("state_type", sa.String(length=16), nullable=True),
        sa.Column("state_name", sa.String(), nullable=True),
        sa.Column("state_timestamp", Timestamp(), nullable=True),
        sa.Column("state_version", sa.Integer(), server_default="0", nullable=False),
        sa.Column("run_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("expected_start_time", Timestamp(), nullable=True),
        sa.Column("start_time", Timestamp(), nullable=True),
        sa.Column("end_time", Timestamp(), nullable=True),
        sa.Column("total_run_time", sa.Float(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["flow_id"], ["flow.id"], name=op.f("fk_flow_run__flow_id__flow"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_run")),
        sa.UniqueConstraint(
            "flow_id", "idempotency_key", name=op.f("uq_flow_run__flow_id_idempotency_key")
        ),
        sqlite_with_rowid=False,
    )
    op.create_index(
        op.f("ix_flow_run__expected_start_time"), "flow_run", ["expected_start_time"], unique=False
    )
    op.create_index(op.f("ix_flow_run__flow_id"), "flow_run", ["flow_id"], unique=False)
    op.create_index(op.f("ix_flow_run__name"), "flow_run", ["name"], unique=False)
    op.create_index(
        op.f("ix_flow_run__parent_flow_run_id"), "flow_run", ["parent_flow_run_id"], unique=False
    )
    op.create_index(
        op.f("ix_flow_run__parent_task_run_id"), "flow_run", ["parent_task_run_id"], unique=False
    )
    op.create_index(op.f("ix_flow_run__start_time"), "flow_run", ["start_time"], unique=False)
    op.create_index(op.f("ix_flow_run__state_type"), "flow_run", ["state_type"], unique=False)
    op.create_table(
        "flow_run_state",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", Timestamp(), nullable=False),
        sa.Column("flow_run_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("timestamp", Timestamp(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("state_details", JSONValue, nullable=False),
        sa.Column("data", JSONValue, nullable=True),
        sa.ForeignKeyConstraint(
            ["flow_run_id"],
            ["flow_run.id"],
            name=op.f("fk_flow_run_state__flow_run_id__flow_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_run_state")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        op.f("ix_flow_run_state__flow_run_id_timestamp"),
        "flow_run_state",
        ["flow_run_id", "timestamp"],
        unique=False,
    )
    op.create_table(
        "task_run",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", Timestamp(), nullable=False),
        sa.Column("updated", Timestamp(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("flow_run_id", sa.Uuid(), nullable=True),
        sa.Column("task_key", sa.String(), nullable=False),
        sa.Column("task_name", sa.String(), nullable=True),
        sa.Column("dynamic_key", sa.String(), nullable=False),
        sa.Column("cache_key", sa.String(), nullable=True),
        sa.Column("task_version", sa.String(), nullable=True),
        sa.Column("tags", JSONValue, nullable=False),
        sa.Column("state_id", sa.Uuid(), nullable=True),
        sa.Column("state_type", sa.String(length=16), nullable=True),
        sa.Column("state_name", sa.String(), nullable=True),
        sa.Column("state_timestamp", Timestamp(), nullable=True),
        sa.Column("state_version", sa.Integer(), server_default="0", nullable=False),
        sa.Column("run_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("expected_start_time", Timestamp(), nullable=True),
        sa.Column("start_time", Timestamp(), nullable=True),
        sa.Column("end_time", Timestamp(), nullable=True),
        sa.Column("total_run_time", sa.Float(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["flow_run_id"],
            ["flow_run.id"],
            name=op.f("fk_task_run__flow_run_id__flow_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_run")),
        sa.UniqueConstraint(
            "flow_run_id",
            "task_key",
            "dynamic_key",
            name=op.f("uq_task_run__flow_run_id_task_key_dynamic_key"),
        ),
        sqlite_with_rowid=False,
    )
    op.create_index(
        op.f("ix_task_run__expected_start_time"), "task_run", ["expected_start_time"], unique=False
    )
    op.create_index(op.f("ix_task_run__name"), "task_run", ["name"], unique=False)
    op.create_index(op.f("ix_task_run__state_type"), "task_run", ["state_type"], unique=False)
    op.create_table(
        "task_run_state",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", Timestamp(), nullable=False),
        sa.Column("task_run_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("timestamp", Timestamp(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("state_details", JSONValue, nullable=False),
        sa.Column("data", JSONValue, nullable=True),
        sa.ForeignKeyConstraint(
            ["task_run_id"],
            ["task_run.id"],
            name=op.f("fk_task_run_state__task_run_id__task_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_run_state")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        op.f("ix_task_run_state__task_run_id_timestamp"),
        "task_run_state",
        ["task_run_id", "timestamp"],
        unique=False,
    )
    if op.get_bind().dialect.name == "postgresql":
        # Containment queries on tags (``tags @> '["x"]'``) use these.
        op.execute("CREATE INDEX ix_flow_run__tags ON flow_run USING gin (tags jsonb_path_ops)")
        op.execute("CREATE INDEX ix_task_run__tags ON task_run USING gin (tags jsonb_path_ops)")


def downgrade() -> None:
    for table in _TABLES:
        op.drop_table(table)
