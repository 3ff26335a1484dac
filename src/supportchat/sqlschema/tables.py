"""The SQL schema: table definitions shared by the store and the migrations.

The seed's two tables keep every column under its original name; the rest is
what the features need (idempotency ids, counters, change records, the event
log, statistics counters, admin tokens). Enumerations are guarded by CHECK
constraints and every query the store makes has an index.

Timestamps are UTC. SQLite keeps them as ``YYYY-MM-DD HH:MM:SS.ffffff`` text
(the seed's ``CURRENT_TIMESTAMP`` form with microseconds, so old and new rows
sort together); PostgreSQL as ``timestamp with time zone``.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, UserDefinedType

from ..event_types import EVENT_TYPE_MAX_LENGTH, EVENT_TYPE_PATTERN
from ..models import ActorKind, Category, MessageType, Priority, SenderType, TicketStatus

__all__ = [
    "LISTING_INDEXES",
    "STATS_DIMENSIONS",
    "UTCTimestamp",
    "admins",
    "changes",
    "events",
    "messages",
    "metadata",
    "notes",
    "parse_timestamp",
    "ratings",
    "stats",
    "tags",
    "tickets",
]

metadata = sa.MetaData()

#: Ids and the host's user ids: signed 64-bit (``rules.MAX_ID``). SQLite's INTEGER already is,
#: and must stay spelled INTEGER for a primary key to be the rowid.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class _SQLiteTimestamp(UserDefinedType[str]):
    """``TIMESTAMP`` as the seed declares it, with no driver conversion of its own."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "TIMESTAMP"


def parse_timestamp(value: str | datetime) -> datetime:
    """An aware UTC datetime from a stored value (ISO text of any usual form, or a datetime)."""
    if isinstance(value, str):
        if value[10:11] == " " and (len(value) == 19 or (len(value) == 26 and value[19] == ".")):
            # The stored form (naive UTC): appending the offset is several
            # times faster than replace(tzinfo=...) afterwards.
            return datetime.fromisoformat(value + "+00:00")
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def format_timestamp(value: datetime) -> str:
    """The stored SQLite text of an aware datetime (naive datetimes are taken as UTC)."""
    if value.tzinfo is not None and value.utcoffset():
        value = value.astimezone(UTC)
    # isoformat is several times faster than strftime; the slice drops any offset.
    return value.isoformat(" ", "microseconds")[:26]


class UTCTimestamp(TypeDecorator[datetime]):
    """A UTC instant: aware datetimes in, aware UTC datetimes out, on every dialect."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(_SQLiteTimestamp())
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return format_timestamp(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else parse_timestamp(value)


def _one_of(table: str, column: str, choices: type[enum.StrEnum]) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{member.value}'" for member in choices)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=f"ck_{table}_{column}")


tickets = sa.Table(
    "support_tickets",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("ticket_number", sa.Text, nullable=False),
    sa.Column("user_id", Id, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("priority", sa.Text, nullable=False, server_default="medium"),
    sa.Column("status", sa.Text, nullable=False, server_default="open"),
    sa.Column("category", sa.Text, nullable=False, server_default="general"),
    sa.Column("assigned_to", Id),
    sa.Column("created_at", UTCTimestamp, nullable=False, server_default=sa.func.current_timestamp()),
    sa.Column("updated_at", UTCTimestamp, nullable=False, server_default=sa.func.current_timestamp()),
    sa.Column("resolved_at", UTCTimestamp),
    sa.Column("version", sa.Integer, nullable=False, server_default="0"),
    sa.Column("message_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("unread_from_user", sa.Integer, nullable=False, server_default="0"),
    sa.Column("unread_from_admin", sa.Integer, nullable=False, server_default="0"),
    #: The ticket this one was merged into (spec §12; migration 0009 adds it to older databases).
    sa.Column("merged_into", Id),
    sa.UniqueConstraint("ticket_number", name="uq_support_tickets_ticket_number"),
    _one_of("support_tickets", "priority", Priority),
    _one_of("support_tickets", "status", TicketStatus),
    _one_of("support_tickets", "category", Category),
    sa.CheckConstraint(
        "message_count >= 0 AND unread_from_user >= 0 AND unread_from_admin >= 0", name="ck_support_tickets_counts"
    ),
    sqlite_autoincrement=True,
)
sa.Index("ix_support_tickets_status_id", tickets.c.status, tickets.c.id)
sa.Index("ix_support_tickets_user_id_id", tickets.c.user_id, tickets.c.id)
sa.Index("ix_support_tickets_assigned_to_id", tickets.c.assigned_to, tickets.c.id)
#: Listing by one filter or a common pair reads one of these in ``id`` order
#: and stops at the page (migration ``0006_search`` adds them to older databases).
LISTING_INDEXES = (
    "ix_support_tickets_priority_id",
    "ix_support_tickets_category_id",
    "ix_support_tickets_status_assigned_to_id",
    "ix_support_tickets_status_category_id",
    "ix_support_tickets_status_priority_id",
)
sa.Index("ix_support_tickets_priority_id", tickets.c.priority, tickets.c.id)
sa.Index("ix_support_tickets_category_id", tickets.c.category, tickets.c.id)
sa.Index("ix_support_tickets_status_assigned_to_id", tickets.c.status, tickets.c.assigned_to, tickets.c.id)
sa.Index("ix_support_tickets_status_category_id", tickets.c.status, tickets.c.category, tickets.c.id)
sa.Index("ix_support_tickets_status_priority_id", tickets.c.status, tickets.c.priority, tickets.c.id)
#: Auto-close scans resolved tickets by age; only resolved rows are indexed.
#: ``status`` leads so that planners without statistics prefer this index
#: (two constrained columns) to ``(status, id)`` for that query.
sa.Index(
    "ix_support_tickets_resolved_at",
    tickets.c.status,
    tickets.c.resolved_at,
    tickets.c.id,
    sqlite_where=tickets.c.status == "resolved",
    postgresql_where=tickets.c.status == "resolved",
)

messages = sa.Table(
    "support_messages",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("ticket_id", Id, sa.ForeignKey("support_tickets.id"), nullable=False),
    sa.Column("sender_id", Id, nullable=False),
    sa.Column("sender_type", sa.Text, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("message_type", sa.Text, nullable=False, server_default="text"),
    sa.Column("file_url", sa.Text),
    sa.Column(
        "is_read",
        sa.Boolean(create_constraint=True, name="ck_support_messages_is_read"),
        nullable=False,
        server_default=sa.false(),
    ),
    sa.Column("created_at", UTCTimestamp, nullable=False, server_default=sa.func.current_timestamp()),
    #: Idempotency id; NULL for rows adopted from a database that predates it.
    sa.Column("uid", sa.Text),
    # Last, as the model's field and as ``ALTER TABLE … ADD COLUMN`` puts it on older databases.
    #: Written by automation (spec §18), shown as ``automated`` and never counted as a first response.
    sa.Column(
        "automated",
        sa.Boolean(create_constraint=True, name="ck_support_messages_automated"),
        nullable=False,
        server_default=sa.false(),
    ),
    sa.UniqueConstraint("uid", name="uq_support_messages_uid"),
    _one_of("support_messages", "sender_type", SenderType),
    _one_of("support_messages", "message_type", MessageType),
    sqlite_autoincrement=True,
)
sa.Index("ix_support_messages_ticket_id_id", messages.c.ticket_id, messages.c.id)
#: Marking read touches only unread rows of one side of one ticket.
UNREAD = messages.c.is_read == sa.false()
sa.Index(
    "ix_support_messages_unread",
    messages.c.ticket_id,
    messages.c.sender_type,
    sqlite_where=UNREAD,
    postgresql_where=UNREAD,
)

changes = sa.Table(
    "support_ticket_changes",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("ticket_id", Id, sa.ForeignKey("support_tickets.id"), nullable=False),
    sa.Column("field", sa.Text, nullable=False),
    sa.Column("old_value", sa.Text),
    sa.Column("new_value", sa.Text),
    sa.Column("changed_by_kind", sa.Text, nullable=False),
    sa.Column("changed_by", Id),
    sa.Column("changed_at", UTCTimestamp, nullable=False),
    _one_of("support_ticket_changes", "changed_by_kind", ActorKind),
    sqlite_autoincrement=True,
)
sa.Index("ix_support_ticket_changes_ticket_id_id", changes.c.ticket_id, changes.c.id)

#: Satisfaction ratings (spec §12): one per ticket and resolution cycle (migration 0009).
ratings = sa.Table(
    "support_ratings",
    metadata,
    sa.Column("ticket_id", Id, primary_key=True, autoincrement=False),
    sa.Column("cycle", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("score", sa.Integer, nullable=False),
    sa.Column("comment", sa.Text),
    sa.Column("user_id", Id, nullable=False),
    sa.Column("agent_id", Id),
    sa.Column("created_at", UTCTimestamp, nullable=False),
    sa.CheckConstraint("score BETWEEN 1 AND 5", name="ck_support_ratings_score"),
    sa.CheckConstraint("cycle >= 1", name="ck_support_ratings_cycle"),
)
#: Reports attribute ratings to agents over a time range.
sa.Index("ix_support_ratings_agent_id_created_at", ratings.c.agent_id, ratings.c.created_at)

#: Any well-formed type name (``event_types.EVENT_TYPE_PATTERN``), not a fixed list, so a feature's
#: types need no table rebuild (``0016_event_types``). SQLite has no regular expressions: GLOB says
#: the same (a letter first, nothing outside ``a-z 0-9 _``, the length).
EVENT_TYPE_CHECKS = (
    sa.CheckConstraint(f"type ~ '{EVENT_TYPE_PATTERN}'", name="ck_support_events_type").ddl_if(dialect="postgresql"),
    sa.CheckConstraint(
        f"type GLOB '[a-z]*' AND type NOT GLOB '*[^a-z0-9_]*' AND length(type) <= {EVENT_TYPE_MAX_LENGTH}",
        name="ck_support_events_type",
    ).ddl_if(dialect="sqlite"),
)

events = sa.Table(
    "support_events",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("ticket_id", Id, nullable=False),
    sa.Column("user_id", Id, nullable=False),
    sa.Column("message_id", Id),
    sa.Column("created_at", UTCTimestamp, nullable=False),
    #: The note a ``note_created`` entry announces (``0008_notes_tags``).
    sa.Column("note_id", Id),
    #: A feature's entry's details as a JSON object (``0016_event_types``); staff's only.
    sa.Column("data", sa.Text),
    *EVENT_TYPE_CHECKS,
    sqlite_autoincrement=True,
)
sa.Index("ix_support_events_user_id_id", events.c.user_id, events.c.id)

#: Internal notes (spec §12): a table of their own, never rows of the conversation (``0008_notes_tags``).
notes = sa.Table(
    "support_ticket_notes",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("ticket_id", Id, sa.ForeignKey("support_tickets.id"), nullable=False),
    sa.Column("author_id", Id),
    sa.Column("author_kind", sa.Text, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("created_at", UTCTimestamp, nullable=False),
    #: Unique id of the write, so that a replay recognises a note already copied.
    sa.Column("uid", sa.Text, nullable=False),
    sa.UniqueConstraint("uid", name="uq_support_ticket_notes_uid"),
    _one_of("support_ticket_notes", "author_kind", ActorKind),
    sqlite_autoincrement=True,
)
sa.Index("ix_support_ticket_notes_ticket_id_id", notes.c.ticket_id, notes.c.id)

#: A ticket's tags, one row each; ``(tag, ticket_id)`` lists a tag's tickets newest first and
#: stops at the page. Triggers keep ``support_stats`` (dimension ``tag``) in the writing transaction.
tags = sa.Table(
    "support_ticket_tags",
    metadata,
    sa.Column("ticket_id", Id, sa.ForeignKey("support_tickets.id"), primary_key=True),
    sa.Column("tag", sa.Text, primary_key=True),
    sa.CheckConstraint("length(tag) BETWEEN 1 AND 32", name="ck_support_ticket_tags_tag"),
)
sa.Index("ix_support_ticket_tags_tag_ticket_id", tags.c.tag, tags.c.ticket_id)

#: Ticket counts per (dimension, value), kept by triggers on ``support_tickets``
#: in the writing transaction, so statistics read a dozen rows at any size.
stats = sa.Table(
    "support_stats",
    metadata,
    sa.Column("dimension", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, primary_key=True),
    sa.Column("count", sa.BigInteger, nullable=False, server_default="0"),
)

#: Every (dimension, value) row the triggers maintain; ``unread``/``user``
#: is the sum of ``unread_from_user`` over all tickets.
STATS_DIMENSIONS: dict[str, tuple[str, ...]] = {
    "status": tuple(member.value for member in TicketStatus),
    "priority": tuple(member.value for member in Priority),
    "category": tuple(member.value for member in Category),
    "unread": ("user",),
}

admins = sa.Table(
    "support_admins",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("token_hash", sa.Text, nullable=False),
    sa.Column("created_at", UTCTimestamp, nullable=False, server_default=sa.func.current_timestamp()),
    sa.Column("last_used_at", UTCTimestamp),
    sa.Column("revoked_at", UTCTimestamp),
    #: One more each time the admin signs out of the panel: the sessions issued before end (0003).
    sa.Column("session_generation", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.UniqueConstraint("name", name="uq_support_admins_name"),
    sa.UniqueConstraint("token_hash", name="uq_support_admins_token_hash"),
    sqlite_autoincrement=True,
)
