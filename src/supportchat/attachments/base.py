"""The attachments' records and their store extension, :class:`AttachmentStore`."""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["Attachment", "AttachmentKind", "AttachmentStore", "NewAttachment"]


class AttachmentKind(enum.StrEnum):
    IMAGE = "image"
    FILE = "file"


@dataclass(frozen=True, slots=True)
class NewAttachment:
    """An upload about to be recorded: its blob is (being) stored under ``sha256``."""

    ticket_id: int
    #: ``user`` or ``admin``.
    uploaded_by_kind: str
    uploaded_by: int
    filename: str
    content_type: str
    size: int
    sha256: str
    kind: AttachmentKind
    created_at: float
    thumbnail_sha256: str | None = None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class Attachment(NewAttachment):
    """A recorded upload; ``message_id`` is the message that cited it, if one has."""

    id: int = 0
    message_id: int | None = None

    def blob_keys(self) -> tuple[str, ...]:
        """The blobs this attachment uses (its content, and its thumbnail's)."""
        return (self.sha256,) if self.thumbnail_sha256 is None else (self.sha256, self.thumbnail_sha256)


@runtime_checkable
class AttachmentStore(Protocol):
    """The attachments table of a store; each method is one atomic step."""

    def add(self, attachment: NewAttachment) -> Attachment:
        """Record an upload; returns it with its id."""
        ...

    def get(self, attachment_id: int) -> Attachment | None: ...

    def cite(self, attachment_id: int, message_id: int) -> bool:
        """Mark the upload as cited by ``message_id``; false if another message cited it first (or it is gone)."""
        ...

    def for_messages(self, message_ids: Collection[int]) -> dict[int, Attachment]:
        """The attachment each of these messages cites (messages without one are left out)."""
        ...

    def for_ticket(self, ticket_id: int) -> list[Attachment]:
        """Every attachment of a ticket, cited or not, oldest first."""
        ...

    def uncited_before(self, cutoff: float, *, limit: int = 500) -> list[Attachment]:
        """Uploads no message cited, made before ``cutoff`` (Unix seconds), oldest first."""
        ...

    def remove(self, attachment_ids: Sequence[int]) -> list[Attachment]:
        """Delete these rows; returns those that were there."""
        ...

    def uses(self, blob_key: str) -> int:
        """How many attachments use this blob, as their content or their thumbnail."""
        ...
