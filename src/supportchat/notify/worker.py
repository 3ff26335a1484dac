"""The background worker: feeds each notifier's outbox from the event log and delivers.

One daemon thread per notifier, so a hung webhook never delays email. Each
thread repeats: take the new events of the log into the outbox (with the
notifier's payloads), attempt every delivery that is due, then sleep until
the desk announces an event, a retry is due, or ``poll_interval`` passed
(the poll also picks up events written by other processes).

The desk's listener only sets a flag, so notifiers cost an API call a few
microseconds, whatever their receivers do.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

import tenacity

from ..desk import SupportDesk
from ..models import EventRecord
from ..realtime.stream import latest_event_id, message_of
from .base import Notification, Notifier, PermanentFailure
from .outbox import Delivery, Outbox

__all__ = ["NotificationWorker"]

logger = logging.getLogger("supportchat.notify")


class NotificationWorker:
    """Runs notifiers off the request path, with durable, bounded retries.

    ``max_attempts`` bounds the attempts of one delivery (then it is
    ``failed``, the error recorded); the delay before attempt *n + 1* is
    tenacity's exponential wait from ``first_retry`` doubling up to
    ``max_retry``. A notifier that never ran starts at the newest event (it
    does not announce the past) unless ``from_beginning``.
    """

    def __init__(
        self,
        desk: SupportDesk,
        outbox: Outbox,
        notifiers: Sequence[Notifier],
        *,
        poll_interval: float = 1.0,
        max_attempts: int = 8,
        first_retry: float = 1.0,
        max_retry: float = 300.0,
        lease: float = 120.0,
        batch: int = 100,
        from_beginning: bool = False,
    ) -> None:
        names = [n.name for n in notifiers]
        if len(set(names)) != len(names):
            raise ValueError(f"notifier names must be unique: {names}")
        self.desk = desk
        self.outbox = outbox
        self.notifiers = tuple(notifiers)
        self.poll_interval = poll_interval
        self.max_attempts = max_attempts
        self.lease = lease
        self.batch = batch
        self._from_beginning = from_beginning
        self._wait = tenacity.wait_exponential(multiplier=first_retry, max=max_retry)
        self._stopping = threading.Event()
        self._wakers = {name: threading.Event() for name in names}
        self._threads: list[threading.Thread] = []
        self._detach: Callable[[], None] | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> NotificationWorker:
        """Listen to the desk and start one thread per notifier."""
        if self._threads:
            return self
        for notifier in self.notifiers:
            # Fixed now, so that an event written right after start() is not taken for the past.
            self._cursor(notifier)
        self._detach = self.desk.subscribe(lambda event: self.wake())
        for notifier in self.notifiers:
            thread = threading.Thread(
                target=self._run, args=(notifier,), name=f"supportchat-notify-{notifier.name}", daemon=True
            )
            self._threads.append(thread)
            thread.start()
        return self

    def wake(self) -> None:
        """New events may exist: every notifier thread looks now."""
        for waker in self._wakers.values():
            waker.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the threads (an attempt in progress finishes first, up to ``timeout``)."""
        if self._detach is not None:
            self._detach()
        self._stopping.set()
        self.wake()
        for thread in self._threads:
            thread.join(timeout)

    # -- one round ---------------------------------------------------------

    def run_once(self, notifier: Notifier) -> bool:
        """Take in the new events and attempt what is due, once (the thread's loop body).

        Whether the receiver looked healthy (no attempt failed for a reason worth retrying).
        """
        self.take_in(notifier)
        return self.deliver_due(notifier)

    def take_in(self, notifier: Notifier) -> int:
        """Move the notifier's new events into the outbox; how many events were read."""
        cursor = self._cursor(notifier)
        read = 0
        while records := self.desk.store.events_after(cursor, limit=self.batch):
            payloads = []
            for record in records:
                payload = notifier.prepare(self._notification(record))
                if payload is not None:
                    payloads.append((record.id, payload))
            if not self.outbox.take_in(notifier.name, cursor, records[-1].id, payloads):
                break  # another process took these in first; it will deliver them
            cursor = records[-1].id
            read += len(records)
        return read

    def _cursor(self, notifier: Notifier) -> int:
        cursor = self.outbox.cursor(notifier.name)
        if cursor is None:
            start = 0 if self._from_beginning else latest_event_id(self.desk.store)
            cursor = self.outbox.start_cursor(notifier.name, start)
        return cursor

    def deliver_due(self, notifier: Notifier) -> bool:
        """Attempt the due deliveries in event order, stopping at the first that should be retried.

        A receiver that fails one delivery is most likely down: trying the
        next ones at once would only add load, so they wait for the next
        round (the thread backs off first). Whether no attempt failed that way.
        """
        while not self._stopping.is_set() and (due := self.outbox.claim_due(notifier.name, lease=self.lease)):
            for position, delivery in enumerate(due):
                if not self._attempt(notifier, delivery):
                    self.outbox.release(due[position + 1 :])
                    return False
        return True

    def _attempt(self, notifier: Notifier, delivery: Delivery) -> bool:
        """One attempt, recorded; False if it failed and will be retried."""
        try:
            notifier.deliver(delivery)
        except PermanentFailure as exc:
            logger.warning("%s gave up on event %s: %s", notifier.name, delivery.event_id, exc)
            self.outbox.failed_attempt(delivery, f"permanent: {exc}", retry_in=None)
        except Exception as exc:
            attempt = delivery.attempts + 1
            if attempt >= self.max_attempts:
                logger.warning(
                    "%s gave up on event %s after %d attempts: %s", notifier.name, delivery.event_id, attempt, exc
                )
                self.outbox.failed_attempt(delivery, repr(exc), retry_in=None)
            else:
                self.outbox.failed_attempt(delivery, repr(exc), retry_in=self.retry_delay(attempt))
                return False
        else:
            self.outbox.delivered(delivery)
        return True

    def retry_delay(self, failed_attempts: int) -> float:
        """Seconds to wait after ``failed_attempts`` failures (tenacity's exponential schedule)."""
        state = tenacity.RetryCallState(None, None, (), {})  # type: ignore[arg-type]
        state.attempt_number = failed_attempts
        return float(self._wait(state))

    def _notification(self, record: EventRecord) -> Notification:
        store = self.desk.store
        return Notification(record, store.get_ticket(record.ticket_id), message_of(store, record))

    def _run(self, notifier: Notifier) -> None:
        waker = self._wakers[notifier.name]
        failures = 0
        while not self._stopping.is_set():
            waker.clear()
            try:
                healthy = self.run_once(notifier)
                due = self.outbox.next_due_in(notifier.name)
            except Exception:
                # The store or the outbox briefly away must not end the thread.
                logger.warning("notifier %s: a round failed", notifier.name, exc_info=True)
                healthy, due = False, None
            if not healthy:
                # The receiver is failing: probe it again after a growing pause, whatever new events say.
                failures += 1
                self._stopping.wait(self.retry_delay(failures))
                continue
            failures = 0
            waker.wait(self.poll_interval if due is None else min(due, self.poll_interval))
