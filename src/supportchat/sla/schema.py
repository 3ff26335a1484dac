"""The SLA tables, shared by :mod:`.sql` and the ``0011_sla`` migration.

Times are Unix seconds as double precision, like the job runner's (the same
arithmetic on SQLite and PostgreSQL). JSON columns are text.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["calendars", "clocks", "deadlines", "events", "metadata", "policies"]

metadata = sa.MetaData()

#: Ticket ids as the core's tables hold them (64-bit on PostgreSQL).
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

calendars = sa.Table(
    "support_sla_calendars",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("time_zone", sa.Text, nullable=False),
    #: ``{"mon": [["09:00", "18:00"]], …}`` as entered.
    sa.Column("hours", sa.Text, nullable=False),
    #: ISO dates entered by hand.
    sa.Column("holidays", sa.Text, nullable=False, server_default="[]"),
    #: A country (and subdivision) whose public holidays the ``holidays`` package adds.
    sa.Column("holiday_country", sa.Text),
    sa.Column("holiday_subdivision", sa.Text),
    sqlite_autoincrement=True,
)

policies = sa.Table(
    "support_sla_policies",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    #: Policies are tried by position, lowest first; the first whose conditions hold applies.
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

#: One row per ticket under a policy: which policy, and since when its clocks are paused.
clocks = sa.Table(
    "support_sla_clocks",
    metadata,
    sa.Column("ticket_id", Id, primary_key=True, autoincrement=False),
    sa.Column("policy_id", sa.Integer, nullable=False),
    sa.Column("paused_since", sa.Float),
    #: How many of the ticket's status changes are applied (a count, not a change id: ids are
    #: each store's own, the fallback store's primary and local copy number them apart).
    sa.Column("status_changes_seen", Id, nullable=False, server_default="0"),
)

#: One row per target and cycle (a cycle: the ticket, a waiting user message, a reopening).
deadlines = sa.Table(
    "support_sla_deadlines",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("ticket_id", Id, nullable=False),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("cycle", Id, nullable=False),
    sa.Column("started_at", sa.Float, nullable=False),
    #: ``None`` while paused (the business time left is then in ``paused_left``).
    sa.Column("due_at", sa.Float),
    sa.Column("warn_at", sa.Float),
    sa.Column("paused_left", sa.Float),
    sa.Column("paused_warn_left", sa.Float),
    sa.Column("state", sa.Text, nullable=False, server_default="active"),
    sa.Column("met_at", sa.Float),
    sa.Column("warned_at", sa.Float),
    sa.Column("breached_at", sa.Float),
    #: When the scan must next look at this row (its warning, else its breach); ``None``: never.
    sa.Column("next_fire_at", sa.Float),
    sa.UniqueConstraint("ticket_id", "target", "cycle", name="uq_support_sla_deadlines_cycle"),
    sa.CheckConstraint("state IN ('active', 'met', 'cancelled')", name="ck_support_sla_deadlines_state"),
    sqlite_autoincrement=True,
)
_ARMED = deadlines.c.next_fire_at.isnot(None)
#: The breach scan reads only this index: rows with something left to fire, by when.
sa.Index("ix_support_sla_deadlines_fire", deadlines.c.next_fire_at, sqlite_where=_ARMED, postgresql_where=_ARMED)
sa.Index("ix_support_sla_deadlines_ticket", deadlines.c.ticket_id)

#: ``sla_warning`` and ``sla_breached``, once per deadline each; ``escalated_at`` once its actions ran.
events = sa.Table(
    "support_sla_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("deadline_id", sa.Integer, nullable=False),
    sa.Column("ticket_id", Id, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("due_at", sa.Float, nullable=False),
    sa.Column("fired_at", sa.Float, nullable=False),
    sa.Column("escalated_at", sa.Float),
    sa.UniqueConstraint("deadline_id", "type", name="uq_support_sla_events_once"),
    sa.CheckConstraint("type IN ('sla_warning', 'sla_breached')", name="ck_support_sla_events_type"),
    sqlite_autoincrement=True,
)
_UNESCALATED = sa.and_(events.c.type == "sla_breached", events.c.escalated_at.is_(None))
sa.Index("ix_support_sla_events_pending", events.c.id, sqlite_where=_UNESCALATED, postgresql_where=_UNESCALATED)
