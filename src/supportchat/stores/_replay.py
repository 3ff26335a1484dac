"""Replay: copy the journal's pending writes to the primary, once each, in order.

Every entry is applied idempotently, so a replay that stops half-way (the
primary fails again, the process dies) and starts over later duplicates
nothing:

- a ticket or message is already there if the primary holds that very row
  (:func:`._ops.already_holds`: a ticket's id with the same number, a
  message's ``uid`` on the same ticket); another row under its identity is a
  conflict;
- an update is already there if the primary's version of the ticket moved
  since the version recorded (durably, in the journal) just before the
  update was sent; the replayer is the primary's only writer while entries
  are pending, because the fallback store serves every request until the
  journal is empty;
- a rating is already there if the primary holds that ticket's rating of
  its cycle with the same score, comment and author (another one is a
  conflict); a merge if the primary's source is merged into its target;
- marking messages read twice is harmless;
- a note is already there if the primary holds its id on its ticket with
  its text; a tag change if the primary's tags are already the ones it set
  (the desk never journals a change that sets the tags a ticket has).

A :class:`~supportchat.errors.StorageUnavailable` stops the replay (the entry
stays pending). Any other refusal is the primary's definite answer: the entry
is parked as a conflict, kept in the journal with the reason, and the replay
goes on.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import (
    ConcurrentUpdate,
    DuplicateMessage,
    DuplicateRating,
    NoteIdTaken,
    StorageUnavailable,
    SupportChatError,
    TicketIdTaken,
    TicketNumberTaken,
)
from ..optimistic import retry_at_fresh_version
from ..store import Store
from ._journal import Journal, JournalEntry
from ._ops import (
    InsertMessageOp,
    InsertNoteOp,
    InsertRatingOp,
    InsertTicketOp,
    MergeTicketsOp,
    ReplaceTagsOp,
    UpdateTicketOp,
    already_holds,
    apply_operation,
    current_ticket,
    merge_done,
    rating_held,
)

__all__ = ["ProgressCallback", "ReplayReport", "replay_journal"]

#: Called after each entry with (entries done, entries pending when the replay began).
ProgressCallback = Callable[[int, int], None]

_BATCH = 100


class _Outcome(enum.Enum):
    APPLIED = "applied"
    ALREADY_THERE = "already_there"


class _Refused(Exception):
    """The primary holds something else under this entry's identity."""


@dataclass(frozen=True, slots=True)
class ReplayReport:
    """What a replay did.

    ``applied``: written to the primary now; ``already_there``: found written
    by an earlier, interrupted replay; ``conflicts``: parked; ``remaining``:
    still pending (non-zero when ``error`` stopped the replay or ``limit``
    was reached).
    """

    applied: int = 0
    already_there: int = 0
    conflicts: int = 0
    remaining: int = 0
    error: StorageUnavailable | None = None

    @property
    def complete(self) -> bool:
        return self.remaining == 0 and self.error is None


def replay_journal(
    primary: Store,
    journal: Journal,
    *,
    limit: int | None = None,
    progress: ProgressCallback | None = None,
) -> ReplayReport:
    """Replay up to ``limit`` pending entries (all by default) to ``primary``."""
    total = journal.pending_count if limit is None else min(limit, journal.pending_count)
    counts = {_Outcome.APPLIED: 0, _Outcome.ALREADY_THERE: 0}
    conflicts = 0
    done = 0
    error: StorageUnavailable | None = None
    while limit is None or done < limit:
        batch = journal.pending(_BATCH if limit is None else min(_BATCH, limit - done))
        if not batch:
            break
        try:
            for entry in batch:
                try:
                    counts[_replay_entry(primary, journal, entry)] += 1
                    journal.settle(entry.seq)
                except StorageUnavailable:
                    raise
                except (SupportChatError, _Refused) as refusal:
                    journal.park(entry.seq, f"{type(refusal).__name__}: {refusal}")
                    conflicts += 1
                done += 1
                if progress is not None:
                    progress(done, max(total, done))
        except StorageUnavailable as failure:
            error = failure
            break
    return ReplayReport(
        applied=counts[_Outcome.APPLIED],
        already_there=counts[_Outcome.ALREADY_THERE],
        conflicts=conflicts,
        remaining=journal.pending_count,
        error=error,
    )


def _replay_entry(primary: Store, journal: Journal, entry: JournalEntry) -> _Outcome:
    op = entry.operation
    if isinstance(op, InsertTicketOp | InsertMessageOp | InsertNoteOp):
        return _replay_insert(primary, op)
    if isinstance(op, UpdateTicketOp):
        return _replay_update(primary, journal, entry.seq, entry.marker, op)
    if isinstance(op, InsertRatingOp):
        return _replay_rating(primary, op)
    if isinstance(op, MergeTicketsOp) and merge_done(primary, op):
        return _Outcome.ALREADY_THERE
    if isinstance(op, ReplaceTagsOp) and primary.ticket_tags([op.ticket_id]).get(op.ticket_id, ()) == op.tags:
        return _Outcome.ALREADY_THERE
    apply_operation(primary, op)
    return _Outcome.APPLIED


def _replay_rating(primary: Store, op: InsertRatingOp) -> _Outcome:
    if rating_held(primary, op):
        return _Outcome.ALREADY_THERE
    try:
        apply_operation(primary, op)
    except DuplicateRating:
        if rating_held(primary, op):  # copied by someone else meanwhile
            return _Outcome.ALREADY_THERE
        raise
    return _Outcome.APPLIED


def _replay_insert(primary: Store, op: InsertTicketOp | InsertMessageOp | InsertNoteOp) -> _Outcome:
    if already_holds(primary, op):
        return _Outcome.ALREADY_THERE
    try:
        apply_operation(primary, op)
    except (TicketIdTaken, TicketNumberTaken, DuplicateMessage, NoteIdTaken):
        if already_holds(primary, op):  # copied by someone else meanwhile
            return _Outcome.ALREADY_THERE
        raise _Refused(f"{_identity(op)} is held by another row in the primary") from None
    return _Outcome.APPLIED


def _identity(op: InsertTicketOp | InsertMessageOp | InsertNoteOp) -> str:
    if isinstance(op, InsertNoteOp):
        return f"note id {op.note_id}"
    if isinstance(op, InsertTicketOp):
        return f"ticket id {op.ticket_id} or number {op.ticket.ticket_number}"
    return f"message uid {op.message.uid}"


def _replay_update(primary: Store, journal: Journal, seq: int, marker: int | None, op: UpdateTicketOp) -> _Outcome:
    def write(version: int) -> _Outcome:
        nonlocal marker
        if marker is not None and version != marker:
            # The version moved since this update was sent: it got there.
            return _Outcome.ALREADY_THERE
        if marker is None:
            journal.set_marker(seq, version)
            marker = version
        try:
            primary.update_ticket(
                op.ticket_id, expected_version=version, changes=op.changes.as_changes(), history=op.history
            )
        except ConcurrentUpdate:
            # Someone else writes to the primary after all: start again from its version.
            marker = None
            raise
        return _Outcome.APPLIED

    return retry_at_fresh_version(
        write,
        lambda: current_ticket(primary, op.ticket_id).version,
        gave_up=f"ticket {op.ticket_id} kept changing in the primary during the replay",
    )
