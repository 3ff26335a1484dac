"""One client's live stream: the persisted event log, read from a cursor, as SSE frames.

The stream never holds events of its own: it reads
:meth:`Store.events_after <supportchat.stores.Store.events_after>` from its
cursor in bounded batches, sends them, and sleeps on its
:class:`~.broker.Subscription` until the broker rings or the heartbeat is
due. Because the log is the only source, a client that reconnects with
``Last-Event-ID`` gets exactly the events after that id, in order, whatever
happened while it was away; and a user's stream reads the log filtered by
that user's id, so another user's event is never even loaded.

A stream outlives the request that opened it, so it asks again who its
caller is (``recheck``, the same credentials authenticated anew) before it
sends anything once ``recheck_interval`` (default: the heartbeat) has passed
since the last check, and at the instant the credential expires. When the
answer is no longer the actor it opened for (a revoked admin token, an
expired JWT, a panel session that was signed out) the stream ends; the
client's reconnection is then refused like any other request.

Stores commit event-log entries in id order (SQLite and the in-memory store
have one writer at a time; on PostgreSQL the ``0002`` migration draws each
event id under a lock held to the commit), so a reader that has seen id
``n`` will never later find a smaller one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Callable, Generator
from datetime import UTC, datetime

from ..desk import SupportDesk
from ..errors import StorageError, ValidationError
from ..models import Actor, ActorKind, EventRecord, Ticket
from ..outages import OutageLog
from ..projection import CustomerEvent, customer_event
from ..rules import MAX_ID
from ..store import Store, announced_note
from ..store import announced_message as message_of
from .broker import Broker, Subscription
from .frames import EventPayload, Frame

__all__ = ["EventStream", "latest_event_id", "message_of", "parse_last_event_id"]

logger = logging.getLogger("supportchat.realtime")
#: When the store is down every open stream ends at once: one record per kind every 10 s, with the count.
_outages = OutageLog(logger, level=logging.WARNING)

#: Longest accepted ``Last-Event-ID`` (a decimal id; anything longer is not one of ours).
_MAX_ID_LENGTH = 19


def parse_last_event_id(value: str | None) -> int | None:
    """The id a reconnecting client last saw, or ``None`` for a fresh client.

    Raises :class:`~supportchat.errors.ValidationError` for anything but a
    non-negative decimal integer.
    """
    if value is None or value.strip() == "":
        return None
    text = value.strip()
    if not (text.isascii() and text.isdecimal() and len(text) <= _MAX_ID_LENGTH and int(text) <= MAX_ID):
        raise ValidationError("Last-Event-ID", "must be the id of an event this server sent (a non-negative integer)")
    return int(text)


def latest_event_id(store: Store) -> int:
    """The newest id in the store's event log (0 when empty), one query on every backend."""
    return store.last_event_id()


class EventStream:
    """The live events one actor may see, from a cursor on.

    Staff see every ticket's events; a user only their own tickets'. Without
    ``last_event_id`` the stream starts at the newest event (only what
    happens from now on); with it, right after that id. ``heartbeat`` is the
    longest silence before a comment frame is sent (it also bounds how long
    a vanished client keeps the stream open), ``batch`` the most events read
    from the store at once.

    ``recheck`` names the caller again from the credentials that opened the
    stream (``None`` when they are no longer valid); it is asked before
    anything is sent once ``recheck_interval`` seconds (default
    ``heartbeat``) have passed since the last answer, and at
    ``expires_at``, when the credential runs out. The stream ends as soon as
    the answer is not ``actor``. Without ``recheck`` the stream still ends at
    ``expires_at``.
    """

    def __init__(
        self,
        desk: SupportDesk,
        broker: Broker,
        actor: Actor,
        *,
        last_event_id: int | None = None,
        heartbeat: float = 15.0,
        batch: int = 100,
        retry_ms: int | None = 2000,
        recheck: Callable[[], Actor | None] | None = None,
        recheck_interval: float | None = None,
        expires_at: datetime | None = None,
    ) -> None:
        if actor.kind is ActorKind.USER and actor.id is None:
            raise ValueError("a user's stream needs the user's id")
        if heartbeat <= 0 or batch <= 0 or (recheck_interval is not None and recheck_interval <= 0):
            raise ValueError("heartbeat, batch and recheck_interval must be positive")
        self.desk = desk
        self.actor = actor
        self.heartbeat = heartbeat
        self.batch = batch
        self.retry_ms = retry_ms
        self._broker = broker
        self._start = last_event_id
        self._user_id = actor.id if actor.kind is ActorKind.USER else None
        self._recheck = recheck
        self._recheck_interval = heartbeat if recheck_interval is None else recheck_interval
        self._checked_at = time.monotonic()
        #: The credential's expiry on the monotonic clock (``inf``: it does not expire).
        self._expires = float("inf")
        if expires_at is not None:
            self._expires = self._checked_at + (expires_at - datetime.now(UTC)).total_seconds()

    # -- the two ways to run it ------------------------------------------

    def frames(self) -> Generator[Frame, None, None]:
        """The frames, blocking between them (for threaded servers: Flask, WSGI).

        Runs until the consumer stops iterating or the broker shuts down;
        closing the generator (a WSGI server does when the client is gone)
        releases the subscription.
        """
        with self._broker.subscribe(self.actor) as subscription:
            # The cursor is fixed before the client hears of the stream, so nothing it does after is missed.
            if (cursor := self._cursor()) is None:
                return
            yield self._opening()
            quiet_since = time.monotonic()
            while subscription.active:
                if self._check_due() <= 0 and not self._still_allowed():
                    yield _SIGNED_OUT
                    return
                subscription.clear()
                if (batch := self._read(cursor)) is None:
                    return
                frames, cursor, more = batch
                yield from frames
                if frames:
                    quiet_since = time.monotonic()
                if more:
                    continue
                if (due := self._heartbeat_due(quiet_since)) <= 0:
                    yield _HEARTBEAT
                    quiet_since = time.monotonic()
                elif (wait := min(due, self._check_due())) > 0:
                    subscription.wait(wait)

    async def aframes(self) -> AsyncGenerator[Frame, None]:
        """The same frames for an event loop (FastAPI); store reads run in a worker thread."""
        subscription: Subscription = self._broker.subscribe(self.actor)
        try:
            if (cursor := await asyncio.to_thread(self._cursor)) is None:
                return
            yield self._opening()
            quiet_since = time.monotonic()
            while subscription.active:
                if self._check_due() <= 0 and not await asyncio.to_thread(self._still_allowed):
                    yield _SIGNED_OUT
                    return
                subscription.clear()
                if (batch := await asyncio.to_thread(self._read, cursor)) is None:
                    return
                frames, cursor, more = batch
                for frame in frames:
                    yield frame
                if frames:
                    quiet_since = time.monotonic()
                if more:
                    continue
                if (due := self._heartbeat_due(quiet_since)) <= 0:
                    yield _HEARTBEAT
                    quiet_since = time.monotonic()
                elif (wait := min(due, self._check_due())) > 0:
                    await subscription.wait_async(wait)
        finally:
            subscription.close()

    # -- reading the log -------------------------------------------------

    def _opening(self) -> Frame:
        return Frame(comment="supportchat stream", retry_ms=self.retry_ms)

    def _cursor(self) -> int | None:
        """Where to read from; ``None`` if the store cannot say (the stream then ends).

        Subscribed before this read, so an event committed meanwhile still rings.
        """
        if self._start is not None:
            return self._start
        try:
            return latest_event_id(self.desk.store)
        except StorageError as exc:
            _outages.report("open", "cannot open a live stream: the store is unavailable", exc)
            return None

    def _check_due(self) -> float:
        """Seconds until the caller must be checked again (0 or less: now)."""
        if self._recheck is None:
            return self._expires - time.monotonic()
        return min(self._checked_at + self._recheck_interval, self._expires) - time.monotonic()

    def _still_allowed(self) -> bool:
        """Whether the stream's credentials still name its actor; ``False`` ends the stream.

        A failure to check (the token registry is down) ends it too: the
        stream cannot vouch for its caller, and the reconnection is judged
        like any request.
        """
        if time.monotonic() >= self._expires:
            return False
        assert self._recheck is not None
        try:
            allowed = self._recheck() == self.actor
        except Exception as exc:
            _outages.report("recheck", "ending a live stream: its caller could not be checked again", exc)
            return False
        self._checked_at = time.monotonic()
        return allowed

    def _heartbeat_due(self, quiet_since: float) -> float:
        return self.heartbeat - (time.monotonic() - quiet_since)

    def _read(self, cursor: int) -> tuple[list[Frame], int, bool] | None:
        """The frames of the next batch after ``cursor``, the new cursor, and whether more may wait.

        ``None`` when the store fails: the stream ends, and the client, which
        reconnects by itself with ``Last-Event-ID``, resumes where it was.
        """
        try:
            records = self.desk.store.events_after(cursor, user_id=self._user_id, limit=self.batch)
            tickets: dict[int, Ticket | None] = {}
            frames = []
            for record in records:
                if record.ticket_id not in tickets:
                    tickets[record.ticket_id] = self._ticket(record.ticket_id)
                if (frame := self._frame(record, tickets[record.ticket_id])) is not None:
                    frames.append(frame)
        except StorageError as exc:
            _outages.report("read", "ending a live stream: the store failed", exc)
            return None
        return frames, (records[-1].id if records else cursor), len(records) == self.batch

    def _ticket(self, ticket_id: int) -> Ticket | None:
        ticket = self.desk.store.get_ticket(ticket_id)
        if ticket is None or (self._user_id is not None and ticket.user_id != self._user_id):
            return None
        return ticket.seen_by(self.actor)

    def _tagged(self, ticket: Ticket) -> Ticket:
        """Staff's ticket with its tags (a user's frames never carry them: the projection has no field)."""
        tags = self.desk.store.ticket_tags([ticket.id]).get(ticket.id, ())
        return ticket.model_copy(update={"tags": tags}) if tags else ticket

    def _frame(self, record: EventRecord, ticket: Ticket | None) -> Frame | None:
        """The event's frame; a user's goes through the customer projection (``None``: not theirs)."""
        message = message_of(self.desk.store, record) if ticket is not None else None
        payload: EventPayload | CustomerEvent | None
        if self._user_id is not None:
            payload = customer_event(record, ticket, message, self.actor)
            if payload is None:
                return None
        else:
            payload = EventPayload(
                event_id=record.id,
                type=record.type,
                ticket_id=record.ticket_id,
                created_at=record.created_at,
                ticket=None if ticket is None else self._tagged(ticket),
                message=message,
                note=None if ticket is None else announced_note(self.desk.store, record),
            )
        return Frame(id=record.id, event=record.type.value, data=payload.model_dump_json())


_HEARTBEAT = Frame(comment="heartbeat")
#: The last frame of a stream whose caller is no longer who it was (revoked, expired, signed out).
_SIGNED_OUT = Frame(comment="credentials no longer valid")
