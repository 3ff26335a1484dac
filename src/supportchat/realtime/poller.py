"""A slow poll of the event log, for databases that cannot notify other processes.

With SQLite, several server processes can share one database file but not
a notification channel: each process rings its own streams at once for its
own writes (the desk tells the broker), and this poller, one thread per
process, notices the other processes' events within ``interval`` seconds.
One query per interval per process, whatever the number of clients.
"""

from __future__ import annotations

import logging
import threading

from ..store import Store
from .broker import Broker
from .stream import latest_event_id

__all__ = ["EventLogPoller"]

logger = logging.getLogger("supportchat.realtime")


class EventLogPoller:
    """A daemon thread that reads the log's tail every ``interval`` seconds and rings the broker."""

    def __init__(self, store: Store, broker: Broker, *, interval: float = 2.0) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.store = store
        self.broker = broker
        self.interval = interval
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._tail: int | None = None

    def start(self) -> EventLogPoller:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="supportchat-event-poller", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def poll_once(self) -> int:
        """Read what is new since the last poll and ring its users' streams; how many events."""
        if self._tail is None:
            self._tail = latest_event_id(self.store)
            return 0
        seen = 0
        while batch := self.store.events_after(self._tail, limit=500):
            for user_id in {record.user_id for record in batch}:
                self.broker.announce(user_id)
            self._tail = batch[-1].id
            seen += len(batch)
        return seen

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.poll_once()
            except Exception:
                # A database briefly away must not end the thread; the next poll tries again.
                logger.warning("polling the event log failed", exc_info=True)
            self._stopping.wait(self.interval)
