"""What a job is, and :class:`JobStore`, the store extension that keeps them.

A job is a unit of work to run off the request path, at or after its due
time: a notification to deliver, an SLA clock to check, a mailbox to poll.
It lives in the desk's own database, so it is as durable as the tickets and
every worker on that database can run it.

Times are Unix seconds (``time.time()``) of the worker's clock; the hosts of
one database keep their clocks in step (NTP), as leases measured in tens of
seconds need.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

__all__ = ["DEFAULT_MAX_ATTEMPTS", "Job", "JobStatus", "JobStore", "NewJob", "PermanentFailure", "RetryLater"]

#: How many attempts a job gets unless it says otherwise.
DEFAULT_MAX_ATTEMPTS = 8


class PermanentFailure(Exception):
    """The job can never succeed (a receiver that is gone, an address refused): do not retry it."""


class RetryLater(Exception):
    """The attempt failed and the receiver said when to come back: not before ``after`` seconds.

    The runner waits the longer of ``after`` and its own backoff (a server's
    ``Retry-After`` is a floor, not a schedule).
    """

    def __init__(self, message: str, *, after: float = 0.0) -> None:
        super().__init__(message)
        self.after = max(0.0, after)


class JobStatus(enum.StrEnum):
    PENDING = "pending"
    #: Leased to a worker until ``lease_until``; due again for anyone once that passed.
    RUNNING = "running"
    DONE = "done"
    #: Given up (a permanent failure, or the last allowed attempt failed); ``last_error`` says why.
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class NewJob:
    """A job to enqueue.

    ``due_at`` (Unix seconds) schedules it; ``None`` is now. Of the jobs
    with one ``dedupe_key`` only the first enqueued is kept, so the same
    reaction to the same event is enqueued once however often it is asked.
    """

    kind: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    due_at: float | None = None
    dedupe_key: str | None = None
    max_attempts: int = DEFAULT_MAX_ATTEMPTS

    def __post_init__(self) -> None:
        if not self.kind:
            raise ValueError("a job needs a kind")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")


@dataclass(frozen=True, slots=True)
class Job:
    """A stored job and how it went so far.

    ``attempts`` counts the attempts begun, this one included while it is
    ``running``; it is also the lease's fencing token: a worker completes or
    fails a job only while the job is still its lease of that attempt.
    """

    id: int
    kind: str
    payload: Mapping[str, Any]
    status: JobStatus
    attempts: int
    max_attempts: int
    due_at: float
    lease_owner: str | None
    lease_until: float | None
    last_error: str | None
    dedupe_key: str | None
    created_at: float
    finished_at: float | None


@runtime_checkable
class JobStore(Protocol):
    """Jobs and event cursors in the store's database (reach it with ``extension(store, JobStore)``).

    Every method is one atomic step, safe to call from any thread or process
    sharing the database; ``now`` defaults to ``time.time()``.
    """

    def enqueue(self, jobs: Sequence[NewJob], *, now: float | None = None) -> list[int]:
        """Store ``jobs`` in one transaction; the ids of those added (a taken dedupe key is skipped)."""
        ...

    def claim(
        self, owner: str, *, kinds: Collection[str], lease: float, limit: int = 10, now: float | None = None
    ) -> list[Job]:
        """Up to ``limit`` due jobs of ``kinds``, leased to ``owner`` for ``lease`` seconds, by due time.

        Due: pending with ``due_at <= now``, or running with an expired
        lease (its worker died; the attempt it began counts). An expired job
        that has used every attempt is recorded as failed instead.
        """
        ...

    def complete(self, job: Job, owner: str, *, now: float | None = None) -> bool:
        """Mark ``job`` done if ``owner`` still holds the lease of that attempt; whether it did."""
        ...

    def fail(self, job: Job, owner: str, error: str, *, retry_at: float | None, now: float | None = None) -> bool:
        """Record a failed attempt: due again at ``retry_at``, or given up (``None``); whether it held the lease."""
        ...

    def release(self, jobs: Sequence[Job], owner: str) -> None:
        """Give leased jobs back unattempted (pending, the attempt not counted)."""
        ...

    def get(self, job_id: int) -> Job | None:
        """The job with this id, or ``None``."""
        ...

    def list_jobs(self, *, kind: str | None = None, status: JobStatus | None = None, limit: int = 1000) -> list[Job]:
        """Jobs (of one kind and status, if given), by id."""
        ...

    def counts(self, kind: str | None = None) -> dict[str, int]:
        """How many jobs (of ``kind``) have each status; every status is a key."""
        ...

    def remove_done(self, kind: str, *, before: float, limit: int = 500) -> int:
        """Delete up to ``limit`` jobs of ``kind`` done before ``before``, oldest first; how many.

        Their dedupe keys are free again: keep a job as long as an enqueue it should stop may still come.
        """
        ...

    def next_due(self, kinds: Collection[str]) -> float | None:
        """When the next job of ``kinds`` falls due (a pending due time or a lease's end), if any."""
        ...

    # -- event cursors: the dispatcher's bookkeeping -----------------------

    def cursor(self, name: str) -> int | None:
        """The last event id the dispatcher ``name`` has turned into jobs, or ``None`` if it never ran."""
        ...

    def start_cursor(self, name: str, event_id: int) -> int:
        """Create the cursor ``name`` at ``event_id`` unless it exists; the cursor's position."""
        ...

    def lease_cursor(self, name: str, owner: str, *, lease: float, now: float | None = None) -> bool:
        """Make ``owner`` the cursor's only dispatcher for ``lease`` seconds (kept if it is already); whether it is."""
        ...

    def advance_cursor(
        self, name: str, owner: str, *, expected: int, to: int, jobs: Sequence[NewJob], now: float | None = None
    ) -> bool:
        """Enqueue ``jobs`` and move the cursor from ``expected`` to ``to``, in one transaction.

        Only while ``owner`` holds the cursor's lease and the cursor is still
        at ``expected`` (the row is locked meanwhile); whether it did.
        """
        ...

    def release_cursor(self, name: str, owner: str) -> None:
        """End ``owner``'s lease on the cursor, so that another worker may dispatch at once."""
        ...
