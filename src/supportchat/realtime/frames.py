"""What a live stream sends: Server-Sent-Events frames and their JSON payload.

A frame is framework-free data; the Flask adapter writes :meth:`Frame.encode`
straight into its generator response and the FastAPI adapter hands the same
fields to sse-starlette.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from ..models import Message, Note, Ticket, UTCDateTime

__all__ = ["EventPayload", "Frame"]


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
