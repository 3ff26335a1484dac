"""What a notifier is, and the event document notifiers send.

A notifier turns an event of the log into a payload (:meth:`Notifier.prepare`,
run once, when the event is taken into the outbox, so every retry sends the
same thing) and sends a payload (:meth:`Notifier.deliver`, run by the
worker's thread, never by a request). ``deliver`` raises on failure: a
:class:`PermanentFailure` is given up at once, anything else is retried
with backoff up to the worker's bound.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from ..models import EventRecord, Message, Ticket
from .outbox import Delivery

__all__ = ["Notification", "Notifier", "PermanentFailure", "event_document"]


class PermanentFailure(Exception):
    """The delivery can never succeed (a receiver that is gone, an address refused): do not retry."""


@dataclass(frozen=True, slots=True)
class Notification:
    """An event of the log with the ticket and message it concerns, as a notifier sees it."""

    record: EventRecord
    ticket: Ticket | None
    message: Message | None = None


@runtime_checkable
class Notifier(Protocol):
    """A channel that tells someone outside the app what happened."""

    #: Unique among the outbox's notifiers; the outbox keys cursors and deliveries by it.
    name: str

    def prepare(self, event: Notification) -> Mapping[str, Any] | None:
        """The JSON-serialisable payload to deliver for ``event``, or ``None`` to skip it."""
        ...

    def deliver(self, delivery: Delivery) -> None:
        """Send ``delivery.payload``; raise if it was not accepted."""
        ...


def event_document(event: Notification) -> dict[str, Any]:
    """The event as JSON-ready data: id, type, time, the ticket and the message (staff's view)."""
    record = event.record
    return {
        "id": str(record.id),
        "event_id": record.id,
        "type": record.type.value,
        "created_at": record.model_dump(mode="json")["created_at"],
        "ticket_id": record.ticket_id,
        "ticket": None if event.ticket is None else event.ticket.model_dump(mode="json"),
        "message": None if event.message is None else event.message.model_dump(mode="json"),
    }
