"""Stream caps (429) and the slow client's drop, over real sockets, through both adapters."""

from __future__ import annotations

import queue
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from supportchat import Actor, SupportDesk
from supportchat.http import InMemoryAdminTokens, TokenAuthenticator, UserTokens
from supportchat.realtime import TOO_SLOW, LiveEvents, StreamCaps
from supportchat.stores.sql import SQLiteStore

from .conftest import PREFIX, SECRET
from .live_server import SSEClient, serve
from .test_events import Served

ADMIN = Actor.admin(1)


class Site(Served):
    """A served desk whose streams may be refused: :meth:`open` does not insist on a 200."""

    def open(self, path: str, headers: dict[str, str]) -> SSEClient:
        return SSEClient(self.url(path), headers).start()


@pytest.fixture
def site(adapter: str, tmp_path: Path) -> Iterator[Site]:
    store = SQLiteStore(tmp_path / "limits.db")
    desk = SupportDesk(store)
    live = LiveEvents(
        desk, heartbeat=0.5, queue_limit=20, slow_after=0.5, caps=StreamCaps(per_account=2, per_address=3)
    )
    tokens = InMemoryAdminTokens()
    _, admin_token = tokens.create("ana")
    users = UserTokens(SECRET)
    with serve(adapter, desk, live=live, authenticator=TokenAuthenticator(tokens, users)) as base:
        yield Site(base, desk, live, {"Authorization": f"Bearer {admin_token}"}, users)
        live.close()
    store.close()


def test_streams_beyond_the_caps_per_account_and_per_address_are_refused_with_429(site: Site) -> None:
    first, second = site.open("/user/10/events", site.user(10)), site.open("/user/10/events", site.user(10))
    assert first.status == second.status == 200
    third = site.open("/user/10/events", site.user(10))
    assert third.status == 429  # a third stream of the same account
    assert third.error_body is not None and b"rate_limited" in third.error_body
    assert b"per account" in third.error_body

    other = site.open("/user/20/events", site.user(20))
    assert other.status == 200  # another account, the address's third stream
    fourth = site.open("/events", site.admin)
    assert fourth.status == 429  # the address's fourth
    assert fourth.error_body is not None and b"per client address" in fourth.error_body

    # A stream that ends gives its place back.
    first.disconnect()
    deadline = time.monotonic() + 10
    while site.live.caps.open_for(Actor.user(10)) > 1:
        assert time.monotonic() < deadline, "the closed stream kept its place"
        time.sleep(0.05)
    again = site.open("/user/10/events", site.user(10))
    assert again.status == 200
    for client in (second, other, again):
        client.disconnect()


def test_a_refused_stream_says_when_to_retry(site: Site) -> None:
    import httpx

    held = [site.open("/user/10/events", site.user(10)) for _ in range(2)]
    reply = httpx.get(site.base + PREFIX + "/user/10/events", headers=site.user(10), timeout=10)
    assert reply.status_code == 429
    assert reply.headers["Retry-After"].isdigit()
    for client in held:
        client.disconnect()


def _open_raw(site: Site) -> socket.socket:
    """A stream whose client takes nothing after the opening frame: a tiny receive buffer, never read."""
    host, port = site.base.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(20)
    sock.connect((host, int(port)))
    request = (
        f"GET {PREFIX}/events HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n"
        f"Authorization: {site.admin['Authorization']}\r\n\r\n"
    )
    sock.sendall(request.encode())
    head = b""
    while b"supportchat stream\n" not in head or not head.endswith(b"\r\n"):
        head += sock.recv(1)
    return sock


def _read_to_the_end(sock: socket.socket) -> str:
    """The rest of the response body (chunked transfer coding undone) until the server closes."""
    raw = b""
    while chunk := sock.recv(65536):
        raw += chunk
    _, _, body = raw.partition(b"\r\n\r\n") if raw.startswith(b"HTTP/") else (b"", b"", raw)
    return _dechunk(body).decode()


def _dechunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2 :]
    return out


def test_a_client_too_slow_for_the_events_is_dropped_with_a_last_frame_and_resumes_exactly(site: Site) -> None:
    sock = _open_raw(site)
    ticket = site.desk.create_ticket(Actor.user(10), subject="Mucho texto", description="x").id
    start = site.desk.store.last_event_id() - 1
    text = "x" * 9_000
    # 13 MB of frames: more than the socket buffers hold (4 MB at most here), then the stream's queue of 20.
    for n in range(1_500):
        site.desk.post_message(ADMIN, ticket, f"{n} {text}")
    assert site.live.broker.overflows, "the stream never fell behind"
    time.sleep(1.0)  # behind for longer than slow_after (0.5 s)
    data = _read_to_the_end(sock)
    sock.close()
    assert data.rstrip().endswith(": " + (TOO_SLOW.comment or "")), data[-300:]
    received = [int(line.removeprefix("id: ")) for line in data.splitlines() if line.startswith("id: ")]
    logged = [record.id for record in site.desk.store.events_after(start, limit=10_000)]
    assert received == logged[: len(received)]  # what it got is the log's beginning, in order, nothing skipped
    assert len(received) < len(logged)
    assert site.live.broker.dropped >= 1

    # The client reconnects with the last id it saw and gets exactly the rest (reconnecting again, as
    # EventSource does, whenever the server finds it too slow once more while it reads 13 MB of history).
    rest = _follow(site, received[-1], len(logged) - len(received))
    assert rest == logged[len(received) :]


def _follow(site: Site, last_id: int, count: int) -> list[int]:
    got: list[int] = []
    for _ in range(50):
        client = site.open("/events", {**site.admin, "Last-Event-ID": str(got[-1] if got else last_id)})
        assert client.status == 200
        while len(got) < count:
            try:
                frame = client.frames.get(timeout=10)
            except queue.Empty:
                break
            if frame.data:
                got.append(int(frame.id or 0))
            elif frame.comment == TOO_SLOW.comment:
                break
        client.disconnect()
        if len(got) >= count:
            assert client.quiet_events(0.1) == []
            return got
    raise AssertionError(f"only {len(got)} of {count} events after 50 connections")


def test_a_client_that_keeps_up_is_not_dropped(site: Site) -> None:
    reader = site.open("/events", site.admin)
    ticket = site.desk.create_ticket(Actor.user(10), subject="Poco texto", description="x").id
    for n in range(200):
        site.desk.post_message(ADMIN, ticket, f"m{n}")
    events = reader.events(201, timeout=30)
    assert [event.payload.get("message", {}) and event.payload["message"]["message"] for event in events[1:]] == [
        f"m{n}" for n in range(200)
    ]
    reader.disconnect()
