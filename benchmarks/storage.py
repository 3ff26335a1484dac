"""Storage benchmark: the desk over SQLiteStore against raw sqlite3 doing the same SQL.

Run by hand (it is not a test)::

    python benchmarks/storage.py            # full: listing and statistics at 1,000,000 tickets
    python benchmarks/storage.py --quick    # a minute or less: 100,000 tickets at most

Both sides use a file each, created by the same migrations (same tables,
indexes and statistics triggers) and opened with the same settings (WAL,
``synchronous=NORMAL``, foreign keys on, ``BEGIN IMMEDIATE`` for writes). The
raw side issues exactly the statements the store issues for each operation
(the event log and the statistics counters are kept by triggers, on both
sides), with values prepared in advance, so the ratio is the cost of everything the
library adds: validation, sanitising, models, SQLAlchemy Core.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from supportchat import Actor, SupportDesk
from supportchat.numbers import new_ticket_number
from supportchat.stores.sql import SQLiteStore

USER = Actor.user(42)
ADMIN = Actor.admin(1)
TS = "%Y-%m-%d %H:%M:%S.%f"

TICKET_COLUMNS = (
    "ticket_number, user_id, subject, description, priority, status, category, assigned_to, "
    "created_at, updated_at, resolved_at"
)
INSERT_TICKET = f"INSERT INTO support_tickets ({TICKET_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?) RETURNING id"
INSERT_MESSAGE = (
    "INSERT INTO support_messages (ticket_id, sender_id, sender_type, message, message_type, file_url, is_read, "
    "created_at, uid) VALUES (?,?,?,?,?,?,?,?,?) RETURNING id"
)
UPDATE_FOR_MESSAGE = (
    "UPDATE support_tickets SET updated_at=?, message_count=message_count + 1, "
    "unread_from_user=unread_from_user + 1, version=version + 1 WHERE id = ? AND version = ? RETURNING *"
)
SELECT_TICKET = "SELECT * FROM support_tickets WHERE id = ?"


def now_text() -> str:
    return datetime.now(UTC).strftime(TS)


class Raw:
    """The store's statements on a bare sqlite3 connection with the store's settings."""

    def __init__(self, path: Path) -> None:
        SQLiteStore(path).close()  # same schema, indexes and triggers
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")

    def create_ticket(self) -> int:
        at = now_text()
        self.db.execute("BEGIN IMMEDIATE")
        row = (new_ticket_number(), 42, "Payment failed", "Card declined", "medium", "open", "general", None, at, at)
        ticket_id = self.db.execute(INSERT_TICKET, (*row, None)).fetchone()[0]
        self.db.execute("COMMIT")
        return int(ticket_id)

    def post_message(self, ticket_id: int) -> None:
        ticket = self.db.execute(SELECT_TICKET, (ticket_id,)).fetchone()
        version = ticket[12]
        at = now_text()
        self.db.execute("BEGIN IMMEDIATE")
        uid = f"{random.getrandbits(128):032x}"
        self.db.execute(INSERT_MESSAGE, (ticket_id, 42, "user", "Any news?", "text", None, 0, at, uid)).fetchone()
        self.db.execute(UPDATE_FOR_MESSAGE, (at, ticket_id, version)).fetchone()
        self.db.execute("COMMIT")


ROUNDS = 7


def timed(operation: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        operation()
    return (time.perf_counter() - start) / calls


def per_op(operation: Callable[[], object], count: int) -> float:
    """Seconds per call: the best of 7 rounds (the machine is shared; the best round is the least disturbed)."""
    return min(timed(operation, max(count // ROUNDS, 1)) for _ in range(ROUNDS))


def side_by_side(first: Callable[[], object], second: Callable[[], object], count: int) -> tuple[float, float]:
    """Seconds per call of each, rounds interleaved so that both see the same machine load."""
    calls = max(count // ROUNDS, 1)
    rounds = [(timed(first, calls), timed(second, calls)) for _ in range(ROUNDS)]
    return min(r[0] for r in rounds), min(r[1] for r in rounds)


def fill(path: Path, tickets: int) -> None:
    """Bring the desk's database to ``tickets`` tickets in bulk (triggers keep the counters)."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    existing = db.execute("SELECT count(*) FROM support_tickets").fetchone()[0]
    statuses = ("open", "in_progress", "resolved", "closed")
    at = now_text()
    db.execute("BEGIN IMMEDIATE")
    batch = []
    for index in range(existing, tickets):
        status = statuses[index % 4]
        batch.append(
            (
                f"TKT-B{index:09d}",
                1 + index % 5000,
                "Subject",
                "Description",
                "medium",
                status,
                "general",
                None,
                at,
                at,
                at if status == "resolved" else None,
            )
        )
        if len(batch) == 50_000:
            db.executemany(INSERT_TICKET.removesuffix(" RETURNING id"), batch)
            batch.clear()
    if batch:
        db.executemany(INSERT_TICKET.removesuffix(" RETURNING id"), batch)
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer operations, at most 100,000 tickets")
    args = parser.parse_args()
    operations = 500 if args.quick else 3000
    sizes = (10_000, 100_000) if args.quick else (10_000, 1_000_000)

    folder = Path(tempfile.mkdtemp(prefix="supportchat-bench-"))
    store = SQLiteStore(folder / "desk.db")
    desk = SupportDesk(store)
    raw = Raw(folder / "raw.db")

    def desk_create() -> int:
        return desk.create_ticket(USER, subject="Payment failed", description="Card declined").id

    def desk_ticket_and_message() -> None:
        desk.post_message(USER, desk_create(), "Any news?")

    def raw_ticket_and_message() -> None:
        raw.post_message(raw.create_ticket())

    desk_target, raw_target = desk_create(), raw.create_ticket()
    for _ in range(200):  # warm up caches on both sides
        desk_ticket_and_message()
        raw_ticket_and_message()

    print(f"SQLite {sqlite3.sqlite_version}, {operations} operations per figure, best of 7 interleaved rounds\n")
    print(f"{'operation':<28}{'desk µs':>10}{'raw µs':>10}{'ratio':>8}  target")
    writes = [
        ("create ticket", desk_create, raw.create_ticket, 0.30),
        ("ticket + first message", desk_ticket_and_message, raw_ticket_and_message, 0.25),
        (
            "post message",
            lambda: desk.post_message(USER, desk_target, "Any news?"),
            lambda: raw.post_message(raw_target),
            0.30,
        ),
    ]
    for name, desk_op, raw_op, target in writes:
        desk_time, raw_time = side_by_side(desk_op, raw_op, operations)
        ratio = raw_time / desk_time
        verdict = "ok" if ratio >= target else "MISSED"
        print(f"{name:<28}{desk_time * 1e6:>10.1f}{raw_time * 1e6:>10.1f}{ratio:>7.2f}×  ≥ {target:.2f}× {verdict}")

    thread_id = desk_create()
    for index in range(10):
        desk.post_message(USER if index % 2 else ADMIN, thread_id, f"Message {index}")

    print(f"\n{'read at N tickets':<40}{'ms':>8}  target")
    listing: dict[int, float] = {}
    for size in sizes:
        fill(folder / "desk.db", size)
        listing[size] = per_op(lambda: desk.list_tickets(ADMIN, status="open", per_page=50), 500) * 1e3
        thread = per_op(lambda: desk.get_ticket(ADMIN, thread_id), 500) * 1e3
        stats = per_op(lambda: desk.statistics(ADMIN), 500) * 1e3
        total = desk.statistics(ADMIN).total_tickets
        print(f"{f'list 50 open tickets at {total:,}':<40}{listing[size]:>8.3f}  ≤ 0.5 ms")
        print(f"{f'ticket with 10 messages at {total:,}':<40}{thread:>8.3f}  ≤ 0.5 ms")
        print(f"{f'statistics at {total:,}':<40}{stats:>8.3f}  ≤ 5 ms")
    small, large = sizes
    print(f"\nlisting at {large:,} / at {small:,}: {listing[large] / listing[small]:.2f}× (target ≤ 1.5×)")
    store.close()


if __name__ == "__main__":
    main()
