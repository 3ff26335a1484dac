"""Attachments of an :class:`~supportchat.stores.memory.InMemoryStore`: a dict under a lock."""

from __future__ import annotations

import dataclasses
import itertools
import threading
from collections.abc import Collection, Sequence

from .base import Attachment, NewAttachment

__all__ = ["MemoryAttachmentStore"]


class MemoryAttachmentStore:
    """The :class:`~.base.AttachmentStore` of an in-memory store (lost with it)."""

    def __init__(self, store: object = None) -> None:
        self._rows: dict[int, Attachment] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, attachment: NewAttachment) -> Attachment:
        with self._lock:
            fields = {f.name: getattr(attachment, f.name) for f in dataclasses.fields(NewAttachment)}
            row = Attachment(**fields, id=next(self._ids))
            self._rows[row.id] = row
            return row

    def get(self, attachment_id: int) -> Attachment | None:
        return self._rows.get(attachment_id)

    def cite(self, attachment_id: int, message_id: int) -> bool:
        with self._lock:
            row = self._rows.get(attachment_id)
            if row is None or row.message_id not in (None, message_id):
                return False
            self._rows[attachment_id] = dataclasses.replace(row, message_id=message_id)
            return True

    def for_messages(self, message_ids: Collection[int]) -> dict[int, Attachment]:
        wanted = set(message_ids)
        with self._lock:
            return {row.message_id: row for row in self._rows.values() if row.message_id in wanted}

    def for_ticket(self, ticket_id: int) -> list[Attachment]:
        with self._lock:
            return sorted((r for r in self._rows.values() if r.ticket_id == ticket_id), key=lambda r: r.id)

    def uncited_before(self, cutoff: float, *, limit: int = 500) -> list[Attachment]:
        with self._lock:
            rows = [r for r in self._rows.values() if r.message_id is None and r.created_at < cutoff]
        return sorted(rows, key=lambda r: (r.created_at, r.id))[:limit]

    def remove(self, attachment_ids: Sequence[int]) -> list[Attachment]:
        with self._lock:
            return [row for i in attachment_ids if (row := self._rows.pop(i, None)) is not None]

    def uses(self, blob_key: str) -> int:
        with self._lock:
            return sum(blob_key in row.blob_keys() for row in self._rows.values())
