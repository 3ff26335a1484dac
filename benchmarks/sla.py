"""The SLA breach scan at 1,000,000 tickets with 100,000 open under policies (run by hand).

    python -m benchmarks.sla                   # 1,000,000 tickets, 100,000 open
    python -m benchmarks.sla --tickets 100000 --open 10000

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
import random
import sqlite3
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from supportchat import SupportDesk
from supportchat.extensions import extension
from supportchat.sla import CalendarIn, PolicyIn, SlaClock, SlaStore
from supportchat.stores.sql import SQLiteStore

CACHE = Path("/tmp/supportchat-sla-bench")
NOW = 1_800_000_000.0  # 2027-01-15: every armed deadline is due after it
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ALWAYS = {d: [("00:00", "24:00")] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def number(index: int) -> str:
    digits = []
    for _ in range(8):
        index, digit = divmod(index, 32)
        digits.append(CROCKFORD[digit])
    return "TKT-" + "".join(reversed(digits))


def build(tickets: int, open_tickets: int) -> Path:
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"desk-{tickets}-{open_tickets}.db"
    if path.exists():
        return path
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    started = time.perf_counter()
    store = SQLiteStore(partial)
    sla: SlaStore = extension(store, SlaStore)  # type: ignore[type-abstract]
    sla.put_calendar(CalendarIn(name="always", time_zone="UTC", hours=ALWAYS))
    policy = sla.put_policy(
        PolicyIn(name="standard", calendar="always", first_response_minutes=240, resolution_minutes=2880)
    )
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
    rng = random.Random(tickets)
    opened = set(rng.sample(range(1, tickets + 1), open_tickets))
    db.execute("BEGIN")
    batch_t: list[tuple[object, ...]] = []
    batch_c: list[tuple[object, ...]] = []
    batch_d: list[tuple[object, ...]] = []

    def flush() -> None:
        db.executemany(
            "INSERT INTO support_tickets (id, ticket_number, user_id, subject, description, priority, status, "
            "category, created_at, updated_at) VALUES (?, ?, ?, 'Subject', 'Description', 'medium', ?, 'general', "
            "'2027-01-01 00:00:00', '2027-01-01 00:00:00')",
            batch_t,
        )
        db.executemany(
            "INSERT INTO support_sla_clocks (ticket_id, policy_id, last_change_id) VALUES (?, ?, 0)", batch_c
        )
        db.executemany(
            "INSERT INTO support_sla_deadlines (ticket_id, target, cycle, started_at, due_at, warn_at, state, "
            "met_at, next_fire_at) VALUES (?, ?, 0, ?, ?, NULL, ?, ?, ?)",
            batch_d,
        )
        batch_t.clear(), batch_c.clear(), batch_d.clear()

    for index in range(1, tickets + 1):
        is_open = index in opened
        batch_t.append((index, number(index), 1 + index % 50_000, "open" if is_open else "closed"))
        batch_c.append((index, policy.id))
        for target in ("first_response", "resolution"):
            due = NOW + rng.uniform(60, 30 * 86400) if is_open else NOW - 86400
            if is_open:
                batch_d.append((index, target, NOW - 3600, due, "active", None, due))
            else:
                batch_d.append((index, target, NOW - 90000, due, "met", NOW - 88000, None))
        if len(batch_t) >= 50_000:
            flush()
    flush()
    db.execute("COMMIT")
    for _name, sql in indexes + triggers:
        db.execute(sql)
    db.execute("ANALYZE")
    db.close()
    partial.rename(path)
    print(f"built {path} in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def median_ms(run: object, repeat: int) -> float:
    assert callable(run)
    run()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=50)
    options = parser.parse_args()
    path = build(options.tickets, options.open)
    store = SQLiteStore(path)
    clock = SlaClock(SupportDesk(store))
    raw = sqlite3.connect(path)
    armed = raw.execute("SELECT count(*) FROM support_sla_deadlines WHERE next_fire_at IS NOT NULL").fetchone()[0]
    total = raw.execute("SELECT count(*) FROM support_sla_deadlines").fetchone()[0]
    plan = " / ".join(
        row[-1]
        for row in raw.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM support_sla_deadlines WHERE next_fire_at IS NOT NULL "
            "AND next_fire_at <= ? ORDER BY next_fire_at LIMIT 500",
            (NOW,),
        )
    )

    def idle() -> None:
        assert clock.scan(NOW) == []

    def baseline() -> None:
        raw.execute(
            "SELECT * FROM support_sla_deadlines NOT INDEXED WHERE next_fire_at IS NOT NULL AND next_fire_at <= ? "
            "ORDER BY next_fire_at LIMIT 500",
            (NOW,),
        ).fetchall()

    soonest = [
        row[0]
        for row in raw.execute(
            "SELECT id FROM support_sla_deadlines WHERE next_fire_at IS NOT NULL ORDER BY next_fire_at LIMIT 10"
        )
    ]
    marks = ",".join("?" * len(soonest))
    raw.isolation_level = None

    def firing() -> None:
        raw.execute(
            f"UPDATE support_sla_deadlines SET next_fire_at = ?, due_at = ?, breached_at = NULL WHERE id IN ({marks})",
            (NOW - 1, NOW - 1, *soonest),
        )
        raw.execute(f"DELETE FROM support_sla_events WHERE deadline_id IN ({marks})", soonest)
        started = time.perf_counter()
        fired = clock.scan(NOW)
        timings.append((time.perf_counter() - started) * 1000)
        assert len(fired) == len(soonest), fired

    timings: list[float] = []
    idle_ms = median_ms(idle, options.repeat)
    base_ms = median_ms(baseline, max(5, options.repeat // 10))
    for _ in range(options.repeat // 5 + 1):
        firing()
    fire_ms = statistics.median(timings[1:])
    print(f"{options.tickets:,} tickets, {options.open:,} open; {total:,} deadlines, {armed:,} armed")
    print(f"query plan: {plan}")
    print(f"idle pass (SlaClock.scan, nothing due):  {idle_ms:8.3f} ms   (target <= 10 ms)")
    print(f"baseline (same query, NOT INDEXED):     {base_ms:8.3f} ms   ratio {base_ms / idle_ms:,.0f}x")
    print(f"pass firing 10 breaches:                {fire_ms:8.3f} ms   ({fire_ms / 10:.2f} ms per breach)")


if __name__ == "__main__":
    main()
