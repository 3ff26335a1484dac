"""Engines for the SQL store: connection settings for SQLite and PostgreSQL.

SQLite connections run in WAL mode with ``synchronous=NORMAL``, foreign keys
on and a busy timeout. The driver's own transaction handling is switched off
so that the store decides how a transaction starts: writes open with
``BEGIN IMMEDIATE`` (take the write lock first, so concurrent writers queue
on the busy timeout instead of failing with "database is locked" when a read
transaction tries to upgrade), reads run as single autocommit statements.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.pool import StaticPool

__all__ = ["WRITE", "configure_sqlite", "create_engine", "is_memory_sqlite"]

#: Execution option that marks a connection's transaction as a write.
WRITE = "supportchat_write"
#: Seconds a SQLite writer waits for the write lock before giving up.
DEFAULT_BUSY_TIMEOUT = 30.0
#: Seconds to wait for a PostgreSQL connection.
DEFAULT_CONNECT_TIMEOUT = 5


def is_memory_sqlite(url: sa.URL) -> bool:
    """Whether ``url`` names an in-memory SQLite database (one per connection)."""
    database = url.database or ""
    return url.get_backend_name() == "sqlite" and (database in ("", ":memory:") or url.query.get("mode") == "memory")


def create_engine(url: str | sa.URL, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT, **kwargs: Any) -> sa.Engine:
    """An engine for ``url`` set up as the SQL store expects it.

    In-memory SQLite gets a single shared connection (the database lives and
    dies with it); ``kwargs`` go to :func:`sqlalchemy.create_engine`.
    """
    parsed = sa.make_url(url)
    backend = parsed.get_backend_name()
    connect_args: dict[str, Any] = dict(kwargs.pop("connect_args", {}))
    if backend == "sqlite":
        connect_args.setdefault("check_same_thread", False)
        connect_args.setdefault("timeout", busy_timeout)
        if is_memory_sqlite(parsed):
            kwargs.setdefault("poolclass", StaticPool)
    elif backend == "postgresql":
        connect_args.setdefault("connect_timeout", DEFAULT_CONNECT_TIMEOUT)
    engine = sa.create_engine(parsed, connect_args=connect_args, **kwargs)
    if backend == "sqlite":
        configure_sqlite(engine)
    return engine


def _casefold(text: str | None) -> str | None:
    return None if text is None else text.casefold()


def configure_sqlite(engine: sa.Engine) -> None:
    """Install the connection settings and transaction handling on a SQLite engine (once).

    Connections the engine opened before this call keep their settings, so
    configure an engine before its first use. The busy timeout is the
    driver's ``timeout`` connect argument (:func:`create_engine` sets it).
    """
    if event.contains(engine, "connect", _on_connect):
        return
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)


def _on_connect(dbapi_connection: sqlite3.Connection, record: Any) -> None:
    # No implicit BEGIN from the driver: _on_begin decides.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        journal = cursor.execute("PRAGMA journal_mode").fetchone()[0]
        if journal != "memory":
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()
    dbapi_connection.create_function("supportchat_casefold", 1, _casefold, deterministic=True)


def _on_begin(connection: sa.Connection) -> None:
    if connection.get_execution_options().get(WRITE):
        # Straight to the driver: this runs before every write, and going
        # through SQLAlchemy's execution machinery would double its cost.
        try:
            connection.connection.dbapi_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]
        except sqlite3.Error as error:
            raise sa.exc.OperationalError("BEGIN IMMEDIATE", None, error) from error
