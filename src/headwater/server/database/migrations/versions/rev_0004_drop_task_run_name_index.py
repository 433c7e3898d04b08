"""Task runs: drop the index on name.

Task run names are ``<task>-<n>``, so each new run lands at a random place in
that index: it was the costliest of the task-run indexes to keep (about 2 ms
of every 16 ms that recording 1,000 task runs takes on SQLite), and no query
the API or the CLI makes needs it: task runs are listed by flow run (the
unique ``(flow_run_id, task_key, dynamic_key)`` index), by state and time
(``ix_task_run__state_type_expected_start_time``) or by time. A filter on
task-run names alone reads the table; within a flow run it reads that run's
task runs only.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index(op.f("ix_task_run__name"), table_name="task_run")


def downgrade() -> None:
    op.create_index(op.f("ix_task_run__name"), "task_run", ["name"], unique=False)
