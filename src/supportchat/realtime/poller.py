"""Other processes' events where the database cannot notify: a cheap change signal, checked often.

With SQLite, several server processes can share one database file but not
a notification channel. Each process wakes its broker at once for its own
writes (the desk tells it); for the other processes' writes, one thread per
process asks SQLite every ``interval`` seconds (0.05 by default) whether
the file changed: ``PRAGMA data_version`` on a connection of its own, which
changes whenever another connection commits, and costs no read of any
table. Only then is the broker woken, and its one reader reads the log. So
an idle desk costs twenty pragmas a second per process, whatever the
number of clients, and another process's event arrives within the interval.

For a store that offers no such signal the poller wakes the broker every
``interval`` (its reader then makes one cheap query of the log's tail).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .broker import Broker

__all__ = ["EventLogPoller", "sqlite_change_signal", "sqlite_file_of"]

logger = logging.getLogger("supportchat.realtime")

#: Answers something that differs from its last answer once the database may hold new events.
ChangeSignal = Callable[[], object]


def sqlite_change_signal(path: str | Path) -> ChangeSignal:
    """``PRAGMA data_version`` of the SQLite file at ``path``, on a connection kept for it (one thread)."""
    connection: sqlite3.Connection | None = None

    def version() -> object:
        nonlocal connection
        if connection is None:
            uri = Path(path).absolute().as_uri() + "?mode=ro"
            connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
        try:
            row = connection.execute("PRAGMA data_version").fetchone()
        except sqlite3.Error:
            with contextlib.suppress(sqlite3.Error):
                connection.close()
            connection = None
            raise
        return row[0]

    return version


def sqlite_file_of(engine: Any) -> str | None:
    """The database file of a SQLAlchemy engine on SQLite (``None`` in memory or on another database)."""
    url = getattr(engine, "url", None)
    if getattr(getattr(engine, "dialect", None), "name", None) != "sqlite" or url is None:
        return None
    database = url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return str(database)


class EventLogPoller:
    """A daemon thread that wakes the broker when ``signal`` changes (or every ``interval`` without one)."""

    def __init__(self, broker: Broker, *, interval: float = 0.05, signal: ChangeSignal | None = None) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.broker = broker
        self.interval = interval
        self.signal = signal
        #: How many times the broker was woken (for monitoring and tests).
        self.wakes = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._last: object = None

    def start(self) -> EventLogPoller:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="supportchat-event-poller", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def poll_once(self) -> bool:
        """Check the signal once and wake the broker if it changed; whether it did."""
        if self.signal is not None:
            current = self.signal()
            changed, self._last = current != self._last, current
            if not changed:
                return False
        self.wakes += 1
        self.broker.wake()
        return True

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.poll_once()
            except Exception:
                # A database briefly away must not end the thread; the next check tries again.
                logger.warning("checking the event log for changes failed", exc_info=True)
            self._stopping.wait(self.interval)
