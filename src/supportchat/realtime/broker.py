"""Waking live streams when the event log has grown.

The :class:`Broker` carries no events, only the news that there are new
ones: a stream that is woken reads the store's persisted event log itself.
So a burst of a thousand events costs a waiting stream one wake-up, nothing
is queued per client (memory stays bounded whatever the clients do), and a
wake-up that comes late or twice does no harm.

Wake-ups come from the desk of this process (:meth:`Broker.attach`), from
PostgreSQL ``NOTIFY`` for other processes (:mod:`.postgres`) and from a slow
poll of the log (:mod:`.poller`) where the database cannot notify.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable

from ..events import Event
from ..models import Actor, ActorKind

__all__ = ["Broker", "Subscription"]


class Subscription:
    """One stream's doorbell: set by the broker, waited on by the stream.

    Waiting works from a thread (:meth:`wait`) and from an event loop
    (:meth:`wait_async`); the first async wait binds the subscription to
    that loop.
    """

    def __init__(self, broker: Broker, user_id: int | None) -> None:
        self.user_id = user_id
        self._broker = broker
        self._rung = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._async_rung: asyncio.Event | None = None
        self.closed = False

    def ring(self) -> None:
        """Wake the stream (callable from any thread)."""
        self._rung.set()
        loop, rung = self._loop, self._async_rung
        if loop is not None and rung is not None and not loop.is_closed():
            # RuntimeError: the loop closed meanwhile, so nobody is waiting any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(rung.set)

    def clear(self) -> None:
        """Forget past rings; call before reading the log, so a ring during the read is kept."""
        self._rung.clear()
        if self._async_rung is not None:
            self._async_rung.clear()

    def wait(self, timeout: float) -> bool:
        """Block until rung or ``timeout`` seconds passed; whether it was rung."""
        return self._rung.wait(timeout)

    async def wait_async(self, timeout: float) -> bool:
        """Wait in the running event loop until rung or ``timeout`` seconds passed."""
        if self._async_rung is None:
            self._loop = asyncio.get_running_loop()
            self._async_rung = asyncio.Event()
            if self._rung.is_set():
                self._async_rung.set()
        try:
            await asyncio.wait_for(self._async_rung.wait(), timeout)
        except TimeoutError:
            return False
        return True

    @property
    def active(self) -> bool:
        """False once closed or once the broker shut down: the stream should end."""
        return not self.closed and not self._broker.shut_down

    def close(self) -> None:
        """Stop receiving rings; idempotent."""
        if not self.closed:
            self.closed = True
            self._broker._remove(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class Broker:
    """Who is listening, by user: rings admin subscriptions for every event, a user's for theirs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._emptied = threading.Condition(self._lock)
        self._everyone: set[Subscription] = set()
        self._by_user: dict[int, set[Subscription]] = {}
        self.shut_down = False

    def subscribe(self, actor: Actor) -> Subscription:
        """A subscription for ``actor``'s stream: every ticket for staff, their own for a user."""
        user_id = actor.id if actor.kind is ActorKind.USER else None
        subscription = Subscription(self, user_id)
        with self._lock:
            if user_id is None:
                self._everyone.add(subscription)
            else:
                self._by_user.setdefault(user_id, set()).add(subscription)
        return subscription

    def announce(self, user_id: int | None = None) -> None:
        """New events exist for ``user_id``'s tickets; ``None`` when unknown (rings everyone)."""
        with self._lock:
            if user_id is None:
                targets = [*self._everyone, *(s for group in self._by_user.values() for s in group)]
            else:
                targets = [*self._everyone, *self._by_user.get(user_id, ())]
        for subscription in targets:
            subscription.ring()

    def attach(self, subscribe: Callable[[Callable[[Event], None]], Callable[[], None]]) -> Callable[[], None]:
        """Ring on every event of a desk (pass ``desk.subscribe``); returns the detach function.

        The listener only sets flags, so it adds microseconds to the write
        that announces the event.
        """
        return subscribe(lambda event: self.announce(event.ticket.user_id))

    def shutdown(self, wait: float = 5.0) -> bool:
        """End every stream: ring them all, and wait up to ``wait`` seconds for them to close.

        Whether every stream closed in time. A stream closes when its
        consumer asks for the next frame, which a server does at once.
        """
        self.shut_down = True
        self.announce(None)
        with self._emptied:
            return self._emptied.wait_for(lambda: not self._everyone and not self._by_user, timeout=wait)

    @property
    def listeners(self) -> int:
        """How many subscriptions are open."""
        with self._lock:
            return len(self._everyone) + sum(len(group) for group in self._by_user.values())

    def _remove(self, subscription: Subscription) -> None:
        with self._lock:
            if subscription.user_id is None:
                self._everyone.discard(subscription)
            else:
                group = self._by_user.get(subscription.user_id)
                if group is not None:
                    group.discard(subscription)
                    if not group:
                        del self._by_user[subscription.user_id]
            if not self._everyone and not self._by_user:
                self._emptied.notify_all()
