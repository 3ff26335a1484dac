"""A handler's RetryLater: the retry waits at least what the receiver asked (Retry-After), else the backoff."""

from __future__ import annotations

import time

from supportchat import InMemoryStore
from supportchat.jobs import Job, JobKind, JobRunner, JobStatus, NewJob, RetryLater


def test_retry_later_sets_a_floor_under_the_backoff() -> None:
    store = InMemoryStore()
    asked: list[float] = []

    def handler(job: Job) -> None:
        after = float(job.payload["after"])
        asked.append(after)
        raise RetryLater("busy", after=after)

    runner = JobRunner(store, [JobKind("k", handler=handler)], first_retry=1.0, max_retry=60.0)
    runner.jobs.enqueue([NewJob("k", {"after": 30}), NewJob("k", {"after": 0.1})])
    before = time.time()
    assert runner.run_due() == 2
    waiting = {job.payload["after"]: job for job in runner.jobs.list_jobs(kind="k")}
    assert all(job.status is JobStatus.PENDING and "busy" in (job.last_error or "") for job in waiting.values())
    assert waiting[30].due_at >= before + 30  # the receiver's Retry-After
    assert before + 1.0 <= waiting[0.1].due_at < before + 30  # the runner's own backoff (1 s) is longer
    assert RetryLater("x", after=-5).after == 0.0
