"""Full-text search (spec §13) and the indexes that keep every listing flat.

- SQLite: FTS5 tables over the tickets' subjects and descriptions and over
  the messages, with triggers that keep them in the writing transaction;
  rows already there (an adopted seed database, an import) are indexed now.
- PostgreSQL: the ``unaccent`` extension (created in ``public`` if missing),
  the ``supportchat_search`` text search configuration and a GIN index per
  source.
- Both: composite indexes so that listing by a filter or a common pair of
  filters reads one index in order and stops at the page, and counters for
  those filters' totals (:mod:`supportchat.sqlschema.listing`).

The objects are defined in :mod:`supportchat.sqlschema.search` and
:mod:`supportchat.sqlschema.tables` (the listing indexes, which a new
database gets from ``0001`` already; hence ``IF NOT EXISTS``).

Revision ID: 0006_search
Revises: 0005_jobs
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from supportchat.sqlschema import listing, search
from supportchat.sqlschema import tables as schema

revision = "0006_search"
down_revision = "0005_jobs"
branch_labels = None
depends_on = None

#: The sources of this revision (internal notes came with ``0008_notes_tags``).
_SOURCES = search.sources_of("support_tickets", "support_messages")


def _listing_indexes() -> list[sa.Index]:
    return [index for index in schema.tickets.indexes if index.name in schema.LISTING_INDEXES]


def upgrade() -> None:
    bind = op.get_bind()
    for index in _listing_indexes():
        index.create(bind, checkfirst=True)
    if bind.dialect.name == "sqlite":
        search.create_sqlite_per_table(bind, _SOURCES)
        listing.create_sqlite(bind)
    else:
        search.create_postgres(bind, _SOURCES)
        listing.create_postgres(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        listing.drop_sqlite(bind)
        search.drop_sqlite_per_table(bind, _SOURCES)
    else:
        listing.drop_postgres(bind)
        search.drop_postgres(bind, _SOURCES)
    for index in _listing_indexes():
        index.drop(bind, checkfirst=True)
