"""SLA: calendars, policies, clocks, deadlines and events (see :mod:`supportchat.sla`).

The tables as they are at this revision (the live definitions are in
``supportchat/sla/schema.py``; ``tests/test_sql_migrations.py`` checks that
the two agree). The breach scan reads ``ix_support_sla_deadlines_fire``
only: the armed deadlines, by when they next fire.

Revision ID: 0011_sla
Revises: 0012_teams
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_sla"
down_revision = "0012_teams"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_ARMED = "next_fire_at IS NOT NULL"
_UNESCALATED = "type = 'sla_breached' AND escalated_at IS NULL"


def upgrade() -> None:
    op.create_table(
        "support_sla_calendars",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("time_zone", sa.Text, nullable=False),
        sa.Column("hours", sa.Text, nullable=False),
        sa.Column("holidays", sa.Text, nullable=False, server_default="[]"),
        sa.Column("holiday_country", sa.Text),
        sa.Column("holiday_subdivision", sa.Text),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "support_sla_policies",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
        sa.Column("conditions", sa.Text, nullable=False, server_default="{}"),
        sa.Column("calendar_id", sa.Integer, sa.ForeignKey("support_sla_calendars.id"), nullable=False),
        sa.Column("first_response_minutes", sa.Integer),
        sa.Column("next_response_minutes", sa.Integer),
        sa.Column("resolution_minutes", sa.Integer),
        sa.Column("pause_statuses", sa.Text, nullable=False, server_default="[]"),
        sa.Column("warning_minutes", sa.Integer, nullable=False, server_default="0"),
        sa.Column("escalation", sa.Text, nullable=False, server_default="[]"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "support_sla_clocks",
        sa.Column("ticket_id", _ID, primary_key=True, autoincrement=False),
        sa.Column("policy_id", sa.Integer, nullable=False),
        sa.Column("paused_since", sa.Float),
        sa.Column("last_change_id", _ID, nullable=False, server_default="0"),
    )
    op.create_table(
        "support_sla_deadlines",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ticket_id", _ID, nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("cycle", _ID, nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("due_at", sa.Float),
        sa.Column("warn_at", sa.Float),
        sa.Column("paused_left", sa.Float),
        sa.Column("paused_warn_left", sa.Float),
        sa.Column("state", sa.Text, nullable=False, server_default="active"),
        sa.Column("met_at", sa.Float),
        sa.Column("warned_at", sa.Float),
        sa.Column("breached_at", sa.Float),
        sa.Column("next_fire_at", sa.Float),
        sa.UniqueConstraint("ticket_id", "target", "cycle", name="uq_support_sla_deadlines_cycle"),
        sa.CheckConstraint("state IN ('active', 'met', 'cancelled')", name="ck_support_sla_deadlines_state"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_support_sla_deadlines_fire",
        "support_sla_deadlines",
        ["next_fire_at"],
        sqlite_where=sa.text(_ARMED),
        postgresql_where=sa.text(_ARMED),
    )
    op.create_index("ix_support_sla_deadlines_ticket", "support_sla_deadlines", ["ticket_id"])
    op.create_table(
        "support_sla_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("deadline_id", sa.Integer, nullable=False),
        sa.Column("ticket_id", _ID, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("due_at", sa.Float, nullable=False),
        sa.Column("fired_at", sa.Float, nullable=False),
        sa.Column("escalated_at", sa.Float),
        sa.UniqueConstraint("deadline_id", "type", name="uq_support_sla_events_once"),
        sa.CheckConstraint("type IN ('sla_warning', 'sla_breached')", name="ck_support_sla_events_type"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_support_sla_events_pending",
        "support_sla_events",
        ["id"],
        sqlite_where=sa.text(_UNESCALATED),
        postgresql_where=sa.text(_UNESCALATED),
    )


def downgrade() -> None:
    op.drop_index("ix_support_sla_events_pending", table_name="support_sla_events")
    op.drop_table("support_sla_events")
    op.drop_index("ix_support_sla_deadlines_ticket", table_name="support_sla_deadlines")
    op.drop_index("ix_support_sla_deadlines_fire", table_name="support_sla_deadlines")
    op.drop_table("support_sla_deadlines")
    op.drop_table("support_sla_clocks")
    op.drop_table("support_sla_policies")
    op.drop_table("support_sla_calendars")
