"""One client's live stream: the shared path of the broker, and the log itself when behind.

A stream starts from a cursor: the newest event (a fresh client) or the id
in ``Last-Event-ID``. It joins the broker's shared path first, *armed* at
the last id the broker has handed out; if its cursor is behind that, it
reads :meth:`Store.events_after <supportchat.stores.Store.events_after>` on
its own, in bounded batches, up to that id, and then takes its queue,
skipping what it has already sent (ids only grow). So a client that
reconnects with ``Last-Event-ID`` gets exactly the events after that id, in
order, once, whatever happened while it was away. A stream that falls
behind (its queue overflowed while its client was slow to take frames)
catches up from the log the same way and rejoins; one that stays behind for
more than ``slow_after`` seconds is too slow for the event rate and ends
with :data:`TOO_SLOW`, its client's reconnect catching up from the log. A
user's stream reads the log filtered by that user's id and queues only that
user's frames, so another user's event never reaches it.

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
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from datetime import UTC, datetime

from ..desk import SupportDesk
from ..errors import StorageError, ValidationError
from ..models import Actor, ActorKind
from ..outages import OutageLog
from ..rules import MAX_ID
from ..store import Store
from .broker import Broker, Subscription
from .frames import HEARTBEAT, DirectWriter, Frame
from .render import Renderer, message_of

__all__ = ["TOO_SLOW", "EventStream", "latest_event_id", "message_of", "parse_last_event_id"]

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

    Staff see every ticket's events; a user only their own tickets' (of the
    types the customer projection lets through). Without ``last_event_id``
    the stream starts at the newest event (only what happens from now on);
    with it, right after that id. ``heartbeat`` is the longest silence
    before a comment frame is sent (it also bounds how long a vanished
    client keeps the stream open), ``batch`` the most events read from the
    store at once when the stream reads the log itself.

    ``recheck`` names the caller again from the credentials that opened the
    stream (``None`` when they are no longer valid); it is asked before
    anything is sent once ``recheck_interval`` seconds (default
    ``heartbeat``) have passed since the last answer, and at
    ``expires_at``, when the credential runs out. The stream ends as soon as
    the answer is not ``actor``. Without ``recheck`` the stream still ends at
    ``expires_at``. ``slow_after`` is how long a stream may stay behind the
    shared path before it is dropped as too slow. ``on_close`` is called
    once when the stream ends.

    :meth:`frames` and :meth:`aframes` yield frame by frame; :meth:`wire`
    and :meth:`awire` yield the bytes of whatever is ready at once (what
    servers write: one write per wake-up, not per frame). :meth:`serve`
    sends them itself, and lets the broker write to an idle stream's client
    directly when the server offers a :class:`~.frames.DirectWriter`.
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
        slow_after: float = 30.0,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        if actor.kind is ActorKind.USER and actor.id is None:
            raise ValueError("a user's stream needs the user's id")
        if heartbeat <= 0 or batch <= 0 or slow_after <= 0 or (recheck_interval is not None and recheck_interval <= 0):
            raise ValueError("heartbeat, batch, slow_after and recheck_interval must be positive")
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
        now = time.monotonic()
        # The first check comes up to half an interval early, at random: streams opened together
        # (ten thousand after a restart) are then checked spread out, not all in the same instant.
        self._checked_at = now - random.uniform(0, self._recheck_interval / 2)
        #: The credential's expiry on the monotonic clock (``inf``: it does not expire).
        self._expires = float("inf")
        if expires_at is not None:
            self._expires = now + (expires_at - datetime.now(UTC)).total_seconds()
        self.slow_after = slow_after
        self._on_close = on_close
        #: The stream's place on the shared path (its cursor and clocks live there); set when it opens.
        self._subscription: Subscription | None = None
        #: While behind the shared path: read the log up to this id; since when it is behind.
        self._catch_up_to: int | None = None
        self._behind_since = 0.0
        #: How many times the stream fell behind and read the log itself (for monitoring and tests).
        self.catch_ups = 0
        self._ended = False

    # -- the ways to run it ------------------------------------------------

    def frames(self) -> Generator[Frame, None, None]:
        """The frames, blocking between them (for threaded servers: Flask, WSGI).

        Runs until the consumer stops iterating or the broker shuts down;
        closing the generator (a WSGI server does when the client is gone)
        releases the subscription.
        """
        batches = self._batches()
        try:
            for batch in batches:
                yield from batch
        finally:
            batches.close()

    def wire(self) -> Generator[bytes, None, None]:
        """The bytes of :meth:`frames`, whatever is ready joined into one chunk."""
        batches = self._batches()
        try:
            for batch in batches:
                yield b"".join(frame.wire for frame in batch)
        finally:
            batches.close()

    async def aframes(self) -> AsyncGenerator[Frame, None]:
        """The same frames for an event loop (FastAPI); store reads run in a worker thread."""
        batches = self._abatches()
        try:
            async for batch in batches:
                for frame in batch:
                    yield frame
        finally:
            await batches.aclose()

    async def awire(self) -> AsyncGenerator[bytes, None]:
        """The bytes of :meth:`aframes`, whatever is ready joined into one chunk."""
        batches = self._abatches()
        try:
            async for batch in batches:
                yield b"".join(frame.wire for frame in batch)
        finally:
            await batches.aclose()

    async def serve(self, send: Callable[[bytes], Awaitable[None]], direct: DirectWriter | None = None) -> None:
        """Send the stream with ``send`` on this event loop until it ends.

        With ``direct`` (the server's writer for this response, once its
        headers are sent) the broker writes the frames and heartbeats of the
        stream while it is idle straight to the client: its task wakes only
        to catch up, to check its caller, or to end.
        """
        batches = self._abatches(direct)
        try:
            async for batch in batches:
                await send(b"".join(frame.wire for frame in batch))
        finally:
            await batches.aclose()

    def _batches(self) -> Generator[list[Frame], None, None]:
        subscription = None
        try:
            if (subscription := self._open(None)) is None:
                return
            yield [self._opening()]
            while (step := self._step(subscription, blocking=True)) is not None:
                if isinstance(step, float):
                    subscription.wait(step)
                    continue
                assert isinstance(step, list)
                yield step
                if self._ended:
                    return
        finally:
            self._close(subscription)

    async def _abatches(self, direct: DirectWriter | None = None) -> AsyncGenerator[list[Frame], None]:
        subscription = None
        try:
            # Joining reads the store (the cursor, the broker's first tail): in a worker thread.
            if (subscription := await asyncio.to_thread(self._open, asyncio.get_running_loop())) is None:
                return
            yield [self._opening()]
            if direct is not None:  # the opening is out: the broker may write after it
                subscription.sink = direct
                direct.on_close(subscription._wake)
            while True:
                step = self._step(subscription, blocking=False)
                if step is _BLOCKING:
                    step = await asyncio.to_thread(self._step, subscription, blocking=True)
                if step is None:
                    return
                if isinstance(step, float):
                    await subscription.park()  # the loop's timetable wakes it when a heartbeat or check is due
                    continue
                assert isinstance(step, list)
                yield step
                if self._ended:
                    return
        finally:
            self._close(subscription)

    # -- the steps -----------------------------------------------------------

    def _opening(self) -> Frame:
        return Frame(comment="supportchat stream", retry_ms=self.retry_ms)

    def _open(self, loop: asyncio.AbstractEventLoop | None) -> Subscription | None:
        """Join the shared path and fix the cursor; ``None`` if the store cannot say (the stream then ends).

        Joined before the cursor is read, so an event committed meanwhile still arrives.
        """
        try:
            subscription = self._broker.subscribe(self.actor, loop, store=self.desk.store)
        except StorageError as exc:
            _outages.report("open", "cannot open a live stream: the store is unavailable", exc)
            return None
        try:
            subscription.cursor = latest_event_id(self.desk.store) if self._start is None else self._start
        except StorageError as exc:
            subscription.close()
            _outages.report("open", "cannot open a live stream: the store is unavailable", exc)
            return None
        self._subscription = subscription
        subscription.heartbeat = self.heartbeat
        subscription.quiet_since = time.monotonic()
        self._plan_check()
        if subscription.cursor < subscription.armed_at:
            self._fall_behind(subscription.armed_at, subscription.quiet_since)
        return subscription

    def _step(self, subscription: Subscription, *, blocking: bool) -> list[Frame] | float | object | None:
        """What to do next: frames to send, seconds to wait, ``None`` to end, or :data:`_BLOCKING`.

        With ``blocking`` false the step never touches the store: it answers
        :data:`_BLOCKING` instead, for the caller to run it in a thread.
        """
        while True:
            if subscription.failed or not subscription.active:
                return None
            if self._check_due() <= 0:
                if not blocking:
                    return _BLOCKING
                if not self._still_allowed():
                    self._ended = True
                    return [_SIGNED_OUT]
            if self._catch_up_to is not None:
                if time.monotonic() - self._behind_since > self.slow_after:
                    self._ended = True
                    self._broker.dropped += 1
                    return [TOO_SLOW]
                if not blocking:
                    return _BLOCKING
                if (caught := self._read_log(self._catch_up_to)) is None:
                    return None
                if caught:
                    return self._sent(caught)
                continue
            frames, overflowed_at = subscription.take()
            if overflowed_at is not None:
                self._fall_behind(subscription.armed_at, overflowed_at)
                continue
            if fresh := [frame for frame in frames if frame.id is not None and frame.id > subscription.cursor]:
                subscription.cursor = fresh[-1].id or subscription.cursor
                return self._sent(fresh)
            if (due := self._heartbeat_due()) <= 0:
                return self._sent([HEARTBEAT])
            return max(min(due, self._check_due()), 0.001)

    def _fall_behind(self, target: int, since: float) -> None:
        self._catch_up_to = target
        self._behind_since = since
        self.catch_ups += 1

    def _sent(self, frames: list[Frame]) -> list[Frame]:
        assert self._subscription is not None
        self._subscription.quiet_since = time.monotonic()
        return frames

    def _read_log(self, target: int) -> list[Frame] | None:
        """The next batch of the log after the cursor, up to the shared path; ``None`` when the store fails.

        Once the read reaches ``target`` (or the end of the log) the stream is
        back on the shared path. On a store failure the stream ends, and the
        client, which reconnects by itself with ``Last-Event-ID``, resumes
        where it was.
        """
        subscription = self._subscription
        assert subscription is not None
        try:
            records = self.desk.store.events_after(subscription.cursor, user_id=self._user_id, limit=self.batch)
            frames = Renderer(self.desk.store).frames(records, self.actor)
        except StorageError as exc:
            _outages.report("read", "ending a live stream: the store failed", exc)
            return None
        if records:
            subscription.cursor = records[-1].id
        if len(records) < self.batch or subscription.cursor >= target:
            self._catch_up_to = None
        return frames

    def _check_due(self) -> float:
        """Seconds until the caller must be checked again (0 or less: now)."""
        assert self._subscription is not None
        return self._subscription.check_at - time.monotonic()

    def _plan_check(self) -> None:
        """Tell the broker when the caller is next checked: nothing is written to the stream from then until it is."""
        assert self._subscription is not None
        due = self._expires if self._recheck is None else min(self._checked_at + self._recheck_interval, self._expires)
        self._subscription.check_at = due

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
        self._plan_check()
        return allowed

    def _heartbeat_due(self) -> float:
        assert self._subscription is not None
        return self.heartbeat - (time.monotonic() - self._subscription.quiet_since)

    def __del__(self) -> None:
        # A stream whose response never started (its client left first) was never run: it still
        # gives its place under the caps back, when it is collected.
        if getattr(self, "_on_close", None) is not None:
            self._close(None)

    def _close(self, subscription: Subscription | None) -> None:
        if subscription is not None:
            subscription.close()
        if self._on_close is not None:
            on_close, self._on_close = self._on_close, None
            on_close()


#: What :meth:`EventStream._step` answers when the next step must read the store.
_BLOCKING = object()
#: The last frame of a stream whose caller is no longer who it was (revoked, expired, signed out).
_SIGNED_OUT = Frame(comment="credentials no longer valid")
#: The last frame of a stream whose client reads more slowly than events come; it reconnects and catches up.
TOO_SLOW = Frame(comment="too slow: reconnect with Last-Event-ID to catch up")
