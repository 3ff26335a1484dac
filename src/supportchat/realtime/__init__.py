"""Live updates: Server-Sent-Events streams of the persisted event log, fanned out in memory.

:class:`LiveEvents` is the entry point (the adapters' SSE routes use it);
:class:`EventStream` is one client's stream; the :class:`Broker` is the one
reader of the log per process, woken by the desk of this process,
PostgreSQL ``NOTIFY`` (:class:`PostgresListener`) or the SQLite change
signal (:class:`EventLogPoller`), handing each event's frames, rendered once
per audience, to the streams that may see it. :class:`StreamCaps` limits the
streams per account and per address. Nothing here imports a web framework.
"""

from .broker import Broker, Subscription
from .caps import StreamCaps, caps_from_env
from .frames import EventPayload, Frame
from .live import LiveEvents
from .poller import EventLogPoller, sqlite_change_signal
from .postgres import CHANNEL, PostgresListener
from .stream import TOO_SLOW, EventStream, latest_event_id, parse_last_event_id

__all__ = [
    "CHANNEL",
    "TOO_SLOW",
    "Broker",
    "EventLogPoller",
    "EventPayload",
    "EventStream",
    "Frame",
    "LiveEvents",
    "PostgresListener",
    "StreamCaps",
    "Subscription",
    "caps_from_env",
    "latest_event_id",
    "parse_last_event_id",
    "sqlite_change_signal",
]
