"""The shared path: one read per event whatever the audience, falling behind and catching up, bounded queues."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from supportchat import Actor, InMemoryStore, SupportDesk
from supportchat.event_types import owner_event_types
from supportchat.models import EventRecord, EventType
from supportchat.projection import customer_event, owner_may_see
from supportchat.realtime import Frame, LiveEvents, StreamCaps
from supportchat.stores import Store
from supportchat.stores.sql import SQLiteStore

from ..api.live_server import SSEClient
from .reader import StreamReader, payload

ADMIN = Actor.admin(1)
ALICE = Actor.user(10)
BOB = Actor.user(20)


@pytest.fixture(params=["memory", "sqlite-file"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store = InMemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "live.db")
    yield made
    made.close()


def event_ids(frames: list[Frame]) -> list[int]:
    return [frame.id for frame in frames if frame.id is not None]


def test_one_read_of_the_log_serves_every_stream_whatever_their_number(store: Store) -> None:
    desk = SupportDesk(store)
    live = LiveEvents(desk, heartbeat=30.0, listen=False, caps=StreamCaps(per_account=None))
    try:
        admins = [StreamReader(live.stream(ADMIN).frames()) for _ in range(40)]
        alices = [StreamReader(live.stream(ALICE).frames()) for _ in range(20)]
        for reader in admins + alices:
            assert reader.next().comment == "supportchat stream"
        reads_before = live.broker.reads
        ticket = desk.create_ticket(ALICE, subject="Uno", description="x").id
        got = [reader.events(1)[0] for reader in admins + alices]
        assert {payload(frame)["ticket_id"] for frame in got} == {ticket}
        # One event, sixty streams: the reader read the log once or twice (a wake-up may find it empty), not 60 times.
        assert live.broker.reads - reads_before <= 3
        # Rendered once per audience: every admin holds the same frame object, every Alice stream the other one.
        assert all(frame is got[0] for frame in got[:40])
        assert all(frame is got[40] for frame in got[40:])
        assert got[0] is not got[40]
    finally:
        live.close()


@pytest.mark.slow
def test_a_stream_10000_events_behind_catches_up_exactly_in_order_then_follows_live_without_duplicates(
    tmp_path: Path,
) -> None:
    # A SQLite file (the in-memory store finds a message by a scan: 10,000 of them make it quadratic).
    store = SQLiteStore(tmp_path / "behind.db")
    desk = SupportDesk(store)
    # Writing 10,000 events takes this loaded machine longer than the default 30 s a stream may stay behind
    # before it counts as too slow (tests/api/test_stream_limits.py): here it may take its time.
    live = LiveEvents(desk, heartbeat=30.0, listen=False, queue_limit=500, slow_after=600.0)
    try:
        ticket = desk.create_ticket(ALICE, subject="Largo", description="x").id
        frames = live.stream(ADMIN).frames()  # pulled by this test: it stops taking frames at will
        assert next(frames).comment == "supportchat stream"
        desk.post_message(ALICE, ticket, "antes")
        first = next(frames)
        assert payload(first)["message"]["message"] == "antes"

        # The client stops reading while 10,000 events happen: its queue (500) overflows long before.
        for n in range(10_000):
            desk.post_message(ALICE if n % 2 else ADMIN, ticket, f"m{n}")
        # More events keep coming while it catches up, from another thread, as requests would.
        writer = threading.Thread(target=lambda: [desk.post_message(ADMIN, ticket, f"live{n}") for n in range(300)])
        writer.start()
        received: list[Frame] = []
        while len(received) < 10_300:
            frame = next(frames)
            if frame.is_event:
                received.append(frame)
        writer.join(60)

        logged = [record.id for record in store.events_after(first.id or 0, limit=20_000)]
        assert event_ids(received) == logged  # every event once, in the log's order: no gap, no duplicate
        texts = [payload(frame)["message"]["message"] for frame in received]
        assert texts[:10_000] == [f"m{n}" for n in range(10_000)]
        assert sorted(texts[10_000:], key=lambda t: int(t[4:])) == [f"live{n}" for n in range(300)]
        assert live.broker.overflows >= 1  # it did fall behind the shared path

        # Back on the shared path: a new event arrives once, and nothing else comes.
        desk.post_message(ALICE, ticket, "después")
        after = next(frames)
        assert payload(after)["message"]["message"] == "después"
        assert after.id == store.last_event_id()
        frames.close()
    finally:
        live.close()
        store.close()


@pytest.mark.slow
def test_a_resume_10000_events_back_catches_up_from_the_log_then_joins_the_shared_path(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "resume.db")
    desk = SupportDesk(store)
    live = LiveEvents(desk, heartbeat=30.0, listen=False)
    try:
        alices = desk.create_ticket(ALICE, subject="Mío", description="x").id
        bobs = desk.create_ticket(BOB, subject="Suyo", description="x").id
        start = store.last_event_id()
        for n in range(5_000):
            desk.post_message(ADMIN, alices, f"a{n}")
            desk.post_message(ADMIN, bobs, f"b{n}")
        watcher = StreamReader(live.stream(ALICE).frames())  # a stream already on the shared path
        watcher.next()
        reader = StreamReader(live.stream(ALICE, last_event_id=start).frames())
        reader.next()
        caught = reader.events(5_000, timeout=60)
        assert [payload(f)["message"]["message"] for f in caught] == [f"a{n}" for n in range(5_000)]
        desk.post_message(ADMIN, alices, "en vivo")
        desk.post_message(ADMIN, bobs, "no es suyo")
        (live_one,) = reader.events(1)
        assert payload(live_one)["message"]["message"] == "en vivo"
        assert reader.quiet_events(0.3) == []
        (seen,) = watcher.events(1)
        assert seen.id == live_one.id and seen.wire == live_one.wire
    finally:
        live.close()
        store.close()


def test_a_users_queue_never_holds_another_users_frames(store: Store) -> None:
    desk = SupportDesk(store)
    live = LiveEvents(desk, heartbeat=30.0, listen=False)
    try:
        alice = live.stream(ALICE).frames()
        next(alice)
        bob = StreamReader(live.stream(BOB).frames())
        bob.next()
        bobs = desk.create_ticket(BOB, subject="Secreto de Bob", description="x").id
        desk.post_message(BOB, bobs, "solo para Bob")
        assert len(bob.events(2)) == 2
        (subscription,) = [s for group in live.broker._groups.values() for s in group.users.get(10, ())]
        assert list(subscription.queue) == []  # not filtered when sent: never queued for Alice at all
        alice.close()
    finally:
        live.close()


def _record(kind: str) -> EventRecord:
    return EventRecord.model_construct(id=1, type=kind, ticket_id=1, user_id=10, message_id=None, created_at=None)


@pytest.mark.parametrize("kind", ["note_created", "tag_added", "sla_breached", "something_new"])
def test_event_types_the_projection_does_not_name_never_reach_a_user(kind: str) -> None:
    record = _record(kind)
    assert not owner_may_see(record)
    assert customer_event(record, None, None, ALICE) is None


def test_the_types_users_receive_are_exactly_the_three_public_ones() -> None:
    # Every feature of the product is imported (its types declared): none of them reaches a user.
    import supportchat.cli.features  # noqa: F401

    assert {str(kind) for kind in EventType} >= owner_event_types()
    assert {"ticket_created", "message_created", "ticket_updated"} == owner_event_types()
    assert all(owner_may_see(_record(kind)) for kind in owner_event_types())


def test_on_a_sqlite_file_the_change_signal_brings_another_processs_event_and_idles_cheaply(tmp_path: Path) -> None:
    """Two stores on one file stand for two processes; the default wake-up is ``PRAGMA data_version``."""
    here, there = SQLiteStore(tmp_path / "shared.db"), SQLiteStore(tmp_path / "shared.db")
    live = LiveEvents(SupportDesk(here), heartbeat=30.0)
    try:
        reader = StreamReader(live.stream(ADMIN).frames())
        reader.next()
        assert live.poller is not None and live.poller.signal is not None and live.poller.interval == 0.05
        time.sleep(0.3)
        wakes, reads = live.poller.wakes, live.broker.reads
        time.sleep(0.5)  # ten checks of an unchanged file: no wake-up, no read of the log
        assert (live.poller.wakes, live.broker.reads) == (wakes, reads)
        started = time.monotonic()
        SupportDesk(there).create_ticket(ALICE, subject="Desde el otro proceso", description="x")
        (frame,) = reader.events(1, timeout=5)
        waited = time.monotonic() - started
        assert payload(frame)["ticket"]["subject"] == "Desde el otro proceso"
        assert waited < 0.05 + 0.5  # one interval, and slack for a loaded machine; not the old 2 s poll
        assert live.poller.wakes > wakes
    finally:
        live.close()
        here.close()
        there.close()


@pytest.mark.slow
def test_two_server_processes_on_one_sqlite_file_see_each_others_events_at_once(tmp_path: Path) -> None:
    import httpx

    from supportchat.http import UserTokens

    from .server_app import PREFIX, server_processes

    secret = "fanout-secret-0123456789abcdefghijkl"
    database = {"SUPPORTCHAT_TEST_DB_URL": f"sqlite:///{tmp_path / 'two.db'}"}
    alice = {"Authorization": f"Bearer {UserTokens(secret).mint(10)}"}
    with server_processes(database, secret, count=2, heartbeat=5.0) as (reader_base, writer_base):
        stream = SSEClient(reader_base + PREFIX + "/user/10/events", alice).start()
        assert stream.frames.get(timeout=5).comment == "supportchat stream"
        latencies = []
        with httpx.Client(base_url=writer_base + PREFIX, timeout=10) as writer:
            for n in range(10):
                started = time.perf_counter()
                created = writer.post("/create-ticket", headers=alice, json={"subject": f"S{n}", "description": "x"})
                assert created.status_code == 200, created.text
                (event,) = stream.events(1, timeout=5)
                latencies.append(time.perf_counter() - started)
                assert event.payload["ticket"]["subject"] == f"S{n}"
        stream.disconnect()
    print(f"\nSQLite across processes: create→stream max={max(latencies) * 1e3:.0f}ms")
    assert max(latencies) < 1.0
