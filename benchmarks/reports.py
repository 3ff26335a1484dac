"""Reports over stored facts at 10,000, 100,000 and 1,000,000 tickets, against baselines in the same run (by hand).

    python -m benchmarks.reports                           # SQLite and PostgreSQL, 10k, 100k, 1M
    python -m benchmarks.reports --sizes 10000 --backends sqlite

For each size, a fresh database (a SQLite file; a PostgreSQL schema of its own,
migrated) gets the report facts of N synthetic tickets created over 90 days (a
reply, a resolution, one in three with a follow-up answered, one in five
reopened and resolved again, one in four rated, one in two under an SLA, one in
ten still open). At 10,000 the tickets themselves are bulk-loaded and their
facts stored by ``recompute`` (the real path, from each history); at the larger
sizes the same facts are written directly in bulk, as ``facts_of`` would give
them. Then, median of 3 runs:

- **baseline**: ``SELECT kind, count(*)`` over the range's facts, the floor of
  any aggregate over them (a scan of the ``(kind, at)`` index);
- the 90-day report grouped by day and by agent, from the stored facts.

At 10,000 it also times the reference report over the histories (what every
report cost before the facts), and one ticket's refresh (the ``reports.facts``
job's work for one event, off the write path) against an admin reply (a write).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from supportchat import Actor, SupportDesk
from supportchat.extensions import extension
from supportchat.migrations import upgrade
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
from supportchat.reports import METRICS_VERSION, FactStore, GroupBy, build_report, histories, recompute, refresh
from supportchat.reports import schema as facts_schema
from supportchat.reports.report import period_key
from supportchat.reports.sql import moment_micros
from supportchat.store import BulkLoad
from supportchat.stores.sql import SQLStore, create_engine
from supportchat.transfer.records import ThreadRecord

POSTGRES_URL = os.environ.get("SUPPORTCHAT_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

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


#: How many times each report runs (the median is shown); ``--runs`` changes it.
RUNS = [3]


def _median_ms(work: Callable[[], object], runs: int | None = None) -> float:
    runs = runs or RUNS[0]
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


_FACT_COLUMNS = [c.name for c in facts_schema.facts.c if c.name != "id"]
_SEGMENT_COLUMNS = [c.name for c in facts_schema.segments.c if c.name != "id"]
_MINUTE = 60_000_000


def _synthetic_facts(
    tickets: int, rng: random.Random
) -> Iterator[tuple[list[tuple[object, ...]], list[tuple[object, ...]]]]:
    """Fact and segment rows of ``tickets`` tickets, 10,000 at a time (the shapes ``facts_of`` stores)."""
    origin = moment_micros(START)
    keys: dict[int, tuple[str, str, str]] = {}

    def periods(at: int) -> tuple[str, str, str]:
        day = at // 86_400_000_000
        if day not in keys:
            moment = START + timedelta(microseconds=at - origin)
            keys[day] = tuple(period_key(moment, g) for g in (GroupBy.DAY, GroupBy.WEEK, GroupBy.MONTH))  # type: ignore[assignment]
        return keys[day]

    for first in range(1, tickets + 1, 10_000):
        facts: list[tuple[object, ...]] = []
        spans: list[tuple[object, ...]] = []
        for i in range(first, min(first + 10_000, tickets + 1)):
            agent, category, priority = 10 + i % 7, list(Category)[i % 5].value, "medium"
            created = origin + rng.randrange(DAYS * 86_400_000_000)

            who = (agent, category, priority)

            def fact(kind: str, at: int, value: int | None = None, score: int | None = None, ticket: int = i) -> None:
                facts.append((ticket, kind, at, *periods(at), *who, value, None, score, METRICS_VERSION))  # noqa: B023

            fact("created", created)
            if i % 10 == 0:  # still open, never answered
                spans.append((i, created, facts_schema.FOREVER, None, category, priority))
                continue
            answer = rng.randrange(1, 600) * _MINUTE
            fact("first_response", created + answer, answer)
            resolved = created + answer + rng.randrange(10, 3000) * _MINUTE
            if i % 3 == 0:
                wait = rng.randrange(1, 300) * _MINUTE
                fact("next_response", created + answer + wait, wait)
            fact("resolved", resolved)
            fact("resolution", resolved, resolved - created)
            last = resolved
            if i % 5 == 0:
                reopened = resolved + 60 * _MINUTE
                last = reopened + rng.randrange(10, 600) * _MINUTE
                fact("reopened", reopened)
                fact("resolved", last)
                fact("resolution", last, last - reopened)
            fact("full_resolution", last, last - created)
            if i % 4 == 0:
                fact("csat", last + 30 * _MINUTE, None, 1 + i % 5)
            if i % 2 == 0:
                fact("sla_first_response", created + answer, None, int(answer < 120 * _MINUTE))
            spans.append((i, created, last, None, category, priority))
        yield facts, spans


def _bulk_facts(store: SQLStore, tickets: int) -> None:
    """Write the synthetic facts straight into the tables (COPY on PostgreSQL), then mark them built."""
    rng = random.Random(20)
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        postgres = store.engine.dialect.name == "postgresql"
        for facts, spans in _synthetic_facts(tickets, rng):
            for table, columns, rows in (
                ("support_report_facts", _FACT_COLUMNS, facts),
                ("support_report_segments", _SEGMENT_COLUMNS, spans),
            ):
                if postgres:
                    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                        for row in rows:
                            copy.write_row(row)
                else:
                    marks = ", ".join("?" for _ in columns)
                    cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
        raw.commit()
    finally:
        raw.close()
    with store.transaction(write=True) as connection:
        connection.execute(facts_schema.state.insert().values(id=1, metrics_version=METRICS_VERSION))
        if store.engine.dialect.name == "postgresql":
            connection.exec_driver_sql("ANALYZE support_report_facts")
            connection.exec_driver_sql("ANALYZE support_report_segments")
        else:
            connection.exec_driver_sql("ANALYZE")


def _store(backend: str, folder: Path) -> tuple[SQLStore, Callable[[], None]]:
    if backend == "sqlite":
        store = SQLStore.from_url(f"sqlite:///{folder / f'bench-{uuid.uuid4().hex[:6]}.db'}")
        return store, store.close
    schema = f"bench_reports_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine = create_engine(POSTGRES_URL, connect_args={"options": f"-c search_path={schema}"})
    upgrade(engine)
    store = SQLStore(engine)

    def drop() -> None:
        engine.dispose()
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()

    return store, drop


def _baseline(store: SQLStore, end: datetime) -> Callable[[], object]:
    f = facts_schema.facts.c
    low, high = moment_micros(START), moment_micros(end)
    query = sa.select(f.kind, sa.func.count()).where(f.at >= low, f.at < high).group_by(f.kind)

    def run() -> object:
        with store.transaction() as connection:
            return connection.execute(query).fetchall()

    return run


def _measure(backend: str, tickets: int, folder: Path) -> None:
    store, cleanup = _store(backend, folder)
    try:
        began = time.perf_counter()
        if tickets <= 10_000:
            rng = random.Random(20)
            loader = extension(store, BulkLoad)  # type: ignore[type-abstract]
            for first in range(1, tickets + 1, 1000):
                batch = [_record(i, rng) for i in range(first, min(first + 1000, tickets + 1))]
                loader.insert_threads(batch, keep_ids=True)
            recompute(store)
        else:
            _bulk_facts(store, tickets)
        built = time.perf_counter() - began
        facts: FactStore = extension(store, FactStore)  # type: ignore[type-abstract]
        end = START + timedelta(days=DAYS)
        baseline = _median_ms(_baseline(store, end))
        by_day = _median_ms(lambda: facts.report(START, end, GroupBy.DAY))
        by_agent = _median_ms(lambda: facts.report(START, end, GroupBy.AGENT))
        print(
            f"| {backend} | {tickets:,} | {built:,.0f} s | {baseline:,.0f} ms"
            f" | {by_day:,.0f} ms ({by_day / baseline:.1f}×) | {by_agent:,.0f} ms ({by_agent / baseline:.1f}×) |",
            flush=True,
        )
        if tickets <= 10_000:
            reference = _median_ms(lambda: build_report(histories(store), START, end, GroupBy.DAY), runs=1)
            desk = SupportDesk(store)
            reply = _median_ms(lambda: desk.post_message(Actor.admin(10), 7, "Hola"), runs=15)
            keep = _median_ms(lambda: refresh(store, [7]), runs=15)
            print(
                f"|   | reference report by day, from the histories: {reference:,.0f} ms ({reference / by_day:.0f}× the"
                f" stored facts' report); an admin reply {reply:.1f} ms, one ticket's refresh (the job,"
                f" off the write path) {keep:.1f} ms |",
                flush=True,
            )
    finally:
        cleanup()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    parser.add_argument("--runs", type=int, default=3, help="Runs of each report (the median is shown).")
    arguments = parser.parse_args()
    RUNS[0] = arguments.runs
    print(f"load average {os.getloadavg()[0]:.1f} at the start; 90-day reports\n")
    print(
        "| backend | tickets | facts built in | baseline | report by day | report by agent |\n|---|---|---|---|---|---|"
    )
    with tempfile.TemporaryDirectory() as folder:
        for backend in arguments.backends:
            for tickets in arguments.sizes:
                _measure(backend, tickets, Path(folder))
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
