"""The full-text index objects of both databases, and how to rebuild them.

The rules of search live in :mod:`supportchat.search`; this module holds the
database objects that implement them, shared by the migration that creates
them (``0006_search``), the store that queries them
(:mod:`supportchat.stores.sql_search`) and ``supportchat db reindex``.

SQLite (since ``0018_search_by_ticket``): two *contentless* FTS5 tables keyed
by ticket, :data:`PUBLIC_INDEX` over the tickets' own text and their messages
and :data:`STAFF_INDEX` over internal notes (so a user's search has no way to
read a note). A row's ``rowid`` is ``ticket_id << 32 | n`` (:func:`ticket_of`):
the ticket of every match is in its rowid, with no join, and the rows of a
ticket are adjacent in rowid order, so a search walks tickets newest first and
stops when it has enough. The index holds only which rows hold which words
(``detail=column``, ``columnsize=0``): no positions, no lengths. Tokenised by
``unicode61 remove_diacritics 2``.

Fed in batches: an FTS5 table writes a segment of its own at every commit
that touched it (about 0.5 ms, most of a ticket's insert), so the triggers,
in the writing transaction, only name the new row in :data:`PENDING` (one
B-tree insert), and :func:`drain_statements` move the pending rows into the index,
many per transaction, in the writer lane after a write (see
``SQLStore``). Nothing is ever unsearchable: a search matches the pending
rows' text itself (:mod:`supportchat.stores.sql_search`), and a pending row
is in the same transaction as the write it names. Deleting or changing a
row that is indexed already takes its words out at once (FTS5 needs the old
text for that, which only the trigger has).

A query word is a prefix, and FTS5 answers a prefix query (``"compens"*``) by
merging the whole row lists of every word it prefixes before the first row
comes out: 0.3 s at 100,000 tickets for a word in most of them, whatever the
``LIMIT``. A list of exact words (``"compensacion" OR "compensation"``) is
read lazily instead, so :data:`WORDS` keeps every word the index holds, as
FTS5 tokenised it (read from an ``fts5vocab`` table over the batch being
indexed), and a search turns each prefix into the words it names.

(``0006``–``0010`` had one external-content table per source, keyed by the
row's own id; :func:`create_sqlite_per_table` still builds it, for those
revisions.)

PostgreSQL: a text search configuration ``supportchat_search`` (the
``simple`` one with ``unaccent`` in front of it) and a GIN expression index
on each source's ``to_tsvector``, which PostgreSQL keeps in the writing
transaction by itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

__all__ = [
    "PENDING",
    "POSTGRES_CONFIG",
    "PUBLIC_INDEX",
    "SEARCH_TABLE_PREFIX",
    "SOURCES",
    "STAFF_INDEX",
    "WORDS",
    "Source",
    "create_postgres",
    "create_postgres_indexes",
    "create_sqlite",
    "create_sqlite_per_table",
    "drain_statements",
    "drop_postgres",
    "drop_postgres_indexes",
    "drop_sqlite",
    "drop_sqlite_per_table",
    "pending_statement",
    "rebuild",
    "rows_to_index",
    "sources_of",
    "ticket_of",
]

#: Every table the SQLite index consists of starts with this (FTS5 adds shadow tables).
SEARCH_TABLE_PREFIX = "support_search_"
POSTGRES_CONFIG = "supportchat_search"
TOKENIZER = "unicode61 remove_diacritics 2"
#: The SQLite index of what a user may search: tickets' subjects and descriptions, and messages.
PUBLIC_INDEX = SEARCH_TABLE_PREFIX + "index"
#: The SQLite index of what only staff search: internal notes.
STAFF_INDEX = SEARCH_TABLE_PREFIX + "staff"
#: The rows written but not yet in the SQLite index: (source, id), ``source`` an index of :data:`SOURCES`.
PENDING = SEARCH_TABLE_PREFIX + "pending"
#: Every word the SQLite index holds (FTS5's own tokens), for expanding a query's prefixes (see :func:`drain_words`).
WORDS = SEARCH_TABLE_PREFIX + "words"
#: A ticket's rows in the SQLite index have rowids ``ticket_id << TICKET_SHIFT | n``.
TICKET_SHIFT = 32
#: ``n`` of a source row other than the ticket's own (which is 0): its id modulo this, plus 1.
ROW_MODULUS = (1 << 31) - 1
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
        """The SQLite FTS5 table of ``0006``–``0010`` indexing this source alone."""
        return SEARCH_TABLE_PREFIX + self.table.removeprefix("support_")

    @property
    def sqlite_index(self) -> str:
        """The SQLite FTS5 table holding this source's rows (:data:`PUBLIC_INDEX` or :data:`STAFF_INDEX`)."""
        return STAFF_INDEX if self.staff_only else PUBLIC_INDEX

    def sqlite_rowid(self, row: str) -> str:
        """The index rowid of ``row`` (``NEW``, ``OLD`` or an alias): its ticket's id in the high bits.

        The ticket's own text is ``n = 0``; any other row ``n = id % ROW_MODULUS + 1``,
        unique within its ticket unless one ticket's rows lie two billion ids apart.
        Ticket ids are at most ``2**31 - 1``.
        """
        if self.ticket_column == "id":
            return f"({row}.id << {TICKET_SHIFT})"
        return f"(({row}.{self.ticket_column} << {TICKET_SHIFT}) | ({row}.id % {ROW_MODULUS} + 1))"

    @property
    def code(self) -> int:
        """This source's number in :data:`PENDING`."""
        return SOURCES.index(self)

    def sqlite_text(self, row: str) -> str:
        """The text of ``row`` the index holds (its columns, space-separated)."""
        return " || ' ' || ".join(f"{row}.{c}" for c in self.columns)

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


def ticket_of(rowid: int) -> int:
    """The ticket a row of the SQLite index belongs to."""
    return rowid >> TICKET_SHIFT


def _index_statements(source: Source) -> list[str]:
    fts, name, code = source.sqlite_index, source.table.removeprefix("support_"), source.code
    watched = ", ".join(dict.fromkeys((*source.columns, source.ticket_column)))
    pending = f"SELECT 1 FROM {PENDING} WHERE source = {code} AND id = OLD.id"
    # An indexed row's words leave the index now; a pending one was never in it.
    remove = (
        f"INSERT INTO {fts}({fts}, rowid, body) SELECT 'delete', {source.sqlite_rowid('OLD')}, "
        f"{source.sqlite_text('OLD')} WHERE NOT EXISTS ({pending});"
    )
    unlist = f"DELETE FROM {PENDING} WHERE source = {code} AND id = OLD.id;"
    add = f"INSERT OR IGNORE INTO {PENDING}(source, id) VALUES ({code}, NEW.id);"
    return [
        f"CREATE TRIGGER {fts}_{name}_insert AFTER INSERT ON {source.table} BEGIN {add} END",
        f"CREATE TRIGGER {fts}_{name}_delete AFTER DELETE ON {source.table} BEGIN {remove} {unlist} END",
        f"CREATE TRIGGER {fts}_{name}_update AFTER UPDATE OF {watched} ON {source.table} BEGIN {remove} {add} END",
    ]


def _index_table(fts: str) -> str:
    return (
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5(body, content='', detail=column, columnsize=0, "
        f"tokenize='{TOKENIZER}')"
    )


def _fill(connection: sa.Connection, source: Source, *, after: int = 0, upto: int | None = None) -> None:
    bounds = "s.id > ?" + ("" if upto is None else " AND s.id <= ?")
    connection.exec_driver_sql(
        f"INSERT INTO {source.sqlite_index}(rowid, body) SELECT {source.sqlite_rowid('s')}, {source.sqlite_text('s')} "
        f"FROM {source.table} AS s WHERE {bounds}",
        (after,) if upto is None else (after, upto),
    )


_BATCH = "support_search_batch"


def drain_statements() -> list[str]:
    """The statements, in one transaction, that move every pending row into the index (one segment).

    The batch's text goes through a temporary FTS5 table first, whose
    ``fts5vocab`` gives its words as the index tokenises them (into :data:`WORDS`).
    """
    batch = [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{_BATCH} USING fts5(body, content='', detail=none, "
        f"tokenize='{TOKENIZER}')",
        f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{_BATCH}_words USING fts5vocab(temp, {_BATCH}, 'row')",
        f"INSERT INTO temp.{_BATCH}({_BATCH}) VALUES ('delete-all')",
    ]
    moves = []
    for source in SOURCES:
        rows = (
            f"SELECT {source.sqlite_rowid('s')}, {source.sqlite_text('s')} FROM {PENDING} AS p "
            f"JOIN {source.table} AS s ON s.id = p.id WHERE p.source = {source.code}"
        )
        moves.append(f"INSERT INTO {source.sqlite_index}(rowid, body) {rows}")
        moves.append(f"INSERT INTO temp.{_BATCH}(rowid, body) {rows}")
    words = f"INSERT OR IGNORE INTO {WORDS}(word) SELECT term FROM temp.{_BATCH}_words"
    return [
        *batch,
        *moves,
        words,
        f"DELETE FROM {PENDING}",
        f"INSERT INTO temp.{_BATCH}({_BATCH}) VALUES ('delete-all')",
    ]


def _count_words(connection: sa.Connection) -> None:
    """Fill :data:`WORDS` from the whole index (after a rebuild: one pass over every row list)."""
    for fts in (PUBLIC_INDEX, STAFF_INDEX):
        connection.exec_driver_sql(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{fts}_vocabulary USING fts5vocab(main, {fts}, 'row')"
        )
        connection.exec_driver_sql(f"INSERT OR IGNORE INTO {WORDS}(word) SELECT term FROM temp.{fts}_vocabulary")
        connection.exec_driver_sql(f"DROP TABLE temp.{fts}_vocabulary")


def pending_statement(sources: Sequence[Source]) -> str:
    """SELECT (index rowid, text) of the pending rows of ``sources``."""
    return " UNION ALL ".join(
        f"SELECT {source.sqlite_rowid('s')}, {source.sqlite_text('s')} FROM {PENDING} AS p "
        f"JOIN {source.table} AS s ON s.id = p.id WHERE p.source = {source.code}"
        for source in sources
    )


def create_sqlite(connection: sa.Connection, sources: tuple[Source, ...] = SOURCES) -> None:
    """Create the ticket-keyed FTS5 tables and their triggers, and index every row already there."""
    connection.exec_driver_sql(
        f"CREATE TABLE IF NOT EXISTS {PENDING} (source INTEGER NOT NULL, id INTEGER NOT NULL, "
        "PRIMARY KEY (source, id)) WITHOUT ROWID"
    )
    connection.exec_driver_sql(f"CREATE TABLE IF NOT EXISTS {WORDS} (word TEXT PRIMARY KEY) WITHOUT ROWID")
    for source in sources:
        connection.exec_driver_sql(_index_table(source.sqlite_index))
        for statement in _index_statements(source):
            connection.exec_driver_sql(statement)
        _fill(connection, source)
    _count_words(connection)


def drop_sqlite(connection: sa.Connection, sources: tuple[Source, ...] = SOURCES) -> None:
    for source in sources:
        for statement in _index_statements(source):
            trigger = statement.split()[2]
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
    for fts in dict.fromkeys(source.sqlite_index for source in sources):
        if all(s in sources for s in SOURCES if s.sqlite_index == fts):
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {fts}")
    if set(sources) == set(SOURCES):
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {PENDING}")
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {WORDS}")


# -- SQLite, ``0006``–``0010``: one external-content table per source, keyed by row id ----


def _per_table_statements(source: Source) -> list[str]:
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


def create_sqlite_per_table(connection: sa.Connection, sources: tuple[Source, ...]) -> None:
    """The index of ``0006``–``0010``: an FTS5 table per source, filled with every row there."""
    for source in sources:
        for statement in _per_table_statements(source):
            connection.exec_driver_sql(statement)
        connection.exec_driver_sql(f"INSERT INTO {source.fts_table}({source.fts_table}) VALUES ('rebuild')")


def drop_sqlite_per_table(connection: sa.Connection, sources: tuple[Source, ...]) -> None:
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
    emptied: set[str] = set()
    with engine.begin() as connection:
        for source in SOURCES:
            if engine.dialect.name != "sqlite":
                connection.exec_driver_sql(f"REINDEX INDEX {source.postgres_index}")
                count = int(connection.exec_driver_sql(f"SELECT count(*) FROM {source.table}").scalar_one())
                indexed[source.table] = count
                advance(count)
                continue
            if source.sqlite_index not in emptied:
                fts = source.sqlite_index
                connection.exec_driver_sql(f"INSERT INTO {fts}({fts}) VALUES ('delete-all')")
                emptied.add(fts)
            done, last = 0, 0
            while True:
                upto, count = connection.exec_driver_sql(
                    f"SELECT max(id), count(*) FROM (SELECT id FROM {source.table} WHERE id > ? ORDER BY id LIMIT ?)",
                    (last, batch_size),
                ).one()
                if not count:
                    break
                _fill(connection, source, after=last, upto=upto)
                done, last = done + count, upto
                advance(count)
            indexed[source.table] = done
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql(f"DELETE FROM {PENDING}")
            connection.exec_driver_sql(f"DELETE FROM {WORDS}")
            _count_words(connection)
    return indexed
