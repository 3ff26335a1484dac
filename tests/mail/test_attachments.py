"""A mail's files become the ticket's attachments, as app uploads do, on every store and blob backend.

The corpus mails 35 (Outlook: an inline ``cid:`` image and a ``setup.exe``)
and 36 (Apple Mail: a phone photo with GPS and a PDF) carry real files; the
others are built here. Refused files are listed in an internal note and the
rest of the mail is imported; carrying an import out again stores nothing twice.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
from PIL import Image

from supportchat import Actor, InMemoryStore, SupportDesk
from supportchat.attachments import (
    Attachments,
    AttachmentSettings,
    BlobStore,
    FallbackBlobStore,
    LocalBlobStore,
    S3BlobStore,
    UrlSigner,
    attachment_records,
)
from supportchat.errors import ExtensionUnavailable
from supportchat.extensions import extension
from supportchat.mail import MailIntake, MailSettings, MailStore, Outcome, hand_over_attachments, parse_mail
from supportchat.mail.attachments import NOT_CONFIGURED
from supportchat.mail.intake import client_id_of
from supportchat.models import MessageType, SenderType

from ..attachments import files
from ..attachments.s3server import moto_server, new_bucket, s3_client

CORPUS = Path(__file__).resolve().parents[1] / "corpora" / "mail"
OUTLOOK = (CORPUS / "35_outlook_cid_image_and_exe.eml").read_bytes()
APPLE = (CORPUS / "36_apple_photo_and_pdf.eml").read_bytes()
SETTINGS = MailSettings(address="soporte@example.com", secret="attachments-secret")
#: Backends the intake cannot write through (see tests/test_mail_store_contract.py).
NO_INTAKE = ("supabase", "fallback-down", "fallback-flapping")


def attachments_over(blobs: BlobStore, root: Path, **settings: int) -> Attachments:
    return Attachments(blobs, UrlSigner("s" * 32), settings=AttachmentSettings(**settings), spool=root / "spool")


def intake_over(desk: SupportDesk, attachments: Attachments | None, **settings: int) -> MailIntake:
    try:
        records = extension(desk.store, MailStore)
        attachment_records(desk.store)
    except ExtensionUnavailable:
        pytest.skip("SupabaseStore alone has neither mail records nor attachments (docs/email.md)")
    base = MailSettings(address=SETTINGS.address, secret=SETTINGS.secret, **settings)  # type: ignore[arg-type]
    return MailIntake(desk, base, attachments=attachments, records=records)


def notes(desk: SupportDesk, ticket_id: int) -> list[str]:
    return [n.note for n in desk.list_notes(Actor.system(), ticket_id)]


@pytest.fixture
def local(tmp_path: Path) -> Attachments:
    return attachments_over(LocalBlobStore(tmp_path / "blobs"), tmp_path)


def skip_without_intake(request: pytest.FixtureRequest) -> None:
    if request.node.callspec.params.get("make_store") in NO_INTAKE:
        pytest.skip("the contacts directory refuses writes while the primary is down; Supabase has no mail records")


def test_a_mails_files_become_the_tickets_attachments_and_refused_ones_a_note(
    desk: SupportDesk, local: Attachments, request: pytest.FixtureRequest
) -> None:
    skip_without_intake(request)
    intake = intake_over(desk, local)

    photo = intake.import_mail(APPLE)
    assert photo.outcome is Outcome.NEW_TICKET
    ticket_id = photo.record.ticket_id
    assert ticket_id is not None
    messages = desk.store.list_messages(ticket_id)
    assert [(m.sender_type, m.message_type, m.message) for m in messages] == [
        (SenderType.USER, MessageType.IMAGE, "IMG_1234.jpeg"),
        (SenderType.USER, MessageType.FILE, "albaran.pdf"),
    ]
    cited = attachment_records(desk.store).for_messages([m.id for m in messages])
    image, pdf = cited[messages[0].id], cited[messages[1].id]
    assert messages[0].file_url == local.stored_url(image.id) and messages[1].file_url == local.stored_url(pdf.id)
    assert image.thumbnail_sha256 is not None and pdf.content_type == "application/pdf"
    # The attachments capability's rules applied: the photo re-encoded upright, its GPS and EXIF gone.
    stored = Image.open(io.BytesIO(b"".join(local.blobs.read(image.sha256))))
    assert (stored.width, stored.height) == (100, 200) and not stored.getexif()
    assert b"".join(local.blobs.read(pdf.sha256)) == files.pdf()
    assert notes(desk, ticket_id) == []

    outlook = intake.import_mail(OUTLOOK)
    assert outlook.outcome is Outcome.NEW_TICKET and outlook.record.ticket_id is not None
    ticket = desk.store.get_ticket(outlook.record.ticket_id)
    assert ticket is not None and "Tambi\u00e9n adjunto el instalador" in ticket.description
    (inline,) = desk.store.list_messages(ticket.id)
    assert inline.message_type is MessageType.IMAGE and inline.message == "image001.png"
    (note,) = notes(desk, ticket.id)
    assert "AM0PR02MB5555CID@am0pr02mb5555.eurprd02.prod.outlook.com" in note
    assert "- setup.exe: files ending in .exe are not accepted" in note

    # The same mails again: duplicates, nothing stored twice.
    assert intake.import_mail(APPLE).duplicate and intake.import_mail(OUTLOOK).duplicate
    assert len(attachment_records(desk.store).for_ticket(ticket_id)) == 2
    assert len(notes(desk, ticket.id)) == 1


def test_carrying_the_hand_over_out_again_stores_each_file_once(
    desk: SupportDesk, local: Attachments, request: pytest.FixtureRequest
) -> None:
    skip_without_intake(request)
    intake = intake_over(desk, local)
    ticket_id = intake.import_mail(OUTLOOK).record.ticket_id
    assert ticket_id is not None
    ticket = desk.store.get_ticket(ticket_id)
    assert ticket is not None
    mail = parse_mail(OUTLOOK)
    before = desk.store.list_messages(ticket_id)
    for _ in range(2):  # a worker that died after the hand-over, before the record was marked done
        again = hand_over_attachments(
            desk, local, mail.parts, ticket_id=ticket_id, user_id=ticket.user_id,
            mail_key=mail.key, client_id=client_id_of(mail.key), limit=10,
        )  # fmt: skip
        assert [m.id for m in again.posted] == [m.id for m in before]
    rows = attachment_records(desk.store).for_ticket(ticket_id)
    assert [(r.message_id, r.filename) for r in rows] == [(before[0].id, "image001.png")]
    assert len(notes(desk, ticket_id)) == 1


def reply_with(files_: list[tuple[str | None, str, bytes, str | None]], *, message_id: str, html: str = "") -> bytes:
    """A mail from ana@example.org carrying ``files_`` (name, type, bytes, Content-ID)."""
    lines = [
        "From: Ana <ana@example.org>",
        "To: soporte@example.com",
        "Subject: Fotos",
        f"Message-ID: <{message_id}>",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="BOUND"',
        "",
        "--BOUND",
        'Content-Type: text/html; charset="utf-8"' if html else 'Content-Type: text/plain; charset="utf-8"',
        "",
        html or "Adjunto fotos.",
    ]
    for name, content_type, data, content_id in files_:
        lines += ["--BOUND", f"Content-Type: {content_type}", "Content-Transfer-Encoding: base64"]
        if content_id is not None:
            lines += [f"Content-ID: <{content_id}>", "Content-Disposition: inline"]
        elif name is not None:
            lines.append(f'Content-Disposition: attachment; filename="{name}"')
        lines += ["", base64.encodebytes(data).decode()]
    return ("\r\n".join([*lines, "--BOUND--", ""])).encode()


def test_a_cid_image_without_a_name_is_named_after_its_type(local: Attachments) -> None:
    desk = SupportDesk(InMemoryStore())
    raw = reply_with(
        [(None, "image/png", files.png(), "ii_abc@mail.gmail.com")],
        message_id="cid-1@example.org",
        html='<p>Mire:</p><img src="cid:ii_abc@mail.gmail.com">',
    )
    ticket_id = intake_over(desk, local).import_mail(raw).record.ticket_id
    assert ticket_id is not None
    ((name, kind),) = [(m.message, m.message_type) for m in desk.store.list_messages(ticket_id)]
    assert (name, kind) == ("attachment.png", MessageType.IMAGE)


def test_files_beyond_the_count_or_the_size_limit_are_noted_and_the_rest_imported(tmp_path: Path) -> None:
    desk = SupportDesk(InMemoryStore())
    small = attachments_over(LocalBlobStore(tmp_path / "blobs"), tmp_path, max_bytes=2_000)
    big = files.jpeg((600, 600))
    assert len(big) > 2_000
    raw = reply_with(
        [("a.png", "image/png", files.png(), None), ("big.jpg", "image/jpeg", big, None),
         ("c.txt", "text/plain", b"hola", None)],
        message_id="limits@example.org",
    )  # fmt: skip
    result = intake_over(desk, small, max_attachments=2).import_mail(raw)
    assert result.outcome is Outcome.NEW_TICKET and result.record.ticket_id is not None
    assert [m.message for m in desk.store.list_messages(result.record.ticket_id)] == ["a.png"]
    (note,) = notes(desk, result.record.ticket_id)
    assert "- big.jpg: the file exceeds 2000 bytes" in note and "- c.txt: a mail brings at most 2 files" in note


def test_without_the_attachments_capability_the_files_are_noted_not_dropped() -> None:
    desk = SupportDesk(InMemoryStore())
    result = intake_over(desk, None).import_mail(APPLE)
    assert result.record.ticket_id is not None and desk.store.list_messages(result.record.ticket_id) == []
    (note,) = notes(desk, result.record.ticket_id)
    assert f"- IMG_1234.jpeg: {NOT_CONFIGURED}" in note and f"- albaran.pdf: {NOT_CONFIGURED}" in note


def test_a_mail_without_files_costs_the_attachments_nothing(local: Attachments) -> None:
    desk = SupportDesk(InMemoryStore())
    untouched = mock.create_autospec(Attachments, instance=True)  # any use of it would be recorded
    raw = b"From: ana@example.org\r\nTo: soporte@example.com\r\nSubject: Hola\r\nMessage-ID: <plain@x>\r\n\r\nHola\r\n"
    ticket_id = intake_over(desk, untouched).import_mail(raw).record.ticket_id
    assert ticket_id is not None and untouched.mock_calls == []
    assert attachment_records(desk.store).for_ticket(ticket_id) == [] and notes(desk, ticket_id) == []


# -- every blob backend ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture(params=["local", "s3", "s3-down"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    if request.param == "s3":
        client = s3_client(request.getfixturevalue("s3_endpoint"))
        return S3BlobStore(new_bucket(client), client=client)
    # S3 unreachable (a closed port): the fallback keeps the blobs locally until the replay.
    down = s3_client("http://127.0.0.1:9")
    return FallbackBlobStore(S3BlobStore("down", client=down), LocalBlobStore(tmp_path / "pending"))


def test_a_mails_files_land_in_every_blob_store(blobs: BlobStore, tmp_path: Path) -> None:
    desk = SupportDesk(InMemoryStore())
    attachments = attachments_over(blobs, tmp_path)
    ticket_id = intake_over(desk, attachments).import_mail(APPLE).record.ticket_id
    assert ticket_id is not None
    rows = attachment_records(desk.store).for_ticket(ticket_id)
    assert [r.filename for r in rows] == ["IMG_1234.jpeg", "albaran.pdf"]
    assert all(r.message_id is not None for r in rows)
    assert b"".join(blobs.read(rows[1].sha256)) == files.pdf()
    assert blobs.size(rows[0].thumbnail_sha256 or "") is not None


def test_a_reply_with_a_photo_joins_its_ticket_with_the_photo_after_the_text(local: Attachments) -> None:
    desk = SupportDesk(InMemoryStore())
    intake = intake_over(desk, local)
    first = b"From: Ana <ana@example.org>\r\nTo: soporte@example.com\r\nSubject: Fotos\r\nMessage-ID: <f1@x>\r\n\r\nHi"
    ticket_id = intake.import_mail(first).record.ticket_id
    raw = reply_with([("roto.jpg", "image/jpeg", files.jpeg(), None)], message_id="f2@x")
    raw = raw.replace(b"Subject: Fotos\r\n", b"Subject: Re: Fotos\r\nIn-Reply-To: <f1@x>\r\n")
    reply = intake.import_mail(raw)
    assert reply.outcome is Outcome.REPLY and reply.record.ticket_id == ticket_id
    assert ticket_id is not None
    messages = desk.store.list_messages(ticket_id)
    assert [(m.message_type, m.message) for m in messages] == [
        (MessageType.TEXT, "Adjunto fotos."),
        (MessageType.IMAGE, "roto.jpg"),
    ]
