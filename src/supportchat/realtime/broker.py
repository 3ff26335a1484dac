"""One reader per process: the broker reads each new event once and hands out its frames.

Whatever wakes the broker (the desk of this process, PostgreSQL ``NOTIFY``,
the SQLite change signal, a poll), its one reader thread reads the log
after the last id it has seen, renders each entry once per audience (staff;
the owning user, through the customer projection) and hands the frames to
the streams that may see them: every staff stream, and the owner's streams
only, so a user's stream never even holds another user's frame. The cost
of an event is one read and one render, whatever the number of streams.

Streams are kept in *groups* by how they are woken: one group per event
loop (its frames are handed out on that loop) and one for threads. Each
group has a ``tail``, the last id handed to it; a stream *armed* at tail
``t`` gets every frame after ``t`` it may see, so a stream that starts
behind ``t`` (a ``Last-Event-ID`` resume) reads the log itself up to ``t``
and then takes its queue, dropping ids it has already sent.

Handing out on a loop costs one write per stream, not a task waking: a
stream that is *idle* (caught up, its task parked, its caller's next check
not due) and whose server offers a :class:`~.frames.DirectWriter` gets the
frames written to its connection there and then, as one chunk encoded once
for the whole audience (:class:`~.frames.Parcel`). Any other stream gets
them in its queue and its task is woken. Batches that arrive while the last
is still being handed out are joined into one write. The loop hands out
:data:`WRITE_SLICE` streams at a time and lets other work (a request) run
between slices. Heartbeats and the callers' checks are one timer per loop
(:class:`_Timetable`), not one per stream.

A queue holds at most ``limit`` frames. A stream whose queue overflows has
*fallen behind*: its queue is emptied, nothing more is queued for it, and
when it next looks it is armed again at the group's tail and reads the log
itself up to there (see :class:`~.stream.EventStream`). A direct write is
refused when the connection's buffer is full, so the frames go to the queue
instead. Memory per stream is bounded by ``limit`` references to shared
frames and the server's write buffer, whatever its client does.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence

from ..events import Event
from ..models import Actor, ActorKind
from ..store import Store
from .frames import HEARTBEAT, DirectWriter, Frame, Parcel
from .render import Fanned, Renderer

__all__ = ["Broker", "Subscription"]

logger = logging.getLogger("supportchat.realtime")

#: Frames a stream may have waiting before it counts as behind (more than any burst the shared path should carry).
DEFAULT_QUEUE_LIMIT = 1000
#: Streams written to (or woken) in one go on an event loop before the loop may run other work (about 2 ms).
WRITE_SLICE = 128
#: Heartbeats and checks are looked at in steps of this many seconds (each step costs nothing when none is due).
TIMETABLE_STEP = 0.05
_HEARTBEAT_CHUNK = Parcel([HEARTBEAT]).chunk


class Subscription:
    """One stream's place on the shared path: its bounded queue, how it is woken, where it stands.

    A stream on an event loop is woken by resolving a future on that loop;
    a threaded stream by a :class:`threading.Event`. Queue and flags change
    under the group's lock. ``cursor``, ``quiet_since`` and ``check_at``
    are the stream's (see :class:`~.stream.EventStream`); the loop's
    fan-out moves the first two when it writes to an idle stream itself.
    Small on purpose (slots, a plain list, no thread primitive for a stream
    on a loop, no timer): there are thousands.
    """

    __slots__ = (
        "_due",
        "_group",
        "_rung",
        "_waiter",
        "armed_at",
        "check_at",
        "closed",
        "cursor",
        "failed",
        "heartbeat",
        "idle",
        "limit",
        "overflowed_at",
        "queue",
        "quiet_since",
        "sink",
        "user_id",
    )

    def __init__(self, group: _Group, user_id: int | None, limit: int) -> None:
        self.user_id = user_id
        self.limit = limit
        self.queue: list[Frame] = []
        #: Every frame after this id reaches the stream (until the next overflow).
        self.armed_at = group.tail
        #: When the queue overflowed (monotonic clock); nothing is queued until the stream re-arms.
        self.overflowed_at: float | None = None
        #: The broker could not read the log: the stream must end.
        self.failed = False
        self.closed = False
        #: The last id the stream sent (or skipped as not its viewer's).
        self.cursor = 0
        #: When the stream last sent something; a heartbeat is due ``heartbeat`` seconds later.
        self.quiet_since = time.monotonic()
        self.heartbeat = math.inf
        #: When its caller must be checked again (nothing is sent from then until the check passed).
        self.check_at = math.inf
        #: Parked on its loop with nothing to do: the fan-out may write to it directly.
        self.idle = False
        #: The server's direct way to the client, if it offers one.
        self.sink: DirectWriter | None = None
        self._group = group
        self._rung = threading.Event() if group.loop is None else None
        self._waiter: asyncio.Future[None] | None = None
        #: The timetable step the stream is entered at (older entries of it are stale).
        self._due: int | None = None

    # -- the broker's side ------------------------------------------------

    def _push(self, frames: list[Frame]) -> bool:
        """Queue ``frames``; whether the stream must be woken. Under the group's lock."""
        if self.overflowed_at is not None:
            return False
        if len(self.queue) + len(frames) > self.limit:
            self.queue.clear()
            self.overflowed_at = time.monotonic()
            self._group.broker.overflows += 1
            return True
        self.queue.extend(frames)
        return True

    def _write_now(self, parcel: Parcel, now: float) -> bool:
        """Write ``parcel`` to the client at once if the stream is idle and may send; whether it did (on the loop)."""
        sink = self.sink
        if sink is None or not self.idle or self.queue or now >= self.check_at or parcel.first_id <= self.cursor:
            return False
        if not sink.write(parcel.chunk):
            return False
        self.cursor = parcel.last_id
        self.quiet_since = now
        return True

    def _wake(self) -> None:
        """On the group's loop (or any thread, for a threaded stream)."""
        # No longer idle from now, not from when its task runs: a frame written directly meanwhile
        # would pass the frames its queue holds.
        self.idle = False
        if self._rung is not None:
            self._rung.set()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _next_due(self) -> float:
        return min(self.check_at, self.quiet_since + self.heartbeat)

    # -- the stream's side ------------------------------------------------

    def take(self) -> tuple[list[Frame], float | None]:
        """The queued frames, and when the queue overflowed if it did.

        After an overflow the subscription is armed again at the group's
        tail (:attr:`armed_at`): the stream must read the log up to there.
        """
        with self._group.lock:
            if self._rung is not None:
                self._rung.clear()
            frames, self.queue = self.queue, []
            overflowed_at, self.overflowed_at = self.overflowed_at, None
            if overflowed_at is not None:
                self.armed_at = self._group.tail
            return frames, overflowed_at

    def clear(self) -> None:
        """Forget past wake-ups (a stream about to read the log keeps one that comes during the read)."""
        if self._rung is not None:
            self._rung.clear()

    @property
    def pending(self) -> bool:
        return bool(self.queue) or self.overflowed_at is not None or self.failed or not self.active

    @property
    def active(self) -> bool:
        """False once closed, once the broker shut down or once the client is gone: the stream should end."""
        return not self.closed and not self._group.broker.shut_down and not (self.sink is not None and self.sink.closed)

    def wait(self, timeout: float) -> bool:
        """Block until woken or ``timeout`` seconds passed (threaded streams)."""
        assert self._rung is not None, "a stream on an event loop waits with park"
        return self._rung.wait(timeout)

    async def park(self) -> None:
        """Wait on the stream's loop until there is something for its task to do.

        Meanwhile the stream is *idle*: the loop's fan-out writes its frames
        and heartbeats itself when it can, and the loop's timetable wakes it
        when its caller's check (or a heartbeat it cannot write) is due. A
        bare future: no task, no timer per stream.
        """
        if self.pending:
            return
        loop = asyncio.get_running_loop()
        timetable = self._group.timetable
        assert timetable is not None, "a threaded stream waits with wait"
        timetable.enter(self, self._next_due())
        waiter = self._waiter = loop.create_future()
        self.idle = True
        try:
            await waiter
        finally:
            self.idle = False
            self._waiter = None

    def close(self) -> None:
        """Leave the shared path; idempotent."""
        if not self.closed:
            self.closed = True
            self._group.remove(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class _Timetable:
    """When an idle stream of one loop next needs something: a heartbeat, its caller's check.

    Streams are entered at the :data:`TIMETABLE_STEP` their next need falls
    in; one timer on the loop looks at each step's streams when it comes: a
    heartbeat is written directly where it can be, otherwise the stream's
    task is woken. A stream that sent frames meanwhile is entered again at
    its new time. A step with no stream costs a dictionary look-up.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._steps: dict[int, list[Subscription]] = {}
        self._looked = math.floor(time.monotonic() / TIMETABLE_STEP)
        self._timer: asyncio.TimerHandle | None = None
        self._timer_step = 0

    def enter(self, subscription: Subscription, at: float) -> None:
        """Look at ``subscription`` at ``at`` (monotonic seconds; on the loop)."""
        if math.isinf(at):
            subscription._due = None
            return
        step = max(math.ceil(at / TIMETABLE_STEP), self._looked + 1)
        if subscription._due == step:
            return
        subscription._due = step
        self._steps.setdefault(step, []).append(subscription)
        if self._timer is None or step < self._timer_step:
            self._set_timer(step)

    def _set_timer(self, step: int) -> None:
        if self._timer is not None:
            self._timer.cancel()
        # The loop's clock need not be time.monotonic() (uvloop's is not): wait the difference.
        delay = max(0.0, step * TIMETABLE_STEP - time.monotonic())
        self._timer = self.loop.call_later(delay, self._look)
        self._timer_step = step

    def _look(self) -> None:
        self._timer = None
        now = time.monotonic()
        current = math.floor(now / TIMETABLE_STEP)
        due: list[Subscription] = []
        for step in range(self._looked + 1, current + 1):
            due.extend(s for s in self._steps.pop(step, ()) if s._due == step)
        self._looked = max(self._looked, current)
        self._attend(due, 0)
        if self._steps:
            self._set_timer(min(self._steps))

    def _attend(self, due: list[Subscription], start: int) -> None:
        now = time.monotonic()
        for subscription in due[start : start + WRITE_SLICE]:
            subscription._due = None
            if subscription.closed or not subscription.idle:
                continue  # busy: it enters itself again when it parks
            if not subscription.active or now >= subscription.check_at:
                subscription._wake()
            elif now - subscription.quiet_since >= subscription.heartbeat:
                sink = subscription.sink
                if sink is not None and sink.write(_HEARTBEAT_CHUNK):
                    subscription.quiet_since = now
                    self.enter(subscription, subscription._next_due())
                else:
                    subscription._wake()
            else:
                self.enter(subscription, subscription._next_due())  # it sent frames meanwhile
        if start + WRITE_SLICE < len(due):
            self.loop.call_soon(self._attend, due, start + WRITE_SLICE)


class _Group:
    """The streams woken the same way (one event loop, or threads), by audience."""

    def __init__(self, broker: Broker, loop: asyncio.AbstractEventLoop | None, tail: int) -> None:
        self.broker = broker
        self.loop = loop
        self.lock = threading.Lock()
        self.tail = tail
        self.staff: set[Subscription] = set()
        self.users: dict[int, set[Subscription]] = {}
        self.timetable = _Timetable(loop) if loop is not None else None
        #: Batches received and not yet handed out, and the one being handed out (on the loop).
        self._waiting: list[Sequence[Fanned]] = []
        self._handing: Iterator[tuple[Subscription, Parcel]] | None = None
        self._scheduled = False

    def join(self, user_id: int | None, limit: int) -> Subscription:
        """A new subscription armed at this group's tail (read and joined at once: no batch falls between)."""
        with self.lock:
            subscription = Subscription(self, user_id, limit)
            if user_id is None:
                self.staff.add(subscription)
            else:
                self.users.setdefault(user_id, set()).add(subscription)
            return subscription

    def remove(self, subscription: Subscription) -> None:
        with self.lock:
            if subscription.user_id is None:
                self.staff.discard(subscription)
            else:
                group = self.users.get(subscription.user_id)
                if group is not None:
                    group.discard(subscription)
                    if not group:
                        del self.users[subscription.user_id]
        self.broker._left(self)

    def __len__(self) -> int:
        return len(self.staff) + sum(len(group) for group in self.users.values())

    def everyone(self) -> list[Subscription]:
        with self.lock:
            return [*self.staff, *(s for group in self.users.values() for s in group)]

    def deliver(self, batch: Sequence[Fanned]) -> None:
        """Take a batch for this group's streams (on the group's loop, or the reader thread for threads)."""
        with self.lock:
            self.tail = max(self.tail, batch[-1].id)
        self._waiting.append(batch)
        if not self._scheduled:
            self._scheduled = True
            self._hand_out()

    def _audience(self, batches: list[Sequence[Fanned]]) -> Iterator[tuple[Subscription, Parcel]]:
        """Every stream of the group with its parcel of ``batches``: one for staff, one per owner.

        Who listens is read when the hand-out starts: a stream that joined
        after a batch came is armed after it and drops what it already has.
        """
        staff = Parcel([fanned.staff for batch in batches for fanned in batch])
        owners: dict[int, list[Frame]] = {}
        for batch in batches:
            for fanned in batch:
                if fanned.owner is not None:
                    owners.setdefault(fanned.user_id, []).append(fanned.owner)
        with self.lock:
            listeners = [(list(self.staff), staff)]
            listeners += [(list(self.users[u]), Parcel(frames)) for u, frames in owners.items() if u in self.users]
        for subscriptions, parcel in listeners:
            for subscription in subscriptions:
                yield subscription, parcel

    def _hand_out(self) -> None:
        """Hand :data:`WRITE_SLICE` streams their parcels, then let the loop run what else is ready.

        Ten thousand streams served at once would hold every request the
        loop is serving for the whole fan-out; in slices, a request waits
        for one slice at most. Batches are handed out in order, each to
        every stream before the next (joined when several are waiting).
        """
        now = time.monotonic()
        woken: list[Subscription] = []
        budget = WRITE_SLICE
        while budget > 0:
            if self._handing is None:
                if not self._waiting:
                    break
                batches, self._waiting = self._waiting, []
                self._handing = self._audience(batches)
            served = 0
            for subscription, parcel in itertools.islice(self._handing, budget):
                served += 1
                if subscription.closed or subscription._write_now(parcel, now):
                    continue
                with self.lock:
                    if subscription._push(parcel.frames):
                        woken.append(subscription)
            if served < budget:
                self._handing = None
            budget -= served
        for subscription in woken:
            subscription._wake()
        if self._handing is None and not self._waiting:
            self._scheduled = False
        elif self.loop is None:
            self._hand_out()
        else:
            self.loop.call_soon(self._hand_out)

    def wake_all(self, *, failed: bool = False) -> None:
        for subscription in self.everyone():
            subscription.failed = subscription.failed or failed
            subscription._wake()

    def call(self, function: Callable[..., None], *args: object) -> bool:
        """Run ``function`` where this group's streams wait; False once its loop is closed."""
        if self.loop is None:
            function(*args)
            return True
        try:
            self.loop.call_soon_threadsafe(function, *args)
        except RuntimeError:  # the loop closed: nobody waits on it any more
            return False
        return True


class Broker:
    """The process's one reader of the event log, and who listens, by audience.

    ``store`` is the log to read (a stream binds its desk's store to a
    broker made without one); ``queue_limit`` bounds each stream's queue;
    ``batch`` is the most entries read at once.
    """

    def __init__(self, store: Store | None = None, *, queue_limit: int = DEFAULT_QUEUE_LIMIT, batch: int = 500) -> None:
        if queue_limit <= 0 or batch <= 0:
            raise ValueError("queue_limit and batch must be positive")
        self.queue_limit = queue_limit
        self.batch = batch
        self.shut_down = False
        #: How many entries the reader has read, and how many reads it made (for monitoring and tests).
        self.reads = 0
        self.events_read = 0
        #: How many times a stream's queue overflowed, and how many streams were dropped as too slow.
        self.overflows = 0
        self.dropped = 0
        self._store = store
        self._renderer: Renderer | None = None
        self._lock = threading.Lock()
        self._emptied = threading.Condition(self._lock)
        self._groups: dict[asyncio.AbstractEventLoop | None, _Group] = {}
        self._tail: int | None = None
        self._rung = threading.Event()
        self._thread: threading.Thread | None = None

    # -- streams ------------------------------------------------------------

    def subscribe(
        self, actor: Actor, loop: asyncio.AbstractEventLoop | None = None, *, store: Store | None = None
    ) -> Subscription:
        """A place on the shared path for ``actor``'s stream: every event for staff, their own for a user.

        ``loop`` is the event loop the stream waits on (``None``: a thread).
        The first subscription reads the log's tail (blocking: call it from a
        thread) and starts the reader; without a store (``store`` binds one)
        there is no reader, only wake-ups.
        """
        user_id = actor.id if actor.kind is ActorKind.USER else None
        with self._lock:
            if self._store is None:
                self._store = store
            if self._tail is None and self._store is not None:
                self._tail = self._store.last_event_id()
                self._renderer = Renderer(self._store)
                self._thread = threading.Thread(target=self._run, name="supportchat-event-reader", daemon=True)
                self._thread.start()
            group = self._groups.get(loop)
            if group is None:
                group = self._groups[loop] = _Group(self, loop, self._tail or 0)
            return group.join(user_id, self.queue_limit)

    def wake(self) -> None:
        """New events may be in the log: the reader reads once, for everyone."""
        self._rung.set()

    def announce(self, user_id: int | None = None) -> None:
        """New events exist for ``user_id``'s tickets (``None``: anyone's): wake the reader.

        Threaded streams of that user and of staff are also rung (a broker
        without a store has no reader: its streams read the log themselves).
        """
        self._rung.set()
        threads = self._groups.get(None)
        if threads is None:
            return
        with threads.lock:
            if user_id is None:
                targets = [*threads.staff, *(s for group in threads.users.values() for s in group)]
            else:
                targets = [*threads.staff, *threads.users.get(user_id, ())]
        for subscription in targets:
            subscription._wake()

    def attach(self, subscribe: Callable[[Callable[[Event], None]], Callable[[], None]]) -> Callable[[], None]:
        """Wake the reader on every event of a desk (pass ``desk.subscribe``); returns the detach function.

        The listener only sets a flag, so it adds microseconds to the write.
        """
        return subscribe(lambda event: self.wake())

    def shutdown(self, wait: float = 5.0) -> bool:
        """End every stream: wake them all, and wait up to ``wait`` seconds for them to close.

        Whether every stream closed in time. A stream closes when its
        consumer asks for the next frame, which a server does at once.
        """
        self.shut_down = True
        self._rung.set()
        for group in self._snapshot():
            group.call(group.wake_all)
        with self._emptied:
            return self._emptied.wait_for(lambda: not any(map(len, self._groups.values())), timeout=wait)

    @property
    def listeners(self) -> int:
        """How many streams are open."""
        return sum(len(group) for group in self._snapshot())

    @property
    def tail(self) -> int | None:
        """The last id the reader has handed out (``None`` before the first stream)."""
        return self._tail

    def _snapshot(self) -> list[_Group]:
        with self._lock:
            return list(self._groups.values())

    def _left(self, group: _Group) -> None:
        with self._lock:
            if not len(group) and self._groups.get(group.loop) is group:
                del self._groups[group.loop]
            if not self._groups:
                self._emptied.notify_all()

    # -- the reader ---------------------------------------------------------

    def _run(self) -> None:
        while not self.shut_down:
            self._rung.wait()
            self._rung.clear()
            if self.shut_down:
                return
            try:
                self.read_once()
            except Exception:
                # The streams cannot be served from here: they end, and their clients resume with Last-Event-ID.
                logger.warning("reading the event log for the live streams failed", exc_info=True)
                for group in self._snapshot():
                    group.call(functools.partial(group.wake_all, failed=True))

    def read_once(self) -> int:
        """Read what is new since the last read and hand it out; how many entries (the reader thread calls it)."""
        assert self._store is not None and self._renderer is not None and self._tail is not None
        seen = 0
        while True:
            records = self._store.events_after(self._tail, limit=self.batch)
            self.reads += 1
            if not records:
                return seen
            # Rendered outside the lock (streams keep opening meanwhile), for every owner: a user who
            # subscribes while the batch is rendered is armed before it and must find their frame in it.
            batch = self._renderer.fan_out(records)
            with self._lock:
                for group in list(self._groups.values()):
                    if not group.call(group.deliver, batch):
                        del self._groups[group.loop]
                self._tail = records[-1].id
            seen += len(records)
            self.events_read += len(records)
            if len(records) < self.batch:
                return seen
