"""Export and import of a large desk: time and peak memory (run by hand).

    python benchmarks/export.py                  # 1,000,000 tickets
    python benchmarks/export.py --tickets 50000  # a quicker look

Steps, each ``supportchat`` command in a child process of its own whose peak
resident memory is read with ``os.wait4`` (``ru_maxrss``):

1. write a synthetic export of N tickets (Spanish and English, 0-3 messages,
   some change records) and load it into an empty SQLite database A with
   plain ``sqlite3`` multi-row inserts (``supportchat db upgrade`` makes the
   schema, whose triggers keep the statistics counters and event log): a
   quick fixture, not a measured step;
2. ``export`` A to JSON Lines;
3. ``import`` that export into an empty database B;
4. check that ``stats`` of A and B are identical (and match what was
   generated), and compare the export's peak memory with that of ``stats``
   (a process that only opens the database).

Figures go to stdout as a Markdown table for ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SUBJECTS = [
    ("No puedo cambiar la fecha de mi vuelo", "flight"),
    ("Cobro duplicado en mi tarjeta", "billing"),
    ("Mi pedido no ha llegado", "order"),
    ("La app se cierra al abrir el chat", "technical"),
    ("¿Cómo elimino mi cuenta?", "general"),
    ("Baggage allowance for my booking", "flight"),
    ("Invoice shows the wrong VAT number", "billing"),
    ("Received the wrong size", "order"),
    ("Password reset email never arrives", "technical"),
    ("Feature request: dark mode", "general"),
]
STATUSES = ["open", "in_progress", "resolved", "closed"]
PRIORITIES = ["low", "medium", "high", "urgent"]


def number(index: int) -> str:
    digits = []
    for _ in range(8):
        index, rest = divmod(index, 32)
        digits.append(CROCKFORD[rest])
    return "TKT-" + "".join(reversed(digits))


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def generate(path: Path, count: int, seed: int) -> dict[str, object]:
    """Write a synthetic export of ``count`` tickets; returns the statistics it implies."""
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    by_status: Counter[str] = Counter()
    by_priority: Counter[str] = Counter()
    by_category: Counter[str] = Counter()
    unread = 0
    message_id = 0
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps({"format": "supportchat-export", "version": 1}) + "\n")
        for ticket_id in range(1, count + 1):
            subject, category = SUBJECTS[rng.randrange(len(SUBJECTS))]
            status = STATUSES[rng.randrange(4)]
            priority = PRIORITIES[rng.randrange(4)]
            created = start + timedelta(seconds=ticket_id * 7)
            messages = []
            for turn in range(rng.choice((0, 1, 1, 2, 3))):
                message_id += 1
                side = "user" if turn % 2 == 0 else "admin"
                read = status != "open" or side == "admin"
                unread += side == "user" and not read
                messages.append(
                    {
                        "id": message_id,
                        "ticket_id": ticket_id,
                        "sender_id": 1000 + ticket_id % 5000 if side == "user" else 1,
                        "sender_type": side,
                        "message": f"Mensaje {turn} del ticket {ticket_id} — message {turn}",
                        "message_type": "text",
                        "file_url": None,
                        "is_read": read,
                        "created_at": iso(created + timedelta(minutes=turn + 1)),
                        "uid": f"bench-{message_id}",
                    }
                )
            changes = []
            if status != "open":
                changes.append(
                    {
                        "id": ticket_id,
                        "ticket_id": ticket_id,
                        "field": "status",
                        "old_value": "open",
                        "new_value": status,
                        "changed_by_kind": "admin",
                        "changed_by": 1,
                        "changed_at": iso(created + timedelta(hours=1)),
                    }
                )
            ticket = {
                "id": ticket_id,
                "ticket_number": number(ticket_id * 7919 + 12345),
                "user_id": 1000 + ticket_id % 5000,
                "subject": subject,
                "description": f"{subject}. Detalle / details #{ticket_id}",
                "priority": priority,
                "status": status,
                "category": category,
                "assigned_to": None if status == "open" else 1,
                "created_at": iso(created),
                "updated_at": iso(created + timedelta(hours=1)),
                "resolved_at": iso(created + timedelta(hours=1)) if status == "resolved" else None,
                "message_count": len(messages),
            }
            out.write(json.dumps({"ticket": ticket, "messages": messages, "changes": changes}) + "\n")
            by_status[status] += 1
            by_priority[priority] += 1
            by_category[category] += 1
    return {
        "total_tickets": count,
        "by_status": {s: by_status[s] for s in STATUSES},
        "by_priority": {p: by_priority[p] for p in PRIORITIES},
        "by_category": {c: by_category[c] for c in ("general", "technical", "billing", "flight", "order")},
        "unread_messages": unread,
        "messages": message_id,
    }


def stored(value: str | None) -> str | None:
    """An export timestamp (``…Z``) in the SQL store's SQLite form."""
    return None if value is None else value[:-1].replace("T", " ")


def seed(database: Path, generated: Path, batch: int = 5000) -> None:
    """Load the generated file into a migrated SQLite database, bypassing the library."""
    import sqlite3

    ticket_columns = (
        "id, ticket_number, user_id, subject, description, priority, status, category, assigned_to, "
        "created_at, updated_at, resolved_at, version, message_count, unread_from_user, unread_from_admin"
    )
    message_columns = "id, ticket_id, sender_id, sender_type, message, message_type, file_url, is_read, created_at, uid"
    change_columns = "ticket_id, field, old_value, new_value, changed_by_kind, changed_by, changed_at"
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")

    def flush(
        tickets: list[tuple[object, ...]], messages: list[tuple[object, ...]], changes: list[tuple[object, ...]]
    ) -> None:
        connection.execute("BEGIN")
        connection.executemany(
            f"INSERT INTO support_tickets ({ticket_columns}) VALUES ({', '.join('?' * 16)})", tickets
        )
        connection.executemany(
            f"INSERT INTO support_messages ({message_columns}) VALUES ({', '.join('?' * 10)})", messages
        )
        connection.executemany(
            f"INSERT INTO support_ticket_changes ({change_columns}) VALUES (?, ?, ?, ?, ?, ?, ?)", changes
        )
        connection.execute("COMMIT")

    tickets: list[tuple[object, ...]] = []
    messages: list[tuple[object, ...]] = []
    changes: list[tuple[object, ...]] = []
    with generated.open(encoding="utf-8") as lines:
        next(lines)  # the header
        for line in lines:
            record = json.loads(line)
            t = record["ticket"]
            thread = record["messages"]
            unread_user = sum(1 for m in thread if m["sender_type"] == "user" and not m["is_read"])
            unread_admin = sum(1 for m in thread if m["sender_type"] == "admin" and not m["is_read"])
            tickets.append(
                (
                    t["id"], t["ticket_number"], t["user_id"], t["subject"], t["description"], t["priority"],
                    t["status"], t["category"], t["assigned_to"], stored(t["created_at"]), stored(t["updated_at"]),
                    stored(t["resolved_at"]), len(thread), len(thread), unread_user, unread_admin,
                )
            )  # fmt: skip
            messages += [
                (
                    m["id"], m["ticket_id"], m["sender_id"], m["sender_type"], m["message"], m["message_type"],
                    m["file_url"], int(m["is_read"]), stored(m["created_at"]), m["uid"],
                )
                for m in thread
            ]  # fmt: skip
            changes += [
                (
                    c["ticket_id"], c["field"], c["old_value"], c["new_value"], c["changed_by_kind"], c["changed_by"],
                    stored(c["changed_at"]),
                )
                for c in record["changes"]
            ]  # fmt: skip
            if len(tickets) >= batch:
                flush(tickets, messages, changes)
                tickets, messages, changes = [], [], []
    if tickets:
        flush(tickets, messages, changes)
    connection.close()


def run(*args: str, env: dict[str, str]) -> tuple[float, float, int, str]:
    """Run ``supportchat args`` in a child; its wall time, CPU time, peak RSS (MiB) and stdout."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as captured:
        child = subprocess.Popen([sys.executable, "-m", "supportchat", *args], stdout=captured, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - started
        captured.seek(0)
        output = captured.read().decode()
    if child.returncode != 0:
        raise SystemExit(f"supportchat {' '.join(args)} failed with exit code {child.returncode}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024, output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workdir", type=Path, default=None, help="Keep the files here (default: a temporary folder).")
    options = parser.parse_args()

    workdir = options.workdir or Path(tempfile.mkdtemp(prefix="supportchat-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "XDG_DATA_HOME": str(workdir)}
    for name in ("SUPPORTCHAT_DATABASE_URL", "SUPABASE_URL", "SUPABASE_KEY"):
        env.pop(name, None)
    a, b = f"sqlite:///{workdir / 'a.db'}", f"sqlite:///{workdir / 'b.db'}"
    generated, exported = workdir / "generated.jsonl", workdir / "export.jsonl"

    started = time.perf_counter()
    summary = workdir / "generated.summary.json"
    if summary.exists() and json.loads(summary.read_text())["total_tickets"] == options.tickets:
        expected = json.loads(summary.read_text())  # the file of an earlier run, same size
    else:
        expected = generate(generated, options.tickets, options.seed)
        summary.write_text(json.dumps(expected))
    print(f"generated {options.tickets:,} tickets in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    for database in ("a.db", "b.db"):
        for suffix in ("", "-wal", "-shm"):
            (workdir / (database + suffix)).unlink(missing_ok=True)

    rows = []

    def step(name: str, *args: str) -> tuple[int, str]:
        seconds, cpu, rss, output = run(*args, env=env)
        rows.append((name, seconds, cpu, rss))
        print(f"{name}: {seconds:.0f} s wall, {cpu:.0f} s CPU, {rss} MiB", file=sys.stderr)
        return rss, output

    step("db upgrade (empty A)", "db", "upgrade", "--database-url", a)
    started = time.perf_counter()
    seed(workdir / "a.db", generated)
    print(f"seeded A with sqlite3 in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    export_rss, _ = step("export A → JSON Lines", "export", "-o", str(exported), "--database-url", a)
    step("import the export → empty B", "import", str(exported), "--database-url", b, "--json")
    baseline_rss, stats_a = step("stats A (baseline: open the database)", "stats", "--json", "--database-url", a)
    _, stats_b = step("stats B", "stats", "--json", "--database-url", b)

    same = json.loads(stats_a) == json.loads(stats_b)
    expected_stats = {k: v for k, v in expected.items() if k != "messages"}
    matches_generated = json.loads(stats_a) == expected_stats
    size = exported.stat().st_size / 2**20

    print(f"\n{options.tickets:,} tickets, {expected['messages']:,} messages; export file {size:,.0f} MiB\n")
    print("| step | wall time | CPU time | peak RSS |")
    print("|---|---:|---:|---:|")
    for name, elapsed, cpu, peak in rows:
        print(f"| {name} | {elapsed:,.0f} s | {cpu:,.0f} s | {peak} MiB |")
    print(f"\nstatistics of A and B identical: {same}; equal to the generated counts: {matches_generated}")
    print(f"export peak RSS above the baseline: {export_rss - baseline_rss} MiB (limit: 200 MiB total)")
    if not (same and matches_generated and export_rss < 200):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
