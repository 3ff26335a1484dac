"""A thread-safe store in process memory, for tests and experiments."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from .. import search as search_rules
from ..errors import (
    ConcurrentUpdate,
    DuplicateMessage,
    DuplicateRating,
    NoteIdTaken,
    TicketIdTaken,
    TicketNotFound,
    TicketNumberTaken,
)
from ..event_types import check_event_type, owner_event_types
from ..extensions import register_extension
from ..models import (
    EventRecord,
    EventType,
    Message,
    NewMessage,
    NewNote,
    NewTicket,
    NewTicketChange,
    Note,
    Rating,
    SenderType,
    Statistics,
    Ticket,
    TicketChange,
    TicketQuery,
    TicketStatus,
)
from ..search import highlight, marked_number, matches, parse_search, rank_key, relevance
from ..store import EventLog, TicketChanges, TicketMerge, note_change

__all__ = ["InMemoryStore"]


class InMemoryStore:
    """Keeps everything in dictionaries behind one lock. Nothing survives the process."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._tickets: dict[int, Ticket] = {}
        self._by_number: dict[str, int] = {}
        self._messages: dict[int, list[Message]] = {}
        self._by_uid: dict[str, Message] = {}
        self._changes: dict[int, list[TicketChange]] = {}
        self._events: list[EventRecord] = []
        self._notes: dict[int, list[Note]] = {}
        self._note_ids: set[int] = set()
        self._note_uids: set[str] = set()
        self._tags: dict[int, tuple[str, ...]] = {}
        self._ratings: dict[int, list[Rating]] = {}
        self._next_ticket_id = 1
        self._next_message_id = 1
        self._next_change_id = 1
        self._next_note_id = 1

    # -- tickets ---------------------------------------------------------

    def insert_ticket(self, ticket: NewTicket) -> Ticket:
        with self._lock:
            if ticket.ticket_number in self._by_number:
                raise TicketNumberTaken(f"ticket number {ticket.ticket_number} is taken")
            ticket_id = ticket.id if ticket.id is not None else self._next_ticket_id
            if ticket_id in self._tickets:
                raise TicketIdTaken(f"ticket id {ticket_id} is taken")
            self._next_ticket_id = max(self._next_ticket_id, ticket_id + 1)
            stored = Ticket(**ticket.model_dump(exclude={"id"}), id=ticket_id)
            self._tickets[ticket_id] = stored
            self._by_number[stored.ticket_number] = ticket_id
            self._messages[ticket_id] = []
            self._changes[ticket_id] = []
            self._append_event(EventType.TICKET_CREATED, stored, None, stored.created_at)
            return stored

    def get_ticket(self, ticket_id: int) -> Ticket | None:
        with self._lock:
            return self._tickets.get(ticket_id)

    def get_ticket_by_number(self, ticket_number: str) -> Ticket | None:
        with self._lock:
            ticket_id = self._by_number.get(ticket_number)
            return None if ticket_id is None else self._tickets[ticket_id]

    def list_tickets(self, query: TicketQuery) -> tuple[list[Ticket], int]:
        with self._lock:
            matches = [
                t
                for t in self._tickets.values()
                if _matches(t, query) and (query.tag is None or query.tag in self._tags.get(t.id, ()))
            ]
            if query.q:
                return self._search(matches, query)
        matches.sort(key=lambda t: t.id, reverse=True)
        return matches[query.offset : query.offset + query.per_page], len(matches)

    def _search(self, candidates: list[Ticket], query: TicketQuery) -> tuple[list[Ticket], int]:
        """The reference search of :mod:`supportchat.search`, by scanning (this store is for tests)."""
        search = parse_search(query.q or "")
        found: list[tuple[tuple[int, ...], Ticket, str | None]] = []
        text_matches = 0
        for ticket in sorted(candidates, key=lambda t: t.id, reverse=True):
            sources = [f"{ticket.subject} {ticket.description}", *(m.message for m in self._messages[ticket.id])]
            if query.for_staff:
                sources.extend(n.note for n in self._notes.get(ticket.id, []))
            exact = ticket.ticket_number in search.numbers
            if search.terms and matches(sources, search.terms):
                recent = text_matches < search_rules.SEARCH_LIMIT
                text_matches += 1
                key = rank_key(ticket.id, exact=exact, relevance=relevance(sources, search.terms), recent=recent)
                found.append((key, ticket, highlight(sources, search.terms)))
            elif exact:
                key = rank_key(ticket.id, exact=True, relevance=0, recent=False)
                found.append((key, ticket, marked_number(ticket.ticket_number)))
        found.sort(key=lambda hit: hit[0])
        page = found[query.offset : query.offset + query.per_page]
        return [ticket.model_copy(update={"highlight": snippet}) for _key, ticket, snippet in page], len(found)

    def update_ticket(
        self,
        ticket_id: int,
        *,
        expected_version: int,
        changes: TicketChanges,
        history: Sequence[NewTicketChange] = (),
    ) -> Ticket:
        with self._lock:
            updated = self._apply(ticket_id, expected_version, changes, history)
            self._append_event(EventType.TICKET_UPDATED, updated, None, updated.updated_at)
            return updated

    # -- messages --------------------------------------------------------

    def insert_message(
        self,
        message: NewMessage,
        *,
        expected_version: int,
        changes: TicketChanges,
        history: Sequence[NewTicketChange] = (),
    ) -> Message:
        with self._lock:
            if message.uid in self._by_uid:
                raise DuplicateMessage(message.uid)
            current = self._ticket_at(message.ticket_id, expected_version)
            message_id = message.id if message.id is not None else self._next_message_id
            self._next_message_id = max(self._next_message_id, message_id + 1)
            stored = Message(**message.model_dump(exclude={"id"}), id=message_id)
            counts = {"message_count": current.message_count + 1}
            if not stored.is_read:
                side = "unread_from_user" if stored.sender_type is SenderType.USER else "unread_from_admin"
                counts[side] = getattr(current, side) + 1
            self._tickets[current.id] = current.model_copy(update=counts)
            ticket = self._apply(current.id, expected_version, changes, history)
            self._messages[ticket.id].append(stored)
            self._by_uid[stored.uid or ""] = stored
            self._append_event(EventType.MESSAGE_CREATED, ticket, stored.id, stored.created_at)
            return stored

    def get_message_by_uid(self, uid: str) -> Message | None:
        with self._lock:
            return self._by_uid.get(uid)

    def list_messages(
        self,
        ticket_id: int,
        *,
        after_id: int = 0,
        before_id: int | None = None,
        limit: int | None = None,
        newest: bool = False,
    ) -> list[Message]:
        with self._lock:
            found = [
                m
                for m in self._messages.get(ticket_id, [])
                if m.id > after_id and (before_id is None or m.id < before_id)
            ]
        if limit is None:
            return found
        return found[max(0, len(found) - limit) :] if newest else found[:limit]

    def mark_read(self, ticket_id: int, sender_type: SenderType) -> int:
        with self._lock:
            messages = self._messages.get(ticket_id, [])
            marked = 0
            for index, message in enumerate(messages):
                if message.sender_type is sender_type and not message.is_read:
                    messages[index] = read = message.model_copy(update={"is_read": True})
                    self._by_uid[read.uid or ""] = read
                    marked += 1
            if marked:
                side = "unread_from_user" if sender_type is SenderType.USER else "unread_from_admin"
                self._tickets[ticket_id] = self._tickets[ticket_id].model_copy(update={side: 0})
            return marked

    # -- ratings and merges ------------------------------------------------

    def insert_rating(
        self,
        rating: Rating,
        *,
        expected_version: int,
        changes: TicketChanges,
        history: Sequence[NewTicketChange] = (),
    ) -> Rating:
        with self._lock:
            held = self._ratings.setdefault(rating.ticket_id, [])
            if any(r.cycle == rating.cycle for r in held):
                raise DuplicateRating(rating.ticket_id, rating.cycle)
            updated = self._apply(rating.ticket_id, expected_version, changes, history)
            held.append(rating)
            held.sort(key=lambda r: r.cycle)
            self._append_event(EventType.TICKET_UPDATED, updated, None, updated.updated_at)
            return rating

    def list_ratings(self, ticket_id: int) -> list[Rating]:
        with self._lock:
            return list(self._ratings.get(ticket_id, []))

    def merge_tickets(self, merge: TicketMerge) -> Ticket:
        source_id, target_id = merge.source_id, merge.target_id
        with self._lock:
            source = self._ticket_at(source_id, merge.source_version)
            target = self._ticket_at(target_id, merge.target_version)
            moved = [m.model_copy(update={"ticket_id": target_id}) for m in self._messages[source_id]]
            for message in moved:
                self._by_uid[message.uid or ""] = message
            self._messages[target_id] = sorted([*self._messages[target_id], *moved], key=lambda m: m.id)
            self._messages[source_id] = []
            counters = ("message_count", "unread_from_user", "unread_from_admin")
            self._tickets[target_id] = target.model_copy(
                update={name: getattr(target, name) + getattr(source, name) for name in counters}
            )
            self._tickets[source_id] = source.model_copy(
                update={"merged_into": target_id, **dict.fromkeys(counters, 0)}
            )
            closed = self._apply(source_id, merge.source_version, merge.source_changes, merge.source_history)
            merged = self._apply(target_id, merge.target_version, merge.target_changes, merge.target_history)
            self._append_event(EventType.TICKET_UPDATED, closed, None, closed.updated_at)
            self._append_event(EventType.TICKET_UPDATED, merged, None, merged.updated_at)
            return merged

    # -- history, statistics, events ---------------------------------------

    def list_changes(self, ticket_id: int) -> list[TicketChange]:
        with self._lock:
            return list(self._changes.get(ticket_id, []))

    # -- notes and tags ----------------------------------------------------

    def insert_note(self, note: NewNote) -> Note:
        with self._lock:
            ticket = self._tickets.get(note.ticket_id)
            if ticket is None:
                raise TicketNotFound(f"no ticket {note.ticket_id}")
            note_id = note.id if note.id is not None else self._next_note_id
            if note_id in self._note_ids or note.uid in self._note_uids:
                raise NoteIdTaken(f"note id {note_id} or uid {note.uid} is taken")
            self._note_ids.add(note_id)
            self._note_uids.add(note.uid)
            self._next_note_id = max(self._next_note_id, note_id + 1)
            stored = Note(**note.model_dump(exclude={"id"}), id=note_id)
            self._notes.setdefault(ticket.id, []).append(stored)
            self._notes[ticket.id].sort(key=lambda n: n.id)
            self._record(ticket.id, [note_change(stored)])
            self._append_event(EventType.NOTE_CREATED, ticket, None, stored.created_at, note_id=stored.id)
            return stored

    def list_notes(self, ticket_id: int, *, after_id: int = 0, limit: int | None = None) -> list[Note]:
        with self._lock:
            found = [n for n in self._notes.get(ticket_id, []) if n.id > after_id]
        return found if limit is None else found[:limit]

    def ticket_tags(self, ticket_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
        with self._lock:
            return {i: self._tags[i] for i in ticket_ids if self._tags.get(i)}

    def replace_tags(
        self,
        ticket_id: int,
        *,
        expected: tuple[str, ...],
        tags: tuple[str, ...],
        history: Sequence[NewTicketChange] = (),
    ) -> tuple[str, ...]:
        with self._lock:
            ticket = self._tickets.get(ticket_id)
            if ticket is None:
                raise TicketNotFound(f"no ticket {ticket_id}")
            if self._tags.get(ticket_id, ()) != tuple(sorted(expected)):
                raise ConcurrentUpdate(f"the tags of ticket {ticket_id} changed meanwhile")
            stored = tuple(sorted(set(tags)))
            self._tags[ticket_id] = stored
            self._record(ticket_id, history)
            at = history[0].changed_at if history else ticket.updated_at
            self._append_event(EventType.TAGS_CHANGED, ticket, None, at)
            return stored

    def statistics(self) -> Statistics:
        with self._lock:
            tickets = list(self._tickets.values())
            tagged = Counter(tag for tags in self._tags.values() for tag in tags)
        return Statistics.from_counts(
            by_status=Counter(t.status.value for t in tickets),
            by_priority=Counter(t.priority.value for t in tickets),
            by_category=Counter(t.category.value for t in tickets),
            unread_messages=sum(t.unread_from_user for t in tickets),
            by_tag=tagged,
        )

    def resolved_before(self, cutoff: datetime, *, limit: int) -> list[Ticket]:
        with self._lock:
            due = [
                t
                for t in self._tickets.values()
                if t.status is TicketStatus.RESOLVED and t.resolved_at is not None and t.resolved_at < cutoff
            ]
        due.sort(key=lambda t: (t.resolved_at, t.id))
        return due[:limit]

    def events_after(self, after_id: int, *, user_id: int | None = None, limit: int = 100) -> list[EventRecord]:
        with self._lock:
            # Event ids are 1..n in list order, so the start is an index.
            newer = self._events[max(after_id, 0) :]
        if user_id is not None:
            shown = owner_event_types()
            newer = [e for e in newer if e.user_id == user_id and e.type in shown]
        return newer[:limit]

    def append_event(self, ticket_id: int, type: str, *, at: datetime, data: Mapping[str, Any] | None = None) -> None:
        """A feature's entry (the :class:`~supportchat.store.EventLog` extension); the name's format is checked
        as the SQL stores' constraint does."""
        check_event_type(type)
        with self._lock:
            ticket = self._tickets.get(ticket_id)
            if ticket is None:
                raise TicketNotFound(f"no ticket {ticket_id}")
            self._append_event(type, ticket, None, at, data=None if data is None else dict(data))

    def last_event_id(self) -> int:
        """The newest event-log id, 0 for an empty log (where a live stream starts)."""
        with self._lock:
            return len(self._events)

    def close(self) -> None:
        """Nothing to release."""

    # -- internals -------------------------------------------------------

    def _ticket_at(self, ticket_id: int, expected_version: int) -> Ticket:
        current = self._tickets.get(ticket_id)
        if current is None:
            raise TicketNotFound(f"no ticket {ticket_id}")
        if current.version != expected_version:
            raise ConcurrentUpdate(f"ticket {ticket_id} changed meanwhile")
        return current

    def _apply(
        self, ticket_id: int, expected_version: int, changes: TicketChanges, history: Sequence[NewTicketChange]
    ) -> Ticket:
        current = self._ticket_at(ticket_id, expected_version)
        updated = current.model_copy(update={**changes, "version": current.version + 1})
        self._tickets[ticket_id] = updated
        self._record(ticket_id, history)
        return updated

    def _record(self, ticket_id: int, history: Sequence[NewTicketChange]) -> None:
        for change in history:
            record = TicketChange(**change.model_dump(), id=self._next_change_id, ticket_id=ticket_id)
            self._next_change_id += 1
            self._changes[ticket_id].append(record)

    def _append_event(
        self,
        kind: str,
        ticket: Ticket,
        message_id: int | None,
        at: datetime,
        *,
        note_id: int | None = None,
        data: dict[str, Any] | None = None,
    ) -> EventRecord:
        record = EventRecord(
            id=len(self._events) + 1,
            type=kind,
            ticket_id=ticket.id,
            user_id=ticket.user_id,
            message_id=message_id,
            created_at=at,
            note_id=note_id,
            data=data,
        )
        self._events.append(record)
        return record


def _matches(ticket: Ticket, query: TicketQuery) -> bool:
    if query.status is not None and ticket.status is not query.status:
        return False
    if query.priority is not None and ticket.priority is not query.priority:
        return False
    if query.category is not None and ticket.category is not query.category:
        return False
    if query.unassigned and ticket.assigned_to is not None:
        return False
    if not query.unassigned and query.assigned_to is not None and ticket.assigned_to != query.assigned_to:
        return False
    return query.user_id is None or ticket.user_id == query.user_id


register_extension(EventLog, InMemoryStore, lambda store: store)  # type: ignore[type-abstract]
