"""The :class:`Store` protocol: everything the desk asks of storage.

This module is part of the core: it imports no backend, so the desk (and
anything else written against the protocol) loads no store package. The
backends live in :mod:`supportchat.stores`.

A store is a dumb, atomic keeper of rows. It enforces uniqueness (ticket
numbers, message uids) and the optimistic-concurrency check, keeps the
per-ticket counters and the event log consistent with the rows, and computes
statistics. It decides nothing about the lifecycle, permissions or input: the
:class:`~supportchat.desk.SupportDesk` has done all of that before it calls.

Every method is synchronous and thread-safe. A failure of the storage itself
(unreachable, timed out) is raised as
:class:`~supportchat.errors.StorageUnavailable` with nothing written; driver
exceptions never escape a store.

Every successful write appends exactly one entry to the event log in the same
transaction: :meth:`Store.insert_ticket` a ``ticket_created``,
:meth:`Store.insert_message` a ``message_created`` and
:meth:`Store.update_ticket` and :meth:`Store.insert_rating` a ``ticket_updated``,
:meth:`Store.merge_tickets` a ``ticket_updated`` for each of its two tickets, :meth:`Store.insert_note` a
``note_created`` and :meth:`Store.replace_tags` a ``tags_changed``. :meth:`Store.mark_read` appends
nothing. A feature's entries (``ticket_transferred``, ``sla_breached``, …) are appended through
the :class:`EventLog` extension. A user's :meth:`Store.events_after` returns only the types
:func:`~supportchat.event_types.owner_may_see` lets through (the core's last two, and every
feature type not declared for the owner, are staff's).

Internal notes and tags (spec §12) are rows of their own, never columns or
flags of the ticket and its messages, so nothing that reads a conversation
for its owner can return them by forgetting a condition.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypedDict, runtime_checkable

from .models import (
    EventRecord,
    EventType,
    Message,
    NewMessage,
    NewNote,
    NewTicket,
    NewTicketChange,
    Note,
    Priority,
    Rating,
    SenderType,
    Statistics,
    ThreadRecord,
    Ticket,
    TicketChange,
    TicketQuery,
    TicketStatus,
)

__all__ = [
    "BulkLoad",
    "EventLog",
    "Store",
    "ThreadExport",
    "TicketChanges",
    "TicketMerge",
    "announced_message",
    "announced_note",
    "note_change",
]


class TicketChanges(TypedDict, total=False):
    """Columns of a ticket to overwrite; absent keys stay as they are.

    ``None`` is a value here (for instance ``resolved_at=None`` clears it).
    """

    status: TicketStatus
    priority: Priority
    assigned_to: int | None
    resolved_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class TicketMerge:
    """One ticket merged into another, as the desk decided it (see :meth:`Store.merge_tickets`)."""

    source_id: int
    target_id: int
    #: The versions the desk read; the store refuses the merge if either moved on.
    source_version: int
    target_version: int
    source_changes: TicketChanges
    target_changes: TicketChanges
    source_history: tuple[NewTicketChange, ...] = ()
    target_history: tuple[NewTicketChange, ...] = ()


@runtime_checkable
class Store(Protocol):
    """Storage for tickets, messages, their change records and the event log."""

    def insert_ticket(self, ticket: NewTicket) -> Ticket:
        """Store a new ticket and return it with its id.

        Raises :class:`~supportchat.errors.TicketNumberTaken` if the number
        exists already (the desk then draws another). If ``ticket.id`` is set
        the row keeps that id, or :class:`~supportchat.errors.TicketIdTaken`
        is raised if another ticket holds it.
        """
        ...

    def get_ticket(self, ticket_id: int) -> Ticket | None:
        """The ticket with this id, or ``None``."""
        ...

    def get_ticket_by_number(self, ticket_number: str) -> Ticket | None:
        """The ticket with exactly this number, or ``None``."""
        ...

    def list_tickets(self, query: TicketQuery) -> tuple[list[Ticket], int]:
        """One page of the tickets matching ``query``, newest first, and the total match count."""
        ...

    def update_ticket(
        self,
        ticket_id: int,
        *,
        expected_version: int,
        changes: TicketChanges,
        history: Sequence[NewTicketChange] = (),
    ) -> Ticket:
        """Apply ``changes`` if the ticket's version is still ``expected_version``.

        Atomically: checks the version, writes the changes, bumps the version,
        stores the change records and appends a ``ticket_updated`` event.
        Raises :class:`~supportchat.errors.ConcurrentUpdate` if the version
        moved on and :class:`~supportchat.errors.TicketNotFound` if the ticket
        does not exist. Returns the ticket as it now is.
        """
        ...

    def insert_message(
        self,
        message: NewMessage,
        *,
        expected_version: int,
        changes: TicketChanges,
        history: Sequence[NewTicketChange] = (),
    ) -> Message:
        """Add a message to its ticket and apply ``changes`` to the ticket, atomically.

        The version check, the ticket's changes and its counters
        (``message_count`` and the unread count of the sender's side) behave
        as in :meth:`update_ticket`; the event appended is ``message_created``.
        Raises :class:`~supportchat.errors.DuplicateMessage` if a message with
        the same ``uid`` exists (nothing is written then).
        """
        ...

    def get_message_by_uid(self, uid: str) -> Message | None:
        """The message with this unique id, or ``None``."""
        ...

    def list_messages(
        self,
        ticket_id: int,
        *,
        after_id: int = 0,
        before_id: int | None = None,
        limit: int | None = None,
        newest: bool = False,
    ) -> list[Message]:
        """A ticket's messages with ``after_id < id < before_id``, oldest first.

        ``before_id=None`` sets no upper bound. At most ``limit`` messages:
        the oldest of the range, or with ``newest`` the newest of it (still
        returned oldest first), which is how a thread is paged backwards
        without reading the rest of it.
        """
        ...

    # -- ratings and merges (spec §12) -----------------------------------------

    def insert_rating(
        self,
        rating: Rating,
        *,
        expected_version: int,
        changes: TicketChanges,
        history: Sequence[NewTicketChange] = (),
    ) -> Rating:
        """Store a rating of its ticket and apply ``changes`` to the ticket, atomically.

        The version check and the change records behave as in
        :meth:`update_ticket`. Raises :class:`~supportchat.errors.DuplicateRating`
        if the ticket holds a rating for ``rating.cycle`` already (nothing is
        written then).
        """
        ...

    def list_ratings(self, ticket_id: int) -> list[Rating]:
        """The ticket's ratings, oldest cycle first."""
        ...

    def merge_tickets(self, merge: TicketMerge) -> Ticket:
        """Merge the source ticket into the target, atomically; returns the target as it now is.

        Checks both versions (:class:`~supportchat.errors.ConcurrentUpdate`),
        moves every message of the source to the target under its own id
        (so the target's thread, read in id order, has them in time order),
        moves the counters with them (``message_count``, both unread counts),
        sets the source's ``merged_into`` to the target, applies each ticket's
        changes and change records, and bumps both versions.
        """
        ...

    def mark_read(self, ticket_id: int, sender_type: SenderType) -> int:
        """Mark every unread message of ``sender_type`` in the ticket read; return how many."""
        ...

    def list_changes(self, ticket_id: int) -> list[TicketChange]:
        """The ticket's change records, oldest first."""
        ...

    def insert_note(self, note: NewNote) -> Note:
        """Store an internal note, its change record and a ``note_created`` entry, atomically.

        The change record is the note's own: field ``note``, ``new_value`` its
        id, by its author at its time (:func:`note_change`).
        The ticket is not otherwise touched (no version, no ``updated_at``: its
        owner must not see that anything happened). If ``note.id`` is set the
        row keeps it (a replay). Raises :class:`~supportchat.errors.TicketNotFound`
        for an unknown ticket.
        """
        ...

    def list_notes(self, ticket_id: int, *, after_id: int = 0, limit: int | None = None) -> list[Note]:
        """The ticket's notes with ``id > after_id``, oldest first, at most ``limit``."""
        ...

    def ticket_tags(self, ticket_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
        """The sorted tags of each of ``ticket_ids`` (a ticket without tags may be absent)."""
        ...

    def replace_tags(
        self,
        ticket_id: int,
        *,
        expected: tuple[str, ...],
        tags: tuple[str, ...],
        history: Sequence[NewTicketChange] = (),
    ) -> tuple[str, ...]:
        """Make the ticket's tags ``tags`` if they are still ``expected``; returns them sorted.

        Atomically: checks the current tags (the optimistic check of a tag
        change; the ticket's version is left alone), writes them, stores the
        change records and appends ``tags_changed``. Raises
        :class:`~supportchat.errors.ConcurrentUpdate` when the tags moved on
        and :class:`~supportchat.errors.TicketNotFound` for an unknown ticket.
        """
        ...

    def statistics(self) -> Statistics:
        """Counts over every ticket, computed by the storage (never by loading rows)."""
        ...

    def resolved_before(self, cutoff: datetime, *, limit: int) -> list[Ticket]:
        """Up to ``limit`` resolved tickets whose ``resolved_at`` is before ``cutoff``, oldest first."""
        ...

    def events_after(self, after_id: int, *, user_id: int | None = None, limit: int = 100) -> list[EventRecord]:
        """Event-log entries with ``id > after_id``, oldest first.

        With ``user_id``: only that user's tickets' entries, and only of the types
        their owner may see (:func:`~supportchat.event_types.owner_event_types`, a
        whitelist: never a staff or an undeclared type).
        """
        ...

    def last_event_id(self) -> int:
        """The newest event-log id, 0 for an empty log: where a new live stream starts.

        One cheap query (never a walk through the log).
        """
        ...

    def close(self) -> None:
        """Release connections; the store is not used afterwards."""
        ...


# -- optional capabilities, as store extensions (see supportchat.extensions) ----


class ThreadExport(Protocol):
    """A store extension: read every ticket with its conversation, fast, for an export.

    Without it, an export reads through the :class:`Store` protocol, page by
    page. ``extension(store, ThreadExport)`` gives a store's implementation
    (the SQL stores register one).
    """

    def thread_batches(self, batch_size: int) -> Iterator[list[ThreadRecord]]:
        """Every ticket, oldest first, ``batch_size`` at a time, each with its messages and changes."""
        ...


class BulkLoad(Protocol):
    """A store extension: write many new tickets at once, for an import.

    Without it, an import writes through the :class:`Store` protocol, a
    transaction per ticket and per message.
    """

    def ticket_numbers_present(self, numbers: Sequence[str]) -> set[str]:
        """Which of ``numbers`` the store holds already."""
        ...

    def insert_threads(self, threads: Sequence[ThreadRecord], *, keep_ids: bool) -> int:
        """Write ``threads`` (tickets the store lacks, text already clean) in one transaction.

        Counters, statistics and the event log end as if each row had been
        written through :class:`Store`: ``ticket_created`` and
        ``message_created`` for the rows, one ``ticket_updated`` per ticket
        with change records. ``keep_ids`` keeps the records' ticket and
        message ids. Returns how many messages were written. Raises a
        :class:`~supportchat.errors.StorageError` (nothing written) if any
        row clashes with what the store holds.
        """
        ...


class EventLog(Protocol):
    """A store extension: append a feature's entry to the event log (``extension(store, EventLog)``).

    The core's entries are written by the store with the change they
    announce; a feature's (a transfer, an SLA breach, the bot's handoff)
    through this. The desk's :meth:`~supportchat.desk.SupportDesk.record_event`
    checks the type first; a store only keeps the row.
    """

    def append_event(self, ticket_id: int, type: str, *, at: datetime, data: Mapping[str, Any] | None = None) -> None:
        """Append one entry about ``ticket_id`` (its owner read from the ticket), in one transaction.

        Returns nothing: on PostgreSQL an entry's id is drawn at commit (``0002``), so
        readers find it with :meth:`Store.events_after`. Raises
        :class:`~supportchat.errors.TicketNotFound` for an unknown ticket.
        """
        ...


def announced_message(store: Store, record: EventRecord) -> Message | None:
    """The message a ``message_created`` entry of the event log announces (``None`` for other events)."""
    if record.message_id is None or record.type is not EventType.MESSAGE_CREATED:
        return None
    found = store.list_messages(record.ticket_id, after_id=record.message_id - 1, limit=1)
    return found[0] if found and found[0].id == record.message_id else None


def announced_note(store: Store, record: EventRecord) -> Note | None:
    """The note a ``note_created`` entry announces (``None`` for other events): for staff's eyes only."""
    if record.note_id is None or record.type is not EventType.NOTE_CREATED:
        return None
    found = store.list_notes(record.ticket_id, after_id=record.note_id - 1, limit=1)
    return found[0] if found and found[0].id == record.note_id else None


def note_change(note: Note) -> NewTicketChange:
    """The record of changes' entry for a new note: it names the note, whose text stays in the note."""
    return NewTicketChange(
        field="note",
        old_value=None,
        new_value=str(note.id),
        changed_by_kind=note.author_kind,
        changed_by=note.author_id,
        changed_at=note.created_at,
    )
