"""Durable jobs: ``support_jobs`` and ``support_job_cursors`` (see :mod:`supportchat.jobs`).

The job runner keeps its jobs in the desk's own database, so a job is as
durable as the change that caused it and every worker on the database
shares them. Its dispatchers read the event log (``support_events``, written
by triggers in the same transaction as every change) from a cursor kept in
``support_job_cursors``.

The tables are written out here as they were at this revision (a migration
must not change when the capability's live definitions in
``supportchat/jobs/schema.py`` do later); ``tests/test_sql_migrations.py``
checks that the two agree.

Revision ID: 0005_jobs
Revises: 0004_people
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_jobs"
down_revision = "0004_people"
branch_labels = None
depends_on = None

_UNFINISHED = "status IN ('pending', 'running')"


def upgrade() -> None:
    op.create_table(
        "support_jobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("payload", sa.Text, nullable=False, server_default="{}"),
        sa.Column("status", sa.Text, nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("max_attempts", sa.Integer, nullable=False),
        sa.Column("due_at", sa.Float, nullable=False),
        sa.Column("lease_owner", sa.Text),
        sa.Column("lease_until", sa.Float),
        sa.Column("last_error", sa.Text),
        sa.Column("dedupe_key", sa.Text),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("finished_at", sa.Float),
        sa.UniqueConstraint("dedupe_key", name="uq_support_jobs_dedupe_key"),
        sa.CheckConstraint("status IN ('pending', 'running', 'done', 'failed')", name="ck_support_jobs_status"),
        sa.CheckConstraint("attempts >= 0 AND max_attempts >= 1", name="ck_support_jobs_attempts"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_support_jobs_due",
        "support_jobs",
        ["kind", "due_at"],
        sqlite_where=sa.text(_UNFINISHED),
        postgresql_where=sa.text(_UNFINISHED),
    )
    op.create_table(
        "support_job_cursors",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("last_event_id", sa.Integer, nullable=False),
        sa.Column("lease_owner", sa.Text),
        sa.Column("lease_until", sa.Float),
    )


def downgrade() -> None:
    op.drop_table("support_job_cursors")
    op.drop_index("ix_support_jobs_due", table_name="support_jobs")
    op.drop_table("support_jobs")
