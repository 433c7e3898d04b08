"""The cache key index: the newest COMPLETED task run state recorded under each cache key.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from headwater.server.database.tables import Timestamp

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "task_run_state_cache",
        sa.Column("cache_key", sa.String(), nullable=False),
        sa.Column("created", Timestamp(), nullable=False),
        sa.Column("updated", Timestamp(), nullable=False),
        sa.Column("task_run_state_id", sa.Uuid(), nullable=False),
        sa.Column("task_run_id", sa.Uuid(), nullable=False),
        sa.Column("timestamp", Timestamp(), nullable=False),
        sa.Column("cache_expiration", Timestamp(), nullable=True),
        sa.ForeignKeyConstraint(
            ["task_run_state_id"], ["task_run_state.id"],
            name=op.f("fk_task_run_state_cache__task_run_state_id__task_run_state"),
            ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("cache_key", name=op.f("pk_task_run_state_cache")),
        sqlite_with_rowid=False,
    )
    op.create_index(op.f("ix_task_run_state_cache__task_run_state_id"), "task_run_state_cache",
                    ["task_run_state_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_task_run_state_cache__task_run_state_id"),
                  table_name="task_run_state_cache")
    op.drop_table("task_run_state_cache")
