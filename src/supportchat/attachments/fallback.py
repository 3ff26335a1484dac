"""Blobs kept locally while the primary blob store (Supabase Storage, S3) is down, and replayed after.

:class:`FallbackBlobStore` writes to the primary; when it is unreachable
(:class:`~supportchat.errors.StorageUnavailable`) the blob goes to a local
directory instead, at once. Reads find a blob in either place. ``replay()``
copies what waits locally to the primary and removes the local copy, once
the primary answers again (the CLI's ``supportchat attachments replay``; the
expiry job calls it too). Blobs are keyed by content, so a blob replayed
twice, or stored in both places, is the same blob.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import BinaryIO

from ..errors import StorageUnavailable
from .blobs import BlobMissing, BlobStore, LocalBlobStore

__all__ = ["FallbackBlobStore"]

logger = logging.getLogger("supportchat.attachments")


class FallbackBlobStore:
    """``primary``, with ``local`` taking the writes the primary cannot."""

    def __init__(self, primary: BlobStore, local: LocalBlobStore) -> None:
        self.primary = primary
        self.local = local

    def put(self, key: str, source: BinaryIO, size: int, content_type: str) -> None:
        start = source.tell()
        try:
            self.primary.put(key, source, size, content_type)
        except StorageUnavailable:
            logger.warning("blob store unavailable: blob %s kept locally until replayed", key)
            source.seek(start)
            self.local.put(key, source, size, content_type)

    def size(self, key: str) -> int | None:
        found = self.local.size(key)
        if found is not None:
            return found
        return self.primary.size(key)

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        try:
            return self.local.read(key, start, end)
        except BlobMissing:
            return self.primary.read(key, start, end)

    def delete(self, key: str) -> None:
        self.local.delete(key)
        self.primary.delete(key)

    def keys(self) -> Iterator[str]:
        waiting = set(self.pending())
        yield from waiting
        yield from (key for key in self.primary.keys() if key not in waiting)  # noqa: SIM118 - a BlobStore, not a dict

    def pending(self) -> list[str]:
        """The blobs waiting locally for the primary."""
        return sorted(self.local.keys())

    def replay(self) -> int:
        """Copy the waiting blobs to the primary (removing each local copy after); returns how many went."""
        moved = 0
        for key in self.pending():
            size = self.local.size(key)
            if size is None:
                continue
            path = self.local.root / key[:2] / key
            with path.open("rb") as source:
                self.primary.put(key, source, size, "application/octet-stream")
            self.local.delete(key)
            moved += 1
        return moved
