"""The outage journal: writes waiting to reach the primary, kept in a SQLite file.

A :class:`Journal` holds, in order, every write the fallback store accepted
while the primary could not. It survives a process restart or crash (a SQLite
file set up like every supportchat SQLite database, by
:func:`supportchat.sqlschema.engine.configure_connection`; ``synchronous=NORMAL`` by default,
as the SQLite fallback store itself, or ``FULL`` to survive a power cut too,
at one fsync per write) and also keeps the counters from
which outage-time ids are drawn, so that a restarted process never hands out
an id twice.

An entry is *pending* until the replay settles it: a settled entry is deleted;
one the primary refuses for good (for instance its ticket number is taken by
another ticket) is *parked* as a conflict, kept with its error for an operator.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from ..sqlschema.engine import connect_sqlite, immediate_transaction, writer_lane
from ._ops import Operation, load_operation

__all__ = ["IdRange", "Journal", "JournalEntry", "Recording"]

IdKind = Literal["ticket", "message", "note"]
_ID_KINDS: tuple[IdKind, ...] = ("ticket", "message", "note")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS journal (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    operation   TEXT    NOT NULL,
    state       TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'conflict')),
    -- The primary's version of the ticket just before this update was sent to it:
    -- tells a resumed replay whether the update got there.
    marker      INTEGER,
    recorded_at TEXT    NOT NULL,
    error       TEXT
);
CREATE INDEX IF NOT EXISTS journal_state_seq ON journal (state, seq);
CREATE TABLE IF NOT EXISTS id_counters (
    kind    TEXT PRIMARY KEY CHECK (kind IN ('ticket', 'message', 'note')),
    next_id INTEGER NOT NULL
);
"""
#: A journal file made before notes had ids of their own: its counters' CHECK lacks 'note'.
_COUNTERS_WITHOUT_NOTES = """
CREATE TABLE id_counters_with_notes (
    kind    TEXT PRIMARY KEY CHECK (kind IN ('ticket', 'message', 'note')),
    next_id INTEGER NOT NULL
);
INSERT INTO id_counters_with_notes SELECT kind, next_id FROM id_counters;
DROP TABLE id_counters;
ALTER TABLE id_counters_with_notes RENAME TO id_counters
"""


@dataclass(frozen=True, slots=True)
class IdRange:
    """Where ids handed out during an outage come from: ``start <= id < stop``.

    The default starts far above any id a primary reaches in normal life and
    ends below 2**31, so outage ids also fit a 32-bit ``serial`` column.
    """

    start: int = 1_000_000_000
    stop: int = 2_147_483_647

    def __post_init__(self) -> None:
        if not 0 < self.start < self.stop:
            raise ValueError("an IdRange needs 0 < start < stop")


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One pending write: its position, the operation and the replay marker."""

    seq: int
    operation: Operation
    marker: int | None


class Journal:
    """Durable, ordered record of outage writes (one owner at a time per file)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        id_range: IdRange | None = None,
        synchronous: Literal["FULL", "NORMAL"] = "NORMAL",
    ) -> None:
        self.path = os.fspath(path)
        self.id_range = id_range or IdRange()
        self._lock = threading.RLock()
        self._db = connect_sqlite(self.path, synchronous=synchronous)
        # IMMEDIATE transactions in the file's writer lane: two processes opening
        # the same file cannot both read a counter and both use it.
        self._lane = writer_lane(self.path)
        with self._transaction():
            for statement in filter(str.strip, _SCHEMA.split(";")):
                self._db.execute(statement)
            (counters,) = self._db.execute("SELECT sql FROM sqlite_master WHERE name = 'id_counters'").fetchone()
            if "'note'" not in counters:
                for statement in filter(str.strip, _COUNTERS_WITHOUT_NOTES.split(";")):
                    self._db.execute(statement)
            for kind in _ID_KINDS:
                self._db.execute(
                    "INSERT OR IGNORE INTO id_counters (kind, next_id) VALUES (?, ?)", (kind, self.id_range.start)
                )
        self._pending = self._count("pending")

    # -- recording -------------------------------------------------------

    @contextmanager
    def recording(self) -> Iterator[Recording]:
        """A transaction for one outage write: allocate ids, append, all or nothing.

        The fallback store is written *inside* it, so that a failed write leaves
        no entry and no used id, and a written one is in the journal before
        its result reaches the caller.
        """
        with self._lock, self._transaction():
            recording = Recording(self)
            yield recording
        self._pending += recording.appended

    def observe(self, kind: IdKind, used_id: int) -> None:
        """Note an id the primary handed out, so no outage id ever repeats it."""
        if used_id < self.id_range.start:
            return
        with self._lock, self._transaction():
            self._db.execute(
                "UPDATE id_counters SET next_id = ? WHERE kind = ? AND next_id <= ?", (used_id + 1, kind, used_id)
            )

    # -- replaying -------------------------------------------------------

    @property
    def pending_count(self) -> int:
        """Entries still waiting for the primary (a cached count; no query)."""
        return self._pending

    @property
    def conflict_count(self) -> int:
        return self._count("conflict")

    def pending(self, limit: int) -> list[JournalEntry]:
        """The oldest ``limit`` pending entries, in the order they were recorded."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, operation, marker FROM journal WHERE state = 'pending' ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        return [JournalEntry(seq, load_operation(document), marker) for seq, document, marker in rows]

    def conflicts(self) -> list[tuple[JournalEntry, str]]:
        """Parked entries and why the primary refused them."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, operation, marker, error FROM journal WHERE state = 'conflict' ORDER BY seq"
            ).fetchall()
        return [(JournalEntry(seq, load_operation(doc), marker), error) for seq, doc, marker, error in rows]

    def set_marker(self, seq: int, version: int) -> None:
        with self._lock, self._transaction():
            self._db.execute("UPDATE journal SET marker = ? WHERE seq = ?", (version, seq))

    def settle(self, seq: int) -> None:
        """The entry reached the primary: forget it."""
        with self._lock, self._transaction():
            deleted = self._db.execute("DELETE FROM journal WHERE seq = ? AND state = 'pending'", (seq,)).rowcount
        self._pending -= deleted

    def park(self, seq: int, error: str) -> None:
        """The primary refuses the entry for good: keep it aside with the reason."""
        with self._lock, self._transaction():
            parked = self._db.execute(
                "UPDATE journal SET state = 'conflict', error = ? WHERE seq = ? AND state = 'pending'", (error, seq)
            ).rowcount
        self._pending -= parked

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- internals -------------------------------------------------------

    def _count(self, state: str) -> int:
        with self._lock:
            (count,) = self._db.execute("SELECT count(*) FROM journal WHERE state = ?", (state,)).fetchone()
        return int(count)

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return immediate_transaction(self._db, self._lane)


class Recording:
    """The open transaction of :meth:`Journal.recording`."""

    def __init__(self, journal: Journal) -> None:
        self._journal = journal
        self.appended = 0

    def allocate(self, kind: IdKind) -> int:
        """A fresh outage id for a ticket, a message or a note."""
        db = self._journal._db
        (next_id,) = db.execute("SELECT next_id FROM id_counters WHERE kind = ?", (kind,)).fetchone()
        if next_id >= self._journal.id_range.stop:
            raise OverflowError(f"the outage id range {self._journal.id_range} is used up for {kind}s")
        db.execute("UPDATE id_counters SET next_id = ? WHERE kind = ?", (next_id + 1, kind))
        return int(next_id)

    def append(self, operation: Operation) -> None:
        self._journal._db.execute(
            "INSERT INTO journal (operation, recorded_at) VALUES (?, ?)",
            (operation.model_dump_json(), datetime.now(UTC).isoformat()),
        )
        self.appended += 1
