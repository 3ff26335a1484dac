"""How the email channel is configured: the mailbox address, the secrets, SMTP, IMAP, limits."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..notify.email import SMTPSettings

__all__ = ["ImapMailbox", "MailSettings", "SMTPSettings"]


@dataclass(frozen=True, slots=True)
class ImapMailbox:
    """One IMAP mailbox to import from; ``name`` keys its checkpoint (default ``user@host/folder``)."""

    host: str
    username: str
    password: str
    port: int = 993
    ssl: bool = True
    folder: str = "INBOX"
    name: str = ""
    timeout: float = 30.0
    #: Seconds to wait in IDLE for new mail (when the server offers IDLE) before a poll job ends.
    idle: float = 20.0
    #: Seconds between polls (servers without IDLE), and between IDLE sessions.
    interval: float = 30.0
    #: Messages fetched per round trip.
    batch: int = 50

    @property
    def key(self) -> str:
        return self.name or f"{self.username}@{self.host}/{self.folder}"


@dataclass(frozen=True, slots=True)
class MailSettings:
    """The channel's configuration.

    ``address`` is the support mailbox (its plus-addresses carry thread
    tokens); ``secret`` signs the tokens (keep it stable: changing it makes
    every earlier reply address unverifiable); ``inbound_secret`` guards
    ``POST {prefix}/inbound/email``. At most ``automatic_limit`` automatic
    mails (acknowledgements) go to one address per ``automatic_period``
    seconds. Mail above ``max_bytes`` is refused (recorded, not imported;
    ``POST {prefix}/inbound/email`` answers 413);
    of a mail's files, the first ``max_attachments`` are stored (each under
    the attachments capability's own limits), the rest noted on the ticket.
    """

    address: str
    secret: str
    site_name: str = "Support"
    smtp: SMTPSettings | None = None
    inbound_secret: str | None = None
    mailboxes: tuple[ImapMailbox, ...] = field(default=())
    acknowledge: bool = True
    automatic_limit: int = 3
    automatic_period: float = 3600.0
    max_bytes: int = 25 * 1024 * 1024
    max_attachments: int = 10
    default_locale: str = "en"
    #: Outbound jobs' attempts before a mail is given up.
    max_attempts: int = 8
