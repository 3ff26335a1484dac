"""Live updates: Server-Sent-Events streams read from the persisted event log.

:class:`LiveEvents` is the entry point (the adapters' SSE routes use it);
:class:`EventStream` is one client's stream; the :class:`Broker` only wakes
streams, from the desk of this process, PostgreSQL ``NOTIFY``
(:class:`PostgresListener`) or a slow poll (:class:`EventLogPoller`).
Nothing here imports a web framework.
"""

from .broker import Broker, Subscription
from .frames import EventPayload, Frame
from .live import LiveEvents
from .poller import EventLogPoller
from .postgres import CHANNEL, PostgresListener
from .stream import EventStream, latest_event_id, parse_last_event_id

__all__ = [
    "CHANNEL",
    "Broker",
    "EventLogPoller",
    "EventPayload",
    "EventStream",
    "Frame",
    "LiveEvents",
    "PostgresListener",
    "Subscription",
    "latest_event_id",
    "parse_last_event_id",
]
