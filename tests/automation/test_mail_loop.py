"""No mail loop between our auto-acknowledgement and an auto-responder (issue 19), a real round trip.

Real Dovecot (IMAP in), real aiosmtpd (SMTP out), a SQLite file desk, one job
runner with the mail channel and the automation rules. The channel's own
acknowledgement is off: the auto-acknowledgement is a rule on ticket created
replying with a canned response. Mail from Ana opens a ticket; the rule's
reply reaches her by SMTP as automatic mail (``Auto-Submitted: auto-replied``);
her out-of-office answers it, threaded to the ticket, and we deliver that
answer to our mailbox. It is imported as automatic mail: no ticket, no
message, no rule firing, and no further mail, however long we wait.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from supportchat import Actor, SupportDesk
from supportchat.automation.base import AutomationStore
from supportchat.automation.rule_runner import RuleRunner
from supportchat.automation.service import Automation
from supportchat.extensions import extension
from supportchat.jobs import JobRunner
from supportchat.mail import MailStore, Outcome
from supportchat.mail.feature import mail_kinds
from supportchat.stores.sql import SQLStore

from ..mail.dovecot import dovecot
from ..mail.test_round_trip import channel_settings, imported_up_to, modern
from ..notify.receivers import smtp_server, wait_until

RULES_AGENT = 950
FIRST = b"""\
From: Ana Garcia <ana@example.org>
To: Soporte <support@example.com>
Subject: Mi reserva no aparece
Date: Tue, 01 Dec 2026 09:00:00 +0100
Message-ID: <CAF1ana-reserva@mail.gmail.com>
MIME-Version: 1.0
Content-Type: text/plain; charset="UTF-8"

Hice una reserva ayer y no aparece en la app.
"""


def out_of_office(ours: Any, message_id: str) -> bytes:
    """What Ana's mail server answers while she is away: to our Reply-To, threaded, marked automatic."""
    return (
        "From: Ana Garcia <ana@example.org>\n"
        f"To: {ours['Reply-To']}\n"
        f"Subject: Fuera de la oficina: {ours['Subject']}\n"
        f"Message-ID: <{message_id}>\n"
        f"In-Reply-To: {ours['Message-ID']}\n"
        f"References: {ours['Message-ID']}\n"
        "Auto-Submitted: auto-replied\n"
        'Content-Type: text/plain; charset="UTF-8"\n\n'
        "Estoy fuera de la oficina hasta el lunes.\n"
    ).encode()


@pytest.fixture
def desk_by_mail(tmp_path: Path) -> Iterator[dict[str, Any]]:
    with dovecot(["support"]) as server, smtp_server() as (outbox, port):
        store = SQLStore.from_url(f"sqlite:///{tmp_path / 'desk.db'}")
        desk = SupportDesk(store)
        canned = Automation(desk).add_canned(
            Actor.system(),
            {
                "short_code": "acuse",
                "title": "Acuse de recibo",
                "content": "Hola, hemos recibido su consulta {{ticket.number}}. Le responderemos pronto.",
            },
        )
        automation: AutomationStore = extension(store, AutomationStore)  # type: ignore[type-abstract]
        automation.add_rule(
            {
                "name": "Auto-acknowledgement",
                "trigger": {"kind": "event", "events": ["ticket_created"]},
                "actions": [{"kind": "reply", "value": canned.id}],
            },
            enabled=True,
        )
        mailbox, settings = channel_settings(server, port, acknowledge=False)  # the rule acknowledges
        kinds = [*mail_kinds(desk, settings), *RuleRunner(desk, agent_id=RULES_AGENT).kinds()]
        runner = JobRunner(store, kinds, poll_interval=0.1, lease=30).start(desk)
        try:
            yield {"server": server, "outbox": outbox, "desk": desk, "store": store, "mailbox": mailbox}
        finally:
            runner.stop()
            store.close()


@pytest.mark.timeout(120)
def test_an_auto_responder_answering_our_auto_acknowledgement_gets_no_further_mail(
    desk_by_mail: dict[str, Any],
) -> None:
    server, outbox, desk, store = (desk_by_mail[k] for k in ("server", "outbox", "desk", "store"))
    mailbox = desk_by_mail["mailbox"]
    records: MailStore = extension(store, MailStore)  # type: ignore[type-abstract]
    automation: AutomationStore = extension(store, AutomationStore)  # type: ignore[type-abstract]

    server.deliver("support", FIRST)
    wait_until(lambda: imported_up_to(records, mailbox, 1), 20, "Ana's mail imported")
    first = records.get("CAF1ana-reserva@mail.gmail.com")
    assert first is not None and first.outcome is Outcome.NEW_TICKET and first.ticket_id is not None
    ticket = desk.store.get_ticket(first.ticket_id)
    assert ticket is not None

    # The rule's acknowledgement reaches Ana by SMTP, threaded, as automatic mail.
    ((to, raw),) = outbox.wait_for(1)
    ack = modern(raw)
    assert to == ["ana@example.org"]
    assert ack["Auto-Submitted"] == "auto-replied", "automatic mail says so (RFC 3834), for responders to stay quiet"
    assert ack["In-Reply-To"] == "<CAF1ana-reserva@mail.gmail.com>"
    text = ack.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"hemos recibido su consulta {ticket.ticket_number}" in text
    (firing,) = automation.list_firings(ticket_id=ticket.id)
    messages = desk.store.list_messages(ticket.id)
    assert [m.automated for m in messages] == [True]

    # Her out-of-office answers it anyway; the answer comes into our mailbox.
    tickets_before = desk.store.statistics().total_tickets
    server.deliver("support", out_of_office(ack, "ooo-ana-1@example.org"))
    wait_until(lambda: imported_up_to(records, mailbox, 2), 20, "the out-of-office seen")
    auto = records.get("ooo-ana-1@example.org")
    assert auto is not None and auto.outcome is Outcome.AUTOMATIC and auto.ticket_id is None
    time.sleep(2.0)  # time for any (wrong) reaction to reach the SMTP server
    assert len(outbox.mails) == 1, "no further mail"
    assert desk.store.statistics().total_tickets == tickets_before, "no new ticket"
    assert len(desk.store.list_messages(ticket.id)) == len(messages), "nothing joins the ticket"
    assert automation.list_firings(ticket_id=ticket.id) == [firing], "no rule fires again"
