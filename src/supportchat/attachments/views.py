"""The attachment JSON of spec §14, and the message and thread types that carry it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ..models import Message, TicketThread
from ..projection import CustomerMessage, CustomerTicketThread
from .base import AttachmentKind

__all__ = [
    "AttachedMessage",
    "AttachedThread",
    "AttachmentView",
    "CustomerAttachedMessage",
    "CustomerAttachedThread",
]


class AttachmentView(BaseModel):
    """An attachment as a response shows it: its URLs are signed for the caller and expire."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int
    filename: str
    content_type: str
    size: int
    sha256: str = Field(description="SHA-256 of the stored bytes (for images: of the re-encoded image).")
    kind: AttachmentKind
    url: str = Field(description="A signed URL for the caller, valid for a limited time; minted afresh on each read.")
    thumbnail_url: str | None = Field(default=None, description="Images only: a signed URL of a small preview.")
    width: int | None = None
    height: int | None = None


class AttachedMessage(Message):
    """A message as admins see it, with the attachment it cites (``file_url`` then is its signed URL)."""

    attachment: AttachmentView | None = None


class AttachedThread(TicketThread):
    messages: list[AttachedMessage]  # type: ignore[assignment]


# Part of the customer projection (supportchat.projection): the attachment JSON holds nothing internal.
class CustomerAttachedMessage(CustomerMessage):
    """A message of the owner's ticket, with the attachment it cites."""

    attachment: AttachmentView | None = None


class CustomerAttachedThread(CustomerTicketThread):
    messages: list[CustomerAttachedMessage]  # type: ignore[assignment]
