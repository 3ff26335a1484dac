"""``supportchat attachments …``: expire, replay, forget a ticket's, export and import attachments."""

from __future__ import annotations

import dataclasses
import io
import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from ..attachments import (
    Attachments,
    AttachmentSettings,
    BlobStore,
    FallbackBlobStore,
    LocalBlobStore,
    NewAttachment,
    S3BlobStore,
    UrlSigner,
    attachment_records,
)
from ..attachments.base import AttachmentKind
from ..errors import StorageUnavailable
from ..transfer import iter_threads
from .options import DatabaseUrl, JsonOutput
from .output import UserError, emit_json, handled, out

__all__ = ["S3_BUCKET_VARIABLE", "attachments_app", "configured_attachments"]

S3_BUCKET_VARIABLE = "SUPPORTCHAT_S3_BUCKET"
S3_ENDPOINT_VARIABLE = "SUPPORTCHAT_S3_ENDPOINT"
PUBLIC_URL_VARIABLE = "SUPPORTCHAT_PUBLIC_URL"
MAX_BYTES_VARIABLE = "SUPPORTCHAT_ATTACHMENT_MAX_BYTES"

attachments_app = typer.Typer(help="Attachments: photos and documents in tickets.", no_args_is_help=True)


def _blob_store(root: Path) -> BlobStore:
    local = LocalBlobStore(root / "blobs")
    bucket = os.environ.get(S3_BUCKET_VARIABLE)
    if not bucket:
        return local
    # Credentials and region come from boto3's usual sources (AWS_ACCESS_KEY_ID, ~/.aws, …).
    primary = S3BlobStore(bucket, endpoint_url=os.environ.get(S3_ENDPOINT_VARIABLE) or None)
    return FallbackBlobStore(primary, LocalBlobStore(root / "pending"))


def configured_attachments() -> Attachments:
    """The standalone product's attachments: blobs under the data directory (or S3), URLs signed with the secret."""
    from .config import data_dir, read_secret

    root = data_dir() / "attachments"
    limit = os.environ.get(MAX_BYTES_VARIABLE, "")
    settings = AttachmentSettings(
        public_url=os.environ.get(PUBLIC_URL_VARIABLE) or None,
        max_bytes=int(limit) if limit.isdecimal() else AttachmentSettings().max_bytes,
    )
    return Attachments(
        _blob_store(root), lambda: UrlSigner(_secret(read_secret)), settings=settings, spool=root / "spool"
    )


def _secret(read: Any) -> str:
    secret = read()
    if not secret:
        raise UserError("SUPPORTCHAT_SECRET is not set and no stored secret exists: run `supportchat init`")
    return str(secret)


@attachments_app.command("expire")
@handled
def expire(database_url: DatabaseUrl = None, json_output: JsonOutput = False) -> None:
    """Remove uploads no message cited within a day (the worker does it too), and replay waiting blobs."""
    from .config import open_session

    with open_session(database_url) as session:
        removed = configured_attachments().expire(session.store)
    if json_output:
        emit_json({"removed": removed})
    else:
        out().print(f"{removed} uncited upload(s) removed.")


@attachments_app.command("replay")
@handled
def replay(json_output: JsonOutput = False) -> None:
    """Copy blobs kept locally during a blob-store outage to the blob store."""
    blobs = configured_attachments().blobs
    if not isinstance(blobs, FallbackBlobStore):
        raise UserError(f"no remote blob store is configured ({S3_BUCKET_VARIABLE} is unset): nothing to replay")
    try:
        moved = blobs.replay()
    except StorageUnavailable as exc:
        raise UserError(f"the blob store is still unavailable: {exc.message}") from None
    if json_output:
        emit_json({"replayed": moved, "pending": len(blobs.pending())})
    else:
        out().print(f"{moved} blob(s) replayed, {len(blobs.pending())} waiting.")


@attachments_app.command("forget")
@handled
def forget(
    ticket: Annotated[str, typer.Argument(help="The ticket's id or number.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Delete every attachment of a ticket, and the stored bytes nothing else uses."""
    from ..models import Actor
    from .config import open_session

    with open_session(database_url) as session:
        found = session.desk.find_ticket(Actor.system(), ticket)
        removed = configured_attachments().forget_ticket(session.store, found.id)
    out().print(f"{removed} attachment(s) of {found.ticket_number} deleted.")


_ROWS = "attachments.jsonl"


@attachments_app.command("export")
@handled
def export(
    folder: Annotated[Path, typer.Argument(help="Folder to write (attachments.jsonl and blobs/).")],
    database_url: DatabaseUrl = None,
) -> None:
    """Write every attachment (rows and bytes), keyed by ticket number and message uid, for ``import``."""
    from .config import open_session

    service = configured_attachments()
    folder.mkdir(parents=True, exist_ok=True)
    target = LocalBlobStore(folder / "blobs")
    count = 0
    with open_session(database_url) as session, (folder / _ROWS).open("w", encoding="utf-8") as rows:
        records = attachment_records(session.store)
        for thread in iter_threads(session.store):
            uids = {m.id: m.uid for m in thread.messages}
            for attachment in records.for_ticket(thread.ticket.id):
                for key in attachment.blob_keys():
                    if target.size(key) is None:
                        data = b"".join(service.blobs.read(key))
                        target.put(key, io.BytesIO(data), len(data), "application/octet-stream")
                row: dict[str, Any] = dataclasses.asdict(attachment)
                row.update(ticket_number=thread.ticket.ticket_number, message_uid=uids.get(attachment.message_id or 0))
                rows.write(json.dumps(row) + "\n")
                count += 1
    out().print(f"{count} attachment(s) written to {folder}.")


@attachments_app.command("import")
@handled
def import_(
    folder: Annotated[Path, typer.Argument(help="A folder written by `attachments export`.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Read attachments written by ``export`` into the tickets (imported before) they belong to."""
    from .config import open_session

    if not (folder / _ROWS).is_file():
        raise UserError(f"{folder / _ROWS} does not exist")
    service = configured_attachments()
    source = LocalBlobStore(folder / "blobs")
    count = skipped = 0
    with open_session(database_url) as session:
        records = attachment_records(session.store)
        for line in (folder / _ROWS).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            ticket = session.store.get_ticket_by_number(row["ticket_number"])
            if ticket is None:
                skipped += 1
                continue
            message = session.store.get_message_by_uid(row["message_uid"]) if row["message_uid"] else None
            for key in filter(None, (row["sha256"], row["thumbnail_sha256"])):
                data = b"".join(source.read(key))
                service.blobs.put(key, io.BytesIO(data), len(data), row["content_type"])
            fields = {f.name: row[f.name] for f in dataclasses.fields(NewAttachment)}
            added = records.add(
                NewAttachment(**{**fields, "ticket_id": ticket.id, "kind": AttachmentKind(row["kind"])})
            )
            if message is not None:
                records.cite(added.id, message.id)
            count += 1
    out().print(f"{count} attachment(s) imported, {skipped} skipped (their ticket is not in this database).")
