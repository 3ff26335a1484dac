"""Jobs in the SQL store's database (SQLite and PostgreSQL), through its public transactions.

Claims are one ``UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING``. On
PostgreSQL the inner select locks the rows ``FOR UPDATE SKIP LOCKED``, so
workers on several hosts claim disjoint jobs without waiting on each other;
on SQLite the transaction begins with ``BEGIN IMMEDIATE`` (the one writer),
so a claim is atomic by itself. Due are pending jobs whose ``due_at`` has
come and running jobs whose lease has ended (their worker died).
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..stores.sql import SQLStore
from . import schema
from .base import Job, JobStatus, NewJob

__all__ = ["SQLJobStore"]

_j = schema.jobs.c
_k = schema.cursors.c
_UNFINISHED = (JobStatus.PENDING.value, JobStatus.RUNNING.value)
_RUNNING = JobStatus.RUNNING.value


class SQLJobStore:
    """The :class:`~supportchat.jobs.JobStore` of a :class:`~supportchat.stores.sql.SQLStore`."""

    def __init__(self, store: SQLStore) -> None:
        self._store = store
        self._postgres = store.engine.dialect.name == "postgresql"

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        with self._store.transaction(write=True) as connection:
            yield connection

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with self._store.transaction() as connection:
            yield connection

    def _insert(self) -> Any:
        dialect = postgresql if self._postgres else sqlite
        return dialect.insert(schema.jobs).on_conflict_do_nothing(index_elements=[_j.dedupe_key]).returning(_j.id)

    def _add(self, connection: sa.Connection, jobs: Sequence[NewJob], now: float) -> list[int]:
        statement = self._insert()
        added = []
        for job in jobs:
            row = connection.execute(
                statement,
                {
                    "kind": job.kind,
                    "payload": json.dumps(dict(job.payload), separators=(",", ":")),
                    "status": JobStatus.PENDING.value,
                    "attempts": 0,
                    "max_attempts": job.max_attempts,
                    "due_at": now if job.due_at is None else job.due_at,
                    "dedupe_key": job.dedupe_key,
                    "created_at": now,
                },
            ).fetchone()
            if row is not None:
                added.append(int(row[0]))
        return added

    def enqueue(self, jobs: Sequence[NewJob], *, now: float | None = None) -> list[int]:
        if not jobs:
            return []
        with self._write() as connection:
            return self._add(connection, jobs, time.time() if now is None else now)

    def claim(
        self, owner: str, *, kinds: Collection[str], lease: float, limit: int = 10, now: float | None = None
    ) -> list[Job]:
        if not kinds or limit < 1:
            return []
        at = time.time() if now is None else now
        due = sa.and_(
            _j.kind.in_(sorted(kinds)),
            sa.or_(
                sa.and_(_j.status == JobStatus.PENDING.value, _j.due_at <= at),
                sa.and_(_j.status == _RUNNING, _j.lease_until < at),
            ),
        )
        with self._write() as connection:
            # Attempts used up by workers that died mid-attempt: given up, not run again.
            connection.execute(
                schema.jobs.update()
                .where(due, _j.status == _RUNNING, _j.attempts >= _j.max_attempts)
                .values(
                    status=JobStatus.FAILED.value,
                    last_error="the lease of the last allowed attempt expired (its worker stopped)",
                    finished_at=at,
                    lease_owner=None,
                    lease_until=None,
                )
            )
            chosen = sa.select(_j.id).where(due).order_by(_j.due_at, _j.id).limit(limit)
            if self._postgres:
                chosen = chosen.with_for_update(skip_locked=True)
            rows = connection.execute(
                schema.jobs.update()
                .where(_j.id.in_(chosen.scalar_subquery()))
                .values(
                    status=_RUNNING,
                    attempts=_j.attempts + 1,
                    lease_owner=owner,
                    lease_until=at + lease,
                )
                .returning(*schema.jobs.c)
            ).fetchall()
        return sorted((_job(row) for row in rows), key=lambda job: (job.due_at, job.id))

    def _leased(self, job: Job, owner: str) -> sa.ColumnElement[bool]:
        return sa.and_(_j.id == job.id, _j.status == _RUNNING, _j.lease_owner == owner, _j.attempts == job.attempts)

    def complete(self, job: Job, owner: str, *, now: float | None = None) -> bool:
        done = {"status": JobStatus.DONE.value, "finished_at": time.time() if now is None else now}
        with self._write() as connection:
            return self._finish(connection, job, owner, done)

    def complete_in(self, connection: sa.Connection, job: Job, owner: str, *, now: float | None = None) -> bool:
        """Mark ``job`` done inside the caller's transaction (from :meth:`SQLStore.transaction`).

        A handler whose effect is rows in the same database writes them and
        completes the job in one transaction: then the effect happens
        exactly once, even when a worker dies or loses its lease mid-job
        (its transaction, effect included, rolls back).
        """
        done = {"status": JobStatus.DONE.value, "finished_at": time.time() if now is None else now}
        return self._finish(connection, job, owner, done)

    def fail(self, job: Job, owner: str, error: str, *, retry_at: float | None, now: float | None = None) -> bool:
        values: dict[str, Any] = {"last_error": error}
        if retry_at is None:
            values.update(status=JobStatus.FAILED.value, finished_at=time.time() if now is None else now)
        else:
            values.update(status=JobStatus.PENDING.value, due_at=retry_at)
        with self._write() as connection:
            return self._finish(connection, job, owner, values)

    def _finish(self, connection: sa.Connection, job: Job, owner: str, values: dict[str, Any]) -> bool:
        statement = schema.jobs.update().where(self._leased(job, owner)).values(lease_owner=None, lease_until=None)
        return bool(connection.execute(statement.values(values)).rowcount)

    def release(self, jobs: Sequence[Job], owner: str) -> None:
        if not jobs:
            return
        with self._write() as connection:
            for job in jobs:
                connection.execute(
                    schema.jobs.update()
                    .where(self._leased(job, owner))
                    .values(
                        status=JobStatus.PENDING.value,
                        attempts=_j.attempts - 1,
                        lease_owner=None,
                        lease_until=None,
                    )
                )

    def get(self, job_id: int) -> Job | None:
        with self._read() as connection:
            row = connection.execute(sa.select(schema.jobs).where(_j.id == job_id)).fetchone()
        return None if row is None else _job(row)

    def list_jobs(self, *, kind: str | None = None, status: JobStatus | None = None, limit: int = 1000) -> list[Job]:
        query = sa.select(schema.jobs).order_by(_j.id).limit(limit)
        if kind is not None:
            query = query.where(_j.kind == kind)
        if status is not None:
            query = query.where(_j.status == status.value)
        with self._read() as connection:
            return [_job(row) for row in connection.execute(query).fetchall()]

    def remove_done(self, kind: str, *, before: float, limit: int = 500) -> int:
        done = (
            sa.select(_j.id)
            .where(_j.kind == kind, _j.status == JobStatus.DONE.value, _j.finished_at < before)
            .order_by(_j.id)
            .limit(limit)
        )
        with self._write() as connection:
            return int(connection.execute(sa.delete(schema.jobs).where(_j.id.in_(done))).rowcount or 0)

    def counts(self, kind: str | None = None) -> dict[str, int]:
        query = sa.select(_j.status, sa.func.count()).group_by(_j.status)
        if kind is not None:
            query = query.where(_j.kind == kind)
        with self._read() as connection:
            found = {str(status): int(count) for status, count in connection.execute(query).fetchall()}
        return {status.value: found.get(status.value, 0) for status in JobStatus}

    def next_due(self, kinds: Collection[str]) -> float | None:
        if not kinds:
            return None
        when = sa.case((_j.status == _RUNNING, _j.lease_until), else_=_j.due_at)
        query = sa.select(sa.func.min(when)).where(_j.kind.in_(sorted(kinds)), _j.status.in_(_UNFINISHED))
        with self._read() as connection:
            value = connection.execute(query).scalar()
        return None if value is None else float(value)

    # -- cursors -------------------------------------------------------------

    def cursor(self, name: str) -> int | None:
        with self._read() as connection:
            value = connection.execute(sa.select(_k.last_event_id).where(_k.name == name)).scalar()
        return None if value is None else int(value)

    def start_cursor(self, name: str, event_id: int) -> int:
        dialect = postgresql if self._postgres else sqlite
        with self._write() as connection:
            connection.execute(
                dialect.insert(schema.cursors)
                .values(name=name, last_event_id=event_id)
                .on_conflict_do_nothing(index_elements=[_k.name])
            )
            return int(connection.execute(sa.select(_k.last_event_id).where(_k.name == name)).scalar_one())

    def lease_cursor(self, name: str, owner: str, *, lease: float, now: float | None = None) -> bool:
        at = time.time() if now is None else now
        free = sa.or_(_k.lease_owner.is_(None), _k.lease_owner == owner, _k.lease_until < at)
        with self._write() as connection:
            taken = connection.execute(
                schema.cursors.update().where(_k.name == name, free).values(lease_owner=owner, lease_until=at + lease)
            )
            return bool(taken.rowcount)

    def advance_cursor(
        self, name: str, owner: str, *, expected: int, to: int, jobs: Sequence[NewJob], now: float | None = None
    ) -> bool:
        at = time.time() if now is None else now
        with self._write() as connection:
            # The row lock (SQLite: the write lock) keeps a second dispatcher out until this commits.
            held = sa.select(_k.last_event_id).where(_k.name == name, _k.lease_owner == owner, _k.lease_until >= at)
            if self._postgres:
                held = held.with_for_update()
            if connection.execute(held).scalar() != expected:
                return False
            self._add(connection, jobs, at)
            connection.execute(schema.cursors.update().where(_k.name == name).values(last_event_id=to))
        return True

    def release_cursor(self, name: str, owner: str) -> None:
        with self._write() as connection:
            connection.execute(
                schema.cursors.update()
                .where(_k.name == name, _k.lease_owner == owner)
                .values(lease_owner=None, lease_until=None)
            )


def _job(row: Any) -> Job:
    values = row._mapping
    return Job(
        id=int(values["id"]),
        kind=values["kind"],
        payload=json.loads(values["payload"]),
        status=JobStatus(values["status"]),
        attempts=int(values["attempts"]),
        max_attempts=int(values["max_attempts"]),
        due_at=float(values["due_at"]),
        lease_owner=values["lease_owner"],
        lease_until=None if values["lease_until"] is None else float(values["lease_until"]),
        last_error=values["last_error"],
        dedupe_key=values["dedupe_key"],
        created_at=float(values["created_at"]),
        finished_at=None if values["finished_at"] is None else float(values["finished_at"]),
    )
