"""The email channel end to end: real Dovecot (IMAP in), real aiosmtpd (SMTP out), a SQLite file desk.

Mail opens a ticket; the admin's reply arrives at the SMTP server threaded;
the requester's reply joins with its quote stripped; the same reply twice is
imported once; the same reply from another address opens a follow-up
ticket; an auto-responder answering our reply creates and triggers nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from pathlib import Path
from typing import Any

import pytest

from supportchat import Actor, SupportDesk
from supportchat.attachments import Attachments, LocalBlobStore, UrlSigner, attachment_records
from supportchat.extensions import extension
from supportchat.jobs import JobRunner
from supportchat.mail import ImapMailbox, MailSettings, MailStore, Outcome, SMTPSettings
from supportchat.mail.feature import mail_kinds
from supportchat.models import MessageType, SenderType
from supportchat.stores.sql import SQLStore

from ..attachments import files
from ..notify.receivers import smtp_server, wait_until
from .dovecot import PASSWORD, Dovecot, dovecot

ADMIN = Actor.admin(1)

FIRST = b"""\
From: Ana Garcia <ana@example.org>
To: Soporte <support@example.com>
Subject: No puedo entrar en mi cuenta
Date: Tue, 01 Dec 2026 09:00:00 +0100
Message-ID: <CAF1ana-first@mail.gmail.com>
MIME-Version: 1.0
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

Hola, desde ayer no puedo iniciar sesi=C3=B3n. =C2=BFPueden ayudarme?
"""


def modern(mail: Message) -> EmailMessage:
    """A received mail read with the default policy (the SMTP receiver keeps compat32)."""
    parsed = message_from_bytes(mail.as_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def reply_to(mail: EmailMessage, sender: str, message_id: str, text: str) -> bytes:
    """The reply a Gmail user writes to ``mail``: to its Reply-To, threaded, quoting it below."""
    quoted = "\n".join("> " + line for line in str(mail.get_body(("plain",)).get_content()).splitlines())  # type: ignore[union-attr]
    return (
        f"From: {sender}\n"
        f"To: {mail['Reply-To']}\n"
        f"Subject: Re: {mail['Subject']}\n"
        f"Message-ID: <{message_id}>\n"
        f"In-Reply-To: {mail['Message-ID']}\n"
        f"References: {mail.get('References', '')} {mail['Message-ID']}\n"
        "MIME-Version: 1.0\n"
        'Content-Type: text/plain; charset="UTF-8"\n'
        "Content-Transfer-Encoding: 8bit\n\n"
        f"{text}\n\n"
        f"El mar, 1 dic 2026 a las 10:00, Soporte (<support@example.com>) escribió:\n{quoted}\n"
    ).encode()


def channel_settings(server: Dovecot, smtp_port: int, **changes: Any) -> tuple[ImapMailbox, MailSettings]:
    """The ``support`` mailbox of ``server`` and the channel's settings around it, sending to ``smtp_port``."""
    mailbox = ImapMailbox("127.0.0.1", "support", PASSWORD, port=server.port, ssl=False, idle=0, interval=0.2)
    settings = MailSettings(
        address="support@example.com",
        secret="thread-signing-secret",
        site_name="Acme",
        smtp=SMTPSettings("127.0.0.1", smtp_port, timeout=5),
        mailboxes=(mailbox,),
        **changes,
    )
    return mailbox, settings


@pytest.fixture
def channel(tmp_path: Path) -> Iterator[dict[str, Any]]:
    with dovecot(["support"]) as server, smtp_server() as (outbox, port):
        store = SQLStore.from_url(f"sqlite:///{tmp_path / 'desk.db'}")
        desk = SupportDesk(store)
        mailbox, settings = channel_settings(server, port)
        attachments = Attachments(LocalBlobStore(tmp_path / "blobs"), UrlSigner("u" * 32), spool=tmp_path / "spool")
        kinds = mail_kinds(desk, settings, attachments=attachments)
        runner = JobRunner(store, kinds, poll_interval=0.1, lease=30).start(desk)
        try:
            yield {
                "server": server,
                "outbox": outbox,
                "desk": desk,
                "store": store,
                "mailbox": mailbox,
                "attachments": attachments,
            }
        finally:
            runner.stop()
            store.close()


def imported_up_to(records: MailStore, mailbox: ImapMailbox, uid: int) -> bool:
    checkpoint = records.checkpoint(mailbox.key)
    return checkpoint is not None and checkpoint.last_uid >= uid


def test_a_mail_conversation_round_trips_through_dovecot_and_smtp(channel: dict[str, Any]) -> None:
    server, outbox, desk, store = channel["server"], channel["outbox"], channel["desk"], channel["store"]
    records = extension(store, MailStore)
    mailbox = channel["mailbox"]

    # Mail to the mailbox opens a ticket, acknowledged automatically.
    server.deliver("support", FIRST)
    wait_until(lambda: imported_up_to(records, mailbox, 1), 20, "the first mail imported")
    first = records.get("CAF1ana-first@mail.gmail.com")
    assert first is not None and first.outcome is Outcome.NEW_TICKET
    ticket = desk.store.get_ticket(first.ticket_id)
    assert ticket is not None
    assert ticket.subject == "No puedo entrar en mi cuenta"
    assert ticket.description == "Hola, desde ayer no puedo iniciar sesión. ¿Pueden ayudarme?"
    ((to, ack),) = outbox.wait_for(1)
    assert to == ["ana@example.org"] and ack["Auto-Submitted"] == "auto-replied"
    assert f"[{ticket.ticket_number}]" in ack["Subject"]

    # The admin's reply arrives threaded, its HTML escaping the stored text.
    desk.post_message(ADMIN, ticket.id, "Pruebe a restablecerla aquí: <b>ajustes</b> > contraseña")
    reply = modern(outbox.wait_for(2)[1][1])
    number = ticket.ticket_number.lower()
    assert reply["In-Reply-To"] == "<CAF1ana-first@mail.gmail.com>"
    assert reply["Message-ID"].startswith(f"<{number}.") and reply["Message-ID"].endswith("@example.com>")
    assert reply["Reply-To"].startswith(f"support+{number}.")
    assert reply["Subject"] == f"Re: [{ticket.ticket_number}] No puedo entrar en mi cuenta"
    assert "Auto-Submitted" not in reply
    html = reply.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "&lt;b&gt;ajustes&lt;/b&gt; &gt; contraseña" in html and "<b>ajustes" not in html
    text = reply.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert text.startswith("##- Please type your reply above this line -##")

    # The requester's reply joins the ticket, the quote stripped.
    answer = reply_to(reply, "Ana Garcia <ana@example.org>", "CAF2ana-reply@mail.gmail.com", "¡Gracias, ya funciona!")
    server.deliver("support", answer)
    wait_until(lambda: imported_up_to(records, mailbox, 2), 20, "the reply imported")
    messages = desk.store.list_messages(ticket.id)
    assert [(m.sender_type, m.message) for m in messages][-1] == (SenderType.USER, "¡Gracias, ya funciona!")

    # The same reply delivered twice is imported once.
    server.deliver("support", answer)
    wait_until(lambda: imported_up_to(records, mailbox, 3), 20, "the duplicate seen")
    assert len(desk.store.list_messages(ticket.id)) == len(messages)

    # The same reply from another address opens a new ticket, recorded as a possible follow-up.
    other = answer.replace(b"Ana Garcia <ana@example.org>", b"Eve <eve@example.net>").replace(
        b"CAF2ana-reply", b"CAF3eve-reply"
    )
    server.deliver("support", other)
    wait_until(lambda: imported_up_to(records, mailbox, 4), 20, "the other sender's mail imported")
    eves = records.get("CAF3eve-reply@mail.gmail.com")
    assert eves is not None and eves.outcome is Outcome.FOLLOW_UP and eves.follow_up_of == ticket.id
    assert eves.ticket_id != ticket.id and len(desk.store.list_messages(ticket.id)) == len(messages)
    outbox.wait_for(3)  # Eve's new ticket is acknowledged to Eve

    # An auto-responder answering our reply creates nothing and triggers nothing.
    sent_before = len(outbox.mails)
    tickets_before = desk.store.statistics().total_tickets
    out_of_office = (
        b"From: Ana Garcia <ana@example.org>\n"
        + f"To: {reply['Reply-To']}\nSubject: Automatic reply: {reply['Subject']}\n".encode()
        + f"In-Reply-To: {reply['Message-ID']}\nMessage-ID: <ooo-1@example.org>\n".encode()
        + b"Auto-Submitted: auto-replied\nX-Auto-Response-Suppress: All\n\nI am out of the office until Monday.\n"
    )
    server.deliver("support", out_of_office)
    wait_until(lambda: imported_up_to(records, mailbox, 5), 20, "the auto-reply seen")
    auto = records.get("ooo-1@example.org")
    assert auto is not None and auto.outcome is Outcome.AUTOMATIC and auto.ticket_id is None
    time.sleep(1.0)  # time for any (wrong) reaction to reach the SMTP server
    assert len(outbox.mails) == sent_before
    assert desk.store.statistics().total_tickets == tickets_before
    assert len(desk.store.list_messages(ticket.id)) == len(messages)

    # Our own reply coming back into the mailbox (a BCC, a loop) is never imported.
    server.deliver("support", reply.as_bytes())
    wait_until(lambda: imported_up_to(records, mailbox, 6), 20, "our own mail seen")
    assert desk.store.statistics().total_tickets == tickets_before


CORPUS = Path(__file__).resolve().parents[1] / "corpora" / "mail"


def test_files_round_trip_the_mail_in_as_attachments_and_out_as_mime_parts(channel: dict[str, Any]) -> None:
    server, outbox, desk, store = channel["server"], channel["outbox"], channel["desk"], channel["store"]
    attachments: Attachments = channel["attachments"]
    records = extension(store, MailStore)

    # A photo and a PDF by mail (Apple Mail), through Dovecot: two attachments on the ticket.
    server.deliver("support", (CORPUS / "36_apple_photo_and_pdf.eml").read_bytes())
    wait_until(lambda: imported_up_to(records, channel["mailbox"], 1), 20, "the mail with files imported")
    record = records.get("9A8B7C6D-PHOTOS-4E5F@icloud.com")
    assert record is not None and record.ticket_id is not None
    messages = store.list_messages(record.ticket_id)
    assert [(m.message_type, m.message) for m in messages] == [
        (MessageType.IMAGE, "IMG_1234.jpeg"),
        (MessageType.FILE, "albaran.pdf"),
    ]
    assert set(attachment_records(store).for_messages([m.id for m in messages])) == {m.id for m in messages}
    outbox.wait_for(1)  # the acknowledgement

    # The admin's reply citing an upload goes out with the file as a MIME attachment.
    answer = attachments.post_file(
        desk, ADMIN, record.ticket_id, files.pdf("/Lang (es)"), filename="etiqueta.pdf",
        declared_type="application/pdf", client_message_id="label-1",
    )  # fmt: skip
    assert answer.message_type is MessageType.FILE
    mail = modern(outbox.wait_for(2)[1][1])
    (part,) = list(mail.iter_attachments())
    assert part.get_filename() == "etiqueta.pdf" and part.get_content_type() == "application/pdf"
    assert part.get_content() == files.pdf("/Lang (es)")
    assert mail["In-Reply-To"] == "<9A8B7C6D-PHOTOS-4E5F@icloud.com>"
