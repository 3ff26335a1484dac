"""The broker writing to idle streams itself (a server's direct writer): exact, bounded, still checked."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportchat import Actor, InMemoryStore, SupportDesk
from supportchat.http import InMemoryAdminTokens, TokenAuthenticator, UserTokens
from supportchat.realtime import LiveEvents, StreamCaps
from supportchat.realtime.frames import http_chunk

from ..api.live_server import SSEClient, serve

ADMIN = Actor.admin(1)
ALICE = Actor.user(10)
SIGNED_OUT = "credentials no longer valid"


class FakeWriter:
    """A server's direct writer: records the chunks it wrote; refuses while ``full``; ``close()`` drops the client."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.full = False
        self.closed = False
        self._on_close: Callable[[], None] | None = None

    def write(self, chunk: bytes) -> bool:
        if self.full or self.closed:
            return False
        self.chunks.append(chunk)
        return True

    def on_close(self, callback: Callable[[], None]) -> None:
        self._on_close = callback

    def close(self) -> None:
        self.closed = True
        if self._on_close is not None:
            self._on_close()


def unchunked(chunk: bytes) -> bytes:
    size, rest = chunk.split(b"\r\n", 1)
    assert rest.endswith(b"\r\n") and len(rest) - 2 == int(size, 16), "not one HTTP/1.1 chunk"
    return rest[:-2]


def ids(wire: bytes) -> list[int]:
    return [int(found) for found in re.findall(rb"^id: (\d+)$", wire, re.MULTILINE)]


class Run:
    """One stream served on an event loop in a thread of its own, through ``send`` and a :class:`FakeWriter`."""

    def __init__(self, live: LiveEvents, actor: Actor = ADMIN, **options: Any) -> None:
        self.writer = FakeWriter()
        #: Everything the client got, in order, with where it came from.
        self.received: list[tuple[str, bytes]] = []
        self.stream = live.stream(actor, **options)
        self.loop = asyncio.new_event_loop()
        self._runner = ThreadPoolExecutor(max_workers=1)
        self.done = self._runner.submit(self.loop.run_until_complete, self._serve())

    async def _serve(self) -> None:
        original = self.writer.write

        def write(chunk: bytes) -> bool:
            written = original(chunk)
            if written:
                self.received.append(("direct", unchunked(chunk)))
            return written

        self.writer.write = write  # type: ignore[method-assign]

        async def send(data: bytes) -> None:
            self.received.append(("send", data))

        await asyncio.wait_for(self.stream.serve(send, self.writer), 60)

    def wire(self) -> bytes:
        return b"".join(data for _, data in self.received)

    def wait_for(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"not in time; got {self.received!r}"
            time.sleep(0.01)

    def call(self, function: Callable[[], None]) -> None:
        """Run ``function`` on the stream's loop (as the server would: a writer changes there)."""
        self.loop.call_soon_threadsafe(function)

    def finish(self) -> None:
        self.done.result(timeout=30)
        self._runner.shutdown()
        self.loop.close()


@pytest.fixture
def live() -> Any:
    desk = SupportDesk(InMemoryStore())
    events = LiveEvents(desk, heartbeat=30.0, listen=False, caps=StreamCaps(per_account=None))
    yield events
    events.close(wait=0)


def test_an_idle_streams_frames_are_written_directly_and_its_task_sends_only_the_opening(live: LiveEvents) -> None:
    run = Run(live)
    run.wait_for(lambda: bool(run.received) and live.broker.listeners == 1)
    time.sleep(0.1)  # parked
    made = [live.desk.create_ticket(ALICE, subject=f"T{n}", description="d").id for n in range(5)]
    run.wait_for(lambda: len(ids(run.wire())) == 5)
    assert [source for source, _ in run.received] == ["send"] + ["direct"] * (len(run.received) - 1)
    assert ids(run.wire()) == sorted(ids(run.wire()))
    assert len(made) == 5
    run.call(run.writer.close)
    run.finish()
    assert live.broker.listeners == 0  # the client left: the stream ended and let go of its place


@settings(max_examples=15, deadline=None)
@given(pattern=st.lists(st.booleans(), min_size=1, max_size=12))
def test_direct_writes_and_the_tasks_own_sends_together_carry_every_event_once_in_order(pattern: list[bool]) -> None:
    live = LiveEvents(SupportDesk(InMemoryStore()), heartbeat=30.0, listen=False)
    run = Run(live)
    run.wait_for(lambda: bool(run.received))
    before = len(ids(run.wire()))
    for full in pattern:
        run.call(lambda full=full: setattr(run.writer, "full", full))  # the client's buffer fills and drains
        for _ in range(3):
            live.desk.create_ticket(ALICE, subject="T", description="d")
    expected = before + 3 * len(pattern)
    run.call(lambda: setattr(run.writer, "full", False))
    run.wait_for(lambda: len(ids(run.wire())) >= expected)
    time.sleep(0.05)
    got = ids(run.wire())
    assert got == sorted(set(got)), "a gap is impossible to see here, a duplicate or a reordering is"
    assert len(got) == expected
    assert got == list(range(got[0], got[0] + len(got)))  # every event of the log after the start: no gap
    run.call(run.writer.close)
    run.finish()
    live.close(wait=0)


def test_nothing_is_written_directly_once_the_callers_check_is_due(live: LiveEvents) -> None:
    answers = {"actor": ADMIN}
    run = Run(live, recheck=lambda: answers["actor"], recheck_interval=0.3)
    run.wait_for(lambda: bool(run.received))
    live.desk.create_ticket(ALICE, subject="Antes", description="d")
    run.wait_for(lambda: len(ids(run.wire())) == 1)
    answers["actor"] = None  # revoked
    time.sleep(0.35)  # the check is due: the next frame must wait for it
    live.desk.create_ticket(ALICE, subject="Después", description="d")
    run.finish()
    assert len(ids(run.wire())) == 1, "a frame went out after the caller's check fell due"
    assert run.received[-1] == ("send", b": credentials no longer valid\n\n")
    assert live.broker.listeners == 0


def test_one_timer_of_the_loop_writes_a_quiet_streams_heartbeats_through_the_writer() -> None:
    live = LiveEvents(SupportDesk(InMemoryStore()), heartbeat=0.15, listen=False)
    try:
        run = Run(live)
        run.wait_for(lambda: sum(data == b": heartbeat\n\n" for _, data in run.received) >= 3)
        beats = [source for source, data in run.received if data == b": heartbeat\n\n"]
        assert set(beats) == {"direct"}
        run.call(run.writer.close)
        run.finish()
    finally:
        live.close(wait=0)


def test_a_heartbeat_the_writer_refuses_wakes_the_stream_which_sends_it_itself() -> None:
    live = LiveEvents(SupportDesk(InMemoryStore()), heartbeat=0.15, listen=False)
    try:
        run = Run(live)
        run.call(lambda: setattr(run.writer, "full", True))
        run.wait_for(lambda: sum(data == b": heartbeat\n\n" for _, data in run.received) >= 2)
        assert {source for source, data in run.received if data == b": heartbeat\n\n"} == {"send"}
        run.call(run.writer.close)
        run.finish()
    finally:
        live.close(wait=0)


def test_http_chunk_frames_bytes_as_one_chunk() -> None:
    assert http_chunk(b"hello") == b"5\r\nhello\r\n"
    assert http_chunk(b"x" * 26) == b"1a\r\n" + b"x" * 26 + b"\r\n"


@pytest.mark.parametrize("protocol", ["direct", "h11"])
def test_fastapi_streams_under_uvicorn_with_and_without_the_direct_write(protocol: str) -> None:
    desk = SupportDesk(InMemoryStore())
    live = LiveEvents(desk, heartbeat=0.3, listen=False)  # the client lets go at its next frame
    tokens = InMemoryAdminTokens()
    _, token = tokens.create("ana")
    authenticator = TokenAuthenticator(tokens, UserTokens("a-secret-of-at-least-sixteen-characters"))
    # "h11": plain uvicorn, no direct write: the stream goes through ASGI.
    options: dict[str, Any] = {} if protocol == "direct" else {"uvicorn_protocol": "h11"}
    with serve("fastapi", desk, live=live, authenticator=authenticator, **options) as base:
        client = SSEClient(base + "/admin/api/support/events", {"Authorization": f"Bearer {token}"}).start()
        try:
            assert client.status == 200
            assert client.frames.get(timeout=10).comment == "supportchat stream"
            made = [desk.create_ticket(ALICE, subject=f"T{n}", description="d").id for n in range(20)]
            events = client.events(20, timeout=20)  # heartbeats between them are skipped
            assert [event.payload["ticket_id"] for event in events] == made
            assert [int(event.id or 0) for event in events] == sorted({int(event.id or 0) for event in events})
        finally:
            client.disconnect()
        live.close()
