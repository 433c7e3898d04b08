"""Liveness and workers: flow run heartbeats, work pools, work queues, workers.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from headwater.server.database.tables import JSONValue, Timestamp

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _stamps() -> list[sa.Column[object]]:
    return [sa.Column("created", Timestamp(), nullable=False),
            sa.Column("updated", Timestamp(), nullable=False)]


def upgrade() -> None:
    op.create_table(
        "flow_run_liveness",
        sa.Column("flow_run_id", sa.Uuid(), nullable=False),
        sa.Column("created", Timestamp(), nullable=False),
        sa.Column("host", sa.String(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("process_start", sa.String(), nullable=True),
        sa.Column("heartbeat_interval", sa.Float(), nullable=False),
        sa.Column("last_heartbeat", Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("flow_run_id", name=op.f("pk_flow_run_liveness")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "work_pool",
        sa.Column("id", sa.Uuid(), nullable=False),
        *_stamps(),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("type", sa.String(), server_default="process", nullable=False),
        sa.Column("base_job_template", JSONValue, nullable=False),
        sa.Column("is_paused", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("concurrency_limit", sa.Integer(), nullable=True),
        sa.Column("require_labels", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("default_queue_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_pool")),
        sa.UniqueConstraint("name", name=op.f("uq_work_pool__name")),
    )
    op.create_table(
        "work_queue",
        sa.Column("id", sa.Uuid(), nullable=False),
        *_stamps(),
        sa.Column("work_pool_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("is_paused", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("concurrency_limit", sa.Integer(), nullable=True),
        sa.Column("priority", sa.Integer(), server_default="1", nullable=False),
        sa.Column("last_polled", Timestamp(), nullable=True),
        sa.ForeignKeyConstraint(["work_pool_id"], ["work_pool.id"],
                                name=op.f("fk_work_queue__work_pool_id__work_pool"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_queue")),
        sa.UniqueConstraint("work_pool_id", "name", name=op.f("uq_work_queue__work_pool_id_name")),
    )
    op.create_table(
        "worker",
        sa.Column("id", sa.Uuid(), nullable=False),
        *_stamps(),
        sa.Column("work_pool_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("labels", JSONValue, nullable=False),
        sa.Column("host", sa.String(), nullable=True),
        sa.Column("heartbeat_interval_seconds", sa.Float(), nullable=True),
        sa.Column("last_heartbeat_time", Timestamp(), nullable=False),
        sa.ForeignKeyConstraint(["work_pool_id"], ["work_pool.id"],
                                name=op.f("fk_worker__work_pool_id__work_pool"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worker")),
        sa.UniqueConstraint("work_pool_id", "name", name=op.f("uq_worker__work_pool_id_name")),
    )


def downgrade() -> None:
    op.drop_table("worker")
    op.drop_table("work_queue")
    op.drop_table("work_pool")
    op.drop_table("flow_run_liveness")
