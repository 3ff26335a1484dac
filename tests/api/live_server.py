"""Real HTTP servers on 127.0.0.1 for streaming tests, and a small SSE client.

Test clients buffer whole responses, so streams are tested over sockets: the
Flask app under Werkzeug's threaded server, the FastAPI app under uvicorn.
"""

from __future__ import annotations

import json
import queue
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from supportchat import SupportDesk

from .clients import fastapi_app, flask_app


@contextmanager
def serve(adapter: str, desk: SupportDesk, *, uvicorn_protocol: Any = None, **options: Any) -> Iterator[str]:
    """The desk served by ``adapter`` on a free loopback port; yields the base URL.

    ``uvicorn_protocol`` is uvicorn's ``http`` option for FastAPI (default: the direct-write protocol).
    """
    if adapter == "flask":
        from werkzeug.serving import make_server

        server = make_server("127.0.0.1", 0, flask_app(desk, **options), threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            thread.join(10)
        return
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    from supportchat.adapters.uvicorn import DirectWriteH11Protocol

    # As `supportchat serve`: live streams written to their connections directly (plain uvicorn: through ASGI).
    http = uvicorn_protocol or DirectWriteH11Protocol
    config = uvicorn.Config(fastapi_app(desk, **options), log_level="warning", lifespan="on", http=http)
    userver = uvicorn.Server(config)
    thread = threading.Thread(target=userver.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not userver.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        userver.should_exit = True
        thread.join(10)
        sock.close()


@dataclass
class SSEEvent:
    id: str | None = None
    event: str | None = None
    data: str = ""
    comment: str | None = None

    @property
    def payload(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.data)
        return value


@dataclass
class SSEClient:
    """An SSE connection read in a thread; :meth:`disconnect` drops it at the next frame."""

    url: str
    headers: Mapping[str, str]
    status: int | None = None
    error_body: bytes | None = None
    frames: queue.Queue[SSEEvent] = field(default_factory=queue.Queue)
    _stop: threading.Event = field(default_factory=threading.Event)
    _opened: threading.Event = field(default_factory=threading.Event)

    def start(self) -> SSEClient:
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        assert self._opened.wait(10), "the stream did not open"
        return self

    def _read(self) -> None:
        try:
            with (
                httpx.Client(timeout=httpx.Timeout(10.0)) as client,
                client.stream("GET", self.url, headers=dict(self.headers)) as response,
            ):
                self.status = response.status_code
                if response.status_code != 200:
                    self.error_body = response.read()
                    return
                current = SSEEvent()
                for line in response.iter_lines():
                    if line == "":
                        self.frames.put(current)
                        self._opened.set()
                        current = SSEEvent()
                        if self._stop.is_set():
                            return  # closing the response drops the connection
                    elif line.startswith(":"):
                        current.comment = line[1:].strip()
                    else:
                        name, _, value = line.partition(":")
                        value = value.removeprefix(" ")
                        if name == "data":
                            current.data = value if not current.data else current.data + "\n" + value
                        elif name in ("id", "event"):
                            setattr(current, name, value)
        except httpx.HTTPError:
            pass
        finally:
            self._opened.set()

    def events(self, count: int, timeout: float = 10.0) -> list[SSEEvent]:
        deadline = time.monotonic() + timeout
        found: list[SSEEvent] = []
        while len(found) < count:
            frame = self.frames.get(timeout=max(deadline - time.monotonic(), 0.001))
            if frame.data:
                found.append(frame)
        return found

    def quiet_events(self, wait: float) -> list[SSEEvent]:
        deadline = time.monotonic() + wait
        found: list[SSEEvent] = []
        while (left := deadline - time.monotonic()) > 0:
            try:
                frame = self.frames.get(timeout=left)
            except queue.Empty:
                break
            if frame.data:
                found.append(frame)
        return found

    def ended(self, timeout: float) -> bool:
        """Whether the server ended the stream within ``timeout`` seconds."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def disconnect(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the client did not let go"
