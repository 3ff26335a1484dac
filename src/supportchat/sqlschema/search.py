"""The full-text index objects of both databases, and how to rebuild them.

The rules of search live in :mod:`supportchat.search`; this module holds the
database objects that implement them, shared by the migration that creates
them (``0006_search``), the store that queries them
(:mod:`supportchat.stores.sql_search`) and ``supportchat db reindex``.

SQLite: two FTS5 tables with *external content* (the text stays only in
``support_tickets`` and ``support_messages``; the index holds the words),
tokenised by ``unicode61 remove_diacritics 2`` and kept by triggers in the
writing transaction, like the statistics counters and the event log.

PostgreSQL: a text search configuration ``supportchat_search`` (the
``simple`` one with ``unaccent`` in front of it) and a GIN expression index
on each source's ``to_tsvector``, which PostgreSQL keeps in the writing
transaction by itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

__all__ = [
    "POSTGRES_CONFIG",
    "SEARCH_TABLE_PREFIX",
    "SOURCES",
    "Source",
    "create_postgres",
    "create_postgres_indexes",
    "create_sqlite",
    "drop_postgres",
    "drop_postgres_indexes",
    "drop_sqlite",
    "rebuild",
    "rows_to_index",
    "sources_of",
]

#: Every table the SQLite index consists of starts with this (FTS5 adds shadow tables).
SEARCH_TABLE_PREFIX = "support_search_"
POSTGRES_CONFIG = "supportchat_search"
TOKENIZER = "unicode61 remove_diacritics 2"
#: Characters PostgreSQL's parser may keep inside a token, read as spaces (see Source.postgres_vector).
POSTGRES_SEPARATORS = "-_./@:+'\\"


@dataclass(frozen=True, slots=True)
class Source:
    """One kind of row whose text is searched, and how it belongs to a ticket.

    A new source (internal notes) is a new entry of :data:`SOURCES` with
    ``staff_only=True`` and a migration creating its index.
    """

    #: The table holding the text.
    table: str
    #: Its text columns, in the order the index holds them.
    columns: tuple[str, ...]
    #: The column of ``table`` naming the ticket (``id`` when the row is the ticket).
    ticket_column: str
    #: Searched by staff only, never in a user's own search.
    staff_only: bool = False

    @property
    def fts_table(self) -> str:
        """The SQLite FTS5 table indexing this source."""
        return SEARCH_TABLE_PREFIX + self.table.removeprefix("support_")

    @property
    def postgres_index(self) -> str:
        return f"ix_{self.table}_search"

    def postgres_vector(self, alias: str) -> str:
        """The indexed ``tsvector`` expression, columns qualified by ``alias``.

        PostgreSQL's parser keeps ``TKT-0042`` as ``tkt`` and ``-0042``, ``3.5``
        and ``a@b.io`` whole; with these separators made spaces first it cuts
        words where FTS5's ``unicode61`` does.
        """
        separators = POSTGRES_SEPARATORS.replace("'", "''")
        document = f"translate({self.postgres_text(alias)}, '{separators}', '{' ' * len(POSTGRES_SEPARATORS)}')"
        return f"to_tsvector('{POSTGRES_CONFIG}'::regconfig, {document})"

    def postgres_text(self, alias: str) -> str:
        return " || ' ' || ".join(f"{alias}.{c}" for c in self.columns)


SOURCES: tuple[Source, ...] = (
    Source("support_tickets", ("subject", "description"), "id"),
    Source("support_messages", ("message",), "ticket_id"),
    #: Internal notes (``0008_notes_tags``): an admin's search finds them, a user's never reads them.
    Source("support_ticket_notes", ("note",), "ticket_id", staff_only=True),
)


def sources_of(*tables: str) -> tuple[Source, ...]:
    """The sources of these tables: what one migration creates (each revision its own)."""
    return tuple(s for s in SOURCES if s.table in tables)


# -- SQLite ------------------------------------------------------------------------


def _sqlite_statements(source: Source) -> list[str]:
    fts, cols = source.fts_table, ", ".join(source.columns)
    new = ", ".join(f"NEW.{c}" for c in source.columns)
    old = ", ".join(f"OLD.{c}" for c in source.columns)
    remove = f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', OLD.id, {old});"
    add = f"INSERT INTO {fts}(rowid, {cols}) VALUES (NEW.id, {new});"
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{source.table}', content_rowid='id', "
        f"tokenize='{TOKENIZER}')",
        f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {source.table} BEGIN {add} END",
        f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {source.table} BEGIN {remove} END",
        f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {cols} ON {source.table} BEGIN {remove} {add} END",
    ]


def create_sqlite(connection: sa.Connection, sources: tuple[Source, ...] = SOURCES) -> None:
    """Create the FTS5 tables and their triggers, and index every row already there."""
    for source in sources:
        for statement in _sqlite_statements(source):
            connection.exec_driver_sql(statement)
        connection.exec_driver_sql(f"INSERT INTO {source.fts_table}({source.fts_table}) VALUES ('rebuild')")


def drop_sqlite(connection: sa.Connection, sources: tuple[Source, ...] = SOURCES) -> None:
    for source in sources:
        for suffix in ("insert", "delete", "update"):
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {source.fts_table}_{suffix}")
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {source.fts_table}")


# -- PostgreSQL ----------------------------------------------------------------------


def _unaccent_schema(connection: sa.Connection) -> str:
    """The schema holding the ``unaccent`` extension, created in ``public`` if missing.

    Under a lock: parallel migrations of several schemas share one database.
    """
    connection.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('supportchat-unaccent'))")
    found = connection.exec_driver_sql(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'unaccent'"
    ).scalar()
    if found is None:
        connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public")
        found = "public"
    return str(found)


def postgres_config_statements(unaccent_schema: str) -> list[str]:
    """The text search configuration: ``simple`` with ``unaccent`` before it for words."""
    return [
        f"CREATE TEXT SEARCH CONFIGURATION {POSTGRES_CONFIG} (COPY = pg_catalog.simple)",
        f"ALTER TEXT SEARCH CONFIGURATION {POSTGRES_CONFIG} ALTER MAPPING FOR "
        "asciiword, asciihword, hword_asciipart, word, hword, hword_part, numword, numhword, hword_numpart "
        f'WITH "{unaccent_schema}".unaccent, pg_catalog.simple',
    ]


def postgres_index_statements(sources: tuple[Source, ...] = SOURCES) -> list[str]:
    return [
        f"CREATE INDEX IF NOT EXISTS {s.postgres_index} ON {s.table} USING gin ({s.postgres_vector(s.table)})"
        for s in sources
    ]


def create_postgres(connection: sa.Connection, sources: tuple[Source, ...] = SOURCES) -> None:
    """Create the configuration and the GIN indexes (which index every row already there)."""
    for statement in [*postgres_config_statements(_unaccent_schema(connection)), *postgres_index_statements(sources)]:
        connection.exec_driver_sql(statement)


def create_postgres_indexes(connection: sa.Connection, sources: tuple[Source, ...]) -> None:
    """The GIN indexes of ``sources`` alone (the configuration exists already)."""
    for statement in postgres_index_statements(sources):
        connection.exec_driver_sql(statement)


def drop_postgres_indexes(connection: sa.Connection, sources: tuple[Source, ...]) -> None:
    for source in sources:
        connection.exec_driver_sql(f"DROP INDEX IF EXISTS {source.postgres_index}")


def drop_postgres(connection: sa.Connection, sources: tuple[Source, ...] = SOURCES) -> None:
    drop_postgres_indexes(connection, sources)
    connection.exec_driver_sql(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {POSTGRES_CONFIG}")


# -- rebuilding ------------------------------------------------------------------------


def rows_to_index(engine: sa.Engine) -> int:
    """How many rows a :func:`rebuild` indexes."""
    with engine.connect() as connection:
        return sum(
            int(connection.exec_driver_sql(f"SELECT count(*) FROM {source.table}").scalar_one()) for source in SOURCES
        )


def rebuild(
    engine: sa.Engine, *, batch_size: int = 20_000, progress: Callable[[int], None] | None = None
) -> dict[str, int]:
    """Rebuild the index from the rows; the rows indexed per table.

    ``progress(n)`` hears of every ``n`` rows indexed. SQLite empties each
    FTS5 table and refills it ``batch_size`` rows per statement, all in one
    transaction (searches see the old index until the commit); PostgreSQL
    reindexes each GIN index (one step per table).
    """
    advance = progress or (lambda _n: None)
    indexed: dict[str, int] = {}
    with engine.begin() as connection:
        for source in SOURCES:
            if engine.dialect.name != "sqlite":
                connection.exec_driver_sql(f"REINDEX INDEX {source.postgres_index}")
                count = int(connection.exec_driver_sql(f"SELECT count(*) FROM {source.table}").scalar_one())
                indexed[source.table] = count
                advance(count)
                continue
            fts, cols = source.fts_table, ", ".join(source.columns)
            connection.exec_driver_sql(f"INSERT INTO {fts}({fts}) VALUES ('delete-all')")
            done, last = 0, 0
            while True:
                upto, count = connection.exec_driver_sql(
                    f"SELECT max(id), count(*) FROM (SELECT id FROM {source.table} WHERE id > ? ORDER BY id LIMIT ?)",
                    (last, batch_size),
                ).one()
                if not count:
                    break
                connection.exec_driver_sql(
                    f"INSERT INTO {fts}(rowid, {cols}) SELECT id, {cols} FROM {source.table} WHERE id > ? AND id <= ?",
                    (last, upto),
                )
                done, last = done + count, upto
                advance(count)
            indexed[source.table] = done
    return indexed
