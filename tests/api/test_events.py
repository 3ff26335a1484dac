"""The SSE routes and idempotent sends, over real sockets, through both adapters."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import httpx
import jwt
import pytest

from supportchat import Actor, SupportDesk
from supportchat.http import InMemoryAdminTokens, TokenAuthenticator, UserTokens
from supportchat.panel import Panel
from supportchat.realtime import LiveEvents
from supportchat.stores import InMemoryStore, Store

from ..stores import BACKEND_MARKS, BACKENDS
from .conftest import PREFIX, SECRET
from .live_server import SSEClient, serve

HEARTBEAT = 0.3
STREAM_BACKENDS = ("memory", "sqlite-file", "postgres")


def listen(url: str, headers: dict[str, str]) -> SSEClient:
    """An open stream, its opening frame read."""
    client = SSEClient(url, headers).start()
    assert client.status == 200, client.error_body
    assert client.frames.get(timeout=5).comment == "supportchat stream"
    return client


@dataclass
class Served:
    base: str
    desk: SupportDesk
    live: LiveEvents
    admin: dict[str, str]
    users: UserTokens

    def user(self, user_id: int) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.users.mint(user_id)}"}

    def url(self, path: str) -> str:
        return self.base + PREFIX + path

    def stream(self, path: str, headers: dict[str, str]) -> SSEClient:
        return listen(self.url(path), headers)

    def post(self, path: str, headers: dict[str, str], body: dict[str, object]) -> httpx.Response:
        return httpx.post(self.url(path), headers=headers, json=body, timeout=10)


@pytest.fixture(params=[pytest.param(name, marks=BACKEND_MARKS.get(name, [])) for name in STREAM_BACKENDS])
def stream_store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """A fresh store of each kind the streams read differently (SQLite in memory adds nothing here)."""
    with BACKENDS[request.param](request) as make:  # type: ignore[attr-defined]
        store = make()
        yield store
        store.close()


@pytest.fixture
def served(adapter: str, stream_store: Store) -> Iterator[Served]:
    store = stream_store
    desk = SupportDesk(store)
    live = LiveEvents(desk, heartbeat=HEARTBEAT, listen=False)
    tokens = InMemoryAdminTokens()
    _, admin_token = tokens.create("ana")
    users = UserTokens(SECRET)
    with serve(adapter, desk, live=live, authenticator=TokenAuthenticator(tokens, users)) as base:
        yield Served(base, desk, live, {"Authorization": f"Bearer {admin_token}"}, users)
        live.close()


def open_ticket(served: Served, user_id: int, subject: str) -> int:
    reply = served.post(
        "/create-ticket", served.user(user_id), {"user_id": user_id, "subject": subject, "description": "Detalles"}
    )
    assert reply.status_code == 200, reply.text
    ticket_id: int = reply.json()["data"]["id"]
    return ticket_id


def test_each_user_stream_carries_only_that_users_tickets(served: Served) -> None:
    alice = served.stream("/user/10/events", served.user(10))
    bob = served.stream("/user/20/events", served.user(20))
    admin = served.stream("/events", served.admin)

    alices = open_ticket(served, 10, "Pago de Alice")
    bobs = open_ticket(served, 20, "Vuelo de Bob")
    assert served.post(f"/tickets/{bobs}/user-message", served.user(20), {"message": "¿Novedades?"}).is_success
    assert served.post(f"/tickets/{alices}/messages", served.admin, {"message": "Revisando"}).is_success
    assert served.post(f"/tickets/{alices}/user-message", served.user(10), {"message": "Gracias"}).is_success

    everything = admin.events(5)
    assert [e.payload["ticket_id"] for e in everything] == [alices, bobs, bobs, alices, alices]
    alice_saw = alice.events(3) + alice.quiet_events(2 * HEARTBEAT)
    bob_saw = bob.events(2) + bob.quiet_events(2 * HEARTBEAT)
    assert [(e.event, e.payload["ticket_id"]) for e in alice_saw] == [
        ("ticket_created", alices),
        ("message_created", alices),
        ("message_created", alices),
    ]
    assert [(e.event, e.payload["ticket_id"]) for e in bob_saw] == [
        ("ticket_created", bobs),
        ("message_created", bobs),
    ]
    assert not any("Bob" in e.data or "Novedades" in e.data for e in alice_saw)
    assert all(e.id == str(e.payload["event_id"]) for e in alice_saw + bob_saw + everything)


def test_streams_are_guarded_like_every_route(served: Served) -> None:
    cases = [
        ("/user/10/events", served.user(20), 403),  # another user's stream
        ("/user/10/events", {}, 401),
        ("/events", served.user(10), 403),  # the admin stream is for admins
        ("/events", {}, 401),
        ("/events", {**served.admin, "Last-Event-ID": "not-a-number"}, 422),
    ]
    for path, headers, status in cases:
        reply = httpx.get(served.url(path), headers=headers, timeout=10)
        assert reply.status_code == status, (path, reply.text)
        assert reply.json()["success"] is False


def test_a_client_that_reconnects_with_last_event_id_misses_nothing(served: Served) -> None:
    ticket = open_ticket(served, 10, "Reembolso")
    first = served.stream("/user/10/events", served.user(10))
    assert served.post(f"/tickets/{ticket}/messages", served.admin, {"message": "Hola"}).is_success
    (seen,) = first.events(1)
    first.disconnect()
    # The server notices at its next write (a heartbeat at the latest) and releases the stream.
    deadline = time.monotonic() + 10
    while served.live.broker.listeners and time.monotonic() < deadline:
        time.sleep(0.05)
    assert served.live.broker.listeners == 0

    sent = []
    for text in ("Uno", "Dos", "Tres"):
        reply = served.post(f"/tickets/{ticket}/messages", served.admin, {"message": text})
        sent.append(reply.json()["data"]["id"])

    again = served.stream("/user/10/events", {**served.user(10), "Last-Event-ID": str(seen.id)})
    missed = again.events(3)
    assert [e.payload["message"]["id"] for e in missed] == sent
    assert [e.payload["message"]["message"] for e in missed] == ["Uno", "Dos", "Tres"]
    assert again.quiet_events(3 * HEARTBEAT) == []


def test_last_event_id_also_works_as_a_query_parameter(served: Served) -> None:
    ticket = open_ticket(served, 10, "Factura")
    stream = served.stream("/user/10/events?last_event_id=0", served.user(10))
    (created,) = stream.events(1)
    assert created.event == "ticket_created" and created.payload["ticket_id"] == ticket


def test_heartbeats_keep_a_quiet_stream_alive(served: Served) -> None:
    stream = served.stream("/events", served.admin)
    started = time.monotonic()
    beats = [stream.frames.get(timeout=5) for _ in range(3)]
    assert [b.comment for b in beats] == ["heartbeat"] * 3
    assert time.monotonic() - started < 3 * HEARTBEAT + 2


@pytest.mark.parametrize("side", ["user", "admin"])
def test_a_retried_post_with_the_same_client_message_id_stores_one_message(served: Served, side: str) -> None:
    ticket = open_ticket(served, 10, "Red inestable")
    admin = served.stream("/events", served.admin)
    path, headers = (
        (f"/tickets/{ticket}/user-message", served.user(10))
        if side == "user"
        else (f"/tickets/{ticket}/messages", served.admin)
    )
    body = {"message": "¿Me leen?", "client_message_id": "flutter-7f3a"}
    replies = [served.post(path, headers, body) for _ in range(3)]
    assert [r.status_code for r in replies] == [200, 200, 200]
    assert len({r.json()["data"]["id"] for r in replies}) == 1
    thread = httpx.get(served.url(f"/tickets/{ticket}"), headers=served.admin, timeout=10).json()["data"]
    assert [m["message"] for m in thread["messages"]] == ["¿Me leen?"]
    announced = admin.events(1) + admin.quiet_events(3 * HEARTBEAT)
    assert [e.event for e in announced] == ["message_created"]


# -- a stream outlives the check that opened it: revocation, expiry and sign-out reach it ---------------


@dataclass
class Guarded:
    """A desk served with the standalone credentials and the panel's session cookie."""

    base: str
    desk: SupportDesk
    tokens: InMemoryAdminTokens
    admin_token: str
    users: UserTokens

    def url(self, path: str) -> str:
        return self.base + PREFIX + path

    def stream(self, path: str, headers: dict[str, str]) -> SSEClient:
        return listen(self.url(path), headers)


@contextmanager
def guarded(adapter: str, *, heartbeat: float = HEARTBEAT, leeway: timedelta = timedelta(0)) -> Iterator[Guarded]:
    desk = SupportDesk(InMemoryStore())
    live = LiveEvents(desk, heartbeat=heartbeat, listen=False)
    tokens = InMemoryAdminTokens()
    _, admin_token = tokens.create("ana")
    users = UserTokens(SECRET, leeway=leeway)
    panel = Panel(secret=SECRET, admin_tokens=tokens)
    with serve(adapter, desk, live=live, authenticator=TokenAuthenticator(tokens, users), panel=panel) as base:
        yield Guarded(base, desk, tokens, admin_token, users)
        live.close()


def test_an_admin_stream_ends_when_its_token_is_revoked(adapter: str) -> None:
    with guarded(adapter) as site:
        admin = {"Authorization": f"Bearer {site.admin_token}"}
        stream = site.stream("/events", admin)
        site.desk.create_ticket(Actor.user(10), subject="Antes", description="Visto")
        (before,) = stream.events(1)
        assert before.payload["ticket"]["subject"] == "Antes"

        assert site.tokens.revoke("ana")
        # Re-checked at the next heartbeat at the latest: the stream ends, and says why.
        assert stream.ended(HEARTBEAT * 4 + 2), "the revoked admin's stream is still open"
        site.desk.create_ticket(Actor.user(10), subject="Después", description="No visto")
        frames = []
        while not stream.frames.empty():
            frames.append(stream.frames.get())
        assert not any("Después" in frame.data for frame in frames)
        assert frames[-1].comment == "credentials no longer valid"
        assert httpx.get(site.url("/events"), headers=admin, timeout=10).status_code == 401


def test_a_user_stream_ends_when_its_jwt_expires_even_between_heartbeats(adapter: str) -> None:
    # Heartbeats a minute apart: only the token's own expiry can end the stream in time.
    with guarded(adapter, heartbeat=60) as site:
        token = site.users.mint(10, expires_in=timedelta(seconds=2))
        remaining = jwt.decode(token, options={"verify_signature": False})["exp"] - time.time()
        started = time.monotonic()
        stream = site.stream("/user/10/events", {"Authorization": f"Bearer {token}"})
        assert stream.ended(8), "the stream outlived its token"
        assert time.monotonic() - started <= remaining + 1.5
        frames = []
        while not stream.frames.empty():
            frames.append(stream.frames.get())
        assert frames[-1].comment == "credentials no longer valid"
        reply = httpx.get(site.url("/user/10/events"), headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert reply.status_code == 401


def test_a_panel_stream_ends_when_the_admin_signs_out(adapter: str) -> None:
    with guarded(adapter) as site, httpx.Client(base_url=site.base, timeout=10) as http:
        assert http.post("/admin/support/login", json={"token": site.admin_token}).status_code == 200
        csrf = http.get("/admin/support/session").json()["data"]["csrf_token"]
        cookie = {"Cookie": f"supportchat_session={http.cookies['supportchat_session']}"}
        stream = site.stream("/events", cookie)
        site.desk.create_ticket(Actor.user(10), subject="Antes", description="Visto")
        assert len(stream.events(1)) == 1

        assert http.post("/admin/support/logout", json={}, headers={"X-CSRF-Token": csrf}).status_code == 200
        assert stream.ended(HEARTBEAT * 4 + 2), "the signed-out session's stream is still open"
        assert httpx.get(site.url("/events"), headers=cookie, timeout=10).status_code == 401


def test_with_a_flask_host_hook_the_stream_asks_the_hook_again() -> None:
    import flask

    signed_in = {"s3cr3t": Actor.admin(7)}

    def host_identify() -> Actor | None:
        # The host's own session lookup, made inside the request context, also while the stream runs.
        return signed_in.get(flask.request.headers.get("X-Host-Session", ""))

    desk = SupportDesk(InMemoryStore())
    live = LiveEvents(desk, heartbeat=HEARTBEAT, listen=False)
    with serve("flask", desk, live=live, identify=host_identify) as base:
        stream = listen(base + PREFIX + "/events", {"X-Host-Session": "s3cr3t"})
        desk.create_ticket(Actor.user(10), subject="Antes", description="Visto")
        assert len(stream.events(1)) == 1
        del signed_in["s3cr3t"]  # the host signs the admin out
        assert stream.ended(HEARTBEAT * 4 + 2), "the stream outlived the host's session"
        live.close()


def test_a_merge_reaches_the_owners_stream_with_merged_into(served: Served) -> None:
    source, target = open_ticket(served, 10, "Pago doble"), open_ticket(served, 10, "Reembolso")
    alice = served.stream("/user/10/events", served.user(10))
    bob = served.stream("/user/20/events", served.user(20))
    merged = served.post(f"/tickets/{source}/merge", served.admin, {"into": target})
    assert merged.status_code == 200, merged.text
    assert served.post(f"/tickets/{source}/user-message", served.user(10), {"message": "¿Y ahora?"}).is_success

    seen = alice.events(3)
    assert [(e.event, e.payload["ticket_id"]) for e in seen] == [
        ("ticket_updated", source),
        ("ticket_updated", target),
        ("message_created", target),
    ]
    assert seen[0].payload["ticket"]["merged_into"] == target and seen[0].payload["ticket"]["status"] == "closed"
    assert seen[2].payload["message"]["ticket_id"] == target  # a message sent to the source lands in the target
    assert bob.quiet_events(2 * HEARTBEAT) == []
