"""Outbound mail through a real SMTP server (aiosmtpd): acknowledgements under the automatic-mail limit,
notices of admin replies to users who opted in, templates by the contact's locale."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from typing import Any

import pytest

from supportchat import Actor, InMemoryStore, SupportDesk
from supportchat.extensions import extension
from supportchat.jobs import JobRunner
from supportchat.mail import MailIntake, MailSettings, MailStore, SMTPSettings
from supportchat.mail.feature import mail_kinds
from supportchat.people import Contact, attach

from ..notify.receivers import smtp_server

ADMIN = Actor.admin(1)
APP_USER = Actor.user(10)


def modern(mail: Message) -> EmailMessage:
    parsed = message_from_bytes(mail.as_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


@pytest.fixture
def setup() -> Iterator[dict[str, Any]]:
    with smtp_server() as (outbox, port):
        desk = SupportDesk(InMemoryStore())
        contacts = {10: Contact(user_id=10, email="app.user@example.org", locale="es-MX")}
        attach(desk, contacts=contacts.get)
        settings = MailSettings(
            address="support@example.com",
            secret="outbound-secret",
            site_name="Acme",
            smtp=SMTPSettings("127.0.0.1", port, timeout=5),
            automatic_limit=2,
        )
        runner = JobRunner(desk.store, mail_kinds(desk, settings))
        runner.start_cursors()
        yield {"desk": desk, "outbox": outbox, "runner": runner, "settings": settings}


def drain(runner: JobRunner) -> None:
    while runner.run_once():
        pass


def test_acknowledgements_stop_at_the_automatic_mail_limit(setup: dict[str, Any]) -> None:
    desk, outbox, runner = setup["desk"], setup["outbox"], setup["runner"]
    # The host's directory has no ensure_for_email: people writing by mail go to the standalone table.
    attach(desk)
    intake = MailIntake(desk, setup["settings"])
    for n in range(4):
        raw = (
            "From: bot-like@example.net\r\nTo: support@example.com\r\n"
            f"Subject: Pedido {n}\r\nMessage-ID: <m{n}@x>\r\n\r\nHola {n}\r\n"
        )
        intake.import_mail(raw.encode())
        drain(runner)
    assert len(outbox.mails) == 2  # four tickets, two acknowledgements in the period
    assert desk.store.statistics().total_tickets == 4
    ack = modern(outbox.mails[0][1])
    assert ack["Auto-Submitted"] == "auto-replied" and ack["X-Auto-Response-Suppress"] == "All"
    assert extension(desk.store, MailStore).automatic_sent_since("bot-like@example.net", 0) == 2


def test_automatic_answers_are_automatic_mail_within_the_limit_and_a_persons_reply_is_not(
    setup: dict[str, Any],
) -> None:
    desk, outbox, runner = setup["desk"], setup["outbox"], setup["runner"]
    attach(desk)
    raw = "From: ana@example.net\r\nTo: support@example.com\r\nSubject: Pedido\r\nMessage-ID: <p1@x>\r\n\r\nHola\r\n"
    ticket_id = MailIntake(desk, setup["settings"]).import_mail(raw.encode()).record.ticket_id
    assert ticket_id is not None
    drain(runner)  # the channel's acknowledgement: one of the two automatic mails of the period
    for n in range(3):  # a rule's or the bot's answers (automated)
        desk.post_message(Actor.admin(950), ticket_id, f"Respuesta automática {n}", automated=True)
    desk.post_message(ADMIN, ticket_id, "Le escribe una persona.")
    drain(runner)
    mails = [modern(raw) for _to, raw in outbox.mails]
    assert [m["Auto-Submitted"] for m in mails] == ["auto-replied", "auto-replied", None]
    assert "Respuesta automática 0" in mails[1].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Le escribe una persona." in mails[2].get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_an_app_user_who_opted_in_gets_admin_replies_by_mail_in_their_language(setup: dict[str, Any]) -> None:
    desk, outbox, runner = setup["desk"], setup["outbox"], setup["runner"]
    ticket = desk.create_ticket(APP_USER, subject="Reembolso", description="¿Cuándo llega?")
    desk.post_message(ADMIN, ticket.id, "Antes del viernes.")
    drain(runner)
    assert outbox.mails == []  # not opted in: the app shows the reply, no mail
    extension(desk.store, MailStore).set_notify_replies(10, True)
    desk.post_message(ADMIN, ticket.id, "Ya está hecho & <confirmado>.")
    desk.post_message(APP_USER, ticket.id, "Gracias")  # the user's own messages are never mailed back
    drain(runner)
    ((to, raw),) = outbox.mails
    notice = modern(raw)
    assert to == ["app.user@example.org"] and notice["Auto-Submitted"] == "auto-generated"
    text = notice.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert text.startswith("##- Escriba su respuesta encima de esta línea -##")
    assert f"Soporte respondió a su ticket {ticket.ticket_number} (Reembolso):" in text
    html = notice.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Ya está hecho &amp; &lt;confirmado&gt;." in html
    assert notice["Reply-To"].startswith(f"support+{ticket.ticket_number.lower()}.")
    # Answering the notice by mail joins the app ticket.
    answer = (
        f"From: app.user@example.org\r\nTo: {notice['Reply-To']}\r\nSubject: Re: {notice['Subject']}\r\n"
        f"Message-ID: <answer@example.org>\r\nIn-Reply-To: {notice['Message-ID']}\r\n\r\nPerfecto.\r\n"
    )
    result = MailIntake(desk, setup["settings"]).import_mail(answer.encode())
    assert result.record.ticket_id == ticket.id
    assert desk.store.list_messages(ticket.id)[-1].message == "Perfecto."


def test_a_forged_reply_gets_no_acknowledgement_and_another_sender_does(setup: dict[str, Any]) -> None:
    desk, outbox, runner = setup["desk"], setup["outbox"], setup["runner"]
    attach(desk)
    intake = MailIntake(desk, setup["settings"])
    first = intake.import_mail(b"From: ana@example.org\r\nMessage-ID: <a1@x>\r\nSubject: Ayuda\r\n\r\nHola\r\n")
    ticket = desk.store.get_ticket(first.record.ticket_id or 0)
    assert ticket is not None
    drain(runner)
    assert [to for to, _ in outbox.mails] == [["ana@example.org"]]
    number = ticket.ticket_number
    forged = f"From: victim@example.net\r\nTo: support+{number.lower()}.aaaaaaaaaaaaaaaa@example.com\r\n"
    intake.import_mail(f"{forged}Message-ID: <f1@x>\r\nSubject: Re: [{number}]\r\n\r\nDame acceso\r\n".encode())
    valid = intake.signer.reply_to(number, ticket.id, ticket.user_id)
    other = f"From: eve@example.net\r\nTo: {valid}\r\nMessage-ID: <f2@x>\r\nSubject: Re: [{number}]\r\n\r\nHola\r\n"
    intake.import_mail(other.encode())
    drain(runner)
    # The forgery's From may be anyone's: nothing goes there. Eve wrote herself: she hears of her ticket.
    assert [to for to, _ in outbox.mails] == [["ana@example.org"], ["eve@example.net"]]
