"""Search at a million tickets (SQLite): the index keyed by ticket, and a lighter ticket insert.

- The per-source FTS5 tables of ``0006``/``0008`` (keyed by each row's own
  id, so a match needed a join to find its ticket, and every match was
  visited to rank and count) give way to two contentless, ticket-keyed
  tables (:mod:`supportchat.sqlschema.search`): the public one (tickets and
  messages) and the staff one (internal notes), filled from the rows there.
- A new ticket's counters move in one upsert (``support_tickets_counted_insert``)
  instead of two triggers of five statements.

PostgreSQL is unchanged: its GIN indexes already name the ticket's rows.

Revision ID: 0018_search_by_ticket
Revises: 0016_event_types (main's head; 0010_attachments, then 0022, before)
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

from supportchat.sqlschema import listing, search

revision = "0018_search_by_ticket"
down_revision = "0016_event_types"
branch_labels = None
depends_on = None

_SOURCES = search.sources_of("support_tickets", "support_messages", "support_ticket_notes")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    search.drop_sqlite_per_table(bind, _SOURCES)
    search.create_sqlite(bind, _SOURCES)
    for trigger in ("support_tickets_stats_insert", "support_tickets_pairs_insert"):
        bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
    listing.create_sqlite_insert_counter(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    listing.drop_sqlite_insert_counter(bind)
    search.drop_sqlite(bind, _SOURCES)
    search.create_sqlite_per_table(bind, _SOURCES)
