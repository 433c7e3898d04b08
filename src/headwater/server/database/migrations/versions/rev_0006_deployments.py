"""Deployments: versions of a flow's registration, their schedules, projects; runs name them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from headwater.server.database.tables import JSONValue, Timestamp

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: Runs waiting for their start time (as ``tables.WAITING`` says at this revision).
_WAITING = "state_name = 'Scheduled'"

_RUN_COLUMNS = (
    ("deployment_id", sa.Uuid()),
    ("deployment_version", sa.String()),
    ("auto_scheduled", sa.Boolean()),
    ("work_queue_name", sa.String()),
    ("work_pool_name", sa.String()),
    ("labels", JSONValue),
    ("schedule_id", sa.Uuid()),
)


def _stamps() -> list[sa.Column[object]]:
    return [sa.Column("created", Timestamp(), nullable=False),
            sa.Column("updated", Timestamp(), nullable=False)]


def upgrade() -> None:
    op.create_table(
        "project",
        sa.Column("id", sa.Uuid(), nullable=False),
        *_stamps(),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project")),
        sa.UniqueConstraint("name", name=op.f("uq_project__name")),
    )
    op.create_table(
        "deployment",
        sa.Column("id", sa.Uuid(), nullable=False),
        *_stamps(),
        sa.Column("flow_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("project", sa.String(), server_default="default", nullable=False),
        sa.Column("version", sa.String(), nullable=True),
        sa.Column("version_hash", sa.String(), nullable=False),
        sa.Column("archived", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("paused", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("tags", JSONValue, nullable=False),
        sa.Column("labels", JSONValue, nullable=False),
        sa.Column("parameters", JSONValue, nullable=False),
        sa.Column("parameter_openapi_schema", JSONValue, nullable=True),
        sa.Column("entrypoint", sa.String(), nullable=True),
        sa.Column("code_location", JSONValue, nullable=True),
        sa.Column("work_pool_name", sa.String(), nullable=True),
        sa.Column("work_queue_name", sa.String(), nullable=True),
        sa.Column("enforce_parameter_schema", sa.Boolean(), server_default=sa.true(),
                  nullable=False),
        sa.Column("max_lateness_seconds", sa.Float(), nullable=True),
        sa.Column("late_runs", sa.String(8), server_default="run", nullable=False),
        sa.Column("catchup", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("last_scheduled_time", Timestamp(), nullable=True),
        sa.ForeignKeyConstraint(["flow_id"], ["flow.id"],
                                name=op.f("fk_deployment__flow_id__flow"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployment")),
        sa.UniqueConstraint("flow_id", "name", "version_hash",
                            name=op.f("uq_deployment__flow_id_name_version_hash")),
    )
    op.create_index("ix_deployment__current", "deployment", ["flow_id", "name"], unique=True,
                    sqlite_where=sa.text("NOT archived"),
                    postgresql_where=sa.text("NOT archived"))
    op.create_index(op.f("ix_deployment__name"), "deployment", ["name"], unique=False)
    op.create_table(
        "deployment_schedule",
        sa.Column("id", sa.Uuid(), nullable=False),
        *_stamps(),
        sa.Column("deployment_id", sa.Uuid(), nullable=False),
        sa.Column("schedule", JSONValue, nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("parameters", JSONValue, nullable=False),
        sa.Column("slug", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["deployment_id"], ["deployment.id"],
                                name=op.f("fk_deployment_schedule__deployment_id__deployment"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployment_schedule")),
    )
    op.create_index(op.f("ix_deployment_schedule__deployment_id"), "deployment_schedule",
                    ["deployment_id"], unique=False)
    # ADD COLUMN of nullable columns without defaults: SQLite changes only the
    # table's definition, PostgreSQL only its catalog; no row is rewritten.
    for name, type_ in _RUN_COLUMNS:
        op.add_column("flow_run", sa.Column(name, type_, nullable=True))
    op.create_index(op.f("ix_flow_run__deployment_id_expected_start_time"), "flow_run",
                    ["deployment_id", "expected_start_time"], unique=False,
                    sqlite_where=sa.text("deployment_id IS NOT NULL"),
                    postgresql_where=sa.text("deployment_id IS NOT NULL"))
    op.create_index("ix_flow_run__waiting", "flow_run", ["expected_start_time"], unique=False,
                    sqlite_where=sa.text(_WAITING), postgresql_where=sa.text(_WAITING))


def downgrade() -> None:
    op.drop_index("ix_flow_run__waiting", table_name="flow_run")
    op.drop_index(op.f("ix_flow_run__deployment_id_expected_start_time"), table_name="flow_run")
    with op.batch_alter_table("flow_run") as batch:
        for name, _ in reversed(_RUN_COLUMNS):
            batch.drop_column(name)
    op.drop_index(op.f("ix_deployment_schedule__deployment_id"),
                  table_name="deployment_schedule")
    op.drop_table("deployment_schedule")
    op.drop_index(op.f("ix_deployment__name"), table_name="deployment")
    op.drop_index("ix_deployment__current", table_name="deployment")
    op.drop_table("deployment")
    op.drop_table("project")
