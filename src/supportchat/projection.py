"""The customer projection (spec §11): what of a ticket its owner may see.

Every path that shows a user anything (the user routes, the user's live
stream, and later push notifications, email to the user and webhooks flagged
as user-facing) passes the desk's result through :func:`customer_view`,
:func:`customer_message` or :func:`customer_event`, and sends only what comes
back. The projection is a whitelist: the ``Customer*`` types name every field
a user may see, are distinct from the admin types (so handing a
:class:`~supportchat.models.Ticket` where a :class:`CustomerTicket` is due is
a type error), and forbid extra fields. Whatever the admin side of a ticket
grows (internal notes, tags, change history, agent names and emails, SLA
clocks), none of it reaches a user unless a field is added here.

What a user sees today:

* the ticket: every seed column (``assigned_to`` included: the seed's app
  shows it, spec §7) plus ``message_count`` and ``unread_count`` from the
  owner's side, and in search results the ``highlight`` made from the
  owner's own texts (a user's search never reads internal notes);
* its messages (one page, and whether older ones exist), in the seed's
  columns, without the idempotency ``uid`` (it carries the sender's id and
  the client's own message id);
* live events of the owner's own tickets only, of the types the one
  audience rule lets through (:func:`supportchat.event_types.owner_may_see`:
  declared for the owner; a staff type, a feature's type declared without an
  audience or an undeclared one never), each with the projected ticket and
  message and never the entry's ``data``;
* ``merged_into`` (the id of their own ticket a merged one now lives in) and,
  on an opened ticket, their latest satisfaction ``rating`` (score, comment,
  cycle, when), never the agent it is attributed to.

Never: another user's ticket, message or event (:class:`NotCustomerData`
is raised for a ticket or message of someone else; events of other tickets
project to ``None``), the change history, internal notes, the version,
unread counters of the admins' side, or anything of the agents directory
beyond the assignee's id.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict

from .errors import TicketNotFound
from .event_types import owner_may_see as owner_may_see_type
from .models import (
    Actor,
    ActorKind,
    Category,
    EventRecord,
    Message,
    MessageType,
    Page,
    Priority,
    Rating,
    SenderType,
    Ticket,
    TicketStatus,
    TicketThread,
    UTCDateTime,
)

__all__ = [
    "CustomerEvent",
    "CustomerMessage",
    "CustomerRating",
    "CustomerTicket",
    "CustomerTicketThread",
    "NotCustomerData",
    "customer_event",
    "customer_message",
    "customer_messages",
    "customer_page",
    "customer_rating",
    "customer_thread",
    "customer_ticket",
    "customer_view",
    "owner_may_see",
]


class NotCustomerData(TicketNotFound):
    """A ticket or message that is not the viewer's: answered as "no such ticket", never shown."""


class _Customer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CustomerTicket(_Customer):
    """A ticket as its owner sees it."""

    id: int
    ticket_number: str
    user_id: int
    subject: str
    description: str
    priority: Priority
    status: TicketStatus
    category: Category
    assigned_to: int | None
    created_at: UTCDateTime
    updated_at: UTCDateTime
    resolved_at: UTCDateTime | None
    message_count: int
    #: Admin messages the owner has not read.
    unread_count: int
    #: In the owner's search results only: the snippet of their own text that matched.
    highlight: str | None = None
    #: The owner's ticket this one was merged into; its id and number lead there (spec §12).
    merged_into: int | None = None


class CustomerMessage(_Customer):
    """A message of the owner's ticket."""

    id: int
    ticket_id: int
    sender_id: int
    sender_type: SenderType
    message: str
    message_type: MessageType
    file_url: str | None
    is_read: bool
    created_at: UTCDateTime
    #: An automatic answer (the bot, an auto-reply): the app may show it differently.
    automated: bool = False


class CustomerRating(_Customer):
    """The owner's own satisfaction rating of one resolution of their ticket."""

    ticket_id: int
    cycle: int
    score: int
    comment: str | None
    created_at: UTCDateTime


class CustomerTicketThread(CustomerTicket):
    """The owner's ticket with its conversation, oldest message first."""

    messages: list[CustomerMessage]
    #: Whether the ticket has messages older than the first of ``messages`` (ask with ``before_id``).
    has_more_before: bool = False
    #: The owner's latest rating of the ticket, ``None`` if they never rated it.
    rating: CustomerRating | None = None


class CustomerEvent(_Customer):
    """The ``data:`` of a frame on a user's live stream."""

    event_id: int
    #: One of the types the owner may see (:func:`supportchat.event_types.owner_event_types`).
    type: str
    ticket_id: int
    created_at: UTCDateTime
    ticket: CustomerTicket | None
    message: CustomerMessage | None = None


_TICKET_FIELDS = tuple(CustomerTicket.model_fields)
_MESSAGE_FIELDS = tuple(CustomerMessage.model_fields)
_RATING_FIELDS = tuple(CustomerRating.model_fields)


def _owner(viewer: Actor) -> int:
    if viewer.kind is not ActorKind.USER or viewer.id is None:
        raise ValueError("the customer projection is for a user (Actor.user)")
    return viewer.id


def _ticket_fields(ticket: Ticket, viewer: Actor) -> dict[str, Any]:
    if ticket.user_id != _owner(viewer):
        raise NotCustomerData("no such ticket")
    seen = ticket.seen_by(viewer)
    return {name: getattr(seen, name) for name in _TICKET_FIELDS}


def customer_message(message: Message, ticket: Ticket, viewer: Actor) -> CustomerMessage:
    """``message`` of ``ticket`` as ``viewer`` (its owner) sees it."""
    _ticket_fields(ticket, viewer)
    if message.ticket_id != ticket.id:
        raise NotCustomerData("no such ticket")
    return CustomerMessage.model_construct(**{name: getattr(message, name) for name in _MESSAGE_FIELDS})


def customer_messages(messages: Iterable[Message], ticket: Ticket, viewer: Actor) -> list[CustomerMessage]:
    """Messages of ``ticket`` as its owner sees them; messages of any other ticket are left out."""
    _ticket_fields(ticket, viewer)
    return [
        CustomerMessage.model_construct(**{name: getattr(m, name) for name in _MESSAGE_FIELDS})
        for m in messages
        if m.ticket_id == ticket.id
    ]


def customer_rating(rating: Rating, ticket: Ticket, viewer: Actor) -> CustomerRating:
    """``rating`` of ``ticket`` as ``viewer`` (its owner) sees it: without the agent it is attributed to."""
    _ticket_fields(ticket, viewer)
    if rating.ticket_id != ticket.id:
        raise NotCustomerData("no such ticket")
    return CustomerRating.model_construct(**{name: getattr(rating, name) for name in _RATING_FIELDS})


def customer_view(ticket: Ticket, viewer: Actor) -> CustomerTicket | CustomerTicketThread:
    """The ticket (with its messages, for a :class:`TicketThread`) as ``viewer``, its owner, sees it.

    Raises :class:`NotCustomerData` (a 404) for someone else's ticket.
    """
    fields = _ticket_fields(ticket, viewer)
    if isinstance(ticket, TicketThread):
        return CustomerTicketThread.model_construct(
            **fields,
            messages=customer_messages(ticket.messages, ticket, viewer),
            has_more_before=ticket.has_more_before,
            rating=None if ticket.rating is None else customer_rating(ticket.rating, ticket, viewer),
        )
    return CustomerTicket.model_construct(**fields)


def customer_thread(thread: TicketThread, viewer: Actor) -> CustomerTicketThread:
    """:func:`customer_view` of a ticket with its messages."""
    view = customer_view(thread, viewer)
    assert isinstance(view, CustomerTicketThread)
    return view


def customer_ticket(ticket: Ticket, viewer: Actor) -> CustomerTicket:
    """:func:`customer_view` of a ticket without its messages (a thread's are dropped)."""
    return CustomerTicket.model_construct(**_ticket_fields(ticket, viewer))


def customer_page(page: Page[Ticket], viewer: Actor) -> Page[CustomerTicket]:
    """A page of the owner's tickets; any ticket of someone else in it raises :class:`NotCustomerData`."""
    return Page[CustomerTicket](
        items=[customer_ticket(t, viewer) for t in page.items], page=page.page, per_page=page.per_page, total=page.total
    )


def owner_may_see(record: EventRecord) -> bool:
    """Whether the owner of ``record``'s ticket may receive it at all (:func:`supportchat.event_types.owner_may_see`).

    Live streams (the shared fan-out and a stream's own catch-up read alike)
    and user-facing webhooks decide through :func:`customer_event`, which asks this first.
    """
    return owner_may_see_type(record.type)


def customer_event(
    record: EventRecord, ticket: Ticket | None, message: Message | None, viewer: Actor
) -> CustomerEvent | None:
    """A live event as ``viewer`` may see it, or ``None`` for an event not about their ticket or admin-only.

    ``ticket`` is the ticket as it now is (``None`` if it is gone), ``message``
    the message a ``message_created`` event announces (left out if it is not
    that ticket's).
    """
    owner = _owner(viewer)
    if not owner_may_see(record) or record.user_id != owner:
        return None
    if ticket is not None and (ticket.user_id != owner or ticket.id != record.ticket_id):
        return None
    return CustomerEvent(
        event_id=record.id,
        type=record.type,
        ticket_id=record.ticket_id,
        created_at=record.created_at,
        ticket=None if ticket is None else customer_ticket(ticket, viewer),
        message=None
        if message is None or ticket is None or message.ticket_id != ticket.id
        else customer_message(message, ticket, viewer),
    )
