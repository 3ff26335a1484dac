"""Domain models: what a ticket, a message, a change and the statistics are.

The models are plain data (pydantic v2, frozen). Stores build them, the desk
returns them, adapters serialise them straight to JSON bytes. Timestamps are
timezone-aware UTC and serialise as ISO 8601 with a ``Z`` suffix.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

__all__ = [
    "Actor",
    "ActorKind",
    "Category",
    "EventRecord",
    "EventType",
    "Message",
    "MessageType",
    "NewMessage",
    "NewNote",
    "NewTicket",
    "NewTicketChange",
    "Note",
    "Page",
    "Priority",
    "Rating",
    "SenderType",
    "Statistics",
    "ThreadRecord",
    "Ticket",
    "TicketChange",
    "TicketQuery",
    "TicketStatus",
    "TicketThread",
    "event_type_of",
    "utc_iso",
]


class TicketStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    URGENT = "urgent"


class Category(enum.StrEnum):
    GENERAL = "general"
    TECHNICAL = "technical"
    BILLING = "billing"
    FLIGHT = "flight"
    ORDER = "order"


class SenderType(enum.StrEnum):
    USER = "user"
    ADMIN = "admin"


class MessageType(enum.StrEnum):
    TEXT = "text"
    IMAGE = "image"
    FILE = "file"


class ActorKind(enum.StrEnum):
    USER = "user"
    ADMIN = "admin"
    #: The desk itself acting on a schedule (auto-close) or an operator's script.
    SYSTEM = "system"


class EventType(enum.StrEnum):
    TICKET_CREATED = "ticket_created"
    MESSAGE_CREATED = "message_created"
    TICKET_UPDATED = "ticket_updated"
    #: An internal note was added (spec §12): on the admin stream only.
    NOTE_CREATED = "note_created"
    #: A ticket's tags changed (spec §12): on the admin stream only.
    TAGS_CHANGED = "tags_changed"


_CORE_EVENT_TYPES = {member.value: member for member in EventType}


def event_type_of(name: str) -> str:
    """An event-log type as the library handles it: the core's as :class:`EventType` members, a feature's as text.

    So ``record.type is EventType.MESSAGE_CREATED`` holds for a core entry
    whichever store read it. Who may see which type is decided in one place,
    :func:`supportchat.event_types.owner_may_see`.
    """
    return _CORE_EVENT_TYPES.get(name, name)


def utc_iso(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` suffix, the only form the API emits."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat() + "Z"


def _as_utc(value: datetime) -> datetime:
    """Naive values are taken to be UTC already; aware ones are converted to UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value if value.tzinfo is UTC else value.astimezone(UTC)


#: Normalised to aware UTC on validation, so that pydantic's own serialiser
#: writes it with a ``Z`` suffix: about three times faster than a Python
#: serialiser called for every timestamp of every response.
UTCDateTime = Annotated[datetime, AfterValidator(_as_utc)]
#: An event type's name; the core's become :class:`EventType` members (:func:`event_type_of`).
EventTypeName = Annotated[str, AfterValidator(event_type_of)]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is calling the desk. Adapters build it from the authenticated identity."""

    kind: ActorKind
    id: int | None = None

    @classmethod
    def user(cls, user_id: int) -> Actor:
        return cls(ActorKind.USER, user_id)

    @classmethod
    def admin(cls, admin_id: int) -> Actor:
        return cls(ActorKind.ADMIN, admin_id)

    @classmethod
    def system(cls) -> Actor:
        return cls(ActorKind.SYSTEM, None)

    @property
    def is_staff(self) -> bool:
        """Admins and the system see and manage every ticket."""
        return self.kind is not ActorKind.USER


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Ticket(_Frozen):
    """A support ticket: every column of the seed's ``support_tickets`` plus counts."""

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
    message_count: int = 0
    #: Unread messages from the viewer's side: user messages for an admin,
    #: admin messages for the ticket's owner. Set by the desk per caller.
    unread_count: int = 0
    #: User messages no admin has read yet.
    unread_from_user: int = Field(default=0, exclude=True)
    #: Admin messages the owner has not read yet.
    unread_from_admin: int = Field(default=0, exclude=True)
    #: Bumped by every write to the ticket; the optimistic-concurrency check.
    version: int = Field(default=0, exclude=True)
    #: The ticket's tags (spec §12), sorted; filled in for staff only (never part of the
    #: customer projection), empty in the other views.
    tags: tuple[str, ...] = ()
    #: The ticket this one was merged into (spec §12); every lookup of this one reaches that one.
    merged_into: int | None = None
    #: In search results only (``q``): a snippet of the best-matching text
    #: with each matched word between ``\x02`` and ``\x03`` (see
    #: :mod:`supportchat.search`); ``None`` elsewhere.
    highlight: str | None = None

    def seen_by(self, actor: Actor) -> Ticket:
        """This ticket with ``unread_count`` computed from ``actor``'s side."""
        unread = self.unread_from_user if actor.is_staff else self.unread_from_admin
        if unread == self.unread_count:
            return self
        return self.model_copy(update={"unread_count": unread})


class Message(_Frozen):
    """A message in a ticket's conversation (the seed's ``support_messages``)."""

    id: int
    ticket_id: int
    sender_id: int
    sender_type: SenderType
    message: str
    message_type: MessageType
    file_url: str | None
    #: Read by the recipient: an admin for user messages, the owner for admin ones.
    is_read: bool
    created_at: UTCDateTime
    #: Unique id that makes a retried send idempotent.
    uid: str | None = None
    #: Written by the desk's automation (the bot, an auto-reply), not by a person; never a first response.
    automated: bool = False


class Rating(_Frozen):
    """A satisfaction rating (CSAT, spec §12): one per ticket and resolution cycle.

    It has no id of its own: ``(ticket_id, cycle)`` is its identity, which
    the store keeps unique.
    """

    ticket_id: int
    #: 1 for the first resolution, one more after each reopening (see ``SupportDesk.rate``).
    cycle: int
    score: int
    comment: str | None
    #: The owner who rated.
    user_id: int
    #: Who was assigned when the ticket was rated, so that reports can attribute the rating.
    agent_id: int | None
    created_at: UTCDateTime


class Note(_Frozen):
    """An internal note on a ticket (spec §12): written by staff, read by staff, never by its owner.

    A record of its own, not a kind of message, so that no query of the
    conversation can return one by forgetting a flag.
    """

    id: int
    ticket_id: int
    #: The admin who wrote it; ``None`` for the system (a rule, a script).
    author_id: int | None
    author_kind: ActorKind
    note: str
    created_at: UTCDateTime
    #: Unique id of the write, so that a replayed one is recognised (never shown: staff need no such id).
    uid: str | None = Field(default=None, exclude=True)


class TicketThread(Ticket):
    """A ticket with one page of its conversation: the newest messages (before a point), oldest first."""

    messages: list[Message]
    #: Whether the ticket has messages older than the first of ``messages`` (ask with ``before_id``).
    has_more_before: bool = False
    #: The ticket's internal notes, oldest first: for staff only (the customer projection has no such field).
    notes: list[Note] = Field(default_factory=list)
    #: The latest satisfaction rating (spec §12), ``None`` if never rated.
    rating: Rating | None = None
    #: Every rating, one per resolution cycle, oldest first (staff see them; the owner sees ``rating``).
    ratings: list[Rating] = Field(default_factory=list)


class TicketChange(_Frozen):
    """One recorded change of status, assignment or priority."""

    id: int
    ticket_id: int
    field: str
    old_value: str | None
    new_value: str | None
    changed_by_kind: ActorKind
    changed_by: int | None
    changed_at: UTCDateTime


#: Counted from the viewer's side, so meaningless outside one viewer's answer.
_VIEWER_FIELDS = {"ticket": {"unread_count", "highlight"}}


class ThreadRecord(_Frozen):
    """A ticket with everything needed to rebuild it elsewhere: one line of an export.

    What the store capabilities for export and bulk loading
    (:class:`~supportchat.store.ThreadExport`, :class:`~supportchat.store.BulkLoad`)
    exchange. Counters (``message_count`` and the unread counts) are not
    trusted on import: the target store recomputes them from the messages.
    """

    ticket: Ticket
    messages: list[Message]
    changes: list[TicketChange]

    def to_json(self) -> str:
        """The record as one line of JSON (no newline)."""
        return self.model_dump_json(exclude=_VIEWER_FIELDS)

    @classmethod
    def from_json(cls, line: str | bytes) -> ThreadRecord:
        """Parse one line; raises :class:`pydantic.ValidationError` on a malformed one."""
        return cls.model_validate_json(line)


class Statistics(_Frozen):
    """Counts over every ticket (spec §6). Every key is present, even at 0."""

    total_tickets: int
    by_status: dict[str, int]
    by_priority: dict[str, int]
    by_category: dict[str, int]
    #: User messages that no admin has read.
    unread_messages: int
    #: Tickets carrying each tag (only tags some ticket carries), by tag.
    by_tag: dict[str, int] = Field(default_factory=dict)

    @classmethod
    def from_counts(
        cls,
        *,
        by_status: Mapping[str, int],
        by_priority: Mapping[str, int],
        by_category: Mapping[str, int],
        unread_messages: int,
        by_tag: Mapping[str, int] | None = None,
    ) -> Statistics:
        """Fill in every enumerated key; ``total_tickets`` is the sum by status; tags counted 0 are left out."""
        status = {s.value: int(by_status.get(s.value, 0)) for s in TicketStatus}
        return cls(
            total_tickets=sum(status.values()),
            by_status=status,
            by_priority={p.value: int(by_priority.get(p.value, 0)) for p in Priority},
            by_category={c.value: int(by_category.get(c.value, 0)) for c in Category},
            unread_messages=int(unread_messages),
            by_tag={tag: int(n) for tag, n in sorted((by_tag or {}).items()) if int(n) > 0},
        )


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of results and where it stands in the whole."""

    model_config = ConfigDict(frozen=True)

    items: list[T]
    page: int
    per_page: int
    total: int


class TicketQuery(_Frozen):
    """Filters and window for listing tickets; already validated by the desk."""

    status: TicketStatus | None = None
    priority: Priority | None = None
    category: Category | None = None
    assigned_to: int | None = None
    #: Only tickets with nobody assigned (``assigned_to`` is ignored then).
    unassigned: bool = False
    user_id: int | None = None
    #: Only tickets carrying this tag (already normalised, :func:`supportchat.rules.parse_tag`).
    tag: str | None = None
    #: A full-text search (spec §13, :mod:`supportchat.search`): results by relevance.
    q: str | None = None
    #: The search is staff's: staff-only sources (internal notes) are searched too.
    for_staff: bool = False
    page: int = 1
    per_page: int = 20

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


class NewTicket(_Frozen):
    """A ticket the desk has validated and wants stored.

    ``id`` is normally left to the store; a store replaying another store's
    writes passes it so that ids given to clients stay valid.
    """

    ticket_number: str
    user_id: int
    subject: str
    description: str
    priority: Priority
    status: TicketStatus = TicketStatus.OPEN
    category: Category
    assigned_to: int | None = None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None = None
    id: int | None = None


class NewMessage(_Frozen):
    """A message the desk has validated and wants stored."""

    ticket_id: int
    sender_id: int
    sender_type: SenderType
    message: str
    message_type: MessageType
    file_url: str | None
    is_read: bool = False
    created_at: datetime
    uid: str
    id: int | None = None
    automated: bool = False


class NewNote(_Frozen):
    """A note the desk has validated and wants stored (``id`` set only by a replaying store)."""

    ticket_id: int
    author_id: int | None
    author_kind: ActorKind
    note: str
    created_at: datetime
    uid: str
    id: int | None = None


class NewTicketChange(_Frozen):
    """A change record to store beside the update it describes."""

    field: str
    old_value: str | None
    new_value: str | None
    changed_by_kind: ActorKind
    changed_by: int | None
    changed_at: datetime


class EventRecord(_Frozen):
    """An entry of the persisted event log, the source of live streams."""

    id: int
    #: A core :class:`EventType` or a type a feature declared (:mod:`supportchat.event_types`).
    type: EventTypeName
    ticket_id: int
    #: Owner of the ticket, so that a user's stream can be filtered cheaply.
    user_id: int
    message_id: int | None
    created_at: UTCDateTime
    #: The note a ``note_created`` entry announces.
    note_id: int | None = None
    #: What a feature's entry says (``ticket_transferred``: from, to, team, reason): staff's only,
    #: never part of the customer projection. ``None`` for the core's entries.
    data: dict[str, Any] | None = None
