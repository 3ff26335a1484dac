"""Live streams over every store backend: filtering, resume, heartbeats, clean-up."""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from supportchat import Actor, InMemoryStore, StorageUnavailable, SupportDesk, ValidationError
from supportchat.models import EventRecord
from supportchat.realtime import Broker, EventStream, Frame, LiveEvents, parse_last_event_id

from .reader import StreamReader, payload

ADMIN = Actor.admin(1)
ALICE = Actor.user(10)
BOB = Actor.user(20)


def open_ticket(desk: SupportDesk, user: Actor, subject: str = "Pago rechazado") -> int:
    return desk.create_ticket(user, subject=subject, description="No puedo pagar").id


@pytest.fixture
def live(desk: SupportDesk):  # type: ignore[no-untyped-def]
    events = LiveEvents(desk, heartbeat=5.0, poll_interval=None, listen=False)
    yield events
    events.close()


def test_a_users_stream_never_carries_another_users_events(desk: SupportDesk, live: LiveEvents) -> None:
    alice = StreamReader(live.stream(ALICE).frames())
    bob = StreamReader(live.stream(BOB).frames())
    admin = StreamReader(live.stream(ADMIN).frames())
    for reader in (alice, bob, admin):
        assert reader.next().comment == "supportchat stream"

    alices = open_ticket(desk, ALICE)
    bobs = open_ticket(desk, BOB, "Vuelo cancelado")
    desk.post_message(BOB, bobs, "¿Hay novedades?")
    desk.post_message(ADMIN, alices, "Lo estamos revisando")
    desk.change_status(ADMIN, bobs, "in_progress")
    desk.post_message(ALICE, alices, "Gracias")

    seen_by_admin = [payload(f) for f in admin.events(6)]
    assert [(p["ticket_id"], p["type"]) for p in seen_by_admin] == [
        (alices, "ticket_created"),
        (bobs, "ticket_created"),
        (bobs, "message_created"),
        (alices, "message_created"),
        (bobs, "ticket_updated"),
        (alices, "message_created"),
    ]
    seen_by_alice = [payload(f) for f in alice.events(3)] + [payload(f) for f in alice.quiet_events(0.3)]
    seen_by_bob = [payload(f) for f in bob.events(3)] + [payload(f) for f in bob.quiet_events(0.3)]
    assert {p["ticket"]["user_id"] for p in seen_by_alice} == {10}
    assert {p["ticket_id"] for p in seen_by_alice} == {alices}
    assert [p["type"] for p in seen_by_alice] == ["ticket_created", "message_created", "message_created"]
    assert {p["ticket_id"] for p in seen_by_bob} == {bobs}
    assert [p["type"] for p in seen_by_bob] == ["ticket_created", "message_created", "ticket_updated"]
    # Nothing of Bob's appears anywhere in Alice's bytes, not even his text.
    assert "Vuelo cancelado" not in json.dumps(seen_by_alice)
    assert "novedades" not in json.dumps(seen_by_alice)


def test_event_frames_carry_id_name_and_the_serialised_message(desk: SupportDesk, live: LiveEvents) -> None:
    reader = StreamReader(live.stream(ADMIN).frames())
    reader.next()
    ticket = open_ticket(desk, ALICE)
    sent = desk.post_message(ALICE, ticket, "Hola <b>equipo</b>", client_message_id="m-1")
    created, message = reader.events(2)
    assert created.event == "ticket_created" and message.event == "message_created"
    assert message.id is not None and created.id is not None and message.id > created.id
    data = payload(message)
    assert data["event_id"] == message.id
    assert data["message"]["id"] == sent.id
    assert data["message"]["message"] == sent.message
    assert data["message"]["created_at"].endswith("Z")
    assert data["ticket"]["ticket_number"].startswith("TKT-")
    # The admin's view of the ticket: one unread user message.
    assert data["ticket"]["unread_count"] == 1
    wire = message.encode().decode()
    assert wire.startswith(f"id: {message.id}\nevent: message_created\ndata: {{")
    assert wire.endswith("}\n\n") and wire.count("\n") == 4


def test_reconnecting_with_last_event_id_gets_everything_missed_once_in_order(
    desk: SupportDesk, live: LiveEvents
) -> None:
    ticket = open_ticket(desk, ALICE)
    reader = StreamReader(live.stream(ALICE).frames())
    reader.next()
    desk.post_message(ADMIN, ticket, "Primera respuesta")
    (seen,) = reader.events(1)
    # The client goes away here (over HTTP: tests/realtime/test_sse_http.py); it reads nothing more.

    sent = [desk.post_message(ADMIN, ticket, f"Mensaje {n}").id for n in range(3)]

    again = StreamReader(live.stream(ALICE, last_event_id=str(seen.id)).frames())
    missed = [payload(f) for f in again.events(3)]
    assert [p["message"]["id"] for p in missed] == sent
    assert again.quiet_events(0.3) == []  # and nothing twice
    desk.post_message(ADMIN, ticket, "Y ahora en vivo")
    (live_one,) = again.events(1)
    assert payload(live_one)["message"]["message"] == "Y ahora en vivo"


def test_a_fresh_stream_starts_at_now(desk: SupportDesk, live: LiveEvents) -> None:
    open_ticket(desk, ALICE)
    reader = StreamReader(live.stream(ALICE).frames())
    reader.next()
    assert reader.quiet_events(0.2) == []
    newer = open_ticket(desk, ALICE, "Otro")
    (frame,) = reader.events(1)
    assert payload(frame)["ticket_id"] == newer


def test_resume_from_zero_replays_the_log_in_bounded_batches(desk: SupportDesk, live: LiveEvents) -> None:
    tickets = [open_ticket(desk, ALICE, f"Asunto {n}") for n in range(7)]
    reader = StreamReader(live.stream(ALICE, last_event_id=0, batch=3).frames())
    assert [payload(f)["ticket_id"] for f in reader.events(7)] == tickets


def test_heartbeats_come_at_the_configured_interval_when_quiet(desk: SupportDesk) -> None:
    live = LiveEvents(desk, heartbeat=0.2, listen=False)
    try:
        reader = StreamReader(live.stream(ADMIN).frames())
        reader.next()
        started = time.monotonic()
        beats = [reader.next(timeout=2.0) for _ in range(3)]
        elapsed = time.monotonic() - started
        assert all(f.comment == "heartbeat" and not f.is_event for f in beats)
        assert beats[0].encode() == b": heartbeat\n\n"
        assert 0.5 <= elapsed < 1.5
    finally:
        live.close()


def test_closing_a_stream_releases_its_subscription(desk: SupportDesk) -> None:
    broker = Broker()
    frames = EventStream(desk, broker, ALICE, heartbeat=5.0).frames()
    assert next(frames).comment == "supportchat stream"
    assert broker.listeners == 1
    frames.close()
    assert broker.listeners == 0


def test_the_async_stream_wakes_on_the_desks_events_and_cleans_up(desk: SupportDesk, live: LiveEvents) -> None:
    ticket = open_ticket(desk, ALICE)

    async def scenario() -> list[Frame]:
        frames = live.stream(ALICE).aframes()
        got = [await anext(frames)]
        loop = asyncio.get_running_loop()
        # The write happens on another thread, as a request would.
        loop.call_later(0.05, lambda: loop.run_in_executor(None, desk.post_message, ADMIN, ticket, "Respuesta"))
        got.append(await asyncio.wait_for(anext(frames), 5.0))
        await frames.aclose()
        return got

    # On a thread of its own: a session-scoped browser elsewhere in the run
    # (Playwright's sync API) keeps an event loop running on the main thread.
    with ThreadPoolExecutor(max_workers=1) as runner:
        opening, event = runner.submit(asyncio.run, scenario()).result(timeout=30)
    assert opening.comment == "supportchat stream"
    assert payload(event)["message"]["message"] == "Respuesta"
    assert live.broker.listeners == 0


@pytest.mark.parametrize("raw", ["abc", "-1", "1.5", "9" * 30, "１２"])
def test_a_malformed_last_event_id_is_refused(raw: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_last_event_id(raw)
    # The error names the header and says what it must hold (its class's code is a constant: no check).
    assert caught.value.field == "Last-Event-ID"
    assert caught.value.details == {"field": "Last-Event-ID"}
    assert "non-negative integer" in str(caught.value)


def test_a_missing_last_event_id_means_a_fresh_client() -> None:
    assert parse_last_event_id(None) is None
    assert parse_last_event_id("  ") is None
    assert parse_last_event_id("42") == 42


class FailingLog(InMemoryStore):
    """An in-memory store whose event log can be made unreachable."""

    failing = False

    def events_after(self, after_id: int, *, user_id: int | None = None, limit: int = 100) -> list[EventRecord]:
        if self.failing:
            raise StorageUnavailable("the database went away")
        return super().events_after(after_id, user_id=user_id, limit=limit)


def test_a_store_failure_ends_the_stream_cleanly_for_the_client_to_resume() -> None:
    store = FailingLog()
    desk = SupportDesk(store)
    broker = Broker()
    frames = EventStream(desk, broker, ALICE, heartbeat=5.0).frames()
    assert next(frames).comment == "supportchat stream"
    store.failing = True
    desk.create_ticket(ALICE, subject="Durante la caída", description="x")  # rings the stream
    broker.announce(10)
    assert list(frames) == []  # ended, not raised: the client reconnects with Last-Event-ID
    assert broker.listeners == 0


def test_on_sqlite_another_processs_writes_arrive_through_the_slow_poll(tmp_path: Path) -> None:
    """Two stores on one SQLite file stand for two processes: no notification, the poll finds the event."""
    from supportchat.stores.sql import SQLiteStore

    here, there = SQLiteStore(tmp_path / "shared.db"), SQLiteStore(tmp_path / "shared.db")
    live = LiveEvents(SupportDesk(here), heartbeat=30.0, poll_interval=0.3)
    try:
        reader = StreamReader(live.stream(ADMIN).frames())
        reader.next()
        assert live.poller is not None
        started = time.monotonic()
        SupportDesk(there).create_ticket(ALICE, subject="Desde el otro proceso", description="x")
        (frame,) = reader.events(1, timeout=5)
        waited = time.monotonic() - started
        assert payload(frame)["ticket"]["subject"] == "Desde el otro proceso"
        assert waited < 0.3 + 1.0  # within one poll interval (and some slack), not the 30 s heartbeat
    finally:
        live.close()
        here.close()
        there.close()
