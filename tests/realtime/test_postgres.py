"""PostgreSQL: event ids committed in order, LISTEN/NOTIFY fan-out, two real server processes."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from supportchat import Actor, SupportDesk
from supportchat.http import UserTokens
from supportchat.realtime import Broker, PostgresListener
from supportchat.stores.sql import SQLStore, create_engine

from ..api.live_server import SSEClient
from ..stores import POSTGRES_URL, postgres_backend, postgres_engine
from .server_app import server_processes

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
SECRET = "cross-process-secret-0123456789abcdef"
PREFIX = "/admin/api/support"
ALICE = Actor.user(10)
ADMIN = Actor.admin(1)


@pytest.fixture
def pg_store(request: pytest.FixtureRequest) -> Iterator[SQLStore]:
    with postgres_backend(request) as make:
        store = make()
        assert isinstance(store, SQLStore)
        yield store


def schema_of(engine: sa.Engine) -> str:
    with engine.connect() as connection:
        return str(connection.exec_driver_sql("SELECT current_schema()").scalar_one())


def test_event_ids_are_given_in_commit_order(pg_store: SQLStore) -> None:
    """A transaction that logs first but commits last gets the larger id, so a reader never skips one."""
    desk = SupportDesk(pg_store)
    ticket = desk.create_ticket(ALICE, subject="Orden", description="x")
    seen = pg_store.last_event_id()
    early, late = pg_store.engine.connect(), pg_store.engine.connect()
    try:
        early_tx, late_tx = early.begin(), late.begin()
        # The store's trigger logs each message inside the writing transaction.
        for connection, text in ((early, "escrito primero"), (late, "escrito después")):
            connection.execute(
                sa.text(
                    "INSERT INTO support_messages (ticket_id, sender_id, sender_type, message, message_type, "
                    "is_read, created_at, uid) VALUES (:t, 1, 'admin', :m, 'text', false, now(), :u)"
                ),
                {"t": ticket.id, "m": text, "u": text},
            )
        assert pg_store.events_after(seen) == []  # nothing visible before a commit
        late_tx.commit()
        (first,) = pg_store.events_after(seen)
        assert first.id == seen + 1
        early_tx.commit()
    finally:
        early.close()  # rolls back whatever a failed assertion left open
        late.close()
    logged = pg_store.events_after(seen)
    assert [e.id for e in logged] == [seen + 1, seen + 2]
    texts = [pg_store.list_messages(ticket.id, after_id=e.message_id - 1, limit=1)[0].message for e in logged]
    assert texts == ["escrito después", "escrito primero"]  # commit order, not insert order


def test_a_reader_following_the_log_under_concurrent_writers_misses_nothing(pg_store: SQLStore) -> None:
    """Messages and status changes racing on the same tickets: no deadlock, no id ever skipped by a reader."""
    desk = SupportDesk(pg_store)
    tickets = [desk.create_ticket(ALICE, subject=f"Carrera {n}", description="x").id for n in range(2)]
    start = pg_store.last_event_id()
    followed: list[int] = []
    writing = threading.Event()
    writing.set()
    errors: list[BaseException] = []

    def follow() -> None:
        cursor = start
        while writing.is_set() or pg_store.events_after(cursor, limit=1):
            for record in pg_store.events_after(cursor, limit=50):
                followed.append(record.id)
                cursor = record.id

    def write(worker: int) -> None:
        try:
            for n in range(15):
                ticket = tickets[(worker + n) % 2]
                if n % 3 == 2:
                    desk.change_status(ADMIN, ticket, ["open", "in_progress"][n % 2])
                else:
                    desk.post_message(ADMIN if worker % 2 else ALICE, ticket, f"w{worker} n{n}")
        except BaseException as exc:
            errors.append(exc)

    reader = threading.Thread(target=follow)
    reader.start()
    writers = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(60)
    writing.clear()
    reader.join(30)
    assert errors == []
    logged = [e.id for e in pg_store.events_after(start, limit=10_000)]
    assert len(logged) >= 4 * 10
    assert followed == logged  # every id, once, in order: none was committed behind the reader's back
    assert logged == list(range(start + 1, start + 1 + len(logged)))


def test_the_listener_rings_for_another_connections_writes_and_survives_a_dropped_connection(
    pg_store: SQLStore,
) -> None:
    broker = Broker()
    listener = PostgresListener.for_engine(pg_store.engine, broker, poll=0.1, max_backoff=0.5).start()
    # Another "process": its own engine, no in-process desk wiring to the broker at all.
    other = create_engine(POSTGRES_URL, connect_args={"options": f"-c search_path={schema_of(pg_store.engine)}"})
    other_desk = SupportDesk(SQLStore(other))
    try:
        assert listener.wait_listening(10)
        alice = broker.subscribe(ALICE)
        bob = broker.subscribe(Actor.user(20))
        alice.clear()
        bob.clear()
        other_desk.create_ticket(ALICE, subject="Desde otro proceso", description="x")
        assert alice.wait(5), "the NOTIFY should ring Alice's stream"
        assert not bob.wait(0.3), "and not Bob's"

        with pg_store.engine.connect() as connection:
            killed = connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": listener.backend_pid})
            assert killed.scalar_one() is True
        deadline = time.monotonic() + 10
        while listener.connections < 2:
            assert time.monotonic() < deadline, "the listener did not reconnect"
            time.sleep(0.05)
        assert listener.wait_listening(10)
        alice.clear()
        other_desk.create_ticket(ALICE, subject="Tras reconectar", description="x")
        assert alice.wait(5)
    finally:
        listener.stop()
        other.dispose()


def test_notifications_of_another_schema_are_ignored(pg_store: SQLStore) -> None:
    broker = Broker()
    listener = PostgresListener(lambda: None, broker, schema="some_other_schema")
    everyone = broker.subscribe(ADMIN)
    everyone.clear()
    listener._deliver(f"{schema_of(pg_store.engine)} 5 10")
    assert not everyone.wait(0.05)
    listener._deliver("some_other_schema 5 10")
    assert everyone.wait(0.05)


# -- two real server processes ------------------------------------------------------


@pytest.fixture
def two_servers(request: pytest.FixtureRequest, pg_store: SQLStore) -> Iterator[list[str]]:
    """Two uvicorn processes serving the same PostgreSQL schema."""
    database = {
        "SUPPORTCHAT_TEST_PG_URL": POSTGRES_URL,
        "SUPPORTCHAT_TEST_PG_SCHEMA": schema_of(postgres_engine(request)),
    }
    with server_processes(database, SECRET, heartbeat=1.0) as bases:
        yield bases


@pytest.mark.slow
def test_events_written_through_one_server_reach_streams_on_the_other(two_servers: list[str]) -> None:
    reader_base, writer_base = two_servers
    users = UserTokens(SECRET)
    alice = {"Authorization": f"Bearer {users.mint(10)}"}
    bob = {"Authorization": f"Bearer {users.mint(20)}"}
    admin = {"Authorization": "Bearer admin"}
    streams = {
        name: SSEClient(reader_base + PREFIX + path, headers).start()
        for name, path, headers in [
            ("admin", "/events", admin),
            ("alice", "/user/10/events", alice),
            ("bob", "/user/20/events", bob),
        ]
    }
    for stream in streams.values():
        assert stream.status == 200
        assert stream.frames.get(timeout=5).comment == "supportchat stream"

    with httpx.Client(base_url=writer_base + PREFIX, timeout=10) as writer:
        created = writer.post("/create-ticket", headers=alice, json={"subject": "Entre procesos", "description": "x"})
        ticket = created.json()["data"]["id"]
        (opened,) = streams["alice"].events(1, timeout=5)
        assert opened.event == "ticket_created" and opened.payload["ticket_id"] == ticket
        latencies = []
        for n in range(20):
            started = time.perf_counter()
            assert writer.post(f"/tickets/{ticket}/messages", headers=admin, json={"message": f"Hola {n}"}).is_success
            (event,) = streams["alice"].events(1, timeout=5)
            latencies.append(time.perf_counter() - started)
            assert event.payload["message"]["message"] == f"Hola {n}"

    assert [e.event for e in streams["admin"].events(21)] == ["ticket_created"] + ["message_created"] * 20
    assert streams["bob"].quiet_events(1.5) == []
    print(
        f"\nacross processes: post→stream p50={statistics.median(latencies) * 1e3:.1f}ms "
        f"max={max(latencies) * 1e3:.1f}ms"
    )
    assert max(latencies) < 1.0
    for stream in streams.values():
        stream.disconnect()
