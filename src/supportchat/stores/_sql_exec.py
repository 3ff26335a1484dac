"""Running SQLAlchemy Core statements with the cost of the SQL and little more.

The SQL store defines every statement with SQLAlchemy Core and lets
SQLAlchemy compile it for the engine's dialect, once. Executing it through
``Connection.execute`` would then cost several times what the database
spends on it (measured: ~25 µs of bookkeeping per statement and ~40 µs per
connection checkout, against ~6 µs for a primary-key lookup in SQLite). So the
store runs the compiled SQL on a pooled DBAPI connection from
:meth:`sqlalchemy.engine.Engine.raw_connection`, converting parameters and
rows itself, and keeps SQLAlchemy's pool, dialects and error classes:

- driver errors are wrapped in SQLAlchemy's exception classes exactly as
  SQLAlchemy would wrap them (then :mod:`._sql_errors` translates them);
- a connection the dialect recognises as broken is invalidated, so the pool
  replaces it;
- SQLite writes take the file's writer lane, then open with ``BEGIN
  IMMEDIATE`` (:mod:`supportchat.sqlschema.engine` says why); PostgreSQL transactions begin
  implicitly, and every transaction ends in commit or rollback.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql.compiler import SQLCompiler

from ..sqlschema.engine import begin_immediate, writer_lane_of
from ..sqlschema.tables import format_timestamp

__all__ = ["Prepared", "Session", "open_session"]


class Prepared:
    """A Core statement compiled once for one dialect: its SQL and how to order its parameters."""

    __slots__ = ("defaults", "names", "sql")

    def __init__(self, statement: sa.ClauseElement, dialect: sa.Dialect, column_keys: Sequence[str] | None) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(column_keys) if column_keys else None)
        assert isinstance(compiled, SQLCompiler)
        self.sql = compiled.string
        #: Parameter names in placeholder order for positional drivers (sqlite3), else None.
        self.names: tuple[str, ...] | None = tuple(compiled.positiontup or ()) if compiled.positional else None
        # Literals inside expressions (``version + 1``) are bound parameters too.
        self.defaults = {name: value for name, value in compiled.params.items() if value is not None}


class Session:
    """One checked-out DBAPI connection running prepared statements."""

    __slots__ = ("_cursor", "_dialect", "_prepared", "_text_timestamps")

    def __init__(
        self,
        connection: PoolProxiedConnection,
        dialect: sa.Dialect,
        prepared: dict[tuple[int, tuple[str, ...] | None], Prepared],
    ) -> None:
        self._cursor: DBAPICursor = connection.cursor()
        self._dialect = dialect
        self._prepared = prepared
        self._text_timestamps = dialect.name == "sqlite"

    def _prepare(self, statement: sa.ClauseElement, column_keys: tuple[str, ...] | None) -> Prepared:
        key = (id(statement), column_keys)
        prepared = self._prepared.get(key)
        if prepared is None:
            prepared = self._prepared[key] = Prepared(statement, self._dialect, column_keys)
        return prepared

    def _arguments(self, prepared: Prepared, params: Mapping[str, Any]) -> Any:
        merged = {**prepared.defaults, **params} if prepared.defaults else params
        if self._text_timestamps:
            merged = {k: format_timestamp(v) if isinstance(v, datetime) else v for k, v in merged.items()}
        if prepared.names is None:
            return merged
        return tuple(merged[name] for name in prepared.names)

    def run(self, statement: sa.ClauseElement, params: Mapping[str, Any] | None = None) -> DBAPICursor:
        """Execute ``statement`` with ``params`` (bind parameter names to values); the cursor holds the rows."""
        prepared = self._prepare(statement, None)
        self._cursor.execute(prepared.sql, self._arguments(prepared, params or {}))
        return self._cursor

    def insert(self, table_insert: sa.Insert, values: Mapping[str, Any]) -> DBAPICursor:
        """Execute an ``INSERT`` naming exactly the columns in ``values``."""
        prepared = self._prepare(table_insert, tuple(values))
        self._cursor.execute(prepared.sql, self._arguments(prepared, values))
        return self._cursor

    def inserted_id(self, table_insert: sa.Insert, values: Mapping[str, Any]) -> int:
        """Execute an ``INSERT ... RETURNING id`` naming exactly the columns in ``values``; the new id."""
        row = self.insert(table_insert, values).fetchone()
        assert row is not None, "INSERT ... RETURNING returned no row"
        return int(row[0])

    def insert_many(self, table_insert: sa.Insert, rows: Sequence[Mapping[str, Any]]) -> None:
        """Execute an ``INSERT`` once per row; every row names the same columns."""
        prepared = self._prepare(table_insert, tuple(rows[0]))
        self._cursor.executemany(prepared.sql, [self._arguments(prepared, row) for row in rows])


@contextmanager
def open_session(
    engine: sa.Engine,
    prepared: dict[tuple[int, tuple[str, ...] | None], Prepared],
    *,
    write: bool,
) -> Iterator[Session]:
    """A session on a pooled connection; a write is one transaction, committed at the end.

    A write to a SQLite file waits for its turn in the file's writer lane
    before it takes a connection from the pool (so waiting writers hold no
    connection a reader could use) and keeps it until the connection is
    back. Reads on SQLite run as autocommit statements; elsewhere the pool's
    reset rolls the read transaction back on check-in.
    """
    dialect = engine.dialect
    dbapi_error: type[Exception] = dialect.loaded_dbapi.Error
    sqlite_write = write and dialect.name == "sqlite"
    lane = writer_lane_of(engine) if sqlite_write else None
    if lane is not None:
        try:
            lane.acquire()
        except dbapi_error as error:  # no turn within the busy timeout: "database is locked"
            raise sa.exc.OperationalError("writer lane", None, error) from error
    try:
        connection = engine.raw_connection()
    except dbapi_error as error:  # SQLAlchemy wraps these only on Engine.connect()
        if lane is not None:
            lane.release()
        raise sa.exc.DBAPIError.instance(
            None, None, error, dbapi_error, connection_invalidated=True, dialect=dialect
        ) from error
    try:
        if sqlite_write:
            begin_immediate(connection.dbapi_connection)  # type: ignore[arg-type]
        yield Session(connection, dialect, prepared)
        if write:
            connection.commit()
    except BaseException as error:
        _roll_back(connection)
        if isinstance(error, dbapi_error):
            disconnected = dialect.is_disconnect(error, connection.dbapi_connection, None)  # type: ignore[arg-type]
            if disconnected:
                connection.invalidate(error)
            raise sa.exc.DBAPIError.instance(
                None, None, error, dbapi_error, connection_invalidated=disconnected, dialect=dialect
            ) from error
        raise
    finally:
        connection.close()
        if lane is not None:
            lane.release()


def _roll_back(connection: PoolProxiedConnection) -> None:
    try:
        connection.rollback()
    except Exception:
        connection.invalidate()
