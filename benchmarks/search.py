"""Search and filter listings through the desk at 10,000, 100,000 and 1,000,000 tickets (run by hand).

    python -m benchmarks.search                       # 10k, 100k, 1M on SQLite
    python -m benchmarks.search --sizes 10000 100000  # quicker
    python -m benchmarks.search --postgres            # PostgreSQL figures beside (same data)
    python -m benchmarks.search --cpu                 # CPU time, not wall clock (a loaded machine)

Each size is one SQLite file made by the migrations and filled in bulk with
plain ``sqlite3`` (tickets with 5 messages each, Spanish and English support
text drawn from a vocabulary of a few thousand words with a Zipf-like
frequency, so common words are common and rare ones rare), then indexed by
what ``supportchat db reindex`` does. Files are cached under
``/tmp/supportchat-search-bench/`` between runs (delete them to rebuild; a file
cached by an older revision is migrated when it is opened, its index rebuilt).

Every figure is the median of ``--repeat`` calls of ``SupportDesk.list_tickets``
(20 per page, the exact total included) on the same process, after one warm-up
call; the ratio column compares with the smallest size.
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
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from supportchat import Actor, SupportDesk
from supportchat.sqlschema import search as search_index
from supportchat.stores.sql import SQLiteStore, SQLStore, create_engine

ADMIN = Actor.admin(1)
CACHE = Path("/tmp/supportchat-search-bench")
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
MESSAGES_PER_TICKET = 5


def _words(text: str) -> list[str]:
    return text.split()


SPANISH = _words(
    """
hola buenos días necesito ayuda con mi reembolso del vuelo cancelado la reserva el pedido la tarjeta
cobro duplicado factura importe equivocado cambio de fecha equipaje perdido maleta conexión aeropuerto
embarque asiento retraso compensación devolución dinero cuenta contraseña sesión aplicación error
pantalla pago rechazado transferencia banco confirmación correo electrónico número localizador billete
tarifa hotel habitación noche cancelación política plazo días hábiles semana gracias saludos atentamente
urgente todavía no he recibido respuesta por favor podrían revisar mi caso lo antes posible estoy
esperando desde ayer el agente me dijo que llamarían pero nadie llamó quiero hablar con un supervisor
dirección envío paquete entrega transportista seguimiento dañado roto talla color producto garantía
suscripción anual mensual renovación automática baja darme cobrado otra vez intento fallido tarjeta
crédito débito paypal comprobante recibo adjunto captura foto documento pasaporte nombre apellido
madrid barcelona sevilla valencia bilbao méxico bogotá lima santiago buenos aires vuelo directo escala
"""
)
ENGLISH = _words(
    """
hello good morning i need help with my refund for the cancelled flight booking order card charged
twice invoice wrong amount change date lost baggage suitcase connection airport boarding seat delay
compensation return money account password login app error screen payment declined transfer bank
confirmation email booking reference ticket fare hotel room night cancellation policy deadline business
days week thanks regards still have not received any answer please could you check my case as soon as
possible waiting since yesterday the agent said someone would call but nobody called i want to speak
to a supervisor address shipping parcel delivery courier tracking damaged broken size colour product
warranty subscription yearly monthly renewal automatic cancel charged again failed attempt credit
debit paypal receipt attached screenshot photo document passport name surname london paris new york
berlin rome lisbon dublin amsterdam direct flight layover upgrade voucher discount code promotion
"""
)
SUBJECTS = [
    "Reembolsó pendiente del vuelo {city}",
    "No puedo iniciar sesión en la aplicación",
    "Cobro duplicado en la tarjeta",
    "El pedido {code} llegó dañado",
    "Equipaje perdido en {city}",
    "Refund for cancelled flight to {city}",
    "Cannot log in to my account",
    "Charged twice for order {code}",
    "Parcel {code} arrived damaged",
    "Change the date of my booking",
]
CITIES = ["Madrid", "Bogotá", "Lima", "México", "London", "Paris", "Berlin", "Lisbon", "Dublin", "Sevilla"]
STATUSES = ["open", "in_progress", "resolved", "closed"]
PRIORITIES = ["low", "medium", "high", "urgent"]
CATEGORIES = ["general", "technical", "billing", "flight", "order"]
STAMP = "2026-01-01 00:00:00.000000"


def number(index: int) -> str:
    """A valid, unique ticket number per index (scrambled so numbers do not sort like ids)."""
    value = (index * 2654435761) % (32**8)
    return "TKT-" + "".join(CROCKFORD[(value >> (5 * k)) & 31] for k in range(7, -1, -1))


def vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    """The support words plus some thousands of rarer made-up product and place words, Zipf weights."""
    words = list(dict.fromkeys(SPANISH + ENGLISH))
    rng.shuffle(words)
    syllables = ["ka", "lo", "mi", "ter", "bra", "zu", "pen", "dor", "vi", "sa", "ne", "qui", "tro", "gal"]
    rare = {"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(4000)}
    words += sorted(rare)
    weights = [1.0 / (rank + 8) for rank in range(len(words))]
    return words, weights


def sentences(rng: random.Random, words: list[str], weights: list[float], count: int, length: int) -> Iterator[str]:
    batch = rng.choices(words, weights, k=count * length)
    for start in range(0, len(batch), length):
        yield " ".join(batch[start : start + length]).capitalize() + "."


def build(size: int) -> Path:
    """The cached SQLite file holding ``size`` tickets (built on first use)."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"desk-{size}.db"
    if path.exists():
        return path
    partial = path.with_suffix(".partial")
    for leftover in CACHE.glob(f"desk-{size}.partial*"):
        leftover.unlink()
    started = time.perf_counter()
    SQLiteStore(partial).close()  # the schema, its triggers and indexes
    db = sqlite3.connect(partial, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-400000")
    # Bulk load as an adoption would find it: the search triggers off, the index rebuilt after.
    search_triggers = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'support_search_%'"
    ).fetchall()
    for name, _sql in search_triggers:
        db.execute(f"DROP TRIGGER {name}")
    rng = random.Random(size)
    words, weights = vocabulary(rng)
    db.execute("BEGIN")
    tickets, messages = [], []
    message_id = 0
    for index in range(1, size + 1):
        status = STATUSES[rng.randrange(4)]
        subject = rng.choice(SUBJECTS).format(city=rng.choice(CITIES), code=f"{rng.randrange(10**6):06d}")
        description = " ".join(sentences(rng, words, weights, 2, 9))
        tickets.append(
            (
                index,
                number(index),
                1 + rng.randrange(size // 20 + 1),
                subject,
                description,
                rng.choice(PRIORITIES),
                status,
                rng.choice(CATEGORIES),
                rng.choice([None, None, 1, 2, 3, 4, 5]),
                STAMP,
                STAMP,
                STAMP if status == "resolved" else None,
                MESSAGES_PER_TICKET,
            )
        )
        for position, text in enumerate(sentences(rng, words, weights, MESSAGES_PER_TICKET, 12)):
            message_id += 1
            sender = "user" if position % 2 == 0 else "admin"
            messages.append((message_id, index, 1, sender, text, "text", None, 1, STAMP, f"b{message_id}"))
        if len(tickets) >= 20_000:
            flush(db, tickets, messages)
    flush(db, tickets, messages)
    db.execute("COMMIT")
    for _name, sql in search_triggers:
        db.execute(sql)
    db.close()
    engine = create_engine(f"sqlite:///{partial}")
    search_index.rebuild(engine)  # what `supportchat db reindex` does
    engine.dispose()
    db = sqlite3.connect(partial, isolation_level=None)
    for table in (search_index.PUBLIC_INDEX, search_index.STAFF_INDEX):
        db.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")
    db.execute("ANALYZE")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    partial.rename(path)
    print(f"built {path} in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def flush(db: sqlite3.Connection, tickets: list[Any], messages: list[Any]) -> None:
    db.executemany(
        "INSERT INTO support_tickets (id, ticket_number, user_id, subject, description, priority, status, "
        "category, assigned_to, created_at, updated_at, resolved_at, message_count) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        tickets,
    )
    db.executemany(
        "INSERT INTO support_messages (id, ticket_id, sender_id, sender_type, message, message_type, file_url, "
        "is_read, created_at, uid) VALUES (?,?,?,?,?,?,?,?,?,?)",
        messages,
    )
    tickets.clear()
    messages.clear()


def cases(size: int) -> list[tuple[str, dict[str, object]]]:
    probe = number(size // 2).lower().replace("0", "o")  # as a person might type it
    return [
        ("q: one word (reembolso)", {"q": "reembolso"}),
        ("q: one rarer word (supervisor)", {"q": "supervisor"}),
        ("q: two words (refund flight)", {"q": "refund flight"}),
        ("q: a prefix (compens)", {"q": "compens"}),
        ("q: accented form (Devolución)", {"q": "Devolución"}),
        ("q: ticket number (lower, O for 0)", {"q": probe}),
        ("q: nothing matches (xylophone)", {"q": "xylophone"}),
        ("q: word + status (open)", {"q": "garantía", "status": "open"}),
        ("q: a user's own search (user 7)", {"q": "reembolso", "user_id": 7}),
        ("status", {"status": "open"}),
        ("priority", {"priority": "high"}),
        ("category", {"category": "billing"}),
        ("assigned_to", {"assigned_to": 3}),
        ("unassigned", {"assigned_to": "none"}),
        ("status + assigned_to", {"status": "in_progress", "assigned_to": 3}),
        ("status + category", {"status": "open", "category": "flight"}),
        ("status + priority", {"status": "open", "priority": "urgent"}),
        ("unassigned open", {"status": "open", "assigned_to": "none"}),
        ("user's own tickets", {"user_id": 7}),
    ]


#: What a figure times: wall clock, or with ``--cpu`` this process's CPU time (a loaded machine's queue left out).
CLOCK: Callable[[], float] = time.perf_counter


def median_ms(call: Callable[[], object], repeat: int) -> float:
    call()
    times = []
    for _ in range(repeat):
        started = CLOCK()
        call()
        times.append(CLOCK() - started)
    return statistics.median(times) * 1e3


def measure(desk: SupportDesk, size: int, repeat: int) -> dict[str, tuple[float, int]]:
    figures = {}
    for name, filters in cases(size):
        page = desk.list_tickets(ADMIN, **filters)  # type: ignore[arg-type]
        figures[name] = (median_ms(lambda f=filters: desk.list_tickets(ADMIN, **f), repeat), page.total)  # type: ignore[misc]
    return figures


def postgres_copy(path: Path, url: str, size: int) -> SQLStore:
    """The same rows in a PostgreSQL schema of their own (cached by size), migrated and indexed."""
    import sqlalchemy as sa

    from supportchat.migrations import upgrade
    from supportchat.stores.sql import create_engine

    schema = f"search_bench_{size}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.exec_driver_sql(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = %(s)s AND table_name = 'support_tickets'",
            {"s": schema},
        ).scalar()
        if not exists:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine = create_engine(url, connect_args={"options": f"-c search_path={schema}"})
    if not exists:
        upgrade(engine)
        source = sqlite3.connect(path)
        raw = engine.raw_connection()
        cursor = raw.cursor()
        for table, columns in (
            (
                "support_tickets",
                "id, ticket_number, user_id, subject, description, priority, status, category, "
                "assigned_to, created_at, updated_at, resolved_at, message_count",
            ),
            (
                "support_messages",
                "id, ticket_id, sender_id, sender_type, message, message_type, file_url, is_read, created_at, uid",
            ),
        ):
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in source.execute(f"SELECT {columns} FROM {table} ORDER BY id"):
                    copy.write_row(
                        [bool(v) if table == "support_messages" and i == 7 else v for i, v in enumerate(row)]
                    )
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('support_tickets', 'id'), (SELECT max(id) FROM support_tickets))"
        )
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('support_messages', 'id'), (SELECT max(id) FROM support_messages))"
        )
        cursor.execute("ANALYZE")
        raw.commit()
        raw.close()
        source.close()
    return SQLStore(engine, owns_engine=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--postgres", action="store_true", help="the same figures on PostgreSQL, beside")
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--cpu", action="store_true", help="CPU time of this process instead of wall clock")
    args = parser.parse_args()
    global CLOCK
    if args.cpu:
        CLOCK = time.process_time
    print(
        f"SQLite {sqlite3.sqlite_version}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True
    )
    results: dict[int, dict[str, tuple[float, int]]] = {}
    pg_results: dict[int, dict[str, tuple[float, int]]] = {}
    for size in args.sizes:
        path = build(size)
        store = SQLiteStore(path)
        results[size] = measure(SupportDesk(store), size, args.repeat)
        store.close()
        if args.postgres:
            pg = postgres_copy(path, args.postgres_url, size)
            pg_results[size] = measure(SupportDesk(pg), size, args.repeat)
            pg.close()
        print(f"measured {size:,}; load average {os.getloadavg()[0]:.2f}", flush=True)
    smallest = args.sizes[0]
    header = "| listing (20 per page, exact total) | " + " | ".join(f"SQLite {s:,}" for s in args.sizes)
    header += f" | × vs {smallest:,} | total at {args.sizes[-1]:,}"
    if args.postgres:
        header += " | " + " | ".join(f"PostgreSQL {s:,}" for s in args.sizes)
    print("\n" + header + " |")
    print("|" + "---|" * (header.count("|")))
    for name, _filters in cases(smallest):
        figures = [results[s][name][0] for s in args.sizes]
        ratio = figures[-1] / figures[0] if figures[0] else float("nan")
        row = f"| {name} | " + " | ".join(f"{f:.2f} ms" for f in figures)
        row += f" | {ratio:.1f}× | {results[args.sizes[-1]][name][1]:,}"
        if args.postgres:
            row += " | " + " | ".join(f"{pg_results[s][name][0]:.2f} ms" for s in args.sizes)
        print(row + " |")
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
