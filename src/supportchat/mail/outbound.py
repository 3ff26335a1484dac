"""Outbound mail: admins' replies threaded to the requester, acknowledgements, notices of replies.

:class:`MailNotifier` is a :class:`~supportchat.notify.Notifier` (job kind
``notify.mail``), so its mail goes out from the job runner with its retries,
from the event log (the outbox). For each event it mails:

- an admin's reply on an **email ticket** (one opened by mail): to the
  requester, threaded (``In-Reply-To`` / ``References`` the ticket's mail,
  the signed token in the Message-ID, the Reply-To plus-address and the
  subject tag);
- an admin's reply on an **app ticket** whose owner opted in
  (:meth:`~.base.MailStore.set_notify_replies`): the same threaded mail,
  so that answering it by mail joins the ticket;
- a **new email ticket**: an acknowledgement with its number (automatic
  mail: at most ``automatic_limit`` per address and period).

An ``automated`` admin message (an automation rule's canned reply, the bot's
answer) is mailed like a reply but as automatic mail: ``Auto-Submitted:
auto-replied``, and within the same per-address limit as acknowledgements.

A reply citing an attachment carries the file as a MIME attachment (read
from the attachments capability's blob store when the mail is built: the
job's payload names the attachment, never holds its bytes).

Every piece of text comes from the customer projection
(:mod:`supportchat.projection`): what a user may see, nothing else (a message
the projection leaves out is not mailed). The payload is built once, when
the event becomes a job, so every retry sends the same mail; the mail is
recorded (direction ``out``) under its Message-ID when sent, so a retry
after a send that was recorded sends nothing, and the mail coming back
into the mailbox is a duplicate, never imported.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from typing import TYPE_CHECKING, Any

from ..desk import SupportDesk
from ..extensions import extension
from ..models import Actor, EventType, SenderType, Ticket
from ..notify.base import Delivery, Notification
from ..people import directories_of
from ..projection import CustomerMessage, customer_messages, customer_ticket
from .base import OPENS_TICKET, MailRecord, MailStore, NewMailRecord, Outcome
from .intake import BAD_TOKEN
from .settings import MailSettings
from .templates import TEMPLATES, locale_of, render
from .tokens import ThreadSigner, subject_tag

if TYPE_CHECKING:
    from ..attachments import Attachments

__all__ = ["MailNotifier"]

logger = logging.getLogger("supportchat.mail")

#: Threading headers name at most this many earlier mails.
_REFERENCES = 20


class MailNotifier:
    """The channel's outbound mail for ``desk`` under ``settings`` (``settings.smtp`` says where to send)."""

    name = "mail"

    def __init__(
        self,
        desk: SupportDesk,
        settings: MailSettings,
        *,
        attachments: Attachments | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if settings.smtp is None:
            raise ValueError("MailSettings.smtp is needed to send mail")
        self.desk = desk
        self.settings = settings
        self.attachments = attachments
        self.signer = ThreadSigner(settings.secret, settings.address)
        self.records: MailStore = extension(desk.store, MailStore)  # type: ignore[type-abstract]
        self._clock = clock

    # -- prepare: which mail an event causes -------------------------------

    def prepare(self, event: Notification) -> Mapping[str, Any] | None:
        ticket, record = event.ticket, event.record
        if ticket is None:
            return None
        by_mail = self._opened_by_mail(ticket)
        if record.type is EventType.TICKET_CREATED and by_mail is not None and self.settings.acknowledge:
            if by_mail.reason == BAD_TOKEN:
                return None  # a forgery's From is likely someone else's: no mail to them (backscatter)
            return self._mail(ticket, None, Outcome.SENT_ACK, f"e{record.id}")
        message = event.message
        if (
            record.type is not EventType.MESSAGE_CREATED
            or message is None
            or message.sender_type is not SenderType.ADMIN
        ):
            return None
        visible = customer_messages([message], ticket, Actor.user(ticket.user_id))
        if not visible:
            return None  # not the user's to see (an internal note): never mailed
        if by_mail is not None:
            return self._mail(ticket, visible[0], Outcome.SENT_REPLY, f"e{record.id}")
        if self.records.notify_replies(ticket.user_id):
            return self._mail(ticket, visible[0], Outcome.SENT_NOTICE, f"e{record.id}")
        return None

    def _opened_by_mail(self, ticket: Ticket) -> MailRecord | None:
        """The mail that opened ``ticket``, if a mail did."""
        for record in self.records.for_ticket(ticket.id, ticket.ticket_number):
            if record.direction == "in" and record.outcome in OPENS_TICKET:
                return record
        return None

    def _mail(
        self, ticket: Ticket, message: CustomerMessage | None, kind: Outcome, unique: str
    ) -> dict[str, Any] | None:
        directories = directories_of(self.desk)
        contact = directories.contacts.get_contact(ticket.user_id)
        if contact is None or not contact.email:
            return None
        view = customer_ticket(ticket, Actor.user(ticket.user_id))
        locale = locale_of(contact.locale or self.settings.default_locale)
        template = TEMPLATES[locale]
        number = view.ticket_number
        footer = template.footer.format(number=number, site=self.settings.site_name)
        tag = subject_tag(number)
        if kind is Outcome.SENT_ACK:
            subject = f"{tag} {template.ack_subject}: {view.subject}"
            parts = render(locale, template.ack_body.format(number=number), view.description, footer)
        else:
            assert message is not None
            subject = f"Re: {tag} {view.subject}"
            intro = (template.reply_intro if kind is Outcome.SENT_REPLY else template.notice_intro).format(
                number=number, subject=view.subject
            )
            parts = render(locale, intro, message.message, footer)
        earlier = [r.message_key for r in reversed(self.records.for_ticket(ticket.id, number)) if "@" in r.message_key]
        replying_to = [
            r.message_key
            for r in self.records.for_ticket(ticket.id, number)
            if r.direction == "in" and "@" in r.message_key
        ]
        return {
            "kind": kind.value,
            "ticket_id": view.id,
            "user_id": view.user_id,
            "to": contact.email,
            "subject": subject,
            "text": parts.text,
            "html": parts.html,
            "message_id": self.signer.message_id(number, view.id, view.user_id, unique),
            "reply_to": self.signer.reply_to(number, view.id, view.user_id),
            "in_reply_to": replying_to[0] if replying_to else None,
            "references": earlier[-_REFERENCES:],
            # A rule's or the bot's answer (``automated``) is automatic mail like an acknowledgement (RFC 3834).
            "automatic": kind is not Outcome.SENT_REPLY or (message is not None and message.automated),
            "attachment_id": None if message is None else self._attachment_of(message),
        }

    def _attachment_of(self, message: CustomerMessage) -> int | None:
        """The attachment ``message`` cites, to be mailed with it (none without the attachments capability)."""
        if self.attachments is None:
            return None
        from ..attachments import attachment_records

        found = attachment_records(self.desk.store).for_messages([message.id]).get(message.id)
        return None if found is None or found.ticket_id != message.ticket_id else found.id

    # -- deliver: send it once --------------------------------------------

    def deliver(self, delivery: Delivery) -> None:
        payload = delivery.payload
        key = payload["message_id"]
        if self.records.get(key) is not None:
            return  # sent (and recorded) by an earlier attempt
        automatic = bool(payload["automatic"]) and payload["kind"] != Outcome.SENT_NOTICE.value
        if automatic:
            since = self._clock() - self.settings.automatic_period
            if self.records.automatic_sent_since(payload["to"], since) >= self.settings.automatic_limit:
                logger.info("mail: no automatic mail to %s (the automatic mail limit is reached)", payload["to"])
                return
        assert self.settings.smtp is not None
        self.settings.smtp.send(self.build(payload))
        self.records.claim(
            NewMailRecord(
                message_key=key,
                direction="out",
                outcome=Outcome(payload["kind"]),
                ticket_id=int(payload["ticket_id"]),
                user_id=int(payload["user_id"]),
                address=payload["to"],
                subject=payload["subject"][:500],
                automatic=automatic,
                done=True,
            ),
            now=self._clock(),
        )

    def build(self, payload: Mapping[str, Any]) -> EmailMessage:
        """The mail a payload describes: text and HTML parts, threading and loop-prevention headers."""
        mail = EmailMessage()
        mail["From"] = formataddr((self.settings.site_name, self.settings.address))
        mail["To"] = payload["to"]
        mail["Reply-To"] = payload["reply_to"]
        mail["Subject"] = payload["subject"]
        mail["Message-ID"] = f"<{payload['message_id']}>"
        mail["Date"] = formatdate(usegmt=True)
        if payload["in_reply_to"]:
            mail["In-Reply-To"] = f"<{payload['in_reply_to']}>"
        if payload["references"]:
            mail["References"] = " ".join(f"<{m}>" for m in payload["references"])
        if payload["kind"] == Outcome.SENT_ACK.value or (
            payload["kind"] == Outcome.SENT_REPLY.value and payload["automatic"]
        ):
            mail["Auto-Submitted"] = "auto-replied"
        elif payload["kind"] == Outcome.SENT_NOTICE.value:
            mail["Auto-Submitted"] = "auto-generated"
        # Asks Exchange and its kin not to answer with out-of-office or other automatic replies.
        mail["X-Auto-Response-Suppress"] = "All"
        mail.set_content(payload["text"])
        mail.add_alternative(payload["html"], subtype="html")
        if payload.get("attachment_id") is not None:
            self._attach(mail, int(payload["attachment_id"]))
        return mail

    def _attach(self, mail: EmailMessage, attachment_id: int) -> None:
        """Add the file as a MIME attachment; one removed since (its ticket's data forgotten) is left out."""
        if self.attachments is None:
            return
        from ..attachments import BlobMissing, attachment_records

        found = attachment_records(self.desk.store).get(attachment_id)
        if found is None:
            return
        try:
            data = b"".join(self.attachments.blobs.read(found.sha256))
        except BlobMissing:
            logger.warning("mail: attachment %d has no blob; mailed without it", attachment_id)
            return
        maintype, _, subtype = found.content_type.partition("/")
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=found.filename)
