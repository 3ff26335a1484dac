"""Email over SMTP (stdlib ``smtplib``): admins on a new ticket, the owner on an admin reply.

The desk does not own users, so the owner's address comes from the host app
through ``user_email(user_id) -> str | None`` (``None``: no mail). The hook
is called by a job runner's thread when the event becomes a job, never by a
request. Each mail has a ``Message-ID`` derived from the event, so a mail
server or client can spot a resent one.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Mapping, Sequence
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from ..models import EventType, SenderType
from .base import Delivery, Notification, PermanentFailure

__all__ = ["EmailNotifier", "SMTPSettings"]

UserEmail = Callable[[int], str | None]


class SMTPSettings:
    """Where and how to send: host, port, credentials, TLS (``"starttls"``, ``"ssl"`` or ``None``)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 25,
        *,
        username: str | None = None,
        password: str | None = None,
        tls: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        if tls not in (None, "starttls", "ssl"):
            raise ValueError("tls must be 'starttls', 'ssl' or None")
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.tls = tls
        self.timeout = timeout

    def connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if self.tls == "ssl":
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.tls == "starttls":
                client.starttls(context=context)
        if self.username is not None:
            client.login(self.username, self.password or "")
        return client

    def send(self, mail: EmailMessage) -> None:
        """Send ``mail`` to the recipients of its headers; a refusal is a :class:`PermanentFailure`.

        Any other error (the server away, a timeout) raises as it is, for the
        job runner to retry later.
        """
        with self.connect() as client:
            try:
                refused = client.send_message(mail)
            except smtplib.SMTPRecipientsRefused as exc:
                raise PermanentFailure(f"every recipient was refused: {sorted(exc.recipients)}") from exc
        if refused:
            # Some got it; sending again would duplicate theirs. Record who did not.
            raise PermanentFailure(f"refused recipients: {sorted(refused)}")


class EmailNotifier:
    """Mails ``admins`` when a ticket is opened and a ticket's owner when an admin replies."""

    def __init__(
        self,
        smtp: SMTPSettings,
        *,
        sender: str,
        admins: Sequence[str] = (),
        user_email: UserEmail | None = None,
        name: str = "email",
        site_name: str = "Support",
    ) -> None:
        self.smtp = smtp
        self.sender = sender
        self.admins = tuple(admins)
        self.user_email = user_email
        self.name = name
        self.site_name = site_name

    def prepare(self, event: Notification) -> Mapping[str, Any] | None:
        ticket, record = event.ticket, event.record
        if ticket is None:
            return None
        if record.type is EventType.TICKET_CREATED and self.admins:
            return self._mail(
                record.id,
                list(self.admins),
                f"[{self.site_name}] New ticket {ticket.ticket_number}: {ticket.subject}",
                f"User {ticket.user_id} opened ticket {ticket.ticket_number}.\n\n"
                f"Subject: {ticket.subject}\nPriority: {ticket.priority.value}\n"
                f"Category: {ticket.category.value}\n\n{ticket.description}\n",
            )
        message = event.message
        if (
            record.type is EventType.MESSAGE_CREATED
            and message is not None
            and message.sender_type is SenderType.ADMIN
            and self.user_email is not None
        ):
            address = self.user_email(ticket.user_id)
            if not address:
                return None
            return self._mail(
                record.id,
                [address],
                f"[{self.site_name}] New reply on your ticket {ticket.ticket_number}",
                f"Support replied on your ticket {ticket.ticket_number} ({ticket.subject}):\n\n{message.message}\n",
            )
        return None

    def _mail(self, event_id: int, recipients: list[str], subject: str, text: str) -> dict[str, Any]:
        domain = self.sender.rpartition("@")[2] or "supportchat.invalid"
        return {
            "to": recipients,
            "subject": subject,
            "text": text,
            "message_id": f"<supportchat.{self.name}.{event_id}@{domain}>",
        }

    def deliver(self, delivery: Delivery) -> None:
        payload = delivery.payload
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = ", ".join(payload["to"])
        mail["Subject"] = payload["subject"]
        mail["Message-ID"] = payload["message_id"]
        mail["Date"] = formatdate(usegmt=True)
        mail.set_content(payload["text"])
        self.smtp.send(mail)
