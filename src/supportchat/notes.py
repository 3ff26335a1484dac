"""Internal notes and tags (spec §12): the desk's rules for staff's own annotations of a ticket.

:class:`NotesAndTags` is part of :class:`~supportchat.desk.SupportDesk`
(a base class, kept in its own module so each stays small enough to read):

- a **note** is text an admin writes on a ticket for other admins, sanitised
  like a message (:func:`~supportchat.rules.clean_text`), stored as a record
  of its own (never a message with a flag), announced as ``note_created``;
- **tags** label a ticket for staff; every way in normalises them with
  :func:`~supportchat.rules.parse_tag`; a ticket holds at most
  :data:`~supportchat.rules.MAX_TAGS`. A change is announced as
  ``tags_changed`` and checked optimistically against the tags it was
  decided on, so two admins tagging at once lose neither change.

Both are staff's (:attr:`~supportchat.permissions.Action.ANNOTATE`): the
customer projection has no field for them, a user's event stream never
loads their events (staff types: :func:`~supportchat.event_types.owner_may_see`), and neither
bumps the ticket's ``updated_at`` or version, so the owner cannot even tell
that something happened. Each change is in the record of changes: field
``note`` with the note's id (written by the store with the note, so the
text stays in one place), or ``tags`` with the old and new lists.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime

from .errors import ValidationError
from .events import Event, EventBus
from .models import Actor, EventType, NewNote, NewTicketChange, Note, Ticket
from .optimistic import retry_at_fresh_version
from .permissions import Action
from .rules import MAX_TAGS, Limits, clean_text, parse_tags
from .store import Store

__all__ = ["NotesAndTags"]

Tags = tuple[str, ...]


class NotesAndTags:
    """The notes and tags methods of :class:`~supportchat.desk.SupportDesk`."""

    store: Store
    limits: Limits
    _bus: EventBus
    _update_attempts: int

    # Provided by SupportDesk.
    def _visible(self, actor: Actor, ref: object, action: Action) -> Ticket:
        raise NotImplementedError

    def _now(self) -> datetime:
        raise NotImplementedError

    @staticmethod
    def _record(actor: Actor, field: str, old: object, new: object, now: datetime) -> NewTicketChange:
        raise NotImplementedError

    # -- notes -------------------------------------------------------------

    def add_note(self, actor: Actor, ref: object, note: object) -> Note:
        """Write an internal note on a ticket (staff only); sanitised like a message."""
        ticket = self._visible(actor, ref, Action.ANNOTATE)
        text = clean_text("note", note, self.limits.body)
        now = self._now()
        draft = NewNote(
            ticket_id=ticket.id,
            author_id=actor.id,
            author_kind=actor.kind,
            note=text,
            created_at=now,
            uid=uuid.uuid4().hex,
        )
        stored = self.store.insert_note(draft)
        self._bus.publish(Event(EventType.NOTE_CREATED, ticket, actor, now, note=stored))
        return stored

    def list_notes(self, actor: Actor, ref: object) -> list[Note]:
        """A ticket's internal notes, oldest first (staff only)."""
        ticket = self._visible(actor, ref, Action.ANNOTATE)
        return self.store.list_notes(ticket.id)

    # -- tags --------------------------------------------------------------

    def set_tags(self, actor: Actor, ref: object, tags: object) -> Ticket:
        """Make a ticket's tags exactly ``tags`` (staff only); returns the ticket with them."""
        wanted = parse_tags(tags)
        return self._retag(actor, ref, lambda _current: wanted)

    def add_tags(self, actor: Actor, ref: object, tags: object) -> Ticket:
        """Add ``tags`` to a ticket's tags (those it has already stay once)."""
        extra = parse_tags(tags)
        return self._retag(actor, ref, lambda current: tuple(sorted({*current, *extra})))

    def remove_tags(self, actor: Actor, ref: object, tags: object) -> Ticket:
        """Remove ``tags`` from a ticket's tags (a tag it lacks is no error)."""
        gone = set(parse_tags(tags))
        return self._retag(actor, ref, lambda current: tuple(t for t in current if t not in gone))

    def _retag(self, actor: Actor, ref: object, decide: Callable[[Tags], Tags]) -> Ticket:
        ticket = self._visible(actor, ref, Action.ANNOTATE)

        def write(current: Tags) -> Tags:
            target = decide(current)
            if len(target) > MAX_TAGS:
                raise ValidationError("tags", f"a ticket carries at most {MAX_TAGS} tags, got {len(target)}")
            if target == current:
                return current
            now = self._now()
            record = self._record(actor, "tags", " ".join(current) or None, " ".join(target) or None, now)
            stored = self.store.replace_tags(ticket.id, expected=current, tags=target, history=[record])
            self._bus.publish(Event(EventType.TAGS_CHANGED, ticket, actor, now, changed=("tags",)))
            return stored

        tags = retry_at_fresh_version(write, lambda: self._tags_of(ticket.id), attempts=self._update_attempts)
        return (self.store.get_ticket(ticket.id) or ticket).seen_by(actor).model_copy(update={"tags": tags})

    # -- what staff see ----------------------------------------------------

    def _tags_of(self, ticket_id: int) -> Tags:
        return self.store.ticket_tags([ticket_id]).get(ticket_id, ())

    def _with_tags(self, actor: Actor, tickets: Sequence[Ticket]) -> list[Ticket]:
        """``tickets`` with their tags, for staff (one store read for them all); as they are for a user."""
        if not actor.is_staff or not tickets:
            return list(tickets)
        tags = self.store.ticket_tags([t.id for t in tickets])
        return [t.model_copy(update={"tags": tags[t.id]}) if t.id in tags else t for t in tickets]
