"""Listing by tag, and writing notes and tags, against a baseline in the same run (run by hand).

    python -m benchmarks.notes_tags                      # 10,000 and 100,000 tickets on SQLite
    python -m benchmarks.notes_tags --sizes 10000 50000  # quicker

Each size is a SQLite file made by the migrations and filled in bulk with plain
``sqlite3`` (the triggers keep the statistics and the tag counters): every ticket
has a status and a priority drawn at random, a fifth carry the tag ``vip``, one in
a hundred ``rare``. Figures are medians of ``--repeat`` calls through
``SupportDesk`` after a warm-up:

- listing by tag (page 1 and page 20, with the exact total) beside listing by
  status, the baseline filter that reads an index in order: the ratio to the
  smallest size says whether a filter stays flat with the table;
- adding a note and changing a ticket's tags beside posting an admin reply,
  the baseline write.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
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
STATUSES = ("open", "in_progress", "resolved", "closed")


def build(path: Path, size: int) -> None:
    SQLiteStore(path).close()  # the migrations
    chance = random.Random(size)
    database = sqlite3.connect(path)
    stamp = "2026-11-01 10:00:00.000000"
    tickets = [
        (
            n,
            f"TKT-{n:08d}",
            chance.randint(1, 5000),
            "Subject",
            "Description",
            chance.choice(("low", "medium", "high", "urgent")),
            chance.choice(STATUSES),
            stamp,
            stamp,
        )
        for n in range(1, size + 1)
    ]
    with database:
        database.executemany(
            "INSERT INTO support_tickets (id, ticket_number, user_id, subject, description, priority, status,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            tickets,
        )
        tags = [(n, "vip") for n in range(1, size + 1) if chance.random() < 0.2]
        tags += [(n, "rare") for n in range(1, size + 1) if chance.random() < 0.01]
        database.executemany("INSERT INTO support_ticket_tags (ticket_id, tag) VALUES (?, ?)", tags)
    database.close()


def median_ms(call: Callable[[], object], repeat: int) -> float:
    call()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure(size: int, repeat: int, folder: Path) -> dict[str, float]:
    path = folder / f"tags-{size}.db"
    build(path, size)
    store = SQLiteStore(path)
    desk = SupportDesk(store)
    figures = {
        "list by status (baseline)": median_ms(lambda: desk.list_tickets(ADMIN, status="open"), repeat),
        "list by tag vip": median_ms(lambda: desk.list_tickets(ADMIN, tag="vip"), repeat),
        "list by tag vip, page 20": median_ms(lambda: desk.list_tickets(ADMIN, tag="vip", page=20), repeat),
        "list by tag rare": median_ms(lambda: desk.list_tickets(ADMIN, tag="rare"), repeat),
        "list by tag vip + status": median_ms(lambda: desk.list_tickets(ADMIN, tag="vip", status="open"), repeat),
    }
    ticket = size // 2
    figures["admin reply (baseline)"] = median_ms(lambda: desk.post_message(ADMIN, ticket, "on it"), repeat)
    figures["add a note"] = median_ms(lambda: desk.add_note(ADMIN, ticket, "called the bank"), repeat)
    flip = iter(range(10**9))
    figures["change tags"] = median_ms(
        lambda: desk.set_tags(ADMIN, ticket, ["vip"] if next(flip) % 2 else ["refund"]), repeat
    )
    store.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="supportchat-tags-bench-") as folder:
        results = {size: measure(size, args.repeat, Path(folder)) for size in args.sizes}
    smallest = results[args.sizes[0]]
    header = " | ".join(f"{size:,} tickets" for size in args.sizes)
    print(f"| median, ms | {header} | ratio to {args.sizes[0]:,} | ratio to its baseline |")
    print("|---|" + "---|" * (len(args.sizes) + 2))
    for name in smallest:
        values = " | ".join(f"{results[size][name]:.2f}" for size in args.sizes)
        growth = results[args.sizes[-1]][name] / smallest[name]
        base = "list by status (baseline)" if name.startswith("list") else "admin reply (baseline)"
        versus = results[args.sizes[-1]][name] / results[args.sizes[-1]][base]
        print(f"| {name} | {values} | {growth:.2f}x | {versus:.2f}x |")


if __name__ == "__main__":
    main()
