"""Real receivers on 127.0.0.1: a webhook endpoint whose behaviour the test switches, an SMTP server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from supportchat.notify import verify_signature


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@dataclass
class Received:
    event_id: str
    body: bytes
    genuine: bool
    at: float


@dataclass
class WebhookReceiver:
    """Answers 200, 500 (``mode="fail"``), or hangs longer than the sender waits (``mode="hang"``).

    Like a real receiver it de-duplicates by event id: ``processed`` holds
    each event once, ``requests`` every request that reached it.
    """

    secret: str
    mode: str = "ok"
    hang_for: float = 1.0
    requests: list[Received] = field(default_factory=list)
    processed: dict[str, Received] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, handler: BaseHTTPRequestHandler) -> int:
        body = handler.rfile.read(int(handler.headers.get("Content-Length", "0")))
        received = Received(
            event_id=handler.headers.get("X-Supportchat-Event-Id", ""),
            body=body,
            genuine=verify_signature(
                self.secret,
                body,
                handler.headers.get("X-Supportchat-Timestamp"),
                handler.headers.get("X-Supportchat-Signature"),
            ),
            at=time.monotonic(),
        )
        mode = self.mode
        with self.lock:
            self.requests.append(received)
        if mode == "fail":
            return 500
        if mode == "gone":
            return 410
        if not received.genuine:
            return 401
        with self.lock:
            # De-duplication by event id: a resent event is acknowledged but not processed again.
            self.processed.setdefault(received.event_id, received)
        if mode == "hang":
            time.sleep(self.hang_for)  # processed, but the sender has given up waiting: it will resend
        return 200


@contextmanager
def webhook_receiver(secret: str) -> Iterator[tuple[WebhookReceiver, str]]:
    receiver = WebhookReceiver(secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            status = receiver.handle(self)
            try:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:
                pass  # the sender hung up while we hung

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver, f"http://127.0.0.1:{server.server_port}/hooks/support"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


class _Inbox:
    def __init__(self) -> None:
        self.mails: list[tuple[list[str], Message]] = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.arrived:
            self.mails.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
            self.arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[tuple[list[str], Message]]:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.mails) >= count, timeout), f"{len(self.mails)} mails"
            return list(self.mails)


@contextmanager
def smtp_server(port: int | None = None) -> Iterator[tuple[_Inbox, int]]:
    from aiosmtpd.controller import Controller

    if port is None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
