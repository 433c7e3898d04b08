"""Liveness switches per deployment, version locks, Prefect 2's job_variables and pull_steps.

- ``deployment.heartbeat``, ``deployment.lazarus``, ``deployment.version_lock``:
  the switches (``headwater deployment set NAME --no-heartbeat`` ...), set on
  every version of a deployment at once (they are not part of its content
  hash: changing one makes no new version);
- ``deployment.job_variables`` and ``deployment.pull_steps``: stored as sent
  (Prefect 2's deployment fields);
- ``run_lock``: who started a run whose version lock is on (one row per
  flow run or task run; inserting it is the compare-and-set).

Revision ID: 0009_liveness_switches
Revises: 0007 (the coordinator re-chains it onto 0008 at merge)
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from headwater.server.database.tables import JSONValue, Timestamp

revision = "0009_liveness_switches"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (constant defaults): a batch copy of the table would
    # drop it, and SQLite's ON DELETE CASCADE would take its schedules along.
    op.add_column("deployment", sa.Column("heartbeat", sa.Boolean(), nullable=False,
                                          server_default=sa.true()))
    op.add_column("deployment", sa.Column("lazarus", sa.Boolean(), nullable=False,
                                          server_default=sa.true()))
    op.add_column("deployment", sa.Column("version_lock", sa.Boolean(), nullable=False,
                                          server_default=sa.false()))
    op.add_column("deployment", sa.Column("job_variables", JSONValue, nullable=True))
    op.add_column("deployment", sa.Column("pull_steps", JSONValue, nullable=True))
    op.create_table(
        "run_lock",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("created", Timestamp(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("host", sa.String(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("process_start", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_run_lock")),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("run_lock")
    with op.batch_alter_table("deployment") as batch:
        for name in ("pull_steps", "job_variables", "version_lock", "lazarus", "heartbeat"):
            batch.drop_column(name)
