"""Jobs beside an :class:`~supportchat.stores.InMemoryStore`: in process memory, behind one lock.

For tests and experiments, like the store itself: nothing survives the process.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Collection, Sequence
from typing import Any

from .base import Job, JobStatus, NewJob

__all__ = ["MemoryJobStore"]

_UNFINISHED = (JobStatus.PENDING, JobStatus.RUNNING)


@dataclasses.dataclass(slots=True)
class _Cursor:
    last_event_id: int
    lease_owner: str | None = None
    lease_until: float | None = None


class MemoryJobStore:
    """The :class:`~supportchat.jobs.JobStore` of an in-memory store (``store`` is not used)."""

    def __init__(self, store: object = None) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[int, Job] = {}
        self._keys: set[str] = set()
        self._cursors: dict[str, _Cursor] = {}
        self._next_id = 1

    def _add(self, jobs: Sequence[NewJob], now: float) -> list[int]:
        added = []
        for new in jobs:
            if new.dedupe_key is not None:
                if new.dedupe_key in self._keys:
                    continue
                self._keys.add(new.dedupe_key)
            job_id, self._next_id = self._next_id, self._next_id + 1
            self._jobs[job_id] = Job(
                id=job_id,
                kind=new.kind,
                payload=dict(new.payload),
                status=JobStatus.PENDING,
                attempts=0,
                max_attempts=new.max_attempts,
                due_at=now if new.due_at is None else new.due_at,
                lease_owner=None,
                lease_until=None,
                last_error=None,
                dedupe_key=new.dedupe_key,
                created_at=now,
                finished_at=None,
            )
            added.append(job_id)
        return added

    def enqueue(self, jobs: Sequence[NewJob], *, now: float | None = None) -> list[int]:
        with self._lock:
            return self._add(jobs, time.time() if now is None else now)

    def claim(
        self, owner: str, *, kinds: Collection[str], lease: float, limit: int = 10, now: float | None = None
    ) -> list[Job]:
        at = time.time() if now is None else now
        with self._lock:
            due = sorted(
                (j for j in self._jobs.values() if j.kind in kinds and _due(j, at)),
                key=lambda j: (j.due_at, j.id),
            )
            claimed: list[Job] = []
            for job in due:
                if job.status is JobStatus.RUNNING and job.attempts >= job.max_attempts:
                    self._jobs[job.id] = dataclasses.replace(
                        job,
                        status=JobStatus.FAILED,
                        last_error="the lease of the last allowed attempt expired (its worker stopped)",
                        finished_at=at,
                        lease_owner=None,
                        lease_until=None,
                    )
                    continue
                if len(claimed) < limit:
                    self._jobs[job.id] = leased = dataclasses.replace(
                        job,
                        status=JobStatus.RUNNING,
                        attempts=job.attempts + 1,
                        lease_owner=owner,
                        lease_until=at + lease,
                    )
                    claimed.append(leased)
            return claimed

    def _finish(self, job: Job, owner: str, **values: Any) -> bool:
        with self._lock:
            current = self._jobs.get(job.id)
            if (
                current is None
                or current.status is not JobStatus.RUNNING
                or current.lease_owner != owner
                or current.attempts != job.attempts
            ):
                return False
            self._jobs[job.id] = dataclasses.replace(current, lease_owner=None, lease_until=None, **values)
            return True

    def complete(self, job: Job, owner: str, *, now: float | None = None) -> bool:
        return self._finish(job, owner, status=JobStatus.DONE, finished_at=time.time() if now is None else now)

    def fail(self, job: Job, owner: str, error: str, *, retry_at: float | None, now: float | None = None) -> bool:
        if retry_at is None:
            at = time.time() if now is None else now
            return self._finish(job, owner, status=JobStatus.FAILED, last_error=error, finished_at=at)
        return self._finish(job, owner, status=JobStatus.PENDING, last_error=error, due_at=retry_at)

    def release(self, jobs: Sequence[Job], owner: str) -> None:
        for job in jobs:
            self._finish(job, owner, status=JobStatus.PENDING, attempts=job.attempts - 1)

    def get(self, job_id: int) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def list_jobs(self, *, kind: str | None = None, status: JobStatus | None = None, limit: int = 1000) -> list[Job]:
        with self._lock:
            found = [
                job
                for job in self._jobs.values()
                if (kind is None or job.kind == kind) and (status is None or job.status is status)
            ]
        return sorted(found, key=lambda job: job.id)[:limit]

    def remove_done(self, kind: str, *, before: float, limit: int = 500) -> int:
        with self._lock:
            done = sorted(
                (
                    job
                    for job in self._jobs.values()
                    if job.kind == kind and job.status is JobStatus.DONE and (job.finished_at or 0.0) < before
                ),
                key=lambda job: job.id,
            )[:limit]
            for job in done:
                del self._jobs[job.id]
                if job.dedupe_key is not None:
                    self._keys.discard(job.dedupe_key)
        return len(done)

    def counts(self, kind: str | None = None) -> dict[str, int]:
        totals = {status.value: 0 for status in JobStatus}
        with self._lock:
            for job in self._jobs.values():
                if kind is None or job.kind == kind:
                    totals[job.status.value] += 1
        return totals

    def next_due(self, kinds: Collection[str]) -> float | None:
        with self._lock:
            due = [_next_time(j) for j in self._jobs.values() if j.kind in kinds and j.status in _UNFINISHED]
        return min(due, default=None)

    def cursor(self, name: str) -> int | None:
        with self._lock:
            found = self._cursors.get(name)
            return None if found is None else found.last_event_id

    def start_cursor(self, name: str, event_id: int) -> int:
        with self._lock:
            return self._cursors.setdefault(name, _Cursor(event_id)).last_event_id

    def lease_cursor(self, name: str, owner: str, *, lease: float, now: float | None = None) -> bool:
        at = time.time() if now is None else now
        with self._lock:
            found = self._cursors.get(name)
            if found is None:
                return False
            if found.lease_owner not in (None, owner) and (found.lease_until or 0) >= at:
                return False
            found.lease_owner, found.lease_until = owner, at + lease
            return True

    def advance_cursor(
        self, name: str, owner: str, *, expected: int, to: int, jobs: Sequence[NewJob], now: float | None = None
    ) -> bool:
        at = time.time() if now is None else now
        with self._lock:
            found = self._cursors.get(name)
            if (
                found is None
                or found.lease_owner != owner
                or (found.lease_until or 0) < at
                or found.last_event_id != expected
            ):
                return False
            self._add(jobs, at)
            found.last_event_id = to
            return True

    def release_cursor(self, name: str, owner: str) -> None:
        with self._lock:
            found = self._cursors.get(name)
            if found is not None and found.lease_owner == owner:
                found.lease_owner = found.lease_until = None


def _next_time(job: Job) -> float:
    """When ``job`` (unfinished) is due: its due time, or its lease's end while it runs."""
    return (job.lease_until or 0.0) if job.status is JobStatus.RUNNING else job.due_at


def _due(job: Job, now: float) -> bool:
    if job.status is JobStatus.PENDING:
        return job.due_at <= now
    return job.status is JobStatus.RUNNING and (job.lease_until or 0.0) < now
