"""Network faults on real sockets: an HTTP gateway on 127.0.0.1 in front of the PostgREST emulator.

:class:`FaultyGateway` is a small threaded HTTP server. In ``forward`` mode it
passes each request to the emulator (an ``httpx`` transport) and returns its
answer; otherwise it fails the way a sick Supabase does:

- ``refuse``: the listening socket is closed, so connecting is refused;
- ``hang``: it accepts the request and never answers (the client's read times out);
- ``503``: ``503 Service Unavailable`` with a JSON body;
- ``502``: ``502 Bad Gateway`` with an HTML body, as a load balancer sends.

``schedule`` can pick the mode per request (flapping); ``fail_after(n)``
forwards ``n`` more requests and then switches to a failing mode (a fault in
the middle of a replay). Everything binds 127.0.0.1 and stops on :meth:`close`.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal

import httpx

Mode = Literal["forward", "refuse", "hang", "503", "502"]
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class FaultyGateway:
    """An HTTP server on 127.0.0.1 that forwards to ``upstream`` or fails on command."""

    def __init__(self, upstream: httpx.BaseTransport, upstream_url: str) -> None:
        self.upstream = upstream
        self.upstream_url = upstream_url.rstrip("/")
        self.port = closed_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.schedule: Callable[[int], Mode] | None = None
        self.requests = 0
        self.forwarded = 0
        self._mode: Mode = "forward"
        self._fail_after: tuple[int, Mode] | None = None
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._listen()

    @property
    def mode(self) -> Mode:
        return self._mode

    @mode.setter
    def mode(self, mode: Mode) -> None:
        with self._lock:
            self._fail_after = None
            self.schedule = None
            if mode == "refuse":
                self._stop_listening()
            elif self._server is None:
                self._listen()
            if mode != "hang":
                self._release.set()  # let hanging handlers go
            else:
                self._release.clear()
            self._mode = mode

    def fail_after(self, forwarded: int, mode: Mode) -> None:
        """Forward ``forwarded`` more requests, then behave as ``mode``."""
        self.mode = "forward"
        self._fail_after = (forwarded, mode)

    def close(self) -> None:
        self._release.set()
        self._stop_listening()

    # -- serving ---------------------------------------------------------

    def _listen(self) -> None:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _handle(self) -> None:
                gateway._serve(self)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _handle

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def _stop_listening(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def _current_mode(self) -> Mode:
        with self._lock:
            index = self.requests
            self.requests += 1
            if self._fail_after is not None:
                remaining, mode = self._fail_after
                if remaining == 0:
                    self._fail_after = None
                    self._mode = mode
                    if mode == "hang":
                        self._release.clear()
                else:
                    self._fail_after = (remaining - 1, mode)
            return self.schedule(index) if self.schedule is not None else self._mode

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        mode = self._current_mode()
        if mode in ("hang", "refuse"):
            # Accepted but never answered; the client gives up on its read timeout.
            self._release.wait(timeout=30)
            handler.close_connection = True
            return
        if mode == "503":
            self._answer(handler, 503, b'{"message":"Service Unavailable"}', "application/json")
            return
        if mode == "502":
            self._answer(handler, 502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")
            return
        headers = [(k, v) for k, v in handler.headers.items() if k.lower() not in ("host", "content-length")]
        request = httpx.Request(handler.command, self.upstream_url + handler.path, headers=headers, content=body)
        response = self.upstream.handle_request(request)
        content = response.read()
        with self._lock:
            self.forwarded += 1
        handler.send_response(response.status_code)
        for key, value in response.headers.items():
            if key.lower() not in _HOP_BY_HOP:
                handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(content)))
        handler.end_headers()
        handler.wfile.write(content)

    @staticmethod
    def _answer(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
