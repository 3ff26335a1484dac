"""The teams capability's tables, on a metadata of their own (migration ``0012_teams``).

No foreign keys to the tickets or the agents: agents may be the host's, and
the queue is pruned by :meth:`~.base.TeamStore.prune` instead of cascading.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..sqlschema.tables import Id, UTCTimestamp

__all__ = ["agent_states", "metadata", "queue", "teams", "ticket_teams"]

metadata = sa.MetaData()

teams = sa.Table(
    "support_teams",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("auto_assign", sa.Boolean(create_constraint=True, name="ck_support_teams_auto_assign"), nullable=False),
    #: A JSON array of ticket categories, sorted.
    sa.Column("categories", sa.JSON, nullable=False),
    sa.Column("updated_at", UTCTimestamp, nullable=False),
)

agent_states = sa.Table(
    "support_agent_states",
    metadata,
    sa.Column("agent_id", Id, primary_key=True, autoincrement=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("status_since", UTCTimestamp, nullable=False),
    sa.Column("last_assigned_at", UTCTimestamp),
    sa.CheckConstraint("status IN ('available', 'away', 'offline')", name="ck_support_agent_states_status"),
)

ticket_teams = sa.Table(
    "support_ticket_teams",
    metadata,
    sa.Column("ticket_id", Id, primary_key=True, autoincrement=False),
    sa.Column("team", sa.Text, nullable=False),
    sa.Column("since", UTCTimestamp, nullable=False),
)
sa.Index("ix_support_ticket_teams_team", ticket_teams.c.team)

queue = sa.Table(
    "support_assignment_queue",
    metadata,
    sa.Column("ticket_id", Id, primary_key=True, autoincrement=False),
    sa.Column("team", sa.Text, nullable=False),
    #: The ticket's arrival: the queue's order, with the ticket id.
    sa.Column("queued_at", UTCTimestamp, nullable=False),
    sa.Column("reserved_for", Id),
    sa.Column("reserved_until", UTCTimestamp),
)
sa.Index("ix_support_assignment_queue_team_order", queue.c.team, queue.c.queued_at, queue.c.ticket_id)
sa.Index("ix_support_assignment_queue_reserved_for", queue.c.reserved_for)
