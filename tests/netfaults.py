"""Network faults on real sockets, for the FallbackStore's fault-injection tests.

:class:`FaultyGateway` serves the PostgREST emulator on 127.0.0.1
(:class:`~tests.postgrest_emulator.server.EmulatorServer`) through a
:class:`~tests.postgrest_emulator.faults.FaultyTransport`, so the ``supabase``
client meets each fault over a real socket:

- ``refuse``: the listening socket is closed (connections are refused);
  any other mode listens on the same port again;
- ``hang``: the request is accepted and never answered in time (the client's
  read times out);
- ``503``: a JSON ``503 Service Unavailable``;
- ``502``: an HTML ``502 Bad Gateway``, as a load balancer sends;
- ``forward``: the emulator answers.

``schedule`` picks the mode per request (flapping); ``fail_after(n, mode)``
forwards ``n`` more requests and then fails (a fault in the middle of a replay).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Literal

import httpx

from .postgrest_emulator.faults import FaultyTransport
from .postgrest_emulator.faults import Mode as TransportMode
from .postgrest_emulator.server import EmulatorServer

Mode = Literal["forward", "refuse", "hang", "503", "502"]


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _on_the_wire(mode: Mode) -> TransportMode:
    return "up" if mode == "forward" else mode


class _Quiet(httpx.BaseTransport):
    """Ends a hung request with a late 504 instead of a server-side traceback.

    By then the client has long given up on its read timeout; nobody reads it.
    """

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return self.inner.handle_request(request)
        except httpx.TimeoutException:
            return httpx.Response(504, request=request)


class FaultyGateway:
    """The emulator on a real port of 127.0.0.1, failing on command."""

    def __init__(self, upstream: httpx.BaseTransport) -> None:
        self.transport = FaultyTransport(upstream)
        self._served = _Quiet(self.transport)
        self._server: EmulatorServer | None = EmulatorServer(self._served)
        self.port = self._server.port
        self.url = self._server.url
        self._mode: Mode = "forward"

    @property
    def requests(self) -> int:
        """Requests that reached the gateway (a refused connection never does)."""
        return self.transport.requests

    @property
    def mode(self) -> Mode:
        return self._mode

    @mode.setter
    def mode(self, mode: Mode) -> None:
        self.transport.schedule = None
        if mode == "refuse":
            if self._server is not None:
                self._server.stop()
                self._server = None
        elif self._server is None:
            self._server = EmulatorServer(self._served, port=self.port)
        self.transport.mode = "up" if mode == "refuse" else _on_the_wire(mode)
        self._mode = mode

    def set_schedule(self, schedule: Callable[[int], Mode]) -> None:
        """Pick each request's mode from its index (0 for the next request)."""
        self.mode = "forward"
        start = self.transport.requests
        self.transport.schedule = lambda number: _on_the_wire(schedule(number - start - 1))

    def fail_after(self, forwarded: int, mode: Mode) -> None:
        """Forward ``forwarded`` more requests, then behave as ``mode`` (not ``refuse``)."""
        self.set_schedule(lambda index: "forward" if index < forwarded else mode)

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
