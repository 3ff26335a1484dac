"""The channel's rows in memory, for the in-memory store (tests, demos)."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence

from .base import Checkpoint, MailRecord, NewMailRecord, Outcome

__all__ = ["MemoryMailStore"]


class MemoryMailStore:
    """The :class:`~supportchat.mail.MailStore` of an :class:`~supportchat.stores.memory.InMemoryStore`."""

    def __init__(self, store: object = None) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, MailRecord] = {}
        self._raw: dict[str, bytes | None] = {}
        self._participants: dict[int, set[str]] = {}
        self._preferences: dict[int, bool] = {}
        self._checkpoints: dict[str, Checkpoint] = {}

    def claim(self, record: NewMailRecord, *, now: float) -> tuple[MailRecord, bool]:
        with self._lock:
            if (found := self._records.get(record.message_key)) is not None:
                return found, False
            stored = MailRecord(
                id=len(self._records) + 1,
                message_key=record.message_key,
                direction=record.direction,
                state="done" if record.done else "claimed",
                outcome=record.outcome,
                reason=record.reason,
                mailbox=record.mailbox,
                ticket_id=record.ticket_id,
                support_message_id=None,
                user_id=record.user_id,
                ticket_number=record.ticket_number,
                follow_up_of=record.follow_up_of,
                address=record.address,
                subject=record.subject,
                automatic=record.automatic,
                created_at=now,
                finished_at=now if record.done else None,
            )
            self._records[record.message_key] = stored
            self._raw[record.message_key] = record.raw
            return stored, True

    def get(self, message_key: str) -> MailRecord | None:
        with self._lock:
            return self._records.get(message_key)

    def raw(self, message_key: str) -> bytes | None:
        with self._lock:
            return self._raw.get(message_key)

    def finish(
        self, message_key: str, *, ticket_id: int | None, support_message_id: int | None, now: float
    ) -> MailRecord:
        with self._lock:
            done = dataclasses.replace(
                self._records[message_key],
                state="done",
                ticket_id=ticket_id,
                support_message_id=support_message_id,
                finished_at=now,
            )
            self._records[message_key] = done
            return done

    def replan(
        self,
        message_key: str,
        *,
        outcome: Outcome,
        reason: str,
        ticket_number: str | None = None,
        follow_up_of: int | None = None,
    ) -> None:
        with self._lock:
            record = self._records[message_key]
            if record.state == "claimed":
                self._records[message_key] = dataclasses.replace(
                    record, outcome=outcome, reason=reason, ticket_number=ticket_number, follow_up_of=follow_up_of
                )

    def thread_of(self, message_keys: Sequence[str]) -> int | None:
        with self._lock:
            found = [self._records[k] for k in message_keys if k in self._records]
        tickets = [r for r in sorted(found, key=lambda r: r.id, reverse=True) if r.ticket_id is not None]
        return tickets[0].ticket_id if tickets else None

    def for_ticket(self, ticket_id: int, ticket_number: str, *, limit: int = 50) -> list[MailRecord]:
        with self._lock:
            found = [r for r in self._records.values() if r.ticket_id == ticket_id or r.ticket_number == ticket_number]
        return sorted(found, key=lambda r: r.id, reverse=True)[:limit]

    def automatic_sent_since(self, address: str, since: float) -> int:
        with self._lock:
            return sum(
                1
                for r in self._records.values()
                if r.address == address and r.created_at >= since and r.direction == "out" and r.automatic
            )

    def recent(self, *, limit: int = 20) -> list[MailRecord]:
        with self._lock:
            return sorted(self._records.values(), key=lambda r: r.id, reverse=True)[:limit]

    def counts(self) -> dict[str, int]:
        with self._lock:
            records = list(self._records.values())
        return {outcome.value: sum(1 for r in records if r.outcome is outcome) for outcome in Outcome}

    def add_participants(self, ticket_id: int, addresses: Sequence[str]) -> None:
        with self._lock:
            self._participants.setdefault(ticket_id, set()).update(addresses)

    def participants(self, ticket_id: int) -> set[str]:
        with self._lock:
            return set(self._participants.get(ticket_id, ()))

    def set_notify_replies(self, user_id: int, enabled: bool) -> None:
        with self._lock:
            self._preferences[user_id] = enabled

    def notify_replies(self, user_id: int) -> bool:
        with self._lock:
            return self._preferences.get(user_id, False)

    def checkpoint(self, mailbox: str) -> Checkpoint | None:
        with self._lock:
            return self._checkpoints.get(mailbox)

    def advance(self, mailbox: str, uidvalidity: int, uid: int, *, imported: int, now: float) -> None:
        with self._lock:
            found = self._checkpoints.get(mailbox)
            if found is not None and found.uidvalidity == uidvalidity and found.last_uid < uid:
                self._checkpoints[mailbox] = dataclasses.replace(
                    found, last_uid=uid, imported=found.imported + imported, polled_at=now
                )

    def note_poll(self, mailbox: str, uidvalidity: int | None, *, error: str | None, now: float) -> Checkpoint:
        with self._lock:
            found = self._checkpoints.get(mailbox) or Checkpoint(mailbox, uidvalidity or 0, 0, 0, None, None, None)
            if uidvalidity is not None and found.uidvalidity != uidvalidity:
                found = dataclasses.replace(found, uidvalidity=uidvalidity, last_uid=0)
            if error is not None:
                found = dataclasses.replace(found, last_error=error, last_error_at=now)
            self._checkpoints[mailbox] = found = dataclasses.replace(found, polled_at=now)
            return found

    def checkpoints(self) -> list[Checkpoint]:
        with self._lock:
            return sorted(self._checkpoints.values(), key=lambda c: c.mailbox)
