"""Cross-process fan-out on PostgreSQL: ``LISTEN supportchat_events``.

Every event-log insert sends a ``NOTIFY`` at commit (a trigger added by the
``0002_live_events`` migration), whichever server process wrote it. Each
process runs one :class:`PostgresListener` thread on a dedicated connection;
it wakes the broker, whose one reader reads the log for every stream of the process.

A lost connection is reopened with growing pauses (capped at
``max_backoff``); notifications sent while it was down are gone, so the
broker reads the log once it is back, and nothing is lost.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from .broker import Broker

__all__ = ["CHANNEL", "PostgresListener"]

logger = logging.getLogger("supportchat.realtime")

#: The channel the migration's trigger notifies on.
CHANNEL = "supportchat_events"

Connect = Callable[[], Any]


class PostgresListener:
    """A daemon thread turning ``NOTIFY supportchat_events`` into wake-ups of the broker.

    ``connect`` opens a new psycopg 3 connection to the store's database;
    ``schema`` is the schema the store's tables live in (notifications from
    other schemas of the same database are ignored). Use :meth:`for_engine`
    to derive both from the store's SQLAlchemy engine.
    """

    def __init__(
        self,
        connect: Connect,
        broker: Broker,
        *,
        schema: str,
        poll: float = 0.5,
        max_backoff: float = 5.0,
    ) -> None:
        self.broker = broker
        self.schema = schema
        self._connect = connect
        self._poll = poll
        self._max_backoff = max_backoff
        self._stopping = threading.Event()
        self._listening = threading.Event()
        self._thread: threading.Thread | None = None
        #: How many times the connection was (re)opened, and its server process; for monitoring and tests.
        self.connections = 0
        self.backend_pid: int | None = None

    @classmethod
    def for_engine(cls, engine: Any, broker: Broker, **options: Any) -> PostgresListener:
        """A listener on the same database and schema as a SQLAlchemy engine (``postgresql+psycopg``)."""

        def connect() -> Any:
            # A pool connection detached from the pool carries every connect
            # argument of the engine (search_path included) and is ours to close.
            pooled = engine.raw_connection()
            connection = pooled.driver_connection
            pooled.detach()
            connection.rollback()
            connection.autocommit = True
            return connection

        probe = connect()
        try:
            schema = str(probe.execute("SELECT current_schema()").fetchone()[0])
        finally:
            probe.close()
        return cls(connect, broker, schema=schema, **options)

    def start(self) -> PostgresListener:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="supportchat-pg-listener", daemon=True)
            self._thread.start()
        return self

    def wait_listening(self, timeout: float = 10.0) -> bool:
        """Block until ``LISTEN`` is in effect (for tests and orderly start-up)."""
        return self._listening.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        backoff = 0.1
        while not self._stopping.is_set():
            try:
                connection = self._connect()
            except Exception:
                logger.warning("cannot connect to listen for events; retrying in %.1fs", backoff, exc_info=True)
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            try:
                self._listen(connection)
                backoff = 0.1
            except Exception:
                logger.warning("the event listener's connection failed; reconnecting", exc_info=True)
                self._listening.clear()
            finally:
                with contextlib.suppress(Exception):  # already broken; nothing to release
                    connection.close()

    def _listen(self, connection: Any) -> None:
        connection.execute(f"LISTEN {CHANNEL}")
        self.backend_pid = int(connection.info.backend_pid)
        self.connections += 1
        self._listening.set()
        # Whatever was notified while we were not listening is lost: everyone catches up from the log.
        self.broker.announce(None)
        while not self._stopping.is_set():
            for notification in connection.notifies(timeout=self._poll):
                self._deliver(notification.payload)

    def _deliver(self, payload: str) -> None:
        # "<schema> <event id> <user id>"; split from the right, as a schema name may hold spaces.
        parts = payload.rsplit(" ", 2)
        if len(parts) != 3 or parts[0] != self.schema:
            return
        try:
            user_id = int(parts[2])
        except ValueError:
            return
        self.broker.announce(user_id)
