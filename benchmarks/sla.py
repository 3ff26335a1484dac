"""The SLA breach scan at 1,000,000 tickets with 100,000 open under policies (run by hand).

    python -m benchmarks.sla                   # 1,000,000 tickets, 100,000 open
    python -m benchmarks.sla --tickets 100000 --open 10000
    python -m benchmarks.sla --postgres       # PostgreSQL too (the test database, a schema of its own)

One SQLite file made by the migrations and filled in bulk with plain
``sqlite3`` (the search triggers off: no text is searched here): every
ticket under a policy (the tickets' triggers off during the load), two deadlines each (first response and resolution).
The closed tickets' deadlines are met (nothing left to fire: outside the
index); the open tickets' are armed, due over the next 30 days. Cached under
``/tmp/supportchat-sla-bench/``.

Figures, each the median of ``--repeat`` passes after a warm-up:

- **idle pass**: ``SlaClock.scan(now)`` when nothing is due: the pass the
  ``sla.scan`` job makes (through the partial index on ``next_fire_at``);
- **baseline**: the same query with the index forbidden (``NOT INDEXED``), a
  scan of every deadline: what the pass would cost without the index;
- **pass firing 10**: a pass with 10 breaches due (each fired in its own
  write transaction), reset between passes.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from supportchat import SupportDesk
from supportchat.extensions import extension
from supportchat.migrations import upgrade
from supportchat.sla import CalendarIn, PolicyIn, SlaClock, SlaStore
from supportchat.stores.sql import SQLiteStore, SQLStore, create_engine

from .export import number  # the bulk loaders' ticket numbers, one per index

CACHE = Path("/tmp/supportchat-sla-bench")
POSTGRES_URL = os.environ.get("SUPPORTCHAT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NOW = 1_800_000_000.0  # 2027-01-15: every armed deadline is due after it
ALWAYS = {d: [("00:00", "24:00")] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def _policy(store: SQLStore) -> int:
    sla: SlaStore = extension(store, SlaStore)  # type: ignore[type-abstract]
    sla.put_calendar(CalendarIn(name="always", time_zone="UTC", hours=ALWAYS))
    policy = PolicyIn(name="standard", calendar="always", first_response_minutes=240, resolution_minutes=2880)
    return sla.put_policy(policy).id


Rows = Iterator[tuple[object, ...]]


def rows(tickets: int, open_tickets: int, policy_id: int) -> tuple[Rows, Rows, Rows]:
    """The tickets, their clocks and their deadlines (first response and resolution), as row tuples."""
    rng = random.Random(tickets)
    opened = set(rng.sample(range(1, tickets + 1), open_tickets))
    stamp = "2027-01-01 00:00:00"  # UTC, as both databases read it

    def ticket_rows() -> Rows:
        for index in range(1, tickets + 1):
            status = "open" if index in opened else "closed"
            yield (index, number(index), 1 + index % 50_000, "Subject", "Description", "medium", status, "general",
                   stamp, stamp)  # fmt: skip

    def deadline_rows() -> Rows:
        for index in range(1, tickets + 1):
            for target in ("first_response", "resolution"):
                if index in opened:
                    due = NOW + rng.uniform(60, 30 * 86400)
                    yield (index, target, 0, NOW - 3600, due, None, "active", None, due)
                else:
                    yield (index, target, 0, NOW - 90000, NOW - 86400, None, "met", NOW - 88000, None)

    return ticket_rows(), ((i, policy_id, 0) for i in range(1, tickets + 1)), deadline_rows()


def build(tickets: int, open_tickets: int) -> Path:
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"desk-{tickets}-{open_tickets}.db"
    if path.exists():
        return path
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    started = time.perf_counter()
    store = SQLiteStore(partial)
    policy_id = _policy(store)
    store.close()
    db = sqlite3.connect(partial, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-400000")
    # A bulk load: the tickets' triggers (event log, counters, search) off, put back after.
    triggers = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    for name, _sql in triggers:
        db.execute(f"DROP TRIGGER {name}")
    # Indexes are built once after the load, not maintained row by row.
    indexes = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN ('support_tickets', 'support_sla_deadlines')"
    ).fetchall()
    for name, _sql in indexes:
        db.execute(f"DROP INDEX {name}")
    ticket_rows, clock_rows, deadline_rows = rows(tickets, open_tickets, policy_id)
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO support_tickets (id, ticket_number, user_id, subject, description, priority, status, "
        "category, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ticket_rows,
    )
    db.executemany("INSERT INTO support_sla_clocks (ticket_id, policy_id, last_change_id) VALUES (?, ?, ?)", clock_rows)
    db.executemany(
        "INSERT INTO support_sla_deadlines (ticket_id, target, cycle, started_at, due_at, warn_at, state, "
        "met_at, next_fire_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        deadline_rows,
    )
    db.execute("COMMIT")
    for _name, sql in indexes + triggers:
        db.execute(sql)
    db.execute("ANALYZE")
    db.close()
    partial.rename(path)
    print(f"built {path} in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def median_ms(run: Callable[[], object], repeat: int) -> float:
    run()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


_DUE = "WHERE next_fire_at IS NOT NULL AND next_fire_at <= :now ORDER BY next_fire_at LIMIT 500"


def measure(store: SQLStore, label: str, repeat: int) -> None:
    """The idle pass, the unindexed baseline and a pass firing 10 breaches, on ``store``'s database."""
    engine = store.engine
    postgres = engine.dialect.name == "postgresql"
    clock = SlaClock(SupportDesk(store))
    with engine.connect() as connection:
        armed = connection.execute(sa.text("SELECT count(*) FROM support_sla_deadlines WHERE next_fire_at IS NOT NULL"))
        armed_count = armed.scalar_one()
        total = connection.execute(sa.text("SELECT count(*) FROM support_sla_deadlines")).scalar_one()
        explain = "EXPLAIN" if postgres else "EXPLAIN QUERY PLAN"
        plan = " / ".join(
            str(row[-1]).strip()
            for row in connection.execute(
                sa.text(f"{explain} SELECT * FROM support_sla_deadlines {_DUE}"), {"now": NOW}
            )
        )
        soonest = list(
            connection.execute(
                sa.text(
                    "SELECT id FROM support_sla_deadlines WHERE next_fire_at IS NOT NULL ORDER BY next_fire_at LIMIT 10"
                )
            ).scalars()
        )

    def idle() -> None:
        assert clock.scan(NOW) == []

    def baseline() -> None:
        with engine.begin() as connection:
            if postgres:
                connection.execute(sa.text("SET LOCAL enable_indexscan = off"))
                connection.execute(sa.text("SET LOCAL enable_bitmapscan = off"))
                connection.execute(sa.text(f"SELECT * FROM support_sla_deadlines {_DUE}"), {"now": NOW}).fetchall()
            else:
                query = f"SELECT * FROM support_sla_deadlines NOT INDEXED {_DUE}"
                connection.execute(sa.text(query), {"now": NOW}).fetchall()

    timings: list[float] = []
    ids: sa.BindParameter[list[int]] = sa.bindparam("ids", expanding=True)

    def firing() -> None:
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "UPDATE support_sla_deadlines SET next_fire_at = :at, due_at = :at, breached_at = NULL "
                    "WHERE id IN :ids"
                ).bindparams(ids),
                {"at": NOW - 1, "ids": soonest},
            )
            connection.execute(
                sa.text("DELETE FROM support_sla_events WHERE deadline_id IN :ids").bindparams(ids), {"ids": soonest}
            )
        started = time.perf_counter()
        fired = clock.scan(NOW)
        timings.append((time.perf_counter() - started) * 1000)
        assert len(fired) == len(soonest), fired

    idle_ms = median_ms(idle, repeat)
    base_ms = median_ms(baseline, max(5, repeat // 10))
    for _ in range(repeat // 5 + 1):
        firing()
    fire_ms = statistics.median(timings[1:])
    print(f"== {label}: {total:,} deadlines, {armed_count:,} armed")
    print(f"query plan: {plan}")
    print(f"idle pass (SlaClock.scan, nothing due):  {idle_ms:8.3f} ms   (target <= 10 ms)")
    print(f"baseline (same query, no index):        {base_ms:8.3f} ms   ratio {base_ms / idle_ms:,.0f}x")
    print(f"pass firing 10 breaches:                {fire_ms:8.3f} ms   ({fire_ms / 10:.2f} ms per breach)", flush=True)


def postgres_store(url: str, tickets: int, open_tickets: int) -> SQLStore:
    """A schema of its own on ``url`` holding the same data (loaded with COPY, kept between runs)."""
    schema = f"supportchat_sla_bench_{tickets}_{open_tickets}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    admin.dispose()
    engine = create_engine(url, connect_args={"options": f"-c search_path={schema}"})
    upgrade(engine)
    store = SQLStore(engine)
    with engine.connect() as connection:
        loaded = connection.execute(sa.text("SELECT count(*) FROM support_sla_clocks")).scalar_one()
    if loaded == tickets:
        return store
    started = time.perf_counter()
    policy_id = _policy(store)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(
            "TRUNCATE support_sla_events, support_sla_deadlines, support_sla_clocks, support_tickets CASCADE"
        )
        cursor.execute("ALTER TABLE support_tickets DISABLE TRIGGER USER")
        ticket_rows, clock_rows, deadline_rows = rows(tickets, open_tickets, policy_id)
        copies = (
            ("support_tickets (id, ticket_number, user_id, subject, description, priority, status, category, "
             "created_at, updated_at)", ticket_rows),
            ("support_sla_clocks (ticket_id, policy_id, last_change_id)", clock_rows),
            ("support_sla_deadlines (ticket_id, target, cycle, started_at, due_at, warn_at, state, met_at, "
             "next_fire_at)", deadline_rows),
        )  # fmt: skip
        for table, values in copies:
            with cursor.copy(f"COPY {table} FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        cursor.execute("ALTER TABLE support_tickets ENABLE TRIGGER USER")
        raw.commit()
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    print(f"loaded PostgreSQL schema {schema} in {time.perf_counter() - started:.0f} s", flush=True)
    return store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--postgres", nargs="?", const=POSTGRES_URL, help="also on PostgreSQL (default: the test one)")
    options = parser.parse_args()
    print(f"{options.tickets:,} tickets, {options.open:,} open", flush=True)
    measure(SQLiteStore(build(options.tickets, options.open)), "SQLite", options.repeat)
    if options.postgres:
        measure(postgres_store(options.postgres, options.tickets, options.open), "PostgreSQL", options.repeat)


if __name__ == "__main__":
    main()
