"""Live events for one desk: the broker, the cross-process wake-up that suits its store, the stream caps."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from ..desk import SupportDesk
from ..models import Actor
from .broker import DEFAULT_QUEUE_LIMIT, Broker
from .caps import StreamCaps, caps_from_env
from .poller import EventLogPoller, sqlite_change_signal, sqlite_file_of
from .postgres import PostgresListener
from .stream import EventStream, parse_last_event_id

__all__ = ["LiveEvents"]


class LiveEvents:
    """What the SSE routes of both adapters stream from.

    The broker is woken by the desk of this process at once. How other
    processes' events arrive depends on the store (override with the
    keywords):

    - a SQL store on PostgreSQL: ``LISTEN``/``NOTIFY`` (``listen=True``),
      a listener thread per process;
    - a SQL store on a SQLite file: ``PRAGMA data_version`` checked every
      ``poll_interval`` seconds (default 0.05), a thread per process;
    - any other store (in memory, or one without an ``engine``): nothing,
      as only this process writes to it (pass ``poll_interval`` to wake the
      reader on a timer).

    ``queue_limit`` bounds each stream's queue (a stream that overflows it
    reads the log itself until it has caught up); a stream behind for more
    than ``slow_after`` seconds is dropped as too slow; ``caps`` limits the streams
    per account and per client address (default: :func:`caps_from_env`).
    Nothing starts until the first stream opens (or :meth:`start`); call
    :meth:`close` when the app shuts down.
    """

    def __init__(
        self,
        desk: SupportDesk,
        *,
        heartbeat: float = 15.0,
        listen: bool | None = None,
        poll_interval: float | None = None,
        queue_limit: int = DEFAULT_QUEUE_LIMIT,
        slow_after: float = 30.0,
        caps: StreamCaps | None = None,
    ) -> None:
        self.desk = desk
        self.heartbeat = heartbeat
        self.slow_after = slow_after
        self.broker = Broker(desk.store, queue_limit=queue_limit)
        self.caps = caps if caps is not None else caps_from_env(os.environ)
        self.listener: PostgresListener | None = None
        self.poller: EventLogPoller | None = None
        self._listen = listen
        self._poll_interval = poll_interval
        self._detach: Callable[[], None] | None = None
        self._lock = threading.Lock()

    def start(self) -> LiveEvents:
        """Attach to the desk and start the wake-up thread the store needs; idempotent.

        The first :meth:`stream` calls it, so an app whose streams are never
        opened (a test, a CLI) starts no thread and opens no connection.
        """
        with self._lock:
            if self._detach is not None or self.broker.shut_down:
                return self
            self._detach = self.broker.attach(self.desk.subscribe)
            engine: Any = getattr(self.desk.store, "engine", None)
            dialect = getattr(getattr(engine, "dialect", None), "name", None)
            listen = dialect == "postgresql" if self._listen is None else self._listen
            if listen:
                self.listener = PostgresListener.for_engine(engine, self.broker).start()
            sqlite_file = None if listen else sqlite_file_of(engine)
            if sqlite_file is not None:
                signal = sqlite_change_signal(sqlite_file)
                interval = 0.05 if self._poll_interval is None else self._poll_interval
                self.poller = EventLogPoller(self.broker, interval=interval, signal=signal).start()
            elif self._poll_interval is not None:
                self.poller = EventLogPoller(self.broker, interval=self._poll_interval).start()
        return self

    def stream(
        self, actor: Actor, last_event_id: str | int | None = None, *, address: str | None = None, **options: Any
    ) -> EventStream:
        """A stream of what ``actor`` may see, resuming after ``last_event_id`` (the header's raw value is fine).

        ``address`` is the client's address, for the per-address cap. Raises
        :class:`~supportchat.errors.RateLimited` when ``actor`` or ``address``
        holds as many streams as :attr:`caps` allows.
        """
        start = last_event_id if isinstance(last_event_id, int) else parse_last_event_id(last_event_id)
        self.start()
        options.setdefault("heartbeat", self.heartbeat)
        options.setdefault("slow_after", self.slow_after)
        release = self.caps.acquire(actor, address)
        return EventStream(self.desk, self.broker, actor, last_event_id=start, on_close=release, **options)

    def close(self, wait: float = 5.0) -> None:
        """End every open stream (waiting up to ``wait`` seconds), stop the threads, detach from the desk.

        From an event loop, pass ``wait=0`` (async streams end on the loop itself).
        """
        with self._lock:
            detach, self._detach = self._detach, None
        if detach is None:
            return
        detach()
        self.broker.shutdown(wait)
        if self.listener is not None:
            self.listener.stop()
        if self.poller is not None:
            self.poller.stop()
