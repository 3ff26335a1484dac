"""A store that keeps serving when its primary fails (spec §9).

:class:`FallbackStore` wraps a *primary* (typically Supabase) and a local
*fallback* (typically SQLite) and implements the :class:`Store` protocol
itself, so the desk never knows which one answered.

How a request is routed
    The primary serves while it is healthy and nothing waits in the journal.
    A call that fails with :class:`~supportchat.errors.StorageUnavailable`
    (the only retryable error) is retried with the injected tenacity policy;
    if it still fails, the circuit breaker notes it and the call is served by
    the fallback. Once the breaker is open, calls go straight to the fallback
    without touching the primary. Any other error (validation, not found,
    conflict, duplicates) is the caller's: it is raised as it is, never
    retried, and never served by the fallback.

What happens to writes
    A write the primary accepted is copied into the fallback (best effort:
    a failed copy is counted, not raised), so that reads during a later
    outage see what was written before it. A write made while the primary
    is down goes to the fallback *and* into a durable :class:`Journal` in one
    SQLite transaction, before its result reaches the caller. A write to the
    fallback first waits for primary writes still in flight (at the moment of
    a fail-over), so the two stores never accept conflicting writes at once.

Ids and ticket numbers stay valid
    Outage writes get explicit ids drawn from the journal's
    :class:`IdRange` (by default from 1,000,000,000 up), far above the ids
    the primary hands out, and keep their ticket numbers (unique across
    both stores, spec §2). The replay inserts them into the primary with
    those same ids. The journal also notes every id in that range the
    primary returns, so an outage id is never one the primary already used.
    This needs a primary whose next id is above every id inserted into it
    explicitly (as :class:`InMemoryStore`, SQLite and a sequence-advancing
    PostgreSQL store do): messages keep their order by id.

Recovery
    While entries are pending, the fallback keeps serving reads *and*
    writes (new writes are journalled behind the old ones, so order is
    kept), and the primary is only touched by the replay. A replay starts by
    itself (``auto_replay``) when the breaker lets a call through, copies at
    most ``replay_batch`` entries per call, and stops at the first
    :class:`StorageUnavailable`. :meth:`FallbackStore.replay` replays by hand.
    When the journal is empty and the breaker closed, the primary serves
    again.

Consistency model
    Reads while the primary serves see the primary (read-your-writes).
    During an outage they see the fallback: everything written during the
    outage, plus what was mirrored before it; a ticket whose mirror copy
    failed is missing there until recovery. After recovery the primary holds
    every write that any client was told succeeded, each exactly once, in
    order. Event-log ids are each store's own: a live stream that crosses a
    fail-over or recovery may see ids jump and should resynchronise.

Limits
    One :class:`FallbackStore` per journal file at a time (the journal is
    its own). While entries are pending, the replay assumes nothing but
    itself writes to the primary; processes on other hosts writing to the
    same primary during the outage are not coordinated with.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
    wait_random,
)

from ..errors import (
    DuplicateMessage,
    NoteIdTaken,
    StorageUnavailable,
    SupportChatError,
    TicketIdTaken,
    TicketNumberTaken,
)
from ..extensions import extension, register_extension
from ..models import (
    EventRecord,
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
)
from ..store import EventLog, Store, TicketChanges, TicketMerge
from ._breaker import BreakerState, CircuitBreaker, Permit
from ._journal import IdRange, Journal
from ._ops import (
    InsertMessageOp,
    InsertNoteOp,
    InsertTicketOp,
    MarkReadOp,
    Operation,
    ReplaceTagsOp,
    already_holds,
    apply_operation,
    insert_message_op,
    insert_rating_op,
    merge_tickets_op,
    update_ticket_op,
)
from ._replay import ProgressCallback, ReplayReport, replay_journal

__all__ = [
    "BreakerState",
    "CircuitBreaker",
    "FallbackState",
    "FallbackStore",
    "IdRange",
    "Journal",
    "ReplayReport",
    "default_retry",
]

log = logging.getLogger(__name__)
T = TypeVar("T")


def default_retry(
    *, attempts: int = 3, within: float = 2.0, initial_wait: float = 0.05, max_wait: float = 0.5
) -> Retrying:
    """The default policy: up to ``attempts`` tries, no new try after ``within`` seconds.

    Waits grow exponentially from ``initial_wait`` with jitter. A request
    that meets an outage therefore waits at most ``within`` plus one call's
    own timeout before it is served by the fallback.
    """
    return Retrying(
        stop=stop_after_attempt(attempts) | stop_after_delay(within),
        wait=wait_exponential(multiplier=initial_wait, max=max_wait) + wait_random(0, initial_wait),
    )


@dataclass(frozen=True, slots=True)
class FallbackState:
    """A snapshot of a :class:`FallbackStore`, for health checks and the CLI."""

    #: ``"primary"`` or ``"fallback"``: where the next request goes.
    serving: str
    breaker: BreakerState
    #: Outage writes waiting to reach the primary.
    pending_writes: int
    #: Journal entries the primary refused for good (kept for an operator).
    conflicts: int
    last_error: str | None
    last_error_at: datetime | None
    #: Primary writes whose copy into the fallback failed (since start).
    mirror_failures: int


class FallbackStore:
    """A :class:`Store` over a primary and a fallback store; see the module docstring.

    ``journal`` is a :class:`Journal` or the path of its SQLite file.
    ``retry`` is a tenacity ``Retrying``; whatever it says, only
    :class:`StorageUnavailable` is retried. ``breaker`` defaults to a breaker
    that opens on the first call that fails after its retries and probes
    again after 5 seconds. ``clock`` (monotonic seconds) drives the default
    breaker. The FallbackStore owns both stores and the journal:
    :meth:`close` closes them.
    """

    def __init__(
        self,
        primary: Store,
        fallback: Store,
        *,
        journal: Journal | str | os.PathLike[str],
        retry: Retrying | None = None,
        breaker: CircuitBreaker | None = None,
        clock: Callable[[], float] = time.monotonic,
        auto_replay: bool = True,
        replay_batch: int = 100,
    ) -> None:
        self.primary = primary
        self.fallback = fallback
        self.journal = journal if isinstance(journal, Journal) else Journal(journal)
        self.breaker = breaker or CircuitBreaker(clock=clock)
        policy = retry or default_retry()
        self._retry = policy.copy(retry=retry_if_exception_type(StorageUnavailable), reraise=True)
        self._auto_replay = auto_replay
        self._replay_batch = replay_batch
        # Held while a write is routed, and while it is written to the fallback
        # and journalled; ``_primary_writes`` counts writes sent to the primary
        # and not finished, which a fallback write waits for.
        self._routing = threading.Condition(threading.Lock())
        self._primary_writes = 0
        self._replay_lock = threading.Lock()
        self._last_error: str | None = None
        self._last_error_at: datetime | None = None
        self._mirror_failures = 0

    @classmethod
    def for_supabase(
        cls,
        url: str,
        key: str,
        *,
        sqlite_path: str | os.PathLike[str] | None = None,
        journal_path: str | os.PathLike[str] | None = None,
        timeout: float = 5.0,
        **options: Any,
    ) -> FallbackStore:
        """Supabase as the primary and a local SQLite file as the fallback (spec §10).

        ``sqlite_path`` defaults to the embedded database's path and the journal
        lives beside it (``<sqlite file>.journal``). ``timeout`` is the Supabase
        HTTP client's; ``options`` go to the constructor. The store owns and
        closes everything it creates. Needs ``pip install 'supportchat[supabase]'``.
        """
        from .sql import SQLiteStore, default_sqlite_path
        from .supabase import SupabaseStore

        fallback_path = Path(sqlite_path) if sqlite_path is not None else default_sqlite_path()
        fallback = SQLiteStore(fallback_path)
        try:
            primary = SupabaseStore.from_url(url, key, timeout=timeout)
        except BaseException:
            fallback.close()
            raise
        journal = journal_path if journal_path is not None else fallback_path.with_name(fallback_path.name + ".journal")
        return cls(primary, fallback, journal=journal, **options)

    # -- state and replay --------------------------------------------------

    def state(self) -> FallbackState:
        """Which store serves, the breaker, what waits in the journal, the last error."""
        return FallbackState(
            serving="primary" if self._primary_serves() else "fallback",
            breaker=self.breaker.state,
            pending_writes=self.journal.pending_count,
            conflicts=self.journal.conflict_count,
            last_error=self._last_error,
            last_error_at=self._last_error_at,
            mirror_failures=self._mirror_failures,
        )

    def replay(self, *, progress: ProgressCallback | None = None) -> ReplayReport:
        """Replay every pending write to the primary now (by hand, e.g. from the CLI).

        Ignores the breaker's cool-down; waits for a replay already running.
        A success closes the breaker; a :class:`StorageUnavailable` opens it
        and is reported in the result (not raised).
        """
        with self._replay_lock:
            return self._replay(limit=None, progress=progress)

    # -- reads -------------------------------------------------------------

    def get_ticket(self, ticket_id: int) -> Ticket | None:
        return self._read(lambda store: store.get_ticket(ticket_id))

    def get_ticket_by_number(self, ticket_number: str) -> Ticket | None:
        return self._read(lambda store: store.get_ticket_by_number(ticket_number))

    def list_tickets(self, query: TicketQuery) -> tuple[list[Ticket], int]:
        return self._read(lambda store: store.list_tickets(query))

    def get_message_by_uid(self, uid: str) -> Message | None:
        return self._read(lambda store: store.get_message_by_uid(uid))

    def list_messages(
        self,
        ticket_id: int,
        *,
        after_id: int = 0,
        before_id: int | None = None,
        limit: int | None = None,
        newest: bool = False,
    ) -> list[Message]:
        return self._read(
            lambda store: store.list_messages(
                ticket_id, after_id=after_id, before_id=before_id, limit=limit, newest=newest
            )
        )

    def list_changes(self, ticket_id: int) -> list[TicketChange]:
        return self._read(lambda store: store.list_changes(ticket_id))

    def list_notes(self, ticket_id: int, *, after_id: int = 0, limit: int | None = None) -> list[Note]:
        return self._read(lambda store: store.list_notes(ticket_id, after_id=after_id, limit=limit))

    def ticket_tags(self, ticket_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
        return self._read(lambda store: store.ticket_tags(ticket_ids))

    def list_ratings(self, ticket_id: int) -> list[Rating]:
        return self._read(lambda store: store.list_ratings(ticket_id))

    def statistics(self) -> Statistics:
        return self._read(lambda store: store.statistics())

    def resolved_before(self, cutoff: datetime, *, limit: int) -> list[Ticket]:
        return self._read(lambda store: store.resolved_before(cutoff, limit=limit))

    def events_after(self, after_id: int, *, user_id: int | None = None, limit: int = 100) -> list[EventRecord]:
        return self._read(lambda store: store.events_after(after_id, user_id=user_id, limit=limit))

    def last_event_id(self) -> int:
        return self._read(lambda store: store.last_event_id())

    # -- writes ------------------------------------------------------------

    def insert_ticket(self, ticket: NewTicket) -> Ticket:
        def on_primary() -> Ticket:
            stored = self.primary.insert_ticket(ticket)
            self.journal.observe("ticket", stored.id)
            self._mirror(InsertTicketOp(ticket=ticket.model_copy(update={"id": stored.id})))
            return stored

        def on_fallback() -> Ticket:
            with self.journal.recording() as recording:
                ticket_id = ticket.id if ticket.id is not None else recording.allocate("ticket")
                fixed = ticket.model_copy(update={"id": ticket_id})
                stored = self.fallback.insert_ticket(fixed)
                recording.append(InsertTicketOp(ticket=fixed))
            return stored

        return self._write(on_primary, on_fallback)

    def update_ticket(
        self,
        ticket_id: int,
        *,
        expected_version: int,
        changes: TicketChanges,
        history: Sequence[NewTicketChange] = (),
    ) -> Ticket:
        op = update_ticket_op(ticket_id, changes, tuple(history))

        def on_primary() -> Ticket:
            updated = self.primary.update_ticket(
                ticket_id, expected_version=expected_version, changes=changes, history=history
            )
            self._mirror(op)
            return updated

        def on_fallback() -> Ticket:
            with self.journal.recording() as recording:
                updated = self.fallback.update_ticket(
                    ticket_id, expected_version=expected_version, changes=changes, history=history
                )
                recording.append(op)
            return updated

        return self._write(on_primary, on_fallback)

    def insert_message(
        self,
        message: NewMessage,
        *,
        expected_version: int,
        changes: TicketChanges,
        history: Sequence[NewTicketChange] = (),
    ) -> Message:
        def on_primary() -> Message:
            stored = self.primary.insert_message(
                message, expected_version=expected_version, changes=changes, history=history
            )
            self.journal.observe("message", stored.id)
            self._mirror(insert_message_op(message.model_copy(update={"id": stored.id}), changes, tuple(history)))
            return stored

        def on_fallback() -> Message:
            with self.journal.recording() as recording:
                message_id = message.id if message.id is not None else recording.allocate("message")
                fixed = message.model_copy(update={"id": message_id})
                stored = self.fallback.insert_message(
                    fixed, expected_version=expected_version, changes=changes, history=history
                )
                recording.append(insert_message_op(fixed, changes, tuple(history)))
            return stored

        return self._write(on_primary, on_fallback)

    def insert_rating(
        self,
        rating: Rating,
        *,
        expected_version: int,
        changes: TicketChanges,
        history: Sequence[NewTicketChange] = (),
    ) -> Rating:
        op = insert_rating_op(rating, changes, tuple(history))

        def on_primary() -> Rating:
            stored = self.primary.insert_rating(
                rating, expected_version=expected_version, changes=changes, history=history
            )
            self._mirror(op)
            return stored

        def on_fallback() -> Rating:
            with self.journal.recording() as recording:
                stored = self.fallback.insert_rating(
                    rating, expected_version=expected_version, changes=changes, history=history
                )
                recording.append(op)
            return stored

        return self._write(on_primary, on_fallback)

    def merge_tickets(self, merge: TicketMerge) -> Ticket:
        op = merge_tickets_op(merge)

        def on_primary() -> Ticket:
            merged = self.primary.merge_tickets(merge)
            self._mirror(op)
            return merged

        def on_fallback() -> Ticket:
            with self.journal.recording() as recording:
                merged = self.fallback.merge_tickets(merge)
                recording.append(op)
            return merged

        return self._write(on_primary, on_fallback)

    def mark_read(self, ticket_id: int, sender_type: SenderType) -> int:
        op = MarkReadOp(ticket_id=ticket_id, sender_type=sender_type)

        def on_primary() -> int:
            marked = self.primary.mark_read(ticket_id, sender_type)
            if marked:
                self._mirror(op)
            return marked

        def on_fallback() -> int:
            with self.journal.recording() as recording:
                marked = self.fallback.mark_read(ticket_id, sender_type)
                if marked:
                    recording.append(op)
            return marked

        return self._write(on_primary, on_fallback)

    def insert_note(self, note: NewNote) -> Note:
        def on_primary() -> Note:
            stored = self.primary.insert_note(note)
            self.journal.observe("note", stored.id)
            self._mirror(InsertNoteOp(note=note.model_copy(update={"id": stored.id})))
            return stored

        def on_fallback() -> Note:
            with self.journal.recording() as recording:
                note_id = note.id if note.id is not None else recording.allocate("note")
                fixed = note.model_copy(update={"id": note_id})
                stored = self.fallback.insert_note(fixed)
                recording.append(InsertNoteOp(note=fixed))
            return stored

        return self._write(on_primary, on_fallback)

    def replace_tags(
        self,
        ticket_id: int,
        *,
        expected: tuple[str, ...],
        tags: tuple[str, ...],
        history: Sequence[NewTicketChange] = (),
    ) -> tuple[str, ...]:
        op = ReplaceTagsOp(ticket_id=ticket_id, before=expected, tags=tuple(sorted(set(tags))), history=tuple(history))

        def on_primary() -> tuple[str, ...]:
            stored = self.primary.replace_tags(ticket_id, expected=expected, tags=tags, history=history)
            self._mirror(op)
            return stored

        def on_fallback() -> tuple[str, ...]:
            with self.journal.recording() as recording:
                stored = self.fallback.replace_tags(ticket_id, expected=expected, tags=tags, history=history)
                recording.append(op)
            return stored

        return self._write(on_primary, on_fallback)

    def close(self) -> None:
        """Close the journal and both stores."""
        self.journal.close()
        for store in (self.primary, self.fallback):
            try:
                store.close()
            except Exception:  # one store failing to close must not keep the other open
                log.exception("closing %r failed", store)

    # -- routing -------------------------------------------------------------

    def _primary_serves(self) -> bool:
        return self.journal.pending_count == 0 and self.breaker.state is not BreakerState.OPEN

    def _read(self, call: Callable[[Store], T]) -> T:
        self._recover_if_due()
        if self.journal.pending_count == 0 and (permit := self.breaker.acquire()) is not None:
            try:
                return self._on_primary(permit, lambda: call(self.primary))
            except StorageUnavailable:
                pass
        return call(self.fallback)

    def _write(self, on_primary: Callable[[], T], on_fallback: Callable[[], T]) -> T:
        self._recover_if_due()
        with self._routing:
            permit = self.breaker.acquire() if self.journal.pending_count == 0 else None
            if permit is None:
                self._routing.wait_for(lambda: self._primary_writes == 0)
                return on_fallback()
            self._primary_writes += 1
        try:
            return self._on_primary(permit, on_primary)
        except StorageUnavailable:
            pass
        finally:
            with self._routing:
                self._primary_writes -= 1
                self._routing.notify_all()
        return self._on_fallback(on_fallback)

    def _on_fallback(self, on_fallback: Callable[[], T]) -> T:
        """Write to the fallback and the journal, once no primary write is still in flight.

        Waiting keeps the two stores from accepting conflicting writes at once
        during a fail-over: a primary write already sent finishes (and is copied
        into the fallback) before the fallback checks a version against it.
        """
        with self._routing:
            self._routing.wait_for(lambda: self._primary_writes == 0)
            return on_fallback()

    def _on_primary(self, permit: Permit, call: Callable[[], T]) -> T:
        """Run ``call`` against the primary under the retry policy (one try for a probe)."""
        try:
            result = call() if permit.probe else self._retry(call)
        except StorageUnavailable as failure:
            self._note_failure(failure)
            self.breaker.record_failure()
            raise
        except SupportChatError:
            # The primary answered (the caller's fault), so it is up.
            self.breaker.record_success()
            raise
        self.breaker.record_success()
        return result

    def _note_failure(self, failure: StorageUnavailable) -> None:
        self._last_error = f"{type(failure).__name__}: {failure}"
        self._last_error_at = datetime.now(UTC)
        log.warning("primary store unavailable: %s", failure)

    # -- mirroring and recovery ----------------------------------------------

    def _mirror(self, op: Operation) -> None:
        """Copy a write the primary accepted into the fallback; never raises.

        A clash with the very row being copied (a copy made before) is fine; a
        clash with another row under its id, number or uid means the fallback
        diverged: it is counted in ``mirror_failures`` and logged as an error.
        """
        try:
            apply_operation(self.fallback, op)
        except (TicketIdTaken, TicketNumberTaken, DuplicateMessage, NoteIdTaken) as clash:
            if not (
                isinstance(op, InsertTicketOp | InsertMessageOp | InsertNoteOp) and already_holds(self.fallback, op)
            ):
                # Another row under this identity: the fallback has diverged from the primary.
                self._mirror_failures += 1
                log.error("the fallback store holds another row than the primary's %s: %s", op.kind, clash)
        except SupportChatError as failure:
            self._mirror_failures += 1
            log.warning("could not copy %s into the fallback store: %s", op.kind, failure)

    def _recover_if_due(self) -> None:
        if not self._auto_replay or self.journal.pending_count == 0:
            return
        if self.breaker.state is BreakerState.OPEN:
            return
        if not self._replay_lock.acquire(blocking=False):
            return  # someone else is replaying; keep serving from the fallback
        try:
            self._replay(limit=self._replay_batch, progress=None)
        finally:
            self._replay_lock.release()

    def _replay(self, *, limit: int | None, progress: ProgressCallback | None) -> ReplayReport:
        report = replay_journal(self.primary, self.journal, limit=limit, progress=progress)
        if report.error is not None:
            self._note_failure(report.error)
            self.breaker.trip()
        elif report.applied or report.already_there or report.conflicts:
            self.breaker.record_success()
        if report.conflicts:
            log.error("%d journalled writes were refused by the primary; see Journal.conflicts()", report.conflicts)
        return report


class _FallbackEventLog:
    """A feature's entries go to the log of the store that serves, like the reads (not journalled).

    Event-log ids are each store's own (see the consistency model above); an
    entry appended to the fallback during an outage stays in its log.
    """

    def __init__(self, store: FallbackStore) -> None:
        self._store = store

    def append_event(self, ticket_id: int, type: str, *, at: datetime, data: Mapping[str, Any] | None = None) -> None:
        def on(target: Store) -> Callable[[], None]:
            return lambda: extension(target, EventLog).append_event(ticket_id, type, at=at, data=data)  # type: ignore[type-abstract]

        self._store._write(on(self._store.primary), on(self._store.fallback))


register_extension(EventLog, FallbackStore, _FallbackEventLog)  # type: ignore[type-abstract]
