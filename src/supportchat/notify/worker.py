"""Notifiers as jobs in the desk's database: one job kind per notifier, run by the job runner.

Each notifier is a :class:`~supportchat.jobs.JobKind` named
``notify.<notifier name>``: its reaction prepares the payload of each new
event of the log (the job's payload, so every retry sends the same thing),
its handler delivers it. The runner enqueues the jobs from the event log
(the transactional outbox: an event exists iff its change committed, and
each becomes one job) and every process running a worker on the same
database shares them, so two server hosts on one PostgreSQL deliver each
event once between them.

:class:`NotificationWorker` runs one runner thread per notifier, so a hung
webhook never delays email; :func:`notification_kinds` gives the kinds to a
runner of your own (``supportchat worker`` and ``serve`` use it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..desk import SupportDesk
from ..features import Feature
from ..jobs import DEFAULT_MAX_ATTEMPTS, JobKind, JobRunner, JobStore
from ..models import EventRecord
from ..store import Store, announced_message, announced_note
from .base import JOB_STATUS, KIND_PREFIX, Delivery, DeliveryStatus, Notification, Notifier

__all__ = ["NotificationWorker", "feature", "notification_kinds"]


def notification_kind(
    store: Store, notifier: Notifier, *, max_attempts: int = DEFAULT_MAX_ATTEMPTS, from_beginning: bool = False
) -> JobKind:
    """The job kind that delivers ``notifier``'s notifications of ``store``'s events."""

    def react(record: EventRecord) -> dict[str, object] | None:
        event = Notification(
            record, store.get_ticket(record.ticket_id), announced_message(store, record), announced_note(store, record)
        )
        payload = notifier.prepare(event)
        return None if payload is None else {"event_id": record.id, "payload": dict(payload)}

    return JobKind(
        name=KIND_PREFIX + notifier.name,
        handler=lambda job: notifier.deliver(Delivery.of(job)),
        reaction=react,
        max_attempts=max_attempts,
        from_beginning=from_beginning,
        pause_on_failure=True,
    )


def notification_kinds(
    store: Store,
    notifiers: Sequence[Notifier],
    *,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    from_beginning: bool = False,
) -> list[JobKind]:
    """One job kind per notifier (names must be unique)."""
    names = [n.name for n in notifiers]
    if len(set(names)) != len(names):
        raise ValueError(f"notifier names must be unique: {names}")
    return [
        notification_kind(store, notifier, max_attempts=max_attempts, from_beginning=from_beginning)
        for notifier in notifiers
    ]


def feature(notifiers: Sequence[Notifier], **options: Any) -> Feature:
    """The notifiers as a :class:`~supportchat.features.Feature` (job kinds only; ``options`` as above)."""
    return Feature("notify", job_kinds=lambda store: notification_kinds(store, notifiers, **options))


class NotificationWorker:
    """Runs notifiers off the request path, with durable, bounded retries, as jobs in the desk's database.

    ``max_attempts`` bounds the attempts of one delivery (then it is
    ``failed``, the error recorded); the delay before attempt *n + 1* is
    tenacity's exponential wait from ``first_retry`` doubling up to
    ``max_retry``. A notifier that never ran starts at the newest event (it
    does not announce the past) unless ``from_beginning``. The jobs live in
    the desk's store (its :class:`~supportchat.jobs.JobStore` extension)
    unless ``jobs`` says where: a bare Supabase store has none.
    """

    def __init__(
        self,
        desk: SupportDesk,
        notifiers: Sequence[Notifier],
        *,
        poll_interval: float = 0.5,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        first_retry: float = 1.0,
        max_retry: float = 300.0,
        lease: float = 120.0,
        batch: int = 100,
        from_beginning: bool = False,
        jobs: JobStore | None = None,
    ) -> None:
        if not all(isinstance(n, Notifier) for n in notifiers):
            raise TypeError("NotificationWorker(desk, notifiers): the per-host Outbox file is gone (docs/jobs.md)")
        kinds = notification_kinds(desk.store, notifiers, max_attempts=max_attempts, from_beginning=from_beginning)
        self.desk = desk
        self.notifiers = tuple(notifiers)
        self.runners = {
            notifier.name: JobRunner(
                desk.store,
                [kind],
                jobs=jobs,
                lease=lease,
                poll_interval=poll_interval,
                batch=batch,
                first_retry=first_retry,
                max_retry=max_retry,
            )
            for notifier, kind in zip(notifiers, kinds, strict=True)
        }

    def start(self) -> NotificationWorker:
        """Listen to the desk and start one runner thread per notifier."""
        for runner in self.runners.values():
            runner.start(self.desk)
        return self

    def wake(self) -> None:
        """New events may exist: every notifier looks now."""
        for runner in self.runners.values():
            runner.wake()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the threads (an attempt in progress finishes first, up to ``timeout``)."""
        for runner in self.runners.values():
            runner.stop(timeout)

    def run_once(self) -> int:
        """One round of every notifier in the calling thread: new events become jobs, due jobs run."""
        return sum(runner.run_once() for runner in self.runners.values())

    def deliveries(self, notifier: str, status: DeliveryStatus | None = None) -> list[Delivery]:
        """A notifier's deliveries (of one status, if given), oldest first."""
        runner = self.runners[notifier]
        jobs = runner.jobs.list_jobs(
            kind=KIND_PREFIX + notifier, status=None if status is None else JOB_STATUS[status], limit=100_000
        )
        return [Delivery.of(job) for job in jobs]

    def counts(self) -> dict[str, int]:
        """How many deliveries of every notifier have each status."""
        totals = {status.value: 0 for status in DeliveryStatus}
        for name, runner in self.runners.items():
            counted = runner.jobs.counts(KIND_PREFIX + name)
            for status in DeliveryStatus:
                totals[status.value] += counted[JOB_STATUS[status].value]
        return totals
