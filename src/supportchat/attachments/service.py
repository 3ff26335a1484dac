"""The attachments capability over a desk: upload, cite, show, serve, expire and forget.

:class:`Attachments` holds what is not the desk's: the blob store, the URL
signer and the settings. Every method takes the desk (or its store), so one
instance serves any desk, as the route handlers are called.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import tempfile
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..desk import SupportDesk
from ..errors import Conflict, ExtensionUnavailable, NotAuthenticated, TicketClosed, ValidationError
from ..extensions import extension
from ..http.raw import RawRequest, RawResponse
from ..http.routes import DEFAULT_PREFIX
from ..jobs import JobStore, NewJob
from ..models import Actor, ActorKind, Message, TicketStatus
from ..permissions import Action
from ..rules import as_id
from ..store import Store
from .base import Attachment, AttachmentKind, AttachmentStore, NewAttachment
from .blobs import BlobStore
from .content import examine, reencode
from .errors import AttachmentNotFound, UrlExpired
from .filetypes import extension_for
from .serving import serve_blob
from .signing import UrlSigner
from .upload import ReceivedFile, receive, too_large
from .views import AttachmentView

__all__ = ["EXPIRE_KIND", "AttachmentSettings", "Attachments", "attachment_records"]

#: The job kind that removes uploads nobody cited.
EXPIRE_KIND = "attachments.expire"
#: Expiry jobs are grouped into windows of this many seconds (one job per window, however many uploads).
_EXPIRY_WINDOW = 600.0
_VARIANTS = ("file", "thumbnail")


@dataclass(frozen=True, slots=True)
class AttachmentSettings:
    """Limits and addresses (spec §14's defaults)."""

    #: The largest file accepted (413 above).
    max_bytes: int = 10 * 1024 * 1024
    #: The largest image, in pixels over all its frames (422 ``too_many_pixels`` above).
    max_pixels: int = 40_000_000
    #: Seconds a signed URL stays valid.
    url_lifetime: float = 3600.0
    #: Seconds an upload may wait for a message to cite it.
    retention: float = 24 * 3600.0
    #: The API's prefix, where ``GET /attachments/<id>`` is served.
    prefix: str = DEFAULT_PREFIX
    #: Scheme and host put before signed URLs (``None``: root-relative URLs) and the stored ``file_url``.
    public_url: str | None = None


def attachment_records(store: Store) -> AttachmentStore:
    """The store's attachments table (its :class:`AttachmentStore` extension)."""
    return extension(store, AttachmentStore)  # type: ignore[type-abstract]


class Attachments:
    """Uploads into tickets, kept in ``blobs``, shown through URLs ``signer`` signs."""

    def __init__(
        self,
        blobs: BlobStore,
        signer: UrlSigner | Callable[[], UrlSigner],
        *,
        settings: AttachmentSettings | None = None,
        spool: str | Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.blobs = blobs
        self._signer = signer
        self.settings = settings or AttachmentSettings()
        self.spool = Path(spool) if spool is not None else Path(tempfile.gettempdir()) / "supportchat-uploads"
        self._clock = clock

    @property
    def signer(self) -> UrlSigner:
        """The URL signer (made on first use when given as a factory: the secret is read only when needed)."""
        if not isinstance(self._signer, UrlSigner):
            self._signer = self._signer()
        return self._signer

    # -- upload ------------------------------------------------------------

    def upload(self, desk: SupportDesk, actor: Actor, ticket_ref: object, request: RawRequest) -> AttachmentView:
        """Receive, check and store the ``file`` of a multipart upload to a ticket ``actor`` may write in."""
        ticket = desk.find_ticket(actor, ticket_ref, Action.REPLY)
        if ticket.status is TicketStatus.CLOSED:
            raise TicketClosed("the ticket is closed and accepts no attachments", details={"status": "closed"})
        received = receive(request, self.settings.max_bytes, self.spool)
        try:
            attachment = self._store(desk.store, ticket.id, actor, received)
        finally:
            received.discard()
        self._schedule_expiry(desk.store, attachment)
        return self.view(attachment, actor)

    def post_file(
        self,
        desk: SupportDesk,
        actor: Actor,
        ticket_id: int,
        data: bytes,
        *,
        filename: str | None,
        declared_type: str | None,
        client_message_id: str,
    ) -> Message:
        """Store ``data`` as an upload to the ticket and post ``actor``'s message citing it (an app's two calls in one).

        For files that arrive whole from elsewhere (a mail's attachments): the
        same checks as an upload (:class:`~.errors.InvalidFile`, or
        :class:`~supportchat.errors.PayloadTooLarge` above ``max_bytes``;
        nothing is stored then). A file without a name is named after its
        declared type. Called again with the same ``client_message_id`` (a
        retried import), it returns the message posted the first time and
        stores nothing more.
        """
        if len(data) > self.settings.max_bytes:
            raise too_large(self.settings.max_bytes)
        received = self._spooled(data, filename or _named_after(declared_type), declared_type)
        try:
            attachment = self._store(desk.store, ticket_id, actor, received)
        finally:
            received.discard()
        self._schedule_expiry(desk.store, attachment)  # if the message below is never written (the process dies)
        url = self.stored_url(attachment.id)
        try:
            message = desk.post_message(
                actor,
                ticket_id,
                attachment.filename,
                message_type=attachment.kind.value,
                file_url=url,
                client_message_id=client_message_id,
            )
        except BaseException:
            self._drop(desk.store, [attachment.id])
            raise
        if message.file_url == url:
            self.cite(desk.store, attachment.id, message.id)
            return message
        # A retry: the first attempt's message stands, citing the first attempt's upload.
        self._drop(desk.store, [attachment.id])
        records = attachment_records(desk.store)
        if not records.for_messages([message.id]):
            for first in records.for_ticket(ticket_id):
                if first.message_id is None and self.stored_url(first.id) == message.file_url:
                    records.cite(first.id, message.id)
        return message

    def _spooled(self, data: bytes, filename: str | None, declared_type: str | None) -> ReceivedFile:
        self.spool.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=self.spool, prefix=".incoming-")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        return ReceivedFile(Path(name), len(data), _sha256(data), filename, declared_type)

    def _store(self, store: Store, ticket_id: int, actor: Actor, received: ReceivedFile) -> Attachment:
        examined = examine(received.path, received.size, received.filename, received.declared_type)
        records = attachment_records(store)
        uploader = "user" if actor.kind is ActorKind.USER else "admin"
        common = {"ticket_id": ticket_id, "uploaded_by_kind": uploader, "uploaded_by": actor.id or 0}
        if examined.file_type.kind is AttachmentKind.IMAGE:
            image = reencode(received.path, examined, self.settings.max_pixels)
            new = NewAttachment(
                **common,  # type: ignore[arg-type]
                filename=image.filename,
                content_type=image.content_type,
                size=len(image.data),
                sha256=_sha256(image.data),
                kind=AttachmentKind.IMAGE,
                created_at=self._clock(),
                thumbnail_sha256=_sha256(image.thumbnail),
                width=image.width,
                height=image.height,
            )
            blobs = [
                (new.sha256, image.data, image.content_type),
                (_sha256(image.thumbnail), image.thumbnail, image.thumbnail_type),
            ]
        else:
            new = NewAttachment(
                **common,  # type: ignore[arg-type]
                filename=examined.filename,
                content_type=examined.file_type.content_type,
                size=received.size,
                sha256=received.sha256,
                kind=AttachmentKind.FILE,
                created_at=self._clock(),
            )
            blobs = []
        # The row first, then the bytes: an expiry removing the last other user of the same blob
        # sees this row and keeps the blob (see docs/attachments.md, "De-duplication").
        attachment = records.add(new)
        try:
            for key, data, content_type in blobs:
                self.blobs.put(key, io.BytesIO(data), len(data), content_type)
            if not blobs:
                with received.path.open("rb") as source:
                    self.blobs.put(new.sha256, source, new.size, new.content_type)
        except BaseException:
            self._drop(store, [attachment.id])
            raise
        return attachment

    def _schedule_expiry(self, store: Store, attachment: Attachment) -> None:
        try:
            jobs = extension(store, JobStore)  # type: ignore[type-abstract]
        except ExtensionUnavailable:
            return  # no job runner here: `supportchat attachments expire` from cron does the same
        due = math.ceil((attachment.created_at + self.settings.retention) / _EXPIRY_WINDOW) * _EXPIRY_WINDOW
        jobs.enqueue([NewJob(EXPIRE_KIND, {}, due_at=due, dedupe_key=f"{EXPIRE_KIND}:{int(due)}")])

    # -- citing ------------------------------------------------------------

    def citable(
        self, desk: SupportDesk, actor: Actor, ticket_ref: object, attachment_id: object, client_message_id: object
    ) -> Attachment:
        """The upload a message in this ticket may cite: of the same ticket, not cited by another message.

        The message that cited it may be sent again with its ``client_message_id`` (a retry).
        """
        ticket = desk.find_ticket(actor, ticket_ref, Action.REPLY)
        number = as_id(attachment_id) if not isinstance(attachment_id, bool) else None
        found = None if number is None else attachment_records(desk.store).get(number)
        if found is None or found.ticket_id != ticket.id:
            raise ValidationError("attachment_id", "no upload of this ticket has this id")
        if found.message_id is not None and not _retried(desk.store, actor, found, client_message_id):
            raise Conflict("this upload is already cited by another message", details={"attachment_id": found.id})
        return found

    def stored_url(self, attachment_id: int) -> str:
        """The permanent (unsigned) URL kept in the message's ``file_url``: it serves callers with credentials."""
        return f"{self.settings.public_url or 'http://localhost'}{self._path(attachment_id)}"

    def cite(self, store: Store, attachment_id: int, message_id: int) -> None:
        attachment_records(store).cite(attachment_id, message_id)

    # -- showing -----------------------------------------------------------

    def _path(self, attachment_id: int) -> str:
        return f"{self.settings.prefix.rstrip('/')}/attachments/{attachment_id}"

    def _signed(self, attachment_id: int, variant: str, viewer: Actor) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.signer.sign(attachment_id, variant, viewer).items())
        return f"{self.settings.public_url or ''}{self._path(attachment_id)}?{query}"

    def view(self, attachment: Attachment, viewer: Actor) -> AttachmentView:
        """The attachment's JSON for ``viewer``, with URLs minted now."""
        return AttachmentView(
            id=attachment.id,
            filename=attachment.filename,
            content_type=attachment.content_type,
            size=attachment.size,
            sha256=attachment.sha256,
            kind=attachment.kind,
            url=self._signed(attachment.id, "file", viewer),
            thumbnail_url=None
            if attachment.thumbnail_sha256 is None
            else self._signed(attachment.id, "thumbnail", viewer),
            width=attachment.width,
            height=attachment.height,
        )

    def cited_by(self, store: Store, viewer: Actor, messages: Mapping[int, int]) -> dict[int, AttachmentView]:
        """For messages (id → ticket id), the attachment each cites, as ``viewer`` gets it."""
        found = attachment_records(store).for_messages(messages.keys()) if messages else {}
        return {
            message_id: self.view(attachment, viewer)
            for message_id, attachment in found.items()
            if messages.get(message_id) == attachment.ticket_id
        }

    # -- serving -----------------------------------------------------------

    def serve(
        self,
        desk: SupportDesk,
        caller: Actor | None,
        raw_id: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
    ) -> RawResponse:
        """The bytes, for the ticket's owner or an admin: named by a signature for this very URL, or by credentials."""
        number = as_id(raw_id) if raw_id.isdecimal() else None
        variant = query.get("variant", "file")
        if number is None or variant not in _VARIANTS:
            raise AttachmentNotFound("no such attachment")
        try:
            signed = self.signer.verify(number, variant, query)
        except UrlExpired:
            if caller is None:
                raise
            signed = None
        viewer = signed or caller
        if viewer is None:
            if "sig" in query:
                raise AttachmentNotFound("no such attachment")
            raise NotAuthenticated("a signed URL or credentials are required")
        attachment = attachment_records(desk.store).get(number)
        ticket = None if attachment is None else desk.store.get_ticket(attachment.ticket_id)
        if attachment is None or ticket is None or (not viewer.is_staff and ticket.user_id != viewer.id):
            raise AttachmentNotFound("no such attachment")
        if variant == "thumbnail":
            if attachment.thumbnail_sha256 is None:
                raise AttachmentNotFound("this attachment has no thumbnail")
            key, name = attachment.thumbnail_sha256, "thumbnail-" + attachment.filename
        else:
            key, name = attachment.sha256, attachment.filename
        size = self.blobs.size(key)
        if size is None:
            raise AttachmentNotFound("no such attachment")
        content_type = attachment.content_type if variant == "file" else _thumbnail_type(self.blobs, key)
        return serve_blob(
            lambda start, end: self.blobs.read(key, start, end),
            size=size,
            etag=key,
            content_type=content_type,
            filename=name,
            request_headers=headers,
        )

    # -- removing ----------------------------------------------------------

    def expire(self, store: Store, *, now: float | None = None) -> int:
        """Remove uploads no message cited within the retention time; returns how many."""
        replay = getattr(self.blobs, "replay", None)
        if callable(replay):
            replay()  # blobs kept locally during an outage of the blob store
        cutoff = (self._clock() if now is None else now) - self.settings.retention
        removed = 0
        while stale := attachment_records(store).uncited_before(cutoff):
            removed += self._drop(store, [a.id for a in stale])
        return removed

    def forget_ticket(self, store: Store, ticket_id: int) -> int:
        """Remove every attachment of a ticket and the blobs nothing else uses (a ticket's data deleted)."""
        return self._drop(store, [a.id for a in attachment_records(store).for_ticket(ticket_id)])

    def _drop(self, store: Store, attachment_ids: Collection[int]) -> int:
        records = attachment_records(store)
        removed = records.remove(list(attachment_ids))
        for key in {key for attachment in removed for key in attachment.blob_keys()}:
            if records.uses(key) == 0:
                self.blobs.delete(key)
        return len(removed)


def _retried(store: Store, actor: Actor, attachment: Attachment, client_message_id: object) -> bool:
    """Whether the message citing ``attachment`` is ``actor``'s with this ``client_message_id``."""
    if attachment.message_id is None or not isinstance(client_message_id, str):
        return False
    found = store.list_messages(attachment.ticket_id, after_id=attachment.message_id - 1, limit=1)
    return (
        bool(found)
        and found[0].id == attachment.message_id
        and found[0].sender_id == actor.id
        and (found[0].uid or "").endswith(":" + client_message_id)
    )


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _named_after(declared_type: str | None) -> str | None:
    """A name for a file that came without one (an inline image): ``attachment.<its type's extension>``."""
    extension = extension_for(declared_type)
    return None if extension is None else f"attachment.{extension}"


def _thumbnail_type(blobs: BlobStore, key: str) -> str:
    first = next(iter(blobs.read(key, 0, 8)), b"")
    return "image/png" if first.startswith(b"\x89PNG") else "image/jpeg"
