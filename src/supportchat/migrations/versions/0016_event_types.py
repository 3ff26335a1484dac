"""Extensible event types: ``support_events`` takes any well-formed type name and a feature's ``data``.

- The CHECK constraint on ``type`` was a fixed list (the core's five types),
  so every feature's event type needed a table rebuild. It becomes a format
  check: lowercase snake case, a letter first, at most 48 characters
  (``supportchat.event_types.EVENT_TYPE_PATTERN``). PostgreSQL alters the
  constraint; SQLite cannot, so the table is rebuilt (ids, rows and the
  index kept; the triggers of ``support_tickets`` and ``support_messages``
  that append entries name the table and find the new one), only when its
  definition still lacks the new check or column: running it twice, or on a
  database ``0001`` built from the live definition, changes nothing.
- ``data``: a feature's entry's details as a JSON object (a transfer's from,
  to, team and reason), ``NULL`` for the core's entries.

Who may see a type is not the database's business beyond the Supabase
row-level security: :func:`supportchat.event_types.owner_may_see`.

Revision ID: 0016_event_types
Revises: 0017_report_facts
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_event_types"
down_revision = "0017_report_facts"
branch_labels = None
depends_on = None

# Written out as they are at this revision (a migration must not change when the live definition does).
_PATTERN = "^[a-z][a-z0-9_]{0,47}$"
_POSTGRES_CHECK = f"type ~ '{_PATTERN}'"
_SQLITE_CHECK = "type GLOB '[a-z]*' AND type NOT GLOB '*[^a-z0-9_]*' AND length(type) <= 48"
_CORE_TYPES = ("ticket_created", "message_created", "ticket_updated", "note_created", "tags_changed")
_CORE_CHECK = "type IN ({})".format(", ".join(f"'{t}'" for t in _CORE_TYPES))
_COLUMNS = "id, type, ticket_id, user_id, message_id, created_at, note_id"


def _rebuild_sqlite(bind: sa.Connection, check: str, *, with_data: bool) -> None:
    """Copy ``support_events`` into a table with ``check`` (and ``data``), ids kept, and put it in its place."""
    data_column = ", data TEXT" if with_data else ""
    bind.exec_driver_sql(
        "CREATE TABLE support_events_0016 (id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, "
        "ticket_id INTEGER NOT NULL, user_id INTEGER NOT NULL, message_id INTEGER, created_at TIMESTAMP NOT NULL, "
        f"note_id INTEGER{data_column}, CONSTRAINT ck_support_events_type CHECK ({check}))"
    )
    existing = {c["name"] for c in sa.inspect(bind).get_columns("support_events")}
    copied = _COLUMNS + (", data" if with_data and "data" in existing else "")
    bind.exec_driver_sql(f"INSERT INTO support_events_0016 ({copied}) SELECT {copied} FROM support_events ORDER BY id")
    bind.exec_driver_sql("DROP TABLE support_events")
    # The event triggers of support_tickets and support_messages name support_events in their
    # bodies; the legacy rename leaves trigger text alone (it names the new table once renamed).
    bind.exec_driver_sql("PRAGMA legacy_alter_table = ON")
    bind.exec_driver_sql("ALTER TABLE support_events_0016 RENAME TO support_events")
    bind.exec_driver_sql("PRAGMA legacy_alter_table = OFF")
    bind.exec_driver_sql("CREATE INDEX ix_support_events_user_id_id ON support_events (user_id, id)")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE support_events ADD COLUMN IF NOT EXISTS data TEXT")
        op.execute("ALTER TABLE support_events DROP CONSTRAINT IF EXISTS ck_support_events_type")
        op.execute(f"ALTER TABLE support_events ADD CONSTRAINT ck_support_events_type CHECK ({_POSTGRES_CHECK})")
        return
    definition = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'support_events'").scalar_one()
    columns = {c["name"] for c in sa.inspect(bind).get_columns("support_events")}
    if "GLOB" not in definition or "data" not in columns:
        _rebuild_sqlite(bind, _SQLITE_CHECK, with_data=True)


def downgrade() -> None:
    """Back to the core's five types: a feature's entries are deleted (their types would not fit)."""
    bind = op.get_bind()
    op.execute("DELETE FROM support_events WHERE type NOT IN ({})".format(", ".join(f"'{t}'" for t in _CORE_TYPES)))
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE support_events DROP CONSTRAINT IF EXISTS ck_support_events_type")
        op.execute(f"ALTER TABLE support_events ADD CONSTRAINT ck_support_events_type CHECK ({_CORE_CHECK})")
        op.execute("ALTER TABLE support_events DROP COLUMN IF EXISTS data")
        return
    _rebuild_sqlite(bind, _CORE_CHECK, with_data=False)
