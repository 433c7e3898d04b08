"""The flow run input store (Prefect 2's ``flow_run_input``): key/value pairs per flow run.

A suspended or paused run saves the schema of the input it waits for there,
and ``resume_flow_run(run_input=...)`` stores the input it was resumed with;
``RunInput.save``/``load`` read and write it.

Revision ID: 0008_flow_run_input
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from headwater.server.database.tables import Timestamp

revision = "0008_flow_run_input"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flow_run_input",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", Timestamp(), nullable=False),
        sa.Column("updated", Timestamp(), nullable=False),
        sa.Column("flow_run_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("sender", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["flow_run_id"], ["flow_run.id"],
                                name=op.f("fk_flow_run_input__flow_run_id__flow_run"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_run_input")),
        sa.UniqueConstraint("flow_run_id", "key", name=op.f("uq_flow_run_input__flow_run_id_key")),
    )


def downgrade() -> None:
    op.drop_table("flow_run_input")
