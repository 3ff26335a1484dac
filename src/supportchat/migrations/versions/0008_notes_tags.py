"""Internal notes and tags (spec §12).

- ``support_ticket_notes``: a table of its own (never rows of the
  conversation), with its full-text index for staff's searches (SQLite FTS5
  and triggers; a PostgreSQL GIN index).
- ``support_ticket_tags``: one row per ticket and tag, the ``(tag,
  ticket_id)`` index a listing by tag reads in order, and triggers that keep
  one ``support_stats`` counter per tag.
- ``support_events``: the column ``note_id`` and the event types
  ``note_created`` and ``tags_changed`` in its CHECK constraint. SQLite
  cannot alter a CHECK constraint, so the table is rebuilt (ids kept); a new
  database has both already (``0001`` builds the live definition).

The tables are written out as they are at this revision.

Revision ID: 0008_notes_tags
Revises: 0011_sla
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from supportchat.sqlschema import listing, search
from supportchat.sqlschema.tables import UTCTimestamp

revision = "0008_notes_tags"
down_revision = "0011_sla"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_EVENT_TYPES = ("ticket_created", "message_created", "ticket_updated", "note_created", "tags_changed")
_EVENT_CHECK = "type IN ({})".format(", ".join(f"'{t}'" for t in _EVENT_TYPES))
_NOTES = search.sources_of("support_ticket_notes")


def _upgrade_events(bind: sa.Connection) -> None:
    columns = {c["name"] for c in sa.inspect(bind).get_columns("support_events")}
    if "note_id" not in columns:
        op.add_column("support_events", sa.Column("note_id", Id))
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE support_events DROP CONSTRAINT IF EXISTS ck_support_events_type")
        op.execute(f"ALTER TABLE support_events ADD CONSTRAINT ck_support_events_type CHECK ({_EVENT_CHECK})")
        return
    definition = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'support_events'").scalar_one()
    if "note_created" not in definition:
        bind.exec_driver_sql(
            "CREATE TABLE support_events_0008 (id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, "
            "ticket_id INTEGER NOT NULL, user_id INTEGER NOT NULL, message_id INTEGER, created_at TIMESTAMP NOT NULL, "
            f"note_id INTEGER, CONSTRAINT ck_support_events_type CHECK ({_EVENT_CHECK}))"
        )
        bind.exec_driver_sql(
            "INSERT INTO support_events_0008 (id, type, ticket_id, user_id, message_id, created_at, note_id) "
            "SELECT id, type, ticket_id, user_id, message_id, created_at, note_id FROM support_events ORDER BY id"
        )
        bind.exec_driver_sql("DROP TABLE support_events")
        # The event triggers of support_tickets and support_messages name support_events in their
        # bodies; the legacy rename leaves trigger text alone (it names the new table once renamed).
        bind.exec_driver_sql("PRAGMA legacy_alter_table = ON")
        bind.exec_driver_sql("ALTER TABLE support_events_0008 RENAME TO support_events")
        bind.exec_driver_sql("PRAGMA legacy_alter_table = OFF")
        bind.exec_driver_sql("CREATE INDEX ix_support_events_user_id_id ON support_events (user_id, id)")


def upgrade() -> None:
    bind = op.get_bind()
    _upgrade_events(bind)
    op.create_table(
        "support_ticket_notes",
        sa.Column("id", Id, primary_key=True),
        sa.Column("ticket_id", Id, sa.ForeignKey("support_tickets.id"), nullable=False),
        sa.Column("author_id", Id),
        sa.Column("author_kind", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_at", UTCTimestamp, nullable=False),
        sa.Column("uid", sa.Text, nullable=False),
        sa.UniqueConstraint("uid", name="uq_support_ticket_notes_uid"),
        sa.CheckConstraint("author_kind IN ('user', 'admin', 'system')", name="ck_support_ticket_notes_author_kind"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_support_ticket_notes_ticket_id_id", "support_ticket_notes", ["ticket_id", "id"])
    op.create_table(
        "support_ticket_tags",
        sa.Column("ticket_id", Id, sa.ForeignKey("support_tickets.id"), primary_key=True),
        sa.Column("tag", sa.Text, primary_key=True),
        sa.CheckConstraint("length(tag) BETWEEN 1 AND 32", name="ck_support_ticket_tags_tag"),
    )
    op.create_index("ix_support_ticket_tags_tag_ticket_id", "support_ticket_tags", ["tag", "ticket_id"])
    if bind.dialect.name == "sqlite":
        listing.create_tag_counters_sqlite(bind)
        search.create_sqlite_per_table(bind, _NOTES)
    else:
        listing.create_tag_counters_postgres(bind)
        search.create_postgres_indexes(bind, _NOTES)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        search.drop_sqlite_per_table(bind, _NOTES)
    else:
        search.drop_postgres_indexes(bind, _NOTES)
    listing.drop_tag_counters(bind)
    op.drop_table("support_ticket_tags")
    op.drop_table("support_ticket_notes")
    op.execute("DELETE FROM support_events WHERE type IN ('note_created', 'tags_changed')")
