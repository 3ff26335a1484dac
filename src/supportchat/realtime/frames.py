"""What a live stream sends: Server-Sent-Events frames and their JSON payload.

A frame is framework-free data; the Flask adapter writes :meth:`Frame.encode`
straight into its generator response and the FastAPI adapter hands the same
fields to sse-starlette.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from ..models import Message, Note, Ticket, UTCDateTime

__all__ = ["DIRECT_WRITE", "HEARTBEAT", "DirectWriter", "EventPayload", "Frame", "Parcel", "http_chunk"]


class EventPayload(BaseModel):
    """The ``data:`` of an event frame.

    ``ticket`` is the ticket as it is when the frame is sent (with
    ``unread_count`` from the viewer's side); ``message`` is the message a
    ``message_created`` event announces, ``note`` the internal note a
    ``note_created`` does, ``data`` what a feature's entry says
    (``ticket_transferred``, ``sla_breached``, ``bot_handoff``). Staff's frames
    only: a user's are :class:`~supportchat.projection.CustomerEvent`.
    """

    model_config = ConfigDict(frozen=True)

    event_id: int
    #: A core type or a feature's (:mod:`supportchat.event_types`).
    type: str
    ticket_id: int
    created_at: UTCDateTime
    ticket: Ticket | None
    message: Message | None = None
    note: Note | None = None
    data: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Frame:
    """One SSE frame: an event (``id``, ``event``, ``data``), a comment, or a ``retry`` hint."""

    id: int | None = None
    event: str | None = None
    data: str | None = None
    comment: str | None = None
    retry_ms: int | None = None
    #: The bytes on the wire, encoded once when the frame is made: a frame fanned out to ten
    #: thousand streams is one object, written ten thousand times, encoded once.
    wire: bytes = field(default=b"", init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "wire", self._encode())

    @property
    def is_event(self) -> bool:
        return self.data is not None

    def encode(self) -> bytes:
        """The frame on the wire (``data`` is one line of JSON, so one ``data:`` field)."""
        return self.wire

    def _encode(self) -> bytes:
        lines: list[str] = []
        if self.comment is not None:
            lines.extend(f": {line}" for line in self.comment.splitlines() or [""])
        if self.retry_ms is not None:
            lines.append(f"retry: {self.retry_ms}")
        if self.id is not None:
            lines.append(f"id: {self.id}")
        if self.event is not None:
            lines.append(f"event: {self.event}")
        if self.data is not None:
            lines.extend(f"data: {line}" for line in self.data.split("\n"))
        return ("\n".join(lines) + "\n\n").encode()


#: What a quiet stream sends every ``heartbeat`` seconds (keeps proxies from closing it, tells a vanished client).
HEARTBEAT = Frame(comment="heartbeat")


def http_chunk(data: bytes) -> bytes:
    """``data`` as one chunk of an HTTP/1.1 chunked body."""
    return b"%x\r\n%s\r\n" % (len(data), data)


class Parcel:
    """Frames handed to many streams at once: joined and framed for the wire once, whatever the number of streams."""

    __slots__ = ("_chunk", "first_id", "frames", "last_id")

    def __init__(self, frames: Sequence[Frame]) -> None:
        self.frames = list(frames)
        self.first_id = self.frames[0].id or 0
        self.last_id = self.frames[-1].id or 0
        self._chunk: bytes | None = None

    @property
    def chunk(self) -> bytes:
        """The frames as one HTTP/1.1 chunk (what a :class:`DirectWriter` writes)."""
        if self._chunk is None:
            self._chunk = http_chunk(b"".join(frame.wire for frame in self.frames))
        return self._chunk


class DirectWriter(Protocol):
    """A server's way to write a started chunked response body at once, on its event loop.

    The ASGI server offers one in ``scope["extensions"][DIRECT_WRITE]``
    (see :mod:`supportchat.adapters.uvicorn`); the broker writes an idle
    stream's frames through it instead of waking the stream's task.
    """

    @property
    def closed(self) -> bool:
        """The client is gone (or the connection is closing)."""
        ...

    def write(self, chunk: bytes) -> bool:
        """Write ``chunk`` (framed by :func:`http_chunk`) now; ``False`` (nothing written) when it cannot at once."""
        ...

    def on_close(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (on the loop) once the connection is lost."""
        ...


#: The ASGI scope extension under which a server offers a :class:`DirectWriter` for the response.
DIRECT_WRITE = "supportchat.direct_write"
