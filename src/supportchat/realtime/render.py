"""Event-log entries made into frames: once per audience for the broker, per stream for a catch-up.

Both paths build a frame the same way, so a stream that catches up from the
log sends byte for byte what the shared path would have sent it. A user's
frame goes through the customer projection (:func:`customer_event`), which
also decides which event types a user may receive at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..models import Actor, EventRecord, Message, Note, Ticket
from ..projection import CustomerEvent, customer_event
from ..store import Store, announced_note
from ..store import announced_message as message_of
from .frames import EventPayload, Frame

__all__ = ["Fanned", "Renderer", "message_of"]

#: Whose side staff frames are rendered from (``unread_count`` depends only on being staff).
_STAFF = Actor.system()


@dataclass(frozen=True, slots=True)
class Fanned:
    """One event ready for every stream of a process: its frame for staff, and for its owner if they may see it."""

    id: int
    user_id: int
    staff: Frame
    owner: Frame | None


class Renderer:
    """Reads what a batch of entries refers to (each ticket once) and renders their frames."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def frames(self, records: Sequence[EventRecord], viewer: Actor) -> list[Frame]:
        """The frames ``viewer`` may see of ``records`` (a stream's own read of the log)."""
        tickets: dict[int, Ticket | None] = {}
        found = []
        for record in records:
            ticket = self._ticket(tickets, record.ticket_id)
            if not viewer.is_staff and ticket is not None and ticket.user_id != viewer.id:
                ticket = None
            message = message_of(self.store, record) if ticket is not None else None
            note = self._note(record, ticket) if viewer.is_staff else None
            shown = self._tagged(ticket) if viewer.is_staff else ticket
            if (frame := _frame(record, shown, message, viewer, note)) is not None:
                found.append(frame)
        return found

    def fan_out(self, records: Sequence[EventRecord]) -> list[Fanned]:
        """Every entry rendered for staff and for its owner (``None`` where the projection withholds it)."""
        tickets: dict[int, Ticket | None] = {}
        fanned = []
        for record in records:
            ticket = self._ticket(tickets, record.ticket_id)
            message = message_of(self.store, record) if ticket is not None else None
            staff = _frame(record, self._tagged(ticket), message, _STAFF, self._note(record, ticket))
            assert staff is not None  # staff see every event
            mine = ticket if ticket is not None and ticket.user_id == record.user_id else None
            owner = _frame(record, mine, message if mine else None, Actor.user(record.user_id))
            fanned.append(Fanned(record.id, record.user_id, staff, owner))
        return fanned

    def _note(self, record: EventRecord, ticket: Ticket | None) -> Note | None:
        """The internal note a ``note_created`` announces: read for staff's frames only."""
        return None if ticket is None else announced_note(self.store, record)

    def _tagged(self, ticket: Ticket | None) -> Ticket | None:
        """Staff's ticket with its tags (a user's frames never carry them: the projection has no field)."""
        if ticket is None:
            return None
        tags = self.store.ticket_tags([ticket.id]).get(ticket.id, ())
        return ticket.model_copy(update={"tags": tags}) if tags else ticket

    def _ticket(self, tickets: dict[int, Ticket | None], ticket_id: int) -> Ticket | None:
        if ticket_id not in tickets:
            tickets[ticket_id] = self.store.get_ticket(ticket_id)
        return tickets[ticket_id]


def _frame(
    record: EventRecord, ticket: Ticket | None, message: Message | None, viewer: Actor, note: Note | None = None
) -> Frame | None:
    """The entry's frame for ``viewer``; ``None`` when the projection withholds it from a user."""
    payload: EventPayload | CustomerEvent | None
    seen = None if ticket is None else ticket.seen_by(viewer)
    if viewer.is_staff:
        payload = EventPayload(
            event_id=record.id,
            type=record.type,
            ticket_id=record.ticket_id,
            created_at=record.created_at,
            ticket=seen,
            message=message,
            note=note,
            data=record.data,
        )
    else:
        payload = customer_event(record, seen, message, viewer)
        if payload is None:
            return None
    return Frame(id=record.id, event=str(record.type), data=payload.model_dump_json())
