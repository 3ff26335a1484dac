"""The JobStore extension's contract, on every backend of ``tests/stores.py`` that has one.

Supabase has none (docs/jobs.md says why): there the test checks that
asking for it is the configuration error it should be.
"""

from __future__ import annotations

import pytest

from supportchat import Actor, SupportDesk
from supportchat.errors import ExtensionUnavailable
from supportchat.extensions import extension
from supportchat.jobs import JobKind, JobRunner, JobStatus, JobStore, NewJob
from supportchat.stores import Store

from .stores import StoreMaker

NOW = 1_800_000_000.0


def jobs_of(store: Store) -> JobStore:
    try:
        return extension(store, JobStore)
    except ExtensionUnavailable:
        assert type(store).__name__ == "SupabaseStore", "every other backend has jobs"
        pytest.skip("SupabaseStore has no JobStore (its jobs live in the fallback store's database)")


@pytest.fixture
def jobs(store: Store) -> JobStore:
    return jobs_of(store)


def test_supabase_alone_has_no_job_store_and_says_so(make_store: StoreMaker) -> None:
    store = make_store()
    if type(store).__name__ != "SupabaseStore":
        assert isinstance(extension(store, JobStore), JobStore)
        return
    with pytest.raises(ExtensionUnavailable, match="SupabaseStore has no JobStore extension"):
        extension(store, JobStore)


def test_a_dedupe_key_is_enqueued_once_and_jobs_keep_their_payload(jobs: JobStore) -> None:
    first = jobs.enqueue([NewJob("mail", {"to": ["a@example.com"], "n": 1}, dedupe_key="mail:1")], now=NOW)
    again = jobs.enqueue([NewJob("mail", {"n": 2}, dedupe_key="mail:1"), NewJob("mail", {"n": 3})], now=NOW)
    assert len(first) == 1 and len(again) == 1
    stored = jobs.list_jobs(kind="mail")
    assert [job.payload for job in stored] == [{"to": ["a@example.com"], "n": 1}, {"n": 3}]
    job = jobs.get(first[0])
    assert job is not None and job.status is JobStatus.PENDING and job.attempts == 0 and job.due_at == NOW
    assert jobs.counts("mail") == {"pending": 2, "running": 0, "done": 0, "failed": 0}
    assert jobs.get(10_000_000) is None


def test_a_claim_takes_due_jobs_of_its_kinds_once_by_due_time(jobs: JobStore) -> None:
    jobs.enqueue(
        [
            NewJob("a", {"n": 1}, due_at=NOW + 5),
            NewJob("a", {"n": 2}, due_at=NOW - 5),
            NewJob("b", {"n": 3}, due_at=NOW - 9),
            NewJob("a", {"n": 4}, due_at=NOW + 60),
        ],
        now=NOW - 10,
    )
    assert jobs.next_due(["a"]) == NOW - 5
    claimed = jobs.claim("w1", kinds=["a"], lease=30, now=NOW + 10)
    assert [job.payload["n"] for job in claimed] == [2, 1]
    assert all(j.status is JobStatus.RUNNING and j.attempts == 1 and j.lease_owner == "w1" for j in claimed)
    assert all(j.lease_until == NOW + 40 for j in claimed)
    assert jobs.claim("w2", kinds=["a"], lease=30, now=NOW + 11) == []  # leased: nobody else gets them
    assert jobs.claim("w2", kinds=[], lease=30, now=NOW + 11) == []
    (other,) = jobs.claim("w2", kinds=["b", "c"], lease=30, now=NOW + 11)
    assert other.payload == {"n": 3}
    assert jobs.next_due(["a"]) == NOW + 40  # the leases' end comes before the job due at NOW + 60


def test_only_the_lease_holder_of_that_attempt_completes_or_fails_a_job(jobs: JobStore) -> None:
    jobs.enqueue([NewJob("a")], now=NOW)
    (job,) = jobs.claim("w1", kinds=["a"], lease=10, now=NOW)
    # w1 stalls past its lease; w2 takes the job over.
    (taken,) = jobs.claim("w2", kinds=["a"], lease=10, now=NOW + 11)
    assert taken.id == job.id and taken.attempts == 2 and taken.lease_owner == "w2"
    assert not jobs.complete(job, "w1", now=NOW + 12)
    assert not jobs.fail(job, "w1", "late", retry_at=None, now=NOW + 12)
    assert jobs.complete(taken, "w2", now=NOW + 12)
    assert not jobs.complete(taken, "w2", now=NOW + 13)
    done = jobs.get(job.id)
    assert done is not None and done.status is JobStatus.DONE and done.finished_at == NOW + 12
    assert done.lease_owner is None and done.attempts == 2


def test_a_failed_attempt_is_retried_at_its_time_then_given_up_with_the_error(jobs: JobStore) -> None:
    jobs.enqueue([NewJob("a", max_attempts=2)], now=NOW)
    (job,) = jobs.claim("w", kinds=["a"], lease=10, now=NOW)
    assert jobs.fail(job, "w", "HTTP 500", retry_at=NOW + 30, now=NOW + 1)
    assert jobs.claim("w", kinds=["a"], lease=10, now=NOW + 29) == []
    (again,) = jobs.claim("w", kinds=["a"], lease=10, now=NOW + 30)
    assert again.attempts == 2 and again.last_error == "HTTP 500"
    assert jobs.fail(again, "w", "HTTP 502", retry_at=None, now=NOW + 31)
    failed = jobs.list_jobs(status=JobStatus.FAILED)
    assert [(j.attempts, j.last_error, j.finished_at) for j in failed] == [(2, "HTTP 502", NOW + 31)]
    assert jobs.claim("w", kinds=["a"], lease=10, now=NOW + 1000) == []


def test_an_expired_lease_on_the_last_attempt_is_recorded_as_failed(jobs: JobStore) -> None:
    jobs.enqueue([NewJob("a", max_attempts=1)], now=NOW)
    (job,) = jobs.claim("w1", kinds=["a"], lease=10, now=NOW)
    assert jobs.claim("w2", kinds=["a"], lease=10, now=NOW + 11) == []
    failed = jobs.get(job.id)
    assert failed is not None and failed.status is JobStatus.FAILED and "lease" in (failed.last_error or "")


def test_released_jobs_are_due_again_without_counting_the_attempt(jobs: JobStore) -> None:
    jobs.enqueue([NewJob("a"), NewJob("a")], now=NOW)
    claimed = jobs.claim("w1", kinds=["a"], lease=10, now=NOW)
    jobs.release(claimed, "w1")
    again = jobs.claim("w2", kinds=["a"], lease=10, now=NOW + 1)
    assert sorted(j.id for j in again) == sorted(j.id for j in claimed)
    assert all(j.attempts == 1 for j in again)


def test_a_cursor_moves_only_with_its_jobs_for_the_dispatcher_holding_it(jobs: JobStore) -> None:
    assert jobs.cursor("notify.webhook") is None
    assert jobs.start_cursor("notify.webhook", 5) == 5
    assert jobs.start_cursor("notify.webhook", 0) == 5  # it exists: unchanged
    assert jobs.lease_cursor("notify.webhook", "w1", lease=10, now=NOW)
    assert not jobs.lease_cursor("notify.webhook", "w2", lease=10, now=NOW + 1)
    batch = [NewJob("notify.webhook", {"event": 6}, dedupe_key="notify.webhook:6")]
    assert not jobs.advance_cursor("notify.webhook", "w2", expected=5, to=6, jobs=batch, now=NOW + 1)
    assert not jobs.advance_cursor("notify.webhook", "w1", expected=4, to=6, jobs=batch, now=NOW + 1)
    assert jobs.list_jobs() == []
    assert jobs.advance_cursor("notify.webhook", "w1", expected=5, to=6, jobs=batch, now=NOW + 1)
    assert jobs.cursor("notify.webhook") == 6 and len(jobs.list_jobs()) == 1
    # w1's lease runs out: w2 may take the cursor, and w1 may no longer move it.
    assert jobs.lease_cursor("notify.webhook", "w2", lease=10, now=NOW + 20)
    assert not jobs.advance_cursor("notify.webhook", "w1", expected=6, to=7, jobs=[], now=NOW + 20)
    jobs.release_cursor("notify.webhook", "w2")
    assert jobs.lease_cursor("notify.webhook", "w1", lease=10, now=NOW + 21)


def test_the_runner_turns_desk_events_into_jobs_once_and_runs_them(store: Store) -> None:
    jobs_of(store)
    desk = SupportDesk(store)
    desk.create_ticket(Actor.user(1), subject="Before", description="not announced")
    seen: list[int] = []
    kind = JobKind(
        "count", handler=lambda job: seen.append(job.payload["event"]), reaction=lambda record: {"event": record.id}
    )
    runners = [JobRunner(store, [kind], owner=f"w{n}") for n in range(2)]
    for runner in runners:
        runner.start_cursors()
    ticket = desk.create_ticket(Actor.user(1), subject="After", description="x")
    desk.post_message(Actor.admin(2), ticket.id, "Hola")
    for _ in range(3):
        for runner in runners:
            runner.run_once()
    events = [record.id for record in store.events_after(0)][1:]
    assert sorted(seen) == events and len(events) == 2
    assert runners[0].jobs.counts("count") == {"pending": 0, "running": 0, "done": 2, "failed": 0}


def test_done_jobs_of_a_kind_finished_before_a_time_are_removed_and_nothing_else(jobs: JobStore) -> None:
    ids = jobs.enqueue(
        [NewJob("poll", {"n": n}, dedupe_key=f"poll:{n}") for n in range(4)]
        + [NewJob("other", {"n": 9}), NewJob("poll", {"n": 5}, max_attempts=1)],
        now=NOW,
    )
    claimed = {job.id: job for job in jobs.claim("w", kinds=["poll", "other"], lease=30, limit=10, now=NOW)}
    for n, job_id in enumerate(ids[:3]):
        assert jobs.complete(claimed[job_id], "w", now=NOW + n)  # done at NOW, NOW+1, NOW+2
    assert jobs.complete(claimed[ids[4]], "w", now=NOW)  # another kind's
    assert jobs.fail(claimed[ids[5]], "w", "boom", retry_at=None, now=NOW)  # failed: kept for inspection
    assert jobs.remove_done("poll", before=NOW + 2, limit=1) == 1
    assert jobs.remove_done("poll", before=NOW + 2) == 1
    assert jobs.remove_done("poll", before=NOW + 2) == 0
    left = {job.payload["n"]: job.status for job in jobs.list_jobs()}
    assert left == {2: JobStatus.DONE, 3: JobStatus.RUNNING, 9: JobStatus.DONE, 5: JobStatus.FAILED}
    # A removed job's dedupe key is free again.
    assert len(jobs.enqueue([NewJob("poll", {"n": 0}, dedupe_key="poll:0")], now=NOW)) == 1
