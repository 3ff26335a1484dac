"""uvicorn's h11 protocol, offering live streams a direct write to their connection.

::

    uvicorn.run(app, http=DirectWriteH11Protocol)

(``supportchat serve`` does so). Through ASGI every chunk of a live stream
costs its task waking, the framework's ``send`` wrappers and h11's framing,
some tens of microseconds per stream and event in Python, which with ten
thousand streams is the event's whole delivery time. This protocol puts a
:class:`ChunkedBodyWriter` in each ``GET`` request's scope under
``scope["extensions"]["supportchat.direct_write"]``
(:data:`~supportchat.realtime.frames.DIRECT_WRITE`): once the response's
headers have gone out through ASGI, the stream's broker writes chunks
already framed (one encoding per audience) straight to the transport,
on the loop. The writer refuses (and the stream takes the ASGI path) when
the transport's buffer is past its high-water mark, so a slow client still
falls behind and is dropped as the stream decides. Any other server simply
lacks the extension and the streams go through ASGI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from ..realtime.frames import DIRECT_WRITE

__all__ = ["ChunkedBodyWriter", "DirectWriteH11Protocol"]


class ChunkedBodyWriter:
    """Writes chunks of one response's chunked body straight to its transport (on the loop).

    Only between the response's start and its end, both sent through ASGI
    (h11 frames the body as chunks for an HTTP/1.1 response without
    ``Content-Length``, so whole chunks written here keep it consistent).
    """

    __slots__ = ("_cycle", "_on_close")

    def __init__(self, cycle: Any) -> None:
        self._cycle = cycle
        self._on_close: Callable[[], None] | None = None

    @property
    def closed(self) -> bool:
        cycle = self._cycle
        return bool(cycle.disconnected or cycle.transport.is_closing())

    def write(self, chunk: bytes) -> bool:
        cycle = self._cycle
        if (
            cycle.disconnected
            or not cycle.response_started
            or cycle.response_complete
            or cycle.flow.write_paused
            or cycle.transport.is_closing()
        ):
            return False
        cycle.transport.write(chunk)
        return True

    def on_close(self, callback: Callable[[], None]) -> None:
        self._on_close = callback

    def lost(self) -> None:
        """The connection is gone: tell whoever waits (once)."""
        callback, self._on_close = self._on_close, None
        if callback is not None:
            callback()


class DirectWriteH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a :class:`ChunkedBodyWriter` in the scope of each HTTP/1.1 ``GET``."""

    _writer: ChunkedBodyWriter | None = None

    def handle_events(self) -> None:
        before = self.cycle
        super().handle_events()
        cycle = self.cycle
        # A new request's task is created but has not run yet: its scope can still gain the extension.
        if cycle is not None and cycle is not before and self._chunked(cycle.scope):
            self._writer = ChunkedBodyWriter(cycle)
            extensions: dict[str, Any] = cycle.scope.setdefault("extensions", {})
            extensions[DIRECT_WRITE] = self._writer

    @staticmethod
    def _chunked(scope: Any) -> bool:
        """Whether h11 will frame the response body as chunks (HTTP/1.1 and a body, which ``HEAD`` has not)."""
        return bool(scope.get("http_version") == "1.1" and scope.get("method") == "GET")

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if self._writer is not None:
            self._writer.lost()
            self._writer = None
