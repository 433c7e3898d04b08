"""Global concurrency limits and slot leases (cross-process concurrency).

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from headwater.server.database.tables import JSONValue, Timestamp

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "global_concurrency_limit",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", Timestamp(), nullable=False),
        sa.Column("updated", Timestamp(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("limit", sa.Integer(), nullable=False),
        sa.Column("slot_decay_per_second", sa.Float(), nullable=False),
        sa.Column("decaying_slots", sa.Float(), nullable=False),
        sa.Column("decayed_at", Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_global_concurrency_limit")),
        sa.UniqueConstraint("name", name=op.f("uq_global_concurrency_limit__name")),
    )
    op.create_table(
        "concurrency_lease",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", Timestamp(), nullable=False),
        sa.Column("names", JSONValue, nullable=False),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(), nullable=True),
        sa.Column("expires_at", Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concurrency_lease")),
    )
    op.create_index(op.f("ix_concurrency_lease__expires_at"), "concurrency_lease",
                    ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_concurrency_lease__expires_at"), table_name="concurrency_lease")
    op.drop_table("concurrency_lease")
    op.drop_table("global_concurrency_limit")
