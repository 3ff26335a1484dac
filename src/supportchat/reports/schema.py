"""The stored report facts, shared by :mod:`.sql` and the ``0017_report_facts`` migration.

Moments are integer microseconds since the Unix epoch and time figures integer
microseconds (what :func:`~supportchat.reports.figures.micros` sums and ranks),
so SQLite and PostgreSQL add and order them exactly as Python does. Each fact
carries the keys of its day, ISO week and month, computed in Python by
:func:`~supportchat.reports.report.period_key` (one calendar rule, not one per
SQL dialect).
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["FOREVER", "facts", "metadata", "segments", "state"]

metadata = sa.MetaData()

#: Ticket ids as the core's tables hold them (64-bit on PostgreSQL).
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
#: The ``until`` of a segment that has not ended (a number, so one index range finds the segments alive at a moment).
FOREVER = 2**62

#: One row per fact of :func:`~supportchat.reports.metrics.ticket_facts`, at the moment it ends.
facts = sa.Table(
    "support_report_facts",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("ticket_id", Id, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("at", sa.BigInteger, nullable=False),
    sa.Column("day", sa.Text, nullable=False),
    sa.Column("week", sa.Text, nullable=False),
    sa.Column("month", sa.Text, nullable=False),
    sa.Column("agent", Id),
    sa.Column("category", sa.Text, nullable=False),
    sa.Column("priority", sa.Text, nullable=False),
    #: Wall-clock microseconds of a time figure.
    sa.Column("micros", sa.BigInteger),
    sa.Column("business_micros", sa.BigInteger),
    #: A rating's score; 1 or 0 for an SLA deadline within target or not.
    sa.Column("score", sa.Integer),
    sa.Column("metrics_version", sa.Integer, nullable=False),
    sqlite_autoincrement=True,
)
sa.Index("ix_support_report_facts_at", facts.c.kind, facts.c.at)
sa.Index("ix_support_report_facts_ticket", facts.c.ticket_id)

#: One row per open stretch of a ticket's life (:class:`~supportchat.reports.metrics.Segment`): the backlog.
segments = sa.Table(
    "support_report_segments",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("ticket_id", Id, nullable=False),
    sa.Column("since", sa.BigInteger, nullable=False),
    sa.Column("until", sa.BigInteger, nullable=False),
    sa.Column("agent", Id),
    sa.Column("category", sa.Text, nullable=False),
    sa.Column("priority", sa.Text, nullable=False),
    sqlite_autoincrement=True,
)
sa.Index("ix_support_report_segments_since", segments.c.since)
sa.Index("ix_support_report_segments_until", segments.c.until, segments.c.since)
sa.Index("ix_support_report_segments_ticket", segments.c.ticket_id)

#: One row (id 1): the metrics version the stored facts follow (``NULL`` or no row: not built), and
#: the last SLA event whose ticket was refreshed.
state = sa.Table(
    "support_report_state",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("metrics_version", sa.Integer),
    sa.Column("sla_event_id", sa.BigInteger, nullable=False, server_default="0"),
)
