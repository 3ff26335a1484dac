"""The email channel (spec §16): tickets from a mailbox, replies threaded both ways, notices by mail.

- :class:`MailIntake` imports raw mail (IMAP, ``POST {prefix}/inbound/email``,
  ``supportchat mail import``): parsed with the standard library
  (:func:`parse_mail`), machine mail dropped (:mod:`.noise`), threaded by a
  signed token (:class:`ThreadSigner`), quotes stripped
  (:func:`strip_quoted`), each mail once (its Message-ID is the key).
- :class:`MailNotifier` sends admins' replies on email tickets as threaded
  mail, acknowledges new email tickets, and mails admin replies on app
  tickets to users who opted in, from the job runner with retries, built
  from the customer projection only.
- :func:`imap_poll_kind` imports from IMAP mailboxes as jobs of the job
  runner, with a checkpoint per mailbox.
- :class:`MailStore` (the store extension): the raw mail and what became of
  it, the checkpoints, participants and preferences (migration ``0014_email``).

See ``docs/email.md``.
"""

from __future__ import annotations

from typing import Any

from ..extensions import extension, register_extension
from ..stores.fallback import FallbackStore
from ..stores.memory import InMemoryStore
from ..stores.sql import SQLStore
from .attachments import HandedOver, hand_over_attachments
from .base import Checkpoint, MailRecord, MailStore, NewMailRecord, Outcome
from .intake import ImportResult, MailIntake
from .memory import MemoryMailStore
from .noise import automatic_reason
from .parse import MailPart, ParsedMail, parse_mail
from .quotes import strip_quoted
from .settings import ImapMailbox, MailSettings, SMTPSettings
from .sql import SQLMailStore
from .tokens import ThreadSigner

__all__ = [
    "Checkpoint",
    "HandedOver",
    "ImapMailbox",
    "ImportResult",
    "MailIntake",
    "MailPart",
    "MailRecord",
    "MailSettings",
    "MailStore",
    "MemoryMailStore",
    "NewMailRecord",
    "Outcome",
    "ParsedMail",
    "SMTPSettings",
    "SQLMailStore",
    "ThreadSigner",
    "automatic_reason",
    "hand_over_attachments",
    "parse_mail",
    "strip_quoted",
]


def _fallback_mail(store: FallbackStore) -> Any:
    # Beside the jobs, in the local fallback database (see supportchat.jobs): the
    # fallback store serves one host, and its mail records must survive the primary's outage.
    return extension(store.fallback, MailStore)  # type: ignore[type-abstract]


register_extension(MailStore, SQLStore, SQLMailStore)  # type: ignore[type-abstract]
register_extension(MailStore, InMemoryStore, MemoryMailStore)  # type: ignore[type-abstract]
register_extension(MailStore, FallbackStore, _fallback_mail)  # type: ignore[type-abstract]
