"""A job worker process for the multi-process tests: ``python -m tests.jobs.worker_process URL OWNER LEASE``.

It runs one job kind, ``test.effect``, whose effect is a row of
``test_job_effects`` (primary key: the job's id) written in the same
transaction that completes the job (``SQLJobStore.complete_in``): a row
exists iff the job completed, so a second completion would be a key
violation and a lost job a missing row. A job fails on purpose while its
attempt number is at most its payload's ``fail_times``; each such failure is
logged in ``test_job_attempts`` first (its own transaction). SIGTERM stops the worker cleanly; SIGKILL is the
point of the test.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from typing import Any

import sqlalchemy as sa

from supportchat.extensions import extension
from supportchat.jobs import Job, JobKind, JobRunner, JobStore, SQLJobStore
from supportchat.stores.sql import SQLStore

KIND = "test.effect"
metadata = sa.MetaData()
effects = sa.Table(
    "test_job_effects",
    metadata,
    sa.Column("job_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("owner", sa.Text, nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("at", sa.Float, nullable=False),
)
attempts = sa.Table(
    "test_job_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("job_id", sa.Integer, nullable=False),
    sa.Column("owner", sa.Text, nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sqlite_autoincrement=True,
)


class InjectedFailure(Exception):
    pass


class LeaseLost(Exception):
    pass


def handler(store: SQLStore, owner: str) -> Any:
    jobs = extension(store, JobStore)  # type: ignore[type-abstract]
    assert isinstance(jobs, SQLJobStore)

    def run(job: Job) -> None:
        began = time.time()
        time.sleep(float(job.payload.get("work", 0.002)))
        if job.attempts <= int(job.payload.get("fail_times", 0)):
            with store.transaction(write=True) as connection:
                connection.execute(attempts.insert().values(job_id=job.id, owner=owner, attempt=job.attempts, at=began))
            raise InjectedFailure(f"attempt {job.attempts} of job {job.id} fails on purpose")
        with store.transaction(write=True) as connection:
            connection.execute(
                effects.insert().values(job_id=job.id, owner=owner, attempt=job.attempts, at=time.time())
            )
            if not jobs.complete_in(connection, job, owner):
                raise LeaseLost(f"job {job.id} is no longer ours")  # rolls the effect back

    return run


def main(url: str, owner: str, lease: float) -> None:
    store = SQLStore.from_url(url, migrate=False)
    runner = JobRunner(
        store,
        [JobKind(KIND, handler(store, owner), max_attempts=10)],
        owner=owner,
        lease=lease,
        poll_interval=0.1,
        batch=10,
        first_retry=0.05,
        max_retry=0.2,
    )
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    runner.start()
    print("ready", flush=True)
    while not stopping.wait(0.5):
        pass
    runner.stop()
    store.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
