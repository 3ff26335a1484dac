"""What a notifier is, what it delivers, and the event document notifiers send.

A notifier turns an event of the log into a payload (:meth:`Notifier.prepare`,
run once, when the event becomes a job, so every retry sends the same thing)
and sends a payload (:meth:`Notifier.deliver`, run by a job runner's thread,
never by a request). ``deliver`` raises on failure: a
:class:`PermanentFailure` is given up at once, anything else is retried
with backoff up to the worker's bound.

A :class:`Delivery` is the notifier's view of its job (a
:class:`~supportchat.jobs.Job` of kind ``notify.<notifier name>``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from ..jobs import Job, JobStatus, PermanentFailure
from ..models import EventRecord, Message, Note, Ticket

__all__ = ["Delivery", "DeliveryStatus", "Notification", "Notifier", "PermanentFailure", "event_document"]

#: The job kind of a notifier's deliveries is this prefix and its name.
KIND_PREFIX = "notify."


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    #: Given up after the last allowed attempt, or at once on a permanent failure; ``last_error`` says why.
    FAILED = "failed"


_DELIVERY_STATUS = {
    JobStatus.PENDING: DeliveryStatus.PENDING,
    JobStatus.RUNNING: DeliveryStatus.SENDING,
    JobStatus.DONE: DeliveryStatus.DELIVERED,
    JobStatus.FAILED: DeliveryStatus.FAILED,
}
JOB_STATUS = {delivery: job for job, delivery in _DELIVERY_STATUS.items()}


@dataclass(frozen=True, slots=True)
class Delivery:
    """One notification to deliver: what to send for which event, and how it went so far.

    ``attempts`` counts the attempts made before (while sending, the one in
    progress is not counted).
    """

    id: int
    notifier: str
    event_id: int
    payload: Mapping[str, Any]
    status: DeliveryStatus
    attempts: int
    last_error: str | None

    @classmethod
    def of(cls, job: Job) -> Delivery:
        """The delivery a notifier's job stands for."""
        running = job.status is JobStatus.RUNNING
        return cls(
            id=job.id,
            notifier=job.kind.removeprefix(KIND_PREFIX),
            event_id=int(job.payload["event_id"]),
            payload=job.payload["payload"],
            status=_DELIVERY_STATUS[job.status],
            attempts=job.attempts - 1 if running else job.attempts,
            last_error=job.last_error,
        )


@dataclass(frozen=True, slots=True)
class Notification:
    """An event of the log with the ticket and message it concerns, as a notifier sees it."""

    record: EventRecord
    ticket: Ticket | None
    message: Message | None = None
    #: The internal note a ``note_created`` announces: for staff's channels only.
    note: Note | None = None


@runtime_checkable
class Notifier(Protocol):
    """A channel that tells someone outside the app what happened."""

    #: Unique among a worker's notifiers; its jobs' kind is ``notify.<name>``.
    name: str

    def prepare(self, event: Notification) -> Mapping[str, Any] | None:
        """The JSON-serialisable payload to deliver for ``event``, or ``None`` to skip it."""
        ...

    def deliver(self, delivery: Delivery) -> None:
        """Send ``delivery.payload``; raise if it was not accepted."""
        ...


def event_document(event: Notification) -> dict[str, Any]:
    """The event as JSON-ready data: id, type, time, the ticket, the message, a feature's ``data`` (staff's view)."""
    record = event.record
    return {
        "id": str(record.id),
        "event_id": record.id,
        "type": str(record.type),
        "created_at": record.model_dump(mode="json")["created_at"],
        "ticket_id": record.ticket_id,
        "ticket": None if event.ticket is None else event.ticket.model_dump(mode="json"),
        "message": None if event.message is None else event.message.model_dump(mode="json"),
        "note": None if event.note is None else event.note.model_dump(mode="json"),
        #: A feature's entry's details (a transfer's from, to, team, reason): staff's channels only.
        "data": record.data,
    }
