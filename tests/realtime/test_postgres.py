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
from .pg_app import server_processes

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


def test_event_ids_become_visible_in_commit_order(pg_store: SQLStore) -> None:
    """A second writer cannot draw an event id until the first has committed, so readers never skip one."""
    desk = SupportDesk(pg_store)
    ticket = desk.create_ticket(ALICE, subject="Orden", description="x")
    engine = pg_store.engine
    insert = sa.text(
        "INSERT INTO support_events (type, ticket_id, user_id, message_id, created_at) "
        "VALUES ('ticket_updated', :t, 10, NULL, now()) RETURNING id"
    )
    first = engine.connect()
    first_tx = first.begin()
    first_id = first.execute(insert, {"t": ticket.id}).scalar_one()
    second_id: list[int] = []

    def second_writer() -> None:
        with engine.begin() as connection:
            second_id.append(connection.execute(insert, {"t": ticket.id}).scalar_one())

    writer = threading.Thread(target=second_writer)
    writer.start()
    writer.join(0.5)
    assert writer.is_alive(), "the second writer must wait for the first to commit"
    assert [e.id for e in pg_store.events_after(first_id - 1)] == []  # nothing visible yet
    first_tx.commit()
    first.close()
    writer.join(10)
    assert second_id == [first_id + 1]
    assert [e.id for e in pg_store.events_after(first_id - 1)] == [first_id, first_id + 1]


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
    with server_processes(POSTGRES_URL, schema_of(postgres_engine(request)), SECRET, heartbeat=1.0) as bases:
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
