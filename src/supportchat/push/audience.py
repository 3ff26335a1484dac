"""Who is pushed about a desk event, and what they may be told (spec §15).

- The ticket's **owner** is pushed an admin reply and their ticket becoming
  ``resolved``. What they are told is built from the customer projection
  (:func:`~supportchat.projection.customer_event`) and nothing else: an
  event the projection does not give the owner (another user's ticket, a
  message it leaves out, anything internal) pushes nobody, and the payload
  holds only ``Customer*`` fields.
- **Agents** are pushed new tickets (every agent with a device) and user
  replies on the tickets assigned to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from ..models import Actor, EventRecord, EventType, Message, SenderType, Ticket, TicketStatus
from ..projection import CustomerEvent, customer_event
from ..store import Store, announced_message
from .base import OwnerKind, PushEvent

__all__ = ["Audience", "Content", "audiences", "content_for"]

#: How far apart a status change record and its event's time may be (they share the desk's one ``now``).
_SAME_WRITE = timedelta(milliseconds=1)


@dataclass(frozen=True, slots=True)
class Audience:
    """Recipients of one push: an owner kind and ids (``None``: every owner of that kind)."""

    event: PushEvent
    kind: OwnerKind
    ids: tuple[int, ...] | None


@dataclass(frozen=True, slots=True)
class Content:
    """What one push carries: FCM ``data`` (strings only) and the parts of the notification text."""

    data: dict[str, str]
    number: str
    subject: str = ""
    text: str = ""


def _record(store: Store, event_id: int) -> EventRecord | None:
    found = store.events_after(event_id - 1, limit=1)
    return found[0] if found and found[0].id == event_id else None


def _resolved_by(store: Store, record: EventRecord, ticket: Ticket) -> bool:
    """Whether the write ``record`` logs set the ticket's status to ``resolved``."""
    return any(
        change.field == "status"
        and change.new_value == TicketStatus.RESOLVED.value
        and abs(change.changed_at - record.created_at) <= _SAME_WRITE
        for change in store.list_changes(ticket.id)
    )


def _owner_view(
    record: EventRecord, ticket: Ticket | None, message: Message | None, owner: int
) -> CustomerEvent | None:
    return customer_event(record, ticket, message, Actor.user(owner))


def _user_event(store: Store, record: EventRecord, ticket: Ticket, message: Message | None) -> PushEvent | None:
    """The push the owner gets for ``record``, judged on the projection of it."""
    view = _owner_view(record, ticket, message, ticket.user_id)
    if view is None or view.ticket is None:
        return None
    if record.type is EventType.MESSAGE_CREATED:
        if view.message is not None and view.message.sender_type is SenderType.ADMIN:
            return PushEvent.ADMIN_REPLY
        return None
    if record.type is EventType.TICKET_UPDATED and _resolved_by(store, record, ticket):
        return PushEvent.RESOLVED
    return None


def audiences(store: Store, record: EventRecord) -> list[Audience]:
    """Who is pushed about ``record``, and as what."""
    ticket = store.get_ticket(record.ticket_id)
    if ticket is None or ticket.id != record.ticket_id:
        return []
    message = announced_message(store, record)
    found = []
    user_event = _user_event(store, record, ticket, message)
    if user_event is not None:
        found.append(Audience(user_event, OwnerKind.USER, (ticket.user_id,)))
    if record.type is EventType.TICKET_CREATED:
        found.append(Audience(PushEvent.NEW_TICKET, OwnerKind.AGENT, None))
    elif (
        record.type is EventType.MESSAGE_CREATED
        and message is not None
        and message.sender_type is SenderType.USER
        and ticket.assigned_to is not None
    ):
        found.append(Audience(PushEvent.USER_REPLY, OwnerKind.AGENT, (ticket.assigned_to,)))
    return found


def _data(event: PushEvent, ticket_id: int, number: str, message_id: int | None) -> dict[str, str]:
    return {
        "event": event.value,
        "ticket_id": str(ticket_id),
        "ticket_number": number,
        "message_id": "" if message_id is None else str(message_id),
    }


def content_for(
    store: Store, *, event: PushEvent, event_id: int, recipient_kind: OwnerKind, recipient_id: int
) -> Content | None:
    """What a push of ``event_id`` to this recipient says, as of now; ``None``: tell them nothing."""
    record = _record(store, event_id)
    if record is None:
        return None
    ticket = store.get_ticket(record.ticket_id)
    message = announced_message(store, record)
    if recipient_kind is OwnerKind.USER:
        # Only what the recipient's own projection holds: never the desk's Ticket or Message.
        view = _owner_view(record, ticket, message, recipient_id)
        if view is None or view.ticket is None:
            return None
        if event is PushEvent.ADMIN_REPLY and (
            view.message is None or view.message.sender_type is not SenderType.ADMIN
        ):
            return None
        shown = view.ticket
        text = "" if view.message is None else view.message.message
        message_id = None if view.message is None else view.message.id
        return Content(
            _data(event, shown.id, shown.ticket_number, message_id), shown.ticket_number, shown.subject, text
        )
    if ticket is None:
        return None
    text = "" if message is None else message.message
    message_id = None if message is None else message.id
    return Content(
        _data(event, ticket.id, ticket.ticket_number, message_id), ticket.ticket_number, ticket.subject, text
    )
