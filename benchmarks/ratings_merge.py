"""What ratings and merges cost through the desk, on a SQLite file (run by hand).

    python -m benchmarks.ratings_merge
    python -m benchmarks.ratings_merge --repeat 200 --sizes 100 1000 10000

Figures, each the median of ``--repeat`` calls in one process after a warm-up,
with a ratio against a baseline measured in the same run:

- opening a ticket (``get_ticket``, nothing marked read) by the id or number
  of a ticket merged into it, against opening it by its own id: following
  ``merged_into`` costs one more primary-key read;
- rating a resolved ticket (``rate``: reads the change record and the
  ratings, then one checked write) against resolving one (``change_status``);
- merging a ticket of N messages into another (one transaction moving the
  rows), against posting one message.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from supportchat import Actor, SupportDesk
from supportchat.stores.sql import SQLiteStore

ADMIN = Actor.admin(1)
OWNER = Actor.user(7)


def median_ms(call: Callable[[], object], repeat: int) -> float:
    call()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def ticket(desk: SupportDesk, messages: int = 0) -> int:
    made = desk.create_ticket(OWNER, subject="Cobro doble", description="Me cobraron dos veces")
    for n in range(messages):
        desk.post_message(OWNER if n % 2 else ADMIN, made.id, f"mensaje {n}")
    return made.id


def bulk_messages(store: SQLiteStore, ticket_id: int, count: int) -> None:
    """``count`` user messages in one statement, with the ticket's counters set to match (a fixture, not measured)."""
    with store.transaction(write=True) as connection:
        connection.exec_driver_sql(
            "INSERT INTO support_messages (ticket_id, sender_id, sender_type, message, message_type, is_read,"
            " created_at, uid) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
            " SELECT ?, 7, 'user', 'mensaje ' || i, 'text', 0, '2026-01-01 00:00:00.000000', hex(randomblob(16))"
            " FROM n",
            (count, ticket_id),
        )
        connection.exec_driver_sql(
            "UPDATE support_tickets SET message_count = message_count + ?, unread_from_user = unread_from_user + ?"
            " WHERE id = ?",
            (count, count, ticket_id),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = SQLiteStore(Path(folder) / "bench.db")
        desk = SupportDesk(store)
        target = ticket(desk, messages=20)
        source = ticket(desk, messages=5)
        direct = median_ms(lambda: desk.get_ticket(ADMIN, target, mark_read=False), args.repeat)
        desk.merge(ADMIN, source, target)
        number = desk.store.get_ticket(source)
        assert number is not None
        by_id = median_ms(lambda: desk.get_ticket(ADMIN, source, mark_read=False), args.repeat)
        by_number = median_ms(lambda: desk.get_ticket(ADMIN, number.ticket_number, mark_read=False), args.repeat)

        resolving = [ticket(desk) for _ in range(args.repeat + 1)]
        resolve = median_ms(lambda: desk.change_status(ADMIN, resolving.pop(), "resolved"), args.repeat)
        rating = [ticket(desk) for _ in range(args.repeat + 1)]
        for ticket_id in rating:
            desk.change_status(ADMIN, ticket_id, "resolved")
        rate = median_ms(lambda: desk.rate(OWNER, rating.pop(), 4, comment="bien"), args.repeat)

        into = ticket(desk)
        post = median_ms(lambda: desk.post_message(ADMIN, into, "respuesta"), args.repeat)
        merges = []
        for size in args.sizes:
            times = []
            for _ in range(3):
                full, empty = ticket(desk), ticket(desk)
                bulk_messages(store, full, size)
                start = time.perf_counter()
                desk.merge(ADMIN, full, empty)
                times.append((time.perf_counter() - start) * 1000)
            merges.append((size, statistics.median(times)))
        store.close()

    print("| operation (SQLite file, median) | ms | ratio |")
    print("|---|---:|---:|")
    print(f"| open a ticket by its own id (baseline) | {direct:.3f} | 1.00 |")
    print(f"| open it by a merged ticket's id | {by_id:.3f} | {by_id / direct:.2f} |")
    print(f"| open it by a merged ticket's number | {by_number:.3f} | {by_number / direct:.2f} |")
    print(f"| resolve a ticket (baseline) | {resolve:.3f} | 1.00 |")
    print(f"| rate a resolved ticket | {rate:.3f} | {rate / resolve:.2f} |")
    print(f"| post a message (baseline) | {post:.3f} | 1.00 |")
    for size, ms in merges:
        print(f"| merge a ticket of {size:,} messages | {ms:.3f} | {ms / post:.2f} |")


if __name__ == "__main__":
    main()
