"""In-process announcements of what the desk did.

Listeners (notifiers, live streams) subscribe to a desk and are called after
each successful write. A listener that raises is logged and ignored: an
announcement must never fail or undo the write it reports. Durable delivery
is not this module's job; the store's event log is the record to resume from.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .models import Actor, Message, Note, Ticket

__all__ = ["Event", "EventBus", "Listener"]

logger = logging.getLogger("supportchat.events")


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened to a ticket, as the desk saw it."""

    #: A core :class:`EventType`, or a feature's type (:meth:`SupportDesk.record_event`).
    type: str
    ticket: Ticket
    actor: Actor
    at: datetime
    message: Message | None = None
    #: Which fields changed, for ``ticket_updated`` (and ``tags`` for ``tags_changed``).
    changed: tuple[str, ...] = ()
    #: The note a ``note_created`` announces (staff's listeners only: never a user's).
    note: Note | None = None
    #: A feature's entry's details, as in the log (staff's only).
    data: Mapping[str, Any] | None = None


Listener = Callable[[Event], None]


class EventBus:
    """A thread-safe list of listeners called synchronously, in subscription order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: tuple[Listener, ...] = ()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` for every event from now on; returns the unsubscribe function."""
        with self._lock:
            self._listeners = (*self._listeners, listener)

        def unsubscribe() -> None:
            with self._lock:
                self._listeners = tuple(x for x in self._listeners if x is not listener)

        return unsubscribe

    def publish(self, event: Event) -> None:
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:
                logger.exception("listener %r failed on %s", listener, event.type)
