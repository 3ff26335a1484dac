"""Bounds on the standalone server's connections, so that slow or idle clients cannot exhaust it.

uvicorn on its own gives a connection that has not finished sending its
request all the time it likes (a half-sent request stayed open past 70 s in a
load run), and accepts connections until the process runs out of file
descriptors, after which every other request timed out with ``Too many open
files``. ``supportchat serve`` therefore:

- raises the process's soft limit on open files to its hard limit
  (:func:`raise_open_file_limit`), where the default soft limit is often 1,024;
- serves HTTP/1.1 with :class:`BoundedH11Protocol`, uvicorn's h11 protocol
  (with the direct write of live streams,
  :class:`~supportchat.adapters.uvicorn.DirectWriteH11Protocol`) with
  ``TCP_NODELAY`` on every connection (:func:`without_delay`) and two
  bounds added (:class:`ConnectionLimits`):

  * a connection must deliver a whole request (headers and body) within
    ``request_timeout`` seconds of its first byte (of its opening, for a new
    connection), else it is closed. Idle kept-alive connections keep
    uvicorn's own ``timeout_keep_alive``;
  * at most ``max_connections`` connections are open at once. One more makes
    the server close the connection that has waited longest for its request
    (a half-sent or idle one costs nobody anything to drop; the client may
    retry), or, if every connection is busy with a request, the new one.

Streams and requests being answered are never dropped for a newcomer. The
limits go to uvicorn as ``http=functools.partial(BoundedH11Protocol,
limits=…)``, which pickles, so every worker process gets them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import resource
import socket
from dataclasses import dataclass
from typing import Any

import h11

from ..adapters.uvicorn import DirectWriteH11Protocol
from .server import DEFAULT_REQUEST_TIMEOUT

__all__ = [
    "FILE_DESCRIPTOR_RESERVE",
    "BoundedH11Protocol",
    "ConnectionLimits",
    "bounded_server_options",
    "default_max_connections",
    "raise_open_file_limit",
    "without_delay",
]

logger = logging.getLogger("supportchat.server")

#: File descriptors kept free of client connections: the database, the log, the listening socket, imports.
FILE_DESCRIPTOR_RESERVE = 256
#: States in which h11 is still waiting for (part of) the client's request.
_RECEIVING = (h11.IDLE, h11.SEND_BODY)


def raise_open_file_limit() -> int:
    """Raise the soft limit on open files to the hard limit where allowed; the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            logger.warning("could not raise the open-file limit from %d to %d", soft, target)
    return int(soft)


def default_max_connections(open_file_limit: int) -> int:
    """The most client connections one process serves: its file descriptors, less a reserve."""
    return max(64, open_file_limit - FILE_DESCRIPTOR_RESERVE)


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """What :class:`BoundedH11Protocol` enforces in each server process."""

    max_connections: int
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT

    def __post_init__(self) -> None:
        if self.max_connections < 1 or self.request_timeout <= 0:
            raise ValueError("max_connections and request_timeout must be positive")


def without_delay(transport: asyncio.BaseTransport) -> None:
    """Send what the server writes at once (``TCP_NODELAY``), as asyncio does for the sockets it creates.

    With several workers uvicorn binds the listening socket itself, as
    ``socket.socket(family)``, whose protocol number is 0 rather than TCP's,
    and asyncio then skips ``TCP_NODELAY`` on the connections it accepts: each
    response's last segment waited for the client's delayed ACK, about 40 ms
    (``serve --workers 2`` answered one request in 44 ms, one worker in 0.7 ms).
    """
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class BoundedH11Protocol(DirectWriteH11Protocol):
    """uvicorn's h11 protocol with a deadline to receive each request and a cap on open connections.

    Live streams write to their connections directly
    (:class:`~supportchat.adapters.uvicorn.DirectWriteH11Protocol`).
    """

    def __init__(self, *args: Any, limits: ConnectionLimits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits
        #: Since when the connection has waited for a request (idle, or partly received); ``None`` while served.
        self.waiting_since: float | None = None
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        without_delay(transport)
        super().connection_made(transport)
        self._expect_request()
        if len(self.connections) > self.limits.max_connections:
            self._make_room()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._track()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._track()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_clock()
        self.waiting_since = None
        super().connection_lost(exc)

    # -- the two bounds ------------------------------------------------------

    def _track(self) -> None:
        """Start, keep or stop the request's clock from where h11 and the response stand."""
        if self.transport.is_closing():
            self._stop_clock()
            self.waiting_since = None
            return
        state = self.conn.their_state
        partial_request = state is h11.IDLE and bool(self.conn.trailing_data[0])
        if state is h11.SEND_BODY or partial_request:
            self._expect_request()
        elif self.cycle is not None and not self.cycle.response_complete:
            self._stop_clock()  # the whole request is in and being answered (a stream, for instance)
            self.waiting_since = None
        else:
            # Idle between requests: uvicorn's keep-alive timeout closes it; a newcomer may displace it.
            self._stop_clock()
            if self.waiting_since is None:
                self.waiting_since = self.loop.time()

    def _expect_request(self) -> None:
        if self.waiting_since is None:
            self.waiting_since = self.loop.time()
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.limits.request_timeout, self._too_slow)

    def _stop_clock(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing() and self.conn.their_state in _RECEIVING:
            self._drop()

    def _make_room(self) -> None:
        """Close the connection that has waited longest for a request; this one if every other is busy."""
        waiting = [
            c
            for c in self.connections
            if isinstance(c, BoundedH11Protocol) and c is not self and c.waiting_since is not None
        ]
        oldest = min(waiting, key=lambda c: c.waiting_since or 0.0, default=self)
        if oldest is self:
            logger.warning("all %d connections are busy: refusing a new one", len(self.connections) - 1)
        oldest._drop()

    def _drop(self) -> None:
        self._stop_clock()
        self.waiting_since = None
        self.connections.discard(self)  # counted out now, not when the loop reports the close
        # h11 may already have given up on the connection; it is being closed either way.
        with contextlib.suppress(h11.LocalProtocolError):
            self.conn.send(h11.ConnectionClosed())
        self.transport.close()


def bounded_server_options(max_connections: int | None, request_timeout: float) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run``: the bounded protocol, after raising the open-file limit.

    ``max_connections`` defaults to what the raised limit allows
    (:func:`default_max_connections`).
    """
    open_files = raise_open_file_limit()
    limit = max_connections or default_max_connections(open_files)
    if limit > open_files - 16:
        logger.warning("--max-connections %d is close to the open-file limit %d", limit, open_files)
    limits = ConnectionLimits(max_connections=limit, request_timeout=request_timeout)
    return {"http": functools.partial(BoundedH11Protocol, limits=limits), "timeout_keep_alive": 5}
