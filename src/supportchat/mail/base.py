"""What the email channel keeps, and :class:`MailStore`, the store extension that keeps it.

A :class:`MailRecord` is one mail the channel received or sent. An import
first *claims* the mail's key with its plan (what the mail will become,
decided once), then carries the plan out and marks the record ``done``.
Carrying out a plan is idempotent (a new ticket's number is drawn into the
plan, a reply's message has an idempotency id derived from the key), so a
worker that finds a record still ``claimed`` (its importer died) simply
carries the same plan out again.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["OPENS_TICKET", "Checkpoint", "MailRecord", "MailStore", "NewMailRecord", "Outcome"]


class Outcome(enum.StrEnum):
    #: Inbound: opened a ticket.
    NEW_TICKET = "new_ticket"
    #: Inbound: joined the thread of the ticket it answers.
    REPLY = "reply"
    #: Inbound: claimed a ticket it may not join (another sender, a bad token, a closed ticket): a new ticket.
    FOLLOW_UP = "follow_up"
    #: Inbound: an auto-reply, bounce or bulk mail: nothing done.
    AUTOMATIC = "automatic"
    #: Inbound: mail the desk sent itself, come back: nothing done.
    OWN = "own"
    #: Inbound: refused (too large, no usable sender): nothing done.
    REJECTED = "rejected"
    #: Outbound: an admin's reply on an email ticket.
    SENT_REPLY = "sent_reply"
    #: Outbound: the acknowledgement of a new email ticket (automatic).
    SENT_ACK = "sent_ack"
    #: Outbound: an admin reply on an app ticket, to a user who opted in.
    SENT_NOTICE = "sent_notice"


#: Outcomes that open a ticket.
OPENS_TICKET = frozenset({Outcome.NEW_TICKET, Outcome.FOLLOW_UP})


@dataclass(frozen=True, slots=True)
class MailRecord:
    """One mail and what became of it (``state`` ``claimed`` until its effect is written)."""

    id: int
    message_key: str
    direction: str
    state: str
    outcome: Outcome
    reason: str | None
    mailbox: str | None
    ticket_id: int | None
    support_message_id: int | None
    user_id: int | None
    ticket_number: str | None
    follow_up_of: int | None
    address: str | None
    subject: str | None
    automatic: bool
    created_at: float
    finished_at: float | None

    @property
    def done(self) -> bool:
        return self.state == "done"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """How far the import of one IMAP mailbox got."""

    mailbox: str
    uidvalidity: int
    last_uid: int
    imported: int
    polled_at: float | None
    last_error: str | None
    last_error_at: float | None


@dataclass(frozen=True, slots=True)
class NewMailRecord:
    """A record to claim (inbound) or to write (outbound)."""

    message_key: str
    direction: str
    outcome: Outcome
    reason: str | None = None
    mailbox: str | None = None
    ticket_id: int | None = None
    user_id: int | None = None
    ticket_number: str | None = None
    follow_up_of: int | None = None
    address: str | None = None
    subject: str | None = None
    automatic: bool = False
    raw: bytes | None = None
    #: Written already done (nothing to carry out: ignored mail, sent mail).
    done: bool = False


@runtime_checkable
class MailStore(Protocol):
    """The channel's rows in the store's database (``extension(store, MailStore)``); each method one atomic step."""

    def claim(self, record: NewMailRecord, *, now: float) -> tuple[MailRecord, bool]:
        """Store ``record`` unless its key is taken; the stored record, and whether this call stored it."""
        ...

    def get(self, message_key: str) -> MailRecord | None: ...

    def raw(self, message_key: str) -> bytes | None:
        """The raw message kept with the record."""
        ...

    def finish(
        self, message_key: str, *, ticket_id: int | None, support_message_id: int | None, now: float
    ) -> MailRecord:
        """Mark the record done with the ticket and message it made."""
        ...

    def replan(
        self,
        message_key: str,
        *,
        outcome: Outcome,
        reason: str,
        ticket_number: str | None = None,
        follow_up_of: int | None = None,
    ) -> None:
        """Change a claimed record's plan: a reply into a follow-up (its ticket closed meanwhile), or a refusal."""
        ...

    def thread_of(self, message_keys: Sequence[str]) -> int | None:
        """The ticket of the newest record among ``message_keys`` that has one (References lookup)."""
        ...

    def for_ticket(self, ticket_id: int, ticket_number: str, *, limit: int = 50) -> list[MailRecord]:
        """The ticket's mail, newest first (by ticket id, or its number while the import is under way)."""
        ...

    def automatic_sent_since(self, address: str, since: float) -> int:
        """How many automatic mails went to ``address`` since ``since``."""
        ...

    def recent(self, *, limit: int = 20) -> list[MailRecord]: ...

    def counts(self) -> dict[str, int]:
        """Records per outcome."""
        ...

    # -- participants and preferences -------------------------------------

    def add_participants(self, ticket_id: int, addresses: Sequence[str]) -> None: ...

    def participants(self, ticket_id: int) -> set[str]: ...

    def set_notify_replies(self, user_id: int, enabled: bool) -> None: ...

    def notify_replies(self, user_id: int) -> bool: ...

    # -- IMAP checkpoints --------------------------------------------------

    def checkpoint(self, mailbox: str) -> Checkpoint | None: ...

    def advance(self, mailbox: str, uidvalidity: int, uid: int, *, imported: int, now: float) -> None:
        """Record ``uid`` of ``uidvalidity`` as handled (a new UIDVALIDITY starts the mailbox over)."""
        ...

    def note_poll(self, mailbox: str, uidvalidity: int | None, *, error: str | None, now: float) -> Checkpoint:
        """Record a poll (its error, if any; ``uidvalidity`` if it got that far).

        A UIDVALIDITY other than the stored one starts the mailbox over (last
        UID 0): the server renumbered it, and the Message-ID key keeps the
        mail already imported from being imported again.
        """
        ...

    def checkpoints(self) -> list[Checkpoint]: ...
