"""Durable jobs: ``support_jobs`` and ``support_job_cursors`` (see :mod:`supportchat.jobs`).

The job runner keeps its jobs in the desk's own database, so a job is as
durable as the change that caused it and every worker on the database
shares them. Its dispatchers read the event log (``support_events``, written
by triggers in the same transaction as every change) from a cursor kept in
``support_job_cursors``.

Revision ID: 0003_jobs
Revises: 0002_live_events
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

from supportchat.jobs import schema

revision = "0003_jobs"
down_revision = "0002_live_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    schema.metadata.create_all(op.get_bind(), tables=[schema.jobs, schema.cursors])


def downgrade() -> None:
    schema.metadata.drop_all(op.get_bind(), tables=[schema.jobs, schema.cursors])
