"""The job runner's two tables, shared by :mod:`.sql` and the ``0005_jobs`` migration.

Times are Unix seconds as double precision (no time-zone handling, the same
arithmetic on both databases). ``payload`` is JSON text.
"""

from __future__ import annotations

import sqlalchemy as sa

from .base import JobStatus

__all__ = ["cursors", "jobs", "metadata"]

metadata = sa.MetaData()

_STATUSES = ", ".join(f"'{status.value}'" for status in JobStatus)

jobs = sa.Table(
    "support_jobs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("payload", sa.Text, nullable=False, server_default="{}"),
    sa.Column("status", sa.Text, nullable=False, server_default=JobStatus.PENDING.value),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("max_attempts", sa.Integer, nullable=False),
    sa.Column("due_at", sa.Float, nullable=False),
    sa.Column("lease_owner", sa.Text),
    sa.Column("lease_until", sa.Float),
    sa.Column("last_error", sa.Text),
    #: One job per key: the same reaction to the same event is enqueued once.
    sa.Column("dedupe_key", sa.Text),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("finished_at", sa.Float),
    sa.UniqueConstraint("dedupe_key", name="uq_support_jobs_dedupe_key"),
    sa.CheckConstraint(f"status IN ({_STATUSES})", name="ck_support_jobs_status"),
    sa.CheckConstraint("attempts >= 0 AND max_attempts >= 1", name="ck_support_jobs_attempts"),
    sqlite_autoincrement=True,
)
#: What a claim scans: the unfinished jobs of a kind by due time (finished ones are not indexed).
_UNFINISHED = jobs.c.status.in_([JobStatus.PENDING.value, JobStatus.RUNNING.value])
sa.Index(
    "ix_support_jobs_due",
    jobs.c.kind,
    jobs.c.due_at,
    sqlite_where=_UNFINISHED,
    postgresql_where=_UNFINISHED,
)

#: A dispatcher's position in the event log, and which worker holds it.
cursors = sa.Table(
    "support_job_cursors",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("last_event_id", sa.Integer, nullable=False),
    sa.Column("lease_owner", sa.Text),
    sa.Column("lease_until", sa.Float),
)
