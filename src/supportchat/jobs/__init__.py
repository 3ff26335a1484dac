"""Durable jobs in the desk's own database: the job runner and its store extension.

- :class:`JobStore` (the store extension): jobs with a kind, a JSON
  payload, a due time, attempts, a lease, a status and a dedupe key, and the
  dispatchers' event cursors. Implemented for the SQL store (SQLite and
  PostgreSQL, tables from migration ``0005_jobs``), the in-memory store, and
  the fallback store (whose jobs live in its local fallback database).
- :class:`JobRunner`: turns desk events into jobs (the event log is the
  transactional outbox) and runs due jobs under leases, with retries.
- :class:`JobKind`: one kind of job, its handler and the events that cause it.

``supportchat worker`` runs a runner; ``supportchat serve`` embeds one. See
``docs/jobs.md``.
"""

from __future__ import annotations

from typing import Any

from ..extensions import extension, register_extension
from ..stores.fallback import FallbackStore
from ..stores.memory import InMemoryStore
from ..stores.sql import SQLStore
from .base import DEFAULT_MAX_ATTEMPTS, Job, JobStatus, JobStore, NewJob, PermanentFailure, RetryLater
from .memory import MemoryJobStore
from .runner import Handler, JobKind, JobRunner, Reaction, default_owner
from .sql import SQLJobStore

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "Handler",
    "Job",
    "JobKind",
    "JobRunner",
    "JobStatus",
    "JobStore",
    "MemoryJobStore",
    "NewJob",
    "PermanentFailure",
    "Reaction",
    "RetryLater",
    "SQLJobStore",
    "default_owner",
]


def _fallback_jobs(store: FallbackStore) -> Any:
    # Jobs live beside the journal, in the local fallback database: a job the
    # primary's outage would make unreachable could not run, and the fallback
    # store serves one host only (see docs/jobs.md).
    return extension(store.fallback, JobStore)  # type: ignore[type-abstract]


# (mypy does not take a Protocol for type[E]; the registry is keyed by protocol on purpose.)
register_extension(JobStore, SQLStore, SQLJobStore)  # type: ignore[type-abstract]
register_extension(JobStore, InMemoryStore, MemoryJobStore)  # type: ignore[type-abstract]
register_extension(JobStore, FallbackStore, _fallback_jobs)  # type: ignore[type-abstract]
