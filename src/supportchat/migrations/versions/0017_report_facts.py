"""Report facts: ``support_report_facts``, ``support_report_segments``, ``support_report_state``.

The stored per-ticket facts of the reports (see :mod:`supportchat.reports`),
written out here as they are at this revision (the live definitions are in
``supportchat/reports/schema.py``; ``tests/test_sql_migrations.py`` checks
that the two agree). The tables start empty: reports read the histories until
``supportchat report --recompute`` has built them.

Revision ID: 0017_report_facts
Revises: 0022_sla_status_changes_seen
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_report_facts"
down_revision = "0022_sla_status_changes_seen"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "support_report_facts",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("ticket_id", _ID, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("day", sa.Text, nullable=False),
        sa.Column("week", sa.Text, nullable=False),
        sa.Column("month", sa.Text, nullable=False),
        sa.Column("agent", _ID),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("priority", sa.Text, nullable=False),
        sa.Column("micros", sa.BigInteger),
        sa.Column("business_micros", sa.BigInteger),
        sa.Column("score", sa.Integer),
        sa.Column("metrics_version", sa.Integer, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_support_report_facts_at", "support_report_facts", ["kind", "at"])
    op.create_index("ix_support_report_facts_ticket", "support_report_facts", ["ticket_id"])
    op.create_table(
        "support_report_segments",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("ticket_id", _ID, nullable=False),
        sa.Column("since", sa.BigInteger, nullable=False),
        sa.Column("until", sa.BigInteger, nullable=False),
        sa.Column("agent", _ID),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("priority", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_support_report_segments_since", "support_report_segments", ["since"])
    op.create_index("ix_support_report_segments_until", "support_report_segments", ["until", "since"])
    op.create_index("ix_support_report_segments_ticket", "support_report_segments", ["ticket_id"])
    op.create_table(
        "support_report_state",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("metrics_version", sa.Integer),
        sa.Column("sla_event_id", sa.BigInteger, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("support_report_state")
    op.drop_index("ix_support_report_segments_ticket", table_name="support_report_segments")
    op.drop_index("ix_support_report_segments_until", table_name="support_report_segments")
    op.drop_index("ix_support_report_segments_since", table_name="support_report_segments")
    op.drop_table("support_report_segments")
    op.drop_index("ix_support_report_facts_ticket", table_name="support_report_facts")
    op.drop_index("ix_support_report_facts_at", table_name="support_report_facts")
    op.drop_table("support_report_facts")
