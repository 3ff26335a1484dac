"""The job runner: turns desk events into jobs, and runs the jobs that are due.

A :class:`JobRunner` works on one store's :class:`~.base.JobStore` with the
:class:`JobKind` s it knows. Each of its threads repeats one round:

1. **dispatch**: for each kind that reacts to desk events, read the event
   log after the kind's cursor (the public ``Store.events_after``) and, in
   one transaction of the job store, enqueue one job per event (dedupe key
   ``<kind>:<event id>``) and move the cursor. The cursor row is leased to
   one worker at a time and locked in that transaction, so however many
   workers run, each event becomes at most one job of each kind, and since
   the cursor only moves with the jobs, at least one;
2. **run**: claim a few due jobs of its kinds under a lease, run each
   handler, and record the outcome: done, due again after tenacity's
   exponential wait (or later, if the handler raised
   :class:`~.base.RetryLater`), or failed (given up: a
   :class:`~.base.PermanentFailure`, or the last allowed attempt);
3. sleep until the next job is due, the desk of this process announces an
   event (:meth:`start` with a desk), or ``poll_interval`` passed (the poll
   also finds what other processes wrote).

A worker that dies leaves its jobs ``running`` until their lease ends; then
any worker takes them over (the attempt counts). A handler must therefore
finish well within ``lease`` and be safe to run again: its effect may
happen twice if the worker dies after it and before recording it, unless
the effect is rows in the same database written in the completing
transaction (:meth:`~.sql.SQLJobStore.complete_in`).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import tenacity

from ..desk import SupportDesk
from ..extensions import extension
from ..models import EventRecord
from ..store import Store
from .base import DEFAULT_MAX_ATTEMPTS, Job, JobStore, NewJob, PermanentFailure, RetryLater

__all__ = ["Handler", "JobKind", "JobRunner", "Reaction", "default_owner"]

logger = logging.getLogger("supportchat.jobs")

#: Runs one job; raises if it failed (:class:`~.base.PermanentFailure`: never retry).
Handler = Callable[[Job], None]
#: The payload of the job an event causes, or ``None`` for no job.
Reaction = Callable[[EventRecord], Mapping[str, Any] | None]


@dataclass(frozen=True, slots=True)
class JobKind:
    """A kind of job: how to run one, and (optionally) which desk events cause one.

    ``name`` is the jobs' ``kind`` and the name of the kind's event cursor.
    A kind with a ``reaction`` starts at the newest event when it first runs
    (it does not react to the past) unless ``from_beginning``. With
    ``pause_on_failure``, a retryable failure pauses the kind in this runner
    until that job is due again (a receiver that fails one delivery is most
    likely down: the next ones would only add load).
    """

    name: str
    handler: Handler
    reaction: Reaction | None = None
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    from_beginning: bool = False
    pause_on_failure: bool = False


def default_owner() -> str:
    """A lease owner unique to this process: host, process id and a random tag."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class JobRunner:
    """Runs ``kinds``' jobs from ``store``'s job store on ``threads`` background threads.

    ``lease`` is how long a claimed job stays this runner's; ``batch`` how
    many jobs one claim takes (and how many events one dispatch step reads);
    the delay before attempt *n + 1* is tenacity's exponential wait from
    ``first_retry`` doubling up to ``max_retry``. The jobs live in the
    store's own :class:`~.base.JobStore` unless ``jobs`` says where (a bare
    Supabase store has none: give it, say, a local SQLite file's; then the
    workers sharing that file share the jobs, and no others).
    """

    def __init__(
        self,
        store: Store,
        kinds: Sequence[JobKind],
        *,
        jobs: JobStore | None = None,
        owner: str | None = None,
        lease: float = 60.0,
        poll_interval: float = 0.5,
        batch: int = 10,
        first_retry: float = 1.0,
        max_retry: float = 300.0,
        threads: int = 1,
    ) -> None:
        names = [kind.name for kind in kinds]
        if len(set(names)) != len(names):
            raise ValueError(f"job kinds must be unique: {names}")
        self.store = store
        self.jobs: JobStore = jobs if jobs is not None else extension(store, JobStore)  # type: ignore[type-abstract]
        self.kinds = {kind.name: kind for kind in kinds}
        self.owner = owner or default_owner()
        self.lease = lease
        self.poll_interval = poll_interval
        self.batch = batch
        self.threads = threads
        self._wait = tenacity.wait_exponential(multiplier=first_retry, max=max_retry)
        self._paused: dict[str, float] = {}
        self._dispatching = threading.Lock()
        self._stopping = threading.Event()
        self._waker = threading.Event()
        self._threads: list[threading.Thread] = []
        self._detach: Callable[[], None] | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self, desk: SupportDesk | None = None) -> JobRunner:
        """Start the threads; with ``desk``, wake them whenever it announces an event."""
        if self._threads:
            return self
        try:
            self.start_cursors()
        except Exception:
            # The database away at start must not stop the app starting: the threads fix the cursors later.
            logger.warning("job runner %s: could not fix the event cursors at start", self.owner, exc_info=True)
        if desk is not None:
            self._detach = desk.subscribe(lambda event: self.wake())
        for number in range(self.threads):
            thread = threading.Thread(target=self._run, name=f"supportchat-jobs-{number}", daemon=True)
            self._threads.append(thread)
            thread.start()
        return self

    def wake(self) -> None:
        """New events or jobs may exist: look now."""
        self._waker.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the threads (a job in progress finishes first, up to ``timeout``)."""
        if self._detach is not None:
            self._detach()
            self._detach = None
        self._stopping.set()
        self._waker.set()
        for thread in self._threads:
            thread.join(timeout)

    @property
    def running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    # -- one round ---------------------------------------------------------

    def start_cursors(self) -> None:
        """Fix where each reacting kind that never ran starts (so an event written next is not "the past")."""
        newest: int | None = None
        for kind in self.kinds.values():
            if kind.reaction is not None and self.jobs.cursor(kind.name) is None:
                if not kind.from_beginning and newest is None:
                    newest = self.store.last_event_id()
                self.jobs.start_cursor(kind.name, 0 if kind.from_beginning else newest or 0)

    def run_once(self) -> int:
        """Dispatch new events, then run one claim of due jobs; how many events and jobs it handled."""
        return self.dispatch() + self.run_due()

    def dispatch(self) -> int:
        """Turn the events after each reacting kind's cursor into jobs; how many events were read."""
        with self._dispatching:
            return sum(self._dispatch(kind) for kind in self.kinds.values() if kind.reaction is not None)

    def _dispatch(self, kind: JobKind) -> int:
        assert kind.reaction is not None
        cursor = self.jobs.cursor(kind.name)
        if cursor is None:
            self.start_cursors()
            cursor = self.jobs.cursor(kind.name) or 0
        if not self.store.events_after(cursor, limit=1):
            return 0  # the usual idle case costs two reads and no write
        if not self.jobs.lease_cursor(kind.name, self.owner, lease=self.lease):
            return 0  # another worker is dispatching these events
        read = 0
        try:
            cursor = self.jobs.cursor(kind.name) or 0
            while not self._stopping.is_set() and (records := self.store.events_after(cursor, limit=self.batch)):
                new = []
                for record in records:
                    payload = kind.reaction(record)
                    if payload is not None:
                        key = f"{kind.name}:{record.id}"
                        new.append(NewJob(kind.name, payload, dedupe_key=key, max_attempts=kind.max_attempts))
                moved = self.jobs.advance_cursor(kind.name, self.owner, expected=cursor, to=records[-1].id, jobs=new)
                if not moved:
                    break  # the lease ran out and another worker took these events
                cursor = records[-1].id
                read += len(records)
        finally:
            self.jobs.release_cursor(kind.name, self.owner)
        return read

    def _ready_kinds(self, now: float) -> list[str]:
        return [name for name in self.kinds if self._paused.get(name, 0.0) <= now]

    def run_due(self) -> int:
        """Claim due jobs of the kinds not paused and run them; how many were attempted."""
        ready = self._ready_kinds(time.time())
        claimed = self.jobs.claim(self.owner, kinds=ready, lease=self.lease, limit=self.batch)
        attempted = 0
        for position, job in enumerate(claimed):
            if self._stopping.is_set() or time.time() > (job.lease_until or 0) - self.lease / 2:
                # Stopping, or half the lease is gone: leave the rest to a fresh claim.
                self.jobs.release(claimed[position:], self.owner)
                break
            if self._paused.get(job.kind, 0.0) > time.time():
                self.jobs.release([job], self.owner)
                continue
            self._attempt(job)
            attempted += 1
        return attempted

    def _attempt(self, job: Job) -> None:
        kind = self.kinds[job.kind]
        try:
            kind.handler(job)
        except PermanentFailure as exc:
            logger.warning("job %s (%s) gave up: %s", job.id, job.kind, exc)
            self.jobs.fail(job, self.owner, f"permanent: {exc}", retry_at=None)
        except Exception as exc:
            if job.attempts >= job.max_attempts:
                logger.warning("job %s (%s) gave up after %d attempts: %r", job.id, job.kind, job.attempts, exc)
                self.jobs.fail(job, self.owner, repr(exc), retry_at=None)
                return
            delay = self.retry_delay(job.attempts)
            if isinstance(exc, RetryLater):
                delay = max(delay, exc.after)
            retry_at = time.time() + delay
            self.jobs.fail(job, self.owner, repr(exc), retry_at=retry_at)
            if kind.pause_on_failure:
                self._paused[job.kind] = retry_at
        else:
            # False if the handler completed the job in its own transaction: nothing left to record.
            self.jobs.complete(job, self.owner)

    def retry_delay(self, failed_attempts: int) -> float:
        """Seconds to wait after ``failed_attempts`` failures (tenacity's exponential schedule)."""
        state = tenacity.RetryCallState(None, None, (), {})  # type: ignore[arg-type]
        state.attempt_number = failed_attempts
        return float(self._wait(state))

    def _sleep_for(self) -> float:
        now = time.time()
        ready = self._ready_kinds(now)
        due = self.jobs.next_due(ready)
        wake_ups = [self.poll_interval]
        if due is not None:
            wake_ups.append(due - now)
        wake_ups.extend(until - now for until in self._paused.values() if until > now)
        # Never a busy loop: a due job another worker holds the row lock of is gone in a moment.
        return max(0.01, min(wake_ups))

    def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            self._waker.clear()
            try:
                if self.run_once():
                    failures = 0
                    continue
                pause = self._sleep_for()
                failures = 0
            except Exception:
                # The database briefly away must not end the thread.
                failures += 1
                logger.warning("job runner %s: a round failed", self.owner, exc_info=True)
                pause = min(self.retry_delay(failures), 30.0)
                self._stopping.wait(pause)
                continue
            self._waker.wait(pause)
