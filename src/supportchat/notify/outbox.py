"""The durable outbox: what each notifier must still deliver, in a SQLite file of its own.

The outbox is fed from the store's persisted event log, never from the
request: a notifier's cursor (the last event id it has taken in) moves
forward in the same outbox transaction that records the deliveries for the
events it passed, so a crash loses nothing and a restart duplicates nothing.
Each delivery is then claimed with a lease, attempted, and marked
``delivered``, rescheduled with a growing delay, or ``failed`` (given up,
with the last error kept) after a bound.

It lives in its own SQLite file (not in the store's database) so that it
works beside any store (SQLite, PostgreSQL, Supabase, in memory) and its
bookkeeping never competes with the desk's writes. Several processes on one
host may share the file: feeding is idempotent (one delivery per notifier
and event id) and a claim is an atomic compare-and-set, so no delivery is
attempted twice at once. Processes on different hosts need an outbox each,
with different notifier names, or one process running the notifiers.
"""

from __future__ import annotations

import enum
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Delivery", "DeliveryStatus", "Outbox"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cursors (
    notifier TEXT PRIMARY KEY,
    last_event_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    notifier TEXT NOT NULL,
    event_id INTEGER NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    lease_until REAL,
    last_error TEXT,
    created_at REAL NOT NULL,
    finished_at REAL,
    UNIQUE (notifier, event_id)
);
CREATE INDEX IF NOT EXISTS ix_deliveries_due ON deliveries (notifier, status, next_attempt_at);
"""


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    #: Given up after the last allowed attempt; ``last_error`` says why.
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One notification to deliver: what to send for which event, and how it went so far."""

    id: int
    notifier: str
    event_id: int
    payload: Mapping[str, Any]
    status: DeliveryStatus
    attempts: int
    last_error: str | None


class Outbox:
    """A SQLite file of deliveries and cursors, safe to share between threads and local processes."""

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = 10.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        with self._lock:
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, holding the file's write lock from the start (no upgrade deadlocks)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- feeding -----------------------------------------------------------

    def cursor(self, notifier: str) -> int | None:
        """The last event id ``notifier`` has taken in, or ``None`` if it never ran."""
        with self._lock:
            row = self._db.execute("SELECT last_event_id FROM cursors WHERE notifier = ?", (notifier,)).fetchone()
        return None if row is None else int(row[0])

    def start_cursor(self, notifier: str, event_id: int) -> int:
        """Set the cursor of a notifier that never ran (it starts at ``event_id``); returns the cursor."""
        with self._transaction() as db:
            db.execute("INSERT OR IGNORE INTO cursors (notifier, last_event_id) VALUES (?, ?)", (notifier, event_id))
            row = db.execute("SELECT last_event_id FROM cursors WHERE notifier = ?", (notifier,)).fetchone()
        return int(row[0])

    def take_in(
        self, notifier: str, expected_cursor: int, new_cursor: int, payloads: Sequence[tuple[int, Mapping[str, Any]]]
    ) -> bool:
        """Record deliveries for events up to ``new_cursor`` and move the cursor, atomically.

        Only if the cursor is still ``expected_cursor`` (another process may
        have taken these events in meanwhile); whether this call did it.
        """
        now = time.time()
        with self._transaction() as db:
            row = db.execute("SELECT last_event_id FROM cursors WHERE notifier = ?", (notifier,)).fetchone()
            if row is None or int(row[0]) != expected_cursor:
                return False
            db.executemany(
                "INSERT OR IGNORE INTO deliveries (notifier, event_id, payload, next_attempt_at, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [(notifier, event_id, json.dumps(payload), now, now) for event_id, payload in payloads],
            )
            db.execute("UPDATE cursors SET last_event_id = ? WHERE notifier = ?", (new_cursor, notifier))
        return True

    # -- delivering --------------------------------------------------------

    def claim_due(self, notifier: str, *, lease: float, limit: int = 20) -> list[Delivery]:
        """Up to ``limit`` deliveries due now, leased to the caller for ``lease`` seconds, oldest first.

        A delivery whose lease ran out (its process died mid-attempt) is due again.
        """
        now = time.time()
        with self._transaction() as db:
            rows = db.execute(
                "SELECT id, notifier, event_id, payload, status, attempts, last_error FROM deliveries "
                "WHERE notifier = ? AND ((status = 'pending' AND next_attempt_at <= ?) "
                "OR (status = 'sending' AND lease_until < ?)) ORDER BY event_id LIMIT ?",
                (notifier, now, now, limit),
            ).fetchall()
            db.executemany(
                "UPDATE deliveries SET status = 'sending', lease_until = ? WHERE id = ?",
                [(now + lease, row[0]) for row in rows],
            )
        return [_delivery(row, status=DeliveryStatus.SENDING) for row in rows]

    def release(self, deliveries: Sequence[Delivery]) -> None:
        """Give claimed deliveries back unattempted (due at once, attempts unchanged)."""
        if deliveries:
            with self._transaction() as db:
                db.executemany(
                    "UPDATE deliveries SET status = 'pending', lease_until = NULL WHERE id = ? AND status = 'sending'",
                    [(d.id,) for d in deliveries],
                )

    def delivered(self, delivery: Delivery) -> None:
        self._finish(
            delivery,
            "UPDATE deliveries SET status = 'delivered', attempts = attempts + 1, "
            "finished_at = ?, last_error = NULL, lease_until = NULL WHERE id = ?",
            (time.time(),),
        )

    def failed_attempt(self, delivery: Delivery, error: str, *, retry_in: float | None) -> None:
        """Record a failed attempt: due again in ``retry_in`` seconds, or given up when ``None``."""
        now = time.time()
        if retry_in is None:
            sql = (
                "UPDATE deliveries SET status = 'failed', attempts = attempts + 1, last_error = ?, "
                "finished_at = ?, lease_until = NULL WHERE id = ?"
            )
            self._finish(delivery, sql, (error[:2000], now))
        else:
            sql = (
                "UPDATE deliveries SET status = 'pending', attempts = attempts + 1, last_error = ?, "
                "next_attempt_at = ?, lease_until = NULL WHERE id = ?"
            )
            self._finish(delivery, sql, (error[:2000], now + retry_in))

    def _finish(self, delivery: Delivery, sql: str, values: tuple[Any, ...]) -> None:
        with self._transaction() as db:
            db.execute(sql, (*values, delivery.id))

    def next_due_in(self, notifier: str) -> float | None:
        """Seconds until the next pending delivery is due (0 if one is due), ``None`` if none waits."""
        with self._lock:
            row = self._db.execute(
                "SELECT min(next_attempt_at) FROM deliveries WHERE notifier = ? AND status = 'pending'", (notifier,)
            ).fetchone()
        return None if row[0] is None else max(float(row[0]) - time.time(), 0.0)

    # -- reporting ---------------------------------------------------------

    def counts(self, notifier: str | None = None) -> dict[str, int]:
        """How many deliveries are in each status (every status present, even at 0)."""
        query = "SELECT status, count(*) FROM deliveries"
        args: tuple[Any, ...] = ()
        if notifier is not None:
            query += " WHERE notifier = ?"
            args = (notifier,)
        with self._lock:
            rows = self._db.execute(query + " GROUP BY status", args).fetchall()
        found = {str(status): int(count) for status, count in rows}
        return {status.value: found.get(status.value, 0) for status in DeliveryStatus}

    def deliveries(self, notifier: str, status: DeliveryStatus | None = None) -> list[Delivery]:
        """A notifier's deliveries (of one status, if given), by event id."""
        query = (
            "SELECT id, notifier, event_id, payload, status, attempts, last_error FROM deliveries WHERE notifier = ?"
        )
        args: tuple[Any, ...] = (notifier,)
        if status is not None:
            query += " AND status = ?"
            args = (notifier, status.value)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY event_id", args).fetchall()
        return [_delivery(row) for row in rows]


def _delivery(row: Sequence[Any], status: DeliveryStatus | None = None) -> Delivery:
    return Delivery(
        id=int(row[0]),
        notifier=str(row[1]),
        event_id=int(row[2]),
        payload=json.loads(row[3]),
        status=status or DeliveryStatus(row[4]),
        attempts=int(row[5]),
        last_error=row[6],
    )
