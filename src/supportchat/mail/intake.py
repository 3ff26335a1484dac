"""Inbound mail into tickets: :class:`MailIntake` decides what each mail becomes and writes it once.

For each raw mail (from IMAP, the HTTP route or ``supportchat mail import``):

1. a mail whose key (Message-ID) is already recorded is a duplicate: nothing
   happens (the desk's own outbound mail is recorded when sent, so it comes
   back as a duplicate too);
2. the *plan*: machine-written mail (:mod:`.noise`) and mail the desk sent
   are recorded and dropped; otherwise the sender becomes a contact (the
   directory hook, spec §11), and the tickets the mail claims
   (:meth:`~.tokens.ThreadSigner.claims`: plus-address, our Message-IDs, then
   the References of mail already recorded, then the subject tag) decide:
   a verified claim from the requester (or someone the requester copied)
   joins that ticket; a claim whose token does not verify, a sender who is
   not the requester, or a closed ticket opens a new ticket recorded as a
   possible follow-up of the claimed one; no claim opens a new ticket;
3. the plan is *claimed* under the mail's key (the unique key decides
   between workers), then carried out and the record marked done.

Carrying a plan out is idempotent, so a record left claimed by a worker that
died is simply carried out again by whoever meets the mail next: a new
ticket's number is drawn into the plan (the intake writes through a desk of
its own whose number generator hands out exactly that number, and a taken
number means the earlier attempt wrote the ticket), and a reply's message has
an idempotency id derived from the mail's key.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..desk import SupportDesk
from ..errors import TicketClosed, ValidationError
from ..extensions import extension
from ..models import Actor, Ticket, TicketStatus
from ..numbers import lookup_candidates, new_ticket_number
from ..people import directories_of
from ..rules import is_blank, sanitize
from .attachments import hand_over_attachments
from .base import MailRecord, MailStore, NewMailRecord, Outcome
from .noise import automatic_reason
from .parse import ParsedMail, parse_mail
from .quotes import strip_quoted
from .settings import MailSettings
from .templates import TEMPLATES, locale_of
from .tokens import Claim, ThreadSigner

if TYPE_CHECKING:
    from ..attachments import Attachments

__all__ = ["BAD_TOKEN", "CLOSED", "OTHER_SENDER", "ImportResult", "MailIntake", "client_id_of"]

#: Why a mail that claims a ticket opens a follow-up instead of joining it.
BAD_TOKEN = "its thread token does not verify"
OTHER_SENDER = "its sender is not the ticket's requester"
CLOSED = "the ticket it answers is closed"

_SUBJECT_PREFIXES = ("re:", "aw:", "rv:", "fw:", "fwd:", "tr:", "res:")


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What became of one mail; ``duplicate`` when it had been imported before."""

    record: MailRecord
    duplicate: bool

    @property
    def outcome(self) -> Outcome:
        return self.record.outcome


class _PlannedNumberTaken(Exception):
    """The number drawn into a plan is taken: the plan's ticket was written by an earlier attempt."""


@dataclass(frozen=True, slots=True)
class _Target:
    ticket: Ticket | None
    forged: Ticket | None


class MailIntake:
    """Imports mail into ``desk``'s tickets under ``settings`` (the records in ``desk.store``'s :class:`MailStore`).

    A mail's files are stored through ``attachments`` (see :mod:`.attachments`); without it they are
    listed in a note on the ticket and stay in the raw mail.
    """

    def __init__(
        self,
        desk: SupportDesk,
        settings: MailSettings,
        *,
        attachments: Attachments | None = None,
        records: MailStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.desk = desk
        self.settings = settings
        self.attachments = attachments
        self.signer = ThreadSigner(settings.secret, settings.address)
        self.records: MailStore = records if records is not None else extension(desk.store, MailStore)  # type: ignore[type-abstract]
        self._clock = clock
        self._planned = threading.local()
        # Writes go through a desk of the intake's own over the same store, whose
        # numbers are the plans' (see the module's docstring).
        self._writer = SupportDesk(desk.store, limits=desk.limits, number_generator=self._planned_number)

    # -- the entry point ---------------------------------------------------

    def import_mail(self, raw: bytes, *, mailbox: str | None = None) -> ImportResult:
        """Import one raw RFC 822 message (idempotent: the same mail again is a duplicate)."""
        mail = parse_mail(raw)
        found = self.records.get(mail.key)
        if found is not None and found.done:
            return ImportResult(found, duplicate=True)
        if found is None:
            try:
                plan = self._plan(mail, mailbox)
            except ValidationError as exc:
                # A sender the directory refuses ("quoted"@example.com): recorded, so it cannot block the mailbox.
                plan = self._refused(mail, mailbox, exc)
            record, claimed = self.records.claim(plan, now=self._clock())
            if record.done:
                return ImportResult(record, duplicate=not claimed)
        else:
            record = found  # claimed by an attempt that did not finish: carry its plan out again
        try:
            return ImportResult(self._carry_out(record, mail), duplicate=False)
        except ValidationError as exc:
            self.records.replan(record.message_key, outcome=Outcome.REJECTED, reason=f"refused: {exc}"[:500])
            finished = self.records.finish(
                record.message_key, ticket_id=None, support_message_id=None, now=self._clock()
            )
            return ImportResult(finished, duplicate=False)

    @staticmethod
    def _refused(mail: ParsedMail, mailbox: str | None, error: ValidationError) -> NewMailRecord:
        return NewMailRecord(
            message_key=mail.key,
            direction="in",
            outcome=Outcome.REJECTED,
            reason=f"refused: {error}"[:500],
            mailbox=mailbox,
            address=mail.sender,
            subject=mail.subject[:500],
            raw=mail.raw,
            done=True,
        )

    # -- deciding ----------------------------------------------------------

    def _plan(self, mail: ParsedMail, mailbox: str | None) -> NewMailRecord:
        common = {
            "message_key": mail.key,
            "direction": "in",
            "mailbox": mailbox,
            "address": mail.sender,
            "subject": mail.subject[:500],
        }
        if len(mail.raw) > self.settings.max_bytes:
            reason = f"larger than {self.settings.max_bytes} bytes"
            return NewMailRecord(outcome=Outcome.REJECTED, reason=reason, done=True, **common)  # type: ignore[arg-type]
        ignored = self._ignored(mail)
        if ignored is not None:
            outcome, reason = ignored
            return NewMailRecord(outcome=outcome, reason=reason, raw=mail.raw, done=True, **common)  # type: ignore[arg-type]
        assert mail.sender is not None
        target = self._target(mail)
        claimed = target.ticket or target.forged
        if target.ticket is not None and self._may_join(target.ticket, mail.sender):
            if target.ticket.status is not TicketStatus.CLOSED:
                return NewMailRecord(
                    outcome=Outcome.REPLY,
                    ticket_id=target.ticket.id,
                    user_id=target.ticket.user_id,
                    raw=mail.raw,
                    **common,  # type: ignore[arg-type]
                )
            reason = CLOSED
        elif target.forged is not None and target.ticket is None:
            reason = BAD_TOKEN
        else:
            reason = OTHER_SENDER
        # Only a mail that opens a ticket needs its sender as a contact (the directory hook, spec §11).
        contact = directories_of(self.desk).ensure_contact_for_email(mail.sender, mail.sender_name)
        return NewMailRecord(
            outcome=Outcome.NEW_TICKET if claimed is None else Outcome.FOLLOW_UP,
            reason=None if claimed is None else reason,
            user_id=contact.user_id,
            ticket_number=new_ticket_number(),
            follow_up_of=None if claimed is None else claimed.id,
            raw=mail.raw,
            **common,  # type: ignore[arg-type]
        )

    def _ignored(self, mail: ParsedMail) -> tuple[Outcome, str] | None:
        if mail.sender is not None and self.signer.is_ours(mail.sender):
            return Outcome.OWN, "sent from the support mailbox"
        if (reason := automatic_reason(mail)) is not None:
            return Outcome.AUTOMATIC, reason
        if mail.sender is None:
            return Outcome.REJECTED, "no sender address"
        return None

    def _ticket(self, number: str) -> Ticket | None:
        for candidate in lookup_candidates(number):
            if (ticket := self.desk.store.get_ticket_by_number(candidate)) is not None:
                return ticket
        return None

    def _target(self, mail: ParsedMail) -> _Target:
        claims = self.signer.claims(
            addresses=mail.to + mail.cc + mail.delivered_to,
            message_ids=mail.in_reply_to + mail.references,
            subject=mail.subject,
        )
        forged: Ticket | None = None
        tagged: list[Claim] = []
        for claim in claims:
            if claim.token is None:
                tagged.append(claim)
                continue
            ticket = self._ticket(claim.ticket_number)
            if ticket is not None and self.signer.verify(claim.token, ticket.id, ticket.user_id):
                return _Target(ticket, None)
            if ticket is not None and forged is None:
                forged = ticket
        if forged is not None:
            return _Target(None, forged)
        known = self.records.thread_of(mail.in_reply_to + mail.references)
        if known is not None and (ticket := self.desk.store.get_ticket(known)) is not None:
            return _Target(ticket, None)
        for claim in tagged:
            if (ticket := self._ticket(claim.ticket_number)) is not None:
                return _Target(ticket, None)
        return _Target(None, None)

    def _requester_email(self, ticket: Ticket) -> str | None:
        requester = directories_of(self.desk).contacts.get_contact(ticket.user_id)
        return None if requester is None or not requester.email else requester.email.lower()

    def _may_join(self, ticket: Ticket, sender: str) -> bool:
        """The sender is the ticket's requester, or an address the requester copied on its mail."""
        return self._requester_email(ticket) == sender or sender in self.records.participants(ticket.id)

    # -- writing -----------------------------------------------------------

    def _planned_number(self) -> str:
        number: str | None = getattr(self._planned, "number", None)
        if number is None:
            raise _PlannedNumberTaken()
        self._planned.number = None
        return number

    def _carry_out(self, record: MailRecord, mail: ParsedMail) -> MailRecord:
        user_id = record.user_id
        if record.outcome is Outcome.REPLY:
            assert record.ticket_id is not None and record.user_id is not None
            text = self._text(strip_quoted(mail.text), user_id)
            try:
                message = self._writer.post_message(
                    Actor.user(record.user_id),
                    record.ticket_id,
                    text,
                    client_message_id=client_id_of(record.message_key),
                )
            except TicketClosed:
                self.records.replan(
                    record.message_key,
                    outcome=Outcome.FOLLOW_UP,
                    reason=CLOSED,
                    ticket_number=new_ticket_number(),
                    follow_up_of=record.ticket_id,
                )
                replanned = self.records.get(record.message_key)
                assert replanned is not None
                return self._carry_out(replanned, mail)
            self._note_copied(record.ticket_id, mail)
            self._hand_over(mail, record.ticket_id, record.user_id)
            return self.records.finish(
                record.message_key, ticket_id=record.ticket_id, support_message_id=message.id, now=self._clock()
            )
        assert record.ticket_number is not None and record.user_id is not None
        ticket = self._create(record, mail)
        self._note_copied(ticket.id, mail)
        self._hand_over(mail, ticket.id, record.user_id)
        return self.records.finish(record.message_key, ticket_id=ticket.id, support_message_id=None, now=self._clock())

    def _hand_over(self, mail: ParsedMail, ticket_id: int, user_id: int) -> None:
        hand_over_attachments(
            self._writer,
            self.attachments,
            mail.parts,
            ticket_id=ticket_id,
            user_id=user_id,
            mail_key=mail.key,
            client_id=client_id_of(mail.key),
            limit=self.settings.max_attachments,
        )

    def _create(self, record: MailRecord, mail: ParsedMail) -> Ticket:
        assert record.ticket_number is not None and record.user_id is not None
        # A new conversation keeps its whole text (a forwarded mail is the request); a follow-up is a reply.
        body = mail.text if record.outcome is Outcome.NEW_TICKET else strip_quoted(mail.text)
        self._planned.number = record.ticket_number
        try:
            return self._writer.create_ticket(
                Actor.user(record.user_id),
                subject=self._subject(mail.subject, record.user_id),
                description=self._text(body, record.user_id),
            )
        except _PlannedNumberTaken:
            written = self.desk.store.get_ticket_by_number(record.ticket_number)
            if written is None:
                raise
            return written
        finally:
            self._planned.number = None

    def _note_copied(self, ticket_id: int, mail: ParsedMail) -> None:
        """Remember whom the requester copied, so their replies join (a copy from anyone else changes nothing)."""
        copied = [a for a in mail.to + mail.cc if a != mail.sender and not self.signer.is_ours(a)]
        if not copied:
            return
        ticket = self.desk.store.get_ticket(ticket_id)
        if ticket is None or mail.sender is None or self._requester_email(ticket) != mail.sender:
            return
        self.records.add_participants(ticket_id, copied)

    def _locale(self, user_id: int | None) -> str:
        """The template language for a user (asked only when a placeholder text is needed)."""
        contact = None if user_id is None else directories_of(self.desk).contacts.get_contact(user_id)
        return locale_of(contact.locale if contact is not None and contact.locale else self.settings.default_locale)

    def _subject(self, subject: str, user_id: int | None) -> str:
        text = subject.strip()
        while text.lower().startswith(_SUBJECT_PREFIXES):
            text = text.split(":", 1)[1].strip()
        text = sanitize(text)
        limit = self.desk.limits.subject
        if len(text) > limit:
            text = text[: limit - 1].rstrip() + "…"
        return text if text and not is_blank(text) else TEMPLATES[self._locale(user_id)].no_subject

    def _text(self, body: str, user_id: int | None) -> str:
        text = sanitize(body)
        limit = self.desk.limits.body
        if len(text) > limit:
            # The whole mail stays in the raw message kept with the record.
            text = text[: limit - 40].rstrip() + "\n[…]"
        return text if text and not is_blank(text) else TEMPLATES[self._locale(user_id)].no_text


def client_id_of(mail_key: str) -> str:
    """The ``client_message_id`` of the message a mail becomes (its files' messages add a suffix to it)."""
    return "mail." + hashlib.sha256(mail_key.encode()).hexdigest()[:40]
