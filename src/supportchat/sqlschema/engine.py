"""Engines for the SQL store, and the one SQLite connection set-up every SQLite file uses.

Every SQLite connection supportchat opens (the SQL store's, the admin registry's,
the migrations', the fallback store's outage journal) is set up by
:func:`configure_connection`: WAL journal, ``synchronous=NORMAL`` (or ``FULL``
where asked), foreign keys on, a busy timeout, and the driver's own transaction
handling switched off so that the caller decides how a transaction starts:
writes open with ``BEGIN IMMEDIATE`` (take the write lock first, so a read
transaction never has to upgrade and fail with "database is locked"), reads
run as single autocommit statements.

Writes to one SQLite file from one process go through one *writer lane*
(:func:`writer_lane`), a process-wide lock per file taken before ``BEGIN
IMMEDIATE`` and released after ``COMMIT`` or ``ROLLBACK``. SQLite admits one
writer at a time anyway; without the lane, the threads of a server that lose
the race sleep in SQLite's busy handler (1, 2, 5, 10 ... 100 ms naps, polling
the lock), which is what made the embedded default's p99 latency reach a
second under 16 concurrent writers. In the lane a waiting thread wakes as soon
as the writer before it is done. Other processes on the same file still meet
at SQLite's lock, through the busy timeout, so several processes stay safe.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.pool import Pool, StaticPool

__all__ = [
    "DEFAULT_BUSY_TIMEOUT",
    "WRITE",
    "WriterLane",
    "begin_immediate",
    "configure_connection",
    "configure_sqlite",
    "connect_sqlite",
    "create_engine",
    "immediate_transaction",
    "is_memory_sqlite",
    "writer_lane",
    "writer_lane_of",
]

#: Execution option that marks a connection's transaction as a write.
WRITE = "supportchat_write"
#: Seconds a SQLite writer waits for the write lock (in the lane, then at SQLite's lock) before giving up.
DEFAULT_BUSY_TIMEOUT = 30.0
#: Seconds to wait for a PostgreSQL connection.
DEFAULT_CONNECT_TIMEOUT = 5

Synchronous = Literal["FULL", "NORMAL"]


# -- the connection set-up ---------------------------------------------------------


def configure_connection(
    connection: sqlite3.Connection,
    *,
    synchronous: Synchronous = "NORMAL",
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
) -> None:
    """Set up a SQLite connection the way every supportchat database expects it (see the module)."""
    connection.isolation_level = None
    cursor = connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "memory":
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def connect_sqlite(
    path: str | os.PathLike[str],
    *,
    synchronous: Synchronous = "NORMAL",
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
) -> sqlite3.Connection:
    """A ``sqlite3`` connection on ``path``, set up by :func:`configure_connection`, usable from any thread."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=busy_timeout)
    configure_connection(connection, synchronous=synchronous, busy_timeout=busy_timeout)
    return connection


# -- the writer lane -----------------------------------------------------------------


class WriterLane:
    """The writes of this process to one SQLite file, one at a time (see the module).

    A plain lock, not a reentrant one: it may be released by another thread
    than the one that took it (a connection returned to the pool by the
    garbage collector), and a thread that waits for itself times out with
    "database is locked" after ``timeout`` seconds, as SQLite would.
    """

    def __init__(self, path: str, timeout: float = DEFAULT_BUSY_TIMEOUT) -> None:
        self.path = path
        self.timeout = timeout
        self._lock = threading.Lock()

    def acquire(self) -> None:
        if not self._lock.acquire(timeout=self.timeout):
            raise sqlite3.OperationalError(f"database is locked: no turn in the writer lane of {self.path}")

    def release(self) -> None:
        self._lock.release()

    def _reset(self) -> None:
        self._lock = threading.Lock()


_lanes: dict[str, WriterLane] = {}
_lanes_lock = threading.Lock()


def writer_lane(path: str | os.PathLike[str]) -> WriterLane:
    """The process-wide writer lane of the SQLite file at ``path`` (one per file, however it is named)."""
    key = os.path.realpath(path)
    with _lanes_lock:
        lane = _lanes.get(key)
        if lane is None:
            lane = _lanes[key] = WriterLane(key)
        return lane


def _reset_lanes_after_fork() -> None:
    # A lane held by another thread of the parent would stay held forever in the child.
    for lane in _lanes.values():
        lane._reset()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_lanes_after_fork)


def begin_immediate(connection: sqlite3.Connection) -> None:
    """Open a write transaction: take SQLite's write lock now, waiting in the busy handler for other processes.

    (Two finer waits were measured against SQLite's busy handler, with two
    processes writing to one file, directly and over HTTP: polling every
    0.1 ms, and a cross-process lane (``flock`` on a side file). Neither did
    better on the development machine, so neither was kept; see
    ``docs/performance.md``.)
    """
    connection.execute("BEGIN IMMEDIATE")


@contextmanager
def immediate_transaction(connection: sqlite3.Connection, lane: WriterLane | None) -> Iterator[sqlite3.Connection]:
    """One write transaction on a ``sqlite3`` connection: the lane, ``BEGIN IMMEDIATE``, then commit or roll back."""
    if lane is not None:
        lane.acquire()
    try:
        begin_immediate(connection)
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
    finally:
        if lane is not None:
            lane.release()


# -- engines -------------------------------------------------------------------------


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


#: Keyed by the engine's pool, which the engine shares with the copies ``execution_options()`` makes of it.
_engine_lanes: weakref.WeakKeyDictionary[Pool, WriterLane | None] = weakref.WeakKeyDictionary()
#: Key in a pooled connection's ``info``: the lane its open write transaction holds.
_HELD_LANE = "supportchat_writer_lane"


def writer_lane_of(engine: sa.Engine) -> WriterLane | None:
    """The writer lane of the SQLite file ``engine`` writes to; ``None`` for in-memory SQLite and other databases."""
    try:
        return _engine_lanes[engine.pool]
    except KeyError:
        pass
    lane = None
    if engine.dialect.name == "sqlite" and not is_memory_sqlite(engine.url):
        lane = writer_lane(engine.url.database or "")
    _engine_lanes[engine.pool] = lane
    return lane


def configure_sqlite(engine: sa.Engine) -> None:
    """Install the connection set-up and the writer lane on a SQLite engine (once).

    Connections the engine opened before this call keep their settings, so
    configure an engine before its first use. The busy timeout is the
    driver's ``timeout`` connect argument (:func:`create_engine` sets it).
    A transaction begun with the :data:`WRITE` execution option takes the
    lane and ``BEGIN IMMEDIATE``; the lane is released when the connection
    goes back to the pool, after its commit or rollback.
    """
    if event.contains(engine, "connect", _on_connect):
        return
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    event.listen(engine.pool, "checkin", _on_checkin)


def _on_connect(dbapi_connection: sqlite3.Connection, record: Any) -> None:
    # The driver's ``timeout`` connect argument is the busy timeout it was given.
    busy_timeout = dbapi_connection.execute("PRAGMA busy_timeout").fetchone()[0] / 1000
    configure_connection(dbapi_connection, busy_timeout=busy_timeout)
    dbapi_connection.create_function("supportchat_casefold", 1, _casefold, deterministic=True)


def _on_begin(connection: sa.Connection) -> None:
    if not connection.get_execution_options().get(WRITE):
        return
    pooled = connection.connection
    lane = writer_lane_of(connection.engine)
    try:
        if lane is not None and _HELD_LANE not in pooled.info:
            lane.acquire()
            pooled.info[_HELD_LANE] = lane
        # Straight to the driver: going through SQLAlchemy's execution machinery would double the cost.
        begin_immediate(pooled.dbapi_connection)  # type: ignore[arg-type]
    except sqlite3.Error as error:
        raise sa.exc.OperationalError("BEGIN IMMEDIATE", None, error) from error


def _on_checkin(dbapi_connection: Any, record: Any) -> None:
    lane = record.info.pop(_HELD_LANE, None)
    if lane is not None:
        lane.release()
