"""Live events for one desk: the broker, and the cross-process wake-up that suits its store."""

from __future__ import annotations

from typing import Any

from ..desk import SupportDesk
from ..models import Actor
from .broker import Broker
from .poller import EventLogPoller
from .postgres import PostgresListener
from .stream import EventStream, parse_last_event_id

__all__ = ["LiveEvents"]


class LiveEvents:
    """What the SSE routes of both adapters stream from.

    The broker is rung by the desk of this process at once. How other
    processes' events arrive depends on the store (override with the
    keywords):

    - a SQL store on PostgreSQL: ``LISTEN``/``NOTIFY`` (``listen=True``),
      a listener thread per process;
    - a SQL store on SQLite: a poll of the event log every
      ``poll_interval`` seconds (default 2), a thread per process;
    - any other store (in memory, or one without an ``engine``): nothing,
      as only this process writes to it (pass ``poll_interval`` to poll).

    Call :meth:`close` when the app shuts down.
    """

    def __init__(
        self,
        desk: SupportDesk,
        *,
        heartbeat: float = 15.0,
        listen: bool | None = None,
        poll_interval: float | None = None,
    ) -> None:
        self.desk = desk
        self.heartbeat = heartbeat
        self.broker = Broker()
        self._detach = self.broker.attach(desk.subscribe)
        engine: Any = getattr(desk.store, "engine", None)
        dialect = getattr(getattr(engine, "dialect", None), "name", None)
        if listen is None:
            listen = dialect == "postgresql"
        if poll_interval is None and dialect is not None and not listen:
            poll_interval = 2.0
        self.listener = PostgresListener.for_engine(engine, self.broker).start() if listen else None
        self.poller = (
            EventLogPoller(desk.store, self.broker, interval=poll_interval).start()
            if poll_interval is not None
            else None
        )

    def stream(self, actor: Actor, last_event_id: str | int | None = None, **options: Any) -> EventStream:
        """A stream of what ``actor`` may see, resuming after ``last_event_id`` (the header's raw value is fine)."""
        start = last_event_id if isinstance(last_event_id, int) else parse_last_event_id(last_event_id)
        options.setdefault("heartbeat", self.heartbeat)
        return EventStream(self.desk, self.broker, actor, last_event_id=start, **options)

    def close(self, wait: float = 5.0) -> None:
        """End every open stream (waiting up to ``wait`` seconds), stop the threads, detach from the desk.

        From an event loop, pass ``wait=0`` (async streams end on the loop itself).
        """
        self._detach()
        self.broker.shutdown(wait)
        if self.listener is not None:
            self.listener.stop()
        if self.poller is not None:
            self.poller.stop()
