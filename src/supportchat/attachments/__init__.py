"""Attachments (spec §14): photos and documents in the conversation, safe to serve.

- :class:`Attachments`: uploads (streamed, checked by content, images
  re-encoded without metadata), signed URLs, serving with spec §14's
  headers and ranges, expiry of uploads nobody cited, a ticket's
  attachments forgotten.
- :class:`BlobStore`: where the bytes live, by SHA-256
  (:class:`LocalBlobStore`, the default; :class:`S3BlobStore`, any
  S3-compatible service, Supabase Storage included;
  :class:`FallbackBlobStore`, the local directory taking the writes while
  the primary is down, replayed afterwards).
- :class:`AttachmentStore` (the store extension): the
  ``support_attachments`` table (migration ``0010_attachments``) on the SQL
  store, in memory, and under the fallback store in its local database.
- :func:`supportchat.attachments.feature.feature`: the routes,
  ``attachment_id`` on the message routes, and the expiry job kind.

See ``docs/attachments.md``.
"""

from __future__ import annotations

from typing import Any

from ..extensions import extension, register_extension
from ..stores.fallback import FallbackStore
from ..stores.memory import InMemoryStore
from ..stores.sql import SQLStore
from .base import Attachment, AttachmentKind, AttachmentStore, NewAttachment
from .blobs import BlobMissing, BlobStore, LocalBlobStore
from .errors import AttachmentNotFound, InvalidFile, UrlExpired
from .fallback import FallbackBlobStore
from .memory import MemoryAttachmentStore
from .s3 import S3BlobStore
from .service import EXPIRE_KIND, Attachments, AttachmentSettings, attachment_records
from .signing import UrlSigner
from .sql import SQLAttachmentStore

__all__ = [
    "EXPIRE_KIND",
    "Attachment",
    "AttachmentKind",
    "AttachmentNotFound",
    "AttachmentSettings",
    "AttachmentStore",
    "Attachments",
    "BlobMissing",
    "BlobStore",
    "FallbackBlobStore",
    "InvalidFile",
    "LocalBlobStore",
    "MemoryAttachmentStore",
    "NewAttachment",
    "S3BlobStore",
    "SQLAttachmentStore",
    "UrlExpired",
    "UrlSigner",
    "attachment_records",
]


def _fallback_attachments(store: FallbackStore) -> Any:
    # The rows live in the local fallback database, as the jobs do: an upload made while the
    # primary is down is recorded (and its blob kept) at once, and its message replays later.
    return extension(store.fallback, AttachmentStore)  # type: ignore[type-abstract]


register_extension(AttachmentStore, SQLStore, SQLAttachmentStore)  # type: ignore[type-abstract]
register_extension(AttachmentStore, InMemoryStore, MemoryAttachmentStore)  # type: ignore[type-abstract]
register_extension(AttachmentStore, FallbackStore, _fallback_attachments)  # type: ignore[type-abstract]
