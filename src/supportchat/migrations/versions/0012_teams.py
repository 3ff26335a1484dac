"""Teams, agents' availability and the auto-assignment queue (see :mod:`supportchat.teams`).

``support_teams`` (name, display name, auto-assignment, routed categories),
``support_agent_states`` (availability, last assignment), ``support_ticket_teams``
(a ticket's team) and ``support_assignment_queue`` (tickets waiting for an
agent in arrival order, and the holds of tickets being assigned).

The tables are written out here as they are at this revision (a migration
must not change when ``supportchat/teams/schema.py`` does later);
``tests/test_sql_migrations.py`` checks that the two agree.

Revision ID: 0012_teams
Revises: 0013_push
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from supportchat.sqlschema.tables import UTCTimestamp

revision = "0012_teams"
down_revision = "0013_push"
branch_labels = None
depends_on = None

_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "support_teams",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column(
            "auto_assign", sa.Boolean(create_constraint=True, name="ck_support_teams_auto_assign"), nullable=False
        ),
        sa.Column("categories", sa.JSON, nullable=False),
        sa.Column("updated_at", UTCTimestamp, nullable=False),
    )
    op.create_table(
        "support_agent_states",
        sa.Column("agent_id", _Id, primary_key=True, autoincrement=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("status_since", UTCTimestamp, nullable=False),
        sa.Column("last_assigned_at", UTCTimestamp),
        sa.CheckConstraint("status IN ('available', 'away', 'offline')", name="ck_support_agent_states_status"),
    )
    op.create_table(
        "support_ticket_teams",
        sa.Column("ticket_id", _Id, primary_key=True, autoincrement=False),
        sa.Column("team", sa.Text, nullable=False),
        sa.Column("since", UTCTimestamp, nullable=False),
    )
    op.create_index("ix_support_ticket_teams_team", "support_ticket_teams", ["team"])
    op.create_table(
        "support_assignment_queue",
        sa.Column("ticket_id", _Id, primary_key=True, autoincrement=False),
        sa.Column("team", sa.Text, nullable=False),
        sa.Column("queued_at", UTCTimestamp, nullable=False),
        sa.Column("reserved_for", _Id),
        sa.Column("reserved_until", UTCTimestamp),
    )
    op.create_index(
        "ix_support_assignment_queue_team_order", "support_assignment_queue", ["team", "queued_at", "ticket_id"]
    )
    op.create_index("ix_support_assignment_queue_reserved_for", "support_assignment_queue", ["reserved_for"])


def downgrade() -> None:
    op.drop_table("support_assignment_queue")
    op.drop_table("support_ticket_teams")
    op.drop_table("support_agent_states")
    op.drop_table("support_teams")
