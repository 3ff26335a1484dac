"""Writes as data: what the fallback journal records and what a replay re-applies.

Each kind of store write (tickets, messages, updates, read marks, ratings, merges, notes, tags)
becomes a small frozen model that can be
serialised to JSON (for the journal), read back, and applied to any
:class:`~supportchat.stores.Store`. Applying an operation *rebases* it: the
optimistic version check is made against the target store's current version
of the ticket, because the operation was already accepted once (by the store
that served it) and is now being copied, not decided again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, TypeAdapter, model_serializer

from ..errors import DuplicateRating, TicketNotFound
from ..models import (
    Message,
    NewMessage,
    NewNote,
    NewTicket,
    NewTicketChange,
    Note,
    Priority,
    Rating,
    SenderType,
    Ticket,
    TicketStatus,
)
from ..optimistic import retry_at_fresh_version
from ..store import Store, TicketChanges, TicketMerge

__all__ = [
    "InsertMessageOp",
    "InsertNoteOp",
    "InsertRatingOp",
    "InsertTicketOp",
    "MarkReadOp",
    "MergeTicketsOp",
    "Operation",
    "ReplaceTagsOp",
    "UpdateTicketOp",
    "already_holds",
    "apply_operation",
    "current_ticket",
    "insert_message_op",
    "insert_rating_op",
    "load_operation",
    "merge_done",
    "merge_tickets_op",
    "rating_held",
    "update_ticket_op",
]

#: How often a rebased write is re-read and re-sent when the version moves under it.


class _ChangeSet(BaseModel):
    """:class:`~supportchat.stores.base.TicketChanges` in a form pydantic can (de)serialise.

    (``TicketChanges`` is a ``typing.TypedDict``, which pydantic refuses on Python 3.11.)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: TicketStatus | None = None
    priority: Priority | None = None
    assigned_to: int | None = None
    resolved_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def of(cls, changes: TicketChanges) -> _ChangeSet:
        return cls(**changes)

    @model_serializer(mode="wrap")
    def _only_given(self, serialize: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Unset keys stay absent in JSON too, or reading it back would set them to None.
        return {key: value for key, value in serialize(self).items() if key in self.model_fields_set}

    def as_changes(self) -> TicketChanges:
        # Only the keys that were given: ``None`` is a value (it clears a column).
        return cast(TicketChanges, self.model_dump(exclude_unset=True))


class _Op(BaseModel):
    model_config = ConfigDict(frozen=True)


class InsertTicketOp(_Op):
    """:meth:`Store.insert_ticket` of a ticket whose id is already fixed."""

    kind: Literal["insert_ticket"] = "insert_ticket"
    ticket: NewTicket

    @property
    def ticket_id(self) -> int:
        assert self.ticket.id is not None, "journalled tickets always carry their id"
        return self.ticket.id


class InsertMessageOp(_Op):
    """:meth:`Store.insert_message` of a message whose id is already fixed."""

    kind: Literal["insert_message"] = "insert_message"
    message: NewMessage
    changes: _ChangeSet
    history: tuple[NewTicketChange, ...] = ()

    @property
    def ticket_id(self) -> int:
        return self.message.ticket_id


class UpdateTicketOp(_Op):
    """:meth:`Store.update_ticket`."""

    kind: Literal["update_ticket"] = "update_ticket"
    ticket_id: int
    changes: _ChangeSet
    history: tuple[NewTicketChange, ...] = ()


class MarkReadOp(_Op):
    """:meth:`Store.mark_read`."""

    kind: Literal["mark_read"] = "mark_read"
    ticket_id: int
    sender_type: SenderType


class InsertRatingOp(_Op):
    """:meth:`Store.insert_rating`."""

    kind: Literal["insert_rating"] = "insert_rating"
    rating: Rating
    changes: _ChangeSet
    history: tuple[NewTicketChange, ...] = ()

    @property
    def ticket_id(self) -> int:
        return self.rating.ticket_id


class MergeTicketsOp(_Op):
    """:meth:`Store.merge_tickets`."""

    kind: Literal["merge_tickets"] = "merge_tickets"
    source_id: int
    target_id: int
    source_changes: _ChangeSet
    target_changes: _ChangeSet
    source_history: tuple[NewTicketChange, ...] = ()
    target_history: tuple[NewTicketChange, ...] = ()


class InsertNoteOp(_Op):
    """:meth:`Store.insert_note` of a note whose id is already fixed."""

    kind: Literal["insert_note"] = "insert_note"
    note: NewNote

    @property
    def ticket_id(self) -> int:
        return self.note.ticket_id

    @property
    def note_id(self) -> int:
        assert self.note.id is not None, "journalled notes always carry their id"
        return self.note.id


class ReplaceTagsOp(_Op):
    """:meth:`Store.replace_tags`: the tags a ticket had when it was decided, and the tags it got.

    Applied, it is rebased like an update: checked against the target's
    tags as they are now. ``before`` tells a resumed replay whether it got there.
    """

    kind: Literal["replace_tags"] = "replace_tags"
    ticket_id: int
    before: tuple[str, ...]
    tags: tuple[str, ...]
    history: tuple[NewTicketChange, ...] = ()


Operation = Annotated[
    InsertTicketOp
    | InsertMessageOp
    | UpdateTicketOp
    | MarkReadOp
    | InsertRatingOp
    | MergeTicketsOp
    | InsertNoteOp
    | ReplaceTagsOp,
    Field(discriminator="kind"),
]
_OPERATION: TypeAdapter[Operation] = TypeAdapter(Operation)


def load_operation(document: str) -> Operation:
    """The operation a journal entry's JSON describes."""
    return _OPERATION.validate_json(document)


def insert_message_op(
    message: NewMessage, changes: TicketChanges, history: tuple[NewTicketChange, ...] | list[NewTicketChange]
) -> InsertMessageOp:
    return InsertMessageOp(message=message, changes=_ChangeSet.of(changes), history=tuple(history))


def update_ticket_op(
    ticket_id: int, changes: TicketChanges, history: tuple[NewTicketChange, ...] | list[NewTicketChange]
) -> UpdateTicketOp:
    return UpdateTicketOp(ticket_id=ticket_id, changes=_ChangeSet.of(changes), history=tuple(history))


def insert_rating_op(
    rating: Rating, changes: TicketChanges, history: tuple[NewTicketChange, ...] | list[NewTicketChange]
) -> InsertRatingOp:
    return InsertRatingOp(rating=rating, changes=_ChangeSet.of(changes), history=tuple(history))


def merge_tickets_op(merge: TicketMerge) -> MergeTicketsOp:
    return MergeTicketsOp(
        source_id=merge.source_id,
        target_id=merge.target_id,
        source_changes=_ChangeSet.of(merge.source_changes),
        target_changes=_ChangeSet.of(merge.target_changes),
        source_history=merge.source_history,
        target_history=merge.target_history,
    )


def rating_held(store: Store, op: InsertRatingOp) -> bool:
    """Whether ``store`` holds the very rating ``op`` inserts; :class:`DuplicateRating` if another one."""
    held = next((r for r in store.list_ratings(op.ticket_id) if r.cycle == op.rating.cycle), None)
    if held is None:
        return False
    if (held.score, held.comment, held.user_id) != (op.rating.score, op.rating.comment, op.rating.user_id):
        raise DuplicateRating(op.ticket_id, op.rating.cycle)
    return True


def merge_done(store: Store, op: MergeTicketsOp) -> bool:
    """Whether ``store`` has merged ``op``'s source into its target already."""
    return current_ticket(store, op.source_id).merged_into == op.target_id


def current_ticket(store: Store, ticket_id: int) -> Ticket:
    """The ticket as ``store`` has it now; :class:`TicketNotFound` if it has none."""
    ticket = store.get_ticket(ticket_id)
    if ticket is None:
        raise TicketNotFound(f"no ticket {ticket_id}")
    return ticket


def already_holds(store: Store, op: InsertTicketOp | InsertMessageOp | InsertNoteOp) -> bool:
    """Whether ``store`` holds the very row ``op`` inserts (asked when the insert clashed).

    A ticket is the same if ``store`` has its id under the same number (the
    number is unique, so that ticket holds the number too); a message if
    ``store`` has its ``uid`` on the same ticket, under whatever id (a write
    whose answer was lost is kept under the id the store gave it). Anything
    else under that identity is another row. A note is the same if its
    ticket holds a note with its ``uid``, under whatever id (like a message).
    """
    if isinstance(op, InsertNoteOp):
        return any(held.uid == op.note.uid for held in store.list_notes(op.ticket_id))
    if isinstance(op, InsertTicketOp):
        holder = store.get_ticket(op.ticket_id)
        return holder is not None and holder.ticket_number == op.ticket.ticket_number
    held = store.get_message_by_uid(op.message.uid)
    return held is not None and held.ticket_id == op.message.ticket_id


def apply_operation(store: Store, op: Operation) -> Ticket | Message | Rating | Note | tuple[str, ...] | int:
    """Apply ``op`` to ``store`` at whatever version the ticket has there now.

    Raises what the store raises (:class:`TicketNumberTaken`,
    :class:`DuplicateMessage`, :class:`TicketNotFound`, ...); a version that
    moves between the read and the write is re-read a few times first.
    """
    if isinstance(op, InsertTicketOp):
        return store.insert_ticket(op.ticket)
    if isinstance(op, MarkReadOp):
        return store.mark_read(op.ticket_id, op.sender_type)
    if isinstance(op, InsertNoteOp):
        return store.insert_note(op.note)
    if isinstance(op, ReplaceTagsOp):
        return retry_at_fresh_version(
            lambda current: store.replace_tags(op.ticket_id, expected=current, tags=op.tags, history=op.history),
            lambda: store.ticket_tags([op.ticket_id]).get(op.ticket_id, ()),
            gave_up=f"the tags of ticket {op.ticket_id} kept changing while a write was copied to them",
        )
    if isinstance(op, MergeTicketsOp):
        return _apply_merge(store, op)

    def write(version: int) -> Ticket | Message | Rating:
        if isinstance(op, InsertRatingOp):
            return store.insert_rating(
                op.rating, expected_version=version, changes=op.changes.as_changes(), history=op.history
            )
        if isinstance(op, InsertMessageOp):
            return store.insert_message(
                op.message, expected_version=version, changes=op.changes.as_changes(), history=op.history
            )
        return store.update_ticket(
            op.ticket_id, expected_version=version, changes=op.changes.as_changes(), history=op.history
        )

    return retry_at_fresh_version(
        write,
        lambda: current_ticket(store, op.ticket_id).version,
        gave_up=f"ticket {op.ticket_id} kept changing while a write was copied to it",
    )


def _apply_merge(store: Store, op: MergeTicketsOp) -> Ticket:
    """A merge at whatever versions its two tickets have in ``store`` now."""

    def write(versions: tuple[int, int]) -> Ticket:
        return store.merge_tickets(
            TicketMerge(
                op.source_id,
                op.target_id,
                source_version=versions[0],
                target_version=versions[1],
                source_changes=op.source_changes.as_changes(),
                target_changes=op.target_changes.as_changes(),
                source_history=op.source_history,
                target_history=op.target_history,
            )
        )

    return retry_at_fresh_version(
        write,
        lambda: (current_ticket(store, op.source_id).version, current_ticket(store, op.target_id).version),
        gave_up=f"tickets {op.source_id} and {op.target_id} kept changing while a merge was copied to them",
    )
