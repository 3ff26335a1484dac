"""How long a report takes over a SQLite desk, against reading the same histories (run by hand).

    python -m benchmarks.reports                  # 5,000 tickets
    python -m benchmarks.reports --tickets 20000

Loads N synthetic tickets (a reply, a resolution, one in five reopened and
resolved again, one in three with a user follow-up) into a fresh SQLite file with
the bulk loader, then times, in the same run:

- baseline: reading every ticket's messages and changes (``iter_threads``), the
  floor any report computed from the history pays;
- ``build_report`` over those histories (ratings read per ticket), by day and by agent.

The report is the pure reference computation (no stored facts yet, see
docs/reports.md), so its cost grows with the number of tickets.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from supportchat.extensions import extension
from supportchat.models import (
    ActorKind,
    Category,
    Message,
    MessageType,
    Priority,
    SenderType,
    Ticket,
    TicketChange,
    TicketStatus,
)
from supportchat.reports import GroupBy, build_report, histories
from supportchat.store import BulkLoad
from supportchat.stores.sql import SQLStore
from supportchat.transfer.records import ThreadRecord
from supportchat.transfer.source import iter_threads

START = datetime(2026, 1, 1, tzinfo=UTC)
DAYS = 90


def _record(i: int, rng: random.Random) -> ThreadRecord:
    created = START + timedelta(seconds=rng.randrange(DAYS * 86400))
    agent = 10 + i % 7
    moments = [created + timedelta(minutes=m) for m in sorted(rng.sample(range(1, 5000), 5))]
    messages = [
        Message(
            id=i * 10 + n,
            ticket_id=i,
            sender_id=sender,
            sender_type=kind,
            message="m",
            message_type=MessageType.TEXT,
            file_url=None,
            is_read=True,
            created_at=at,
            uid=f"b{i}-{n}",
        )
        for n, (kind, sender, at) in enumerate(
            [(SenderType.USER, 1, created), (SenderType.ADMIN, agent, moments[0])]
            + ([(SenderType.USER, 1, moments[1]), (SenderType.ADMIN, agent, moments[2])] if i % 3 == 0 else [])
        )
    ]

    def change(n: int, old: str, new: str, at: datetime) -> TicketChange:
        return TicketChange(
            id=i * 10 + n,
            ticket_id=i,
            field="status",
            old_value=old,
            new_value=new,
            changed_by_kind=ActorKind.ADMIN,
            changed_by=agent,
            changed_at=at,
        )

    changes = [change(0, "open", "resolved", moments[3])]
    if i % 5 == 0:
        changes += [
            change(1, "resolved", "open", moments[3] + timedelta(hours=1)),
            change(2, "open", "resolved", moments[4] + timedelta(hours=2)),
        ]
    ticket = Ticket(
        id=i,
        ticket_number=f"B{i:09d}",
        user_id=1,
        subject="s",
        description="d",
        priority=Priority.MEDIUM,
        status=TicketStatus.RESOLVED,
        category=list(Category)[i % 5],
        assigned_to=agent,
        created_at=created,
        updated_at=changes[-1].changed_at,
        resolved_at=changes[-1].changed_at,
    )
    return ThreadRecord(ticket=ticket, messages=messages, changes=changes)


def _timed(label: str, work: Callable[[], object]) -> float:
    began = time.perf_counter()
    work()
    seconds = time.perf_counter() - began
    print(f"| {label} | {seconds * 1000:,.0f} ms |")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=5000)
    tickets = parser.parse_args().tickets
    rng = random.Random(20)
    with tempfile.TemporaryDirectory() as folder:
        store = SQLStore.from_url(f"sqlite:///{Path(folder) / 'bench.db'}")
        loader = extension(store, BulkLoad)  # type: ignore[type-abstract]
        for first in range(1, tickets + 1, 1000):
            loader.insert_threads(
                [_record(i, rng) for i in range(first, min(first + 1000, tickets + 1))], keep_ids=True
            )
        end = START + timedelta(days=DAYS)
        print(f"{tickets:,} tickets over {DAYS} days (SQLite file)\n\n| step | time |\n|---|---|")
        baseline = _timed("baseline: read every history (iter_threads)", lambda: sum(1 for _ in iter_threads(store)))
        by_day = _timed("report by day", lambda: build_report(histories(store), START, end, GroupBy.DAY))
        by_agent = _timed("report by agent", lambda: build_report(histories(store), START, end, GroupBy.AGENT))
        print(f"\nratio to the baseline: by day {by_day / baseline:.1f}×, by agent {by_agent / baseline:.1f}×")
        store.close()


if __name__ == "__main__":
    main()
