"""The channel's rows in the SQL store's database (SQLite and PostgreSQL), through its public transactions."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..stores.sql import SQLStore
from . import schema
from .base import Checkpoint, MailRecord, NewMailRecord, Outcome

__all__ = ["SQLMailStore"]

_m = schema.messages.c
_c = schema.checkpoints.c
_RECORD_COLUMNS = [column for column in schema.messages.c if column.name != "raw"]


def _record(row: Any) -> MailRecord:
    values = dict(row._mapping)
    values["outcome"] = Outcome(values["outcome"])
    values["automatic"] = bool(values["automatic"])
    return MailRecord(**values)


def _checkpoint(row: Any) -> Checkpoint:
    return Checkpoint(**dict(row._mapping))


class SQLMailStore:
    """The :class:`~supportchat.mail.MailStore` of a :class:`~supportchat.stores.sql.SQLStore`."""

    def __init__(self, store: SQLStore) -> None:
        self._store = store
        self._dialect: Any = postgresql if store.engine.dialect.name == "postgresql" else sqlite

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        with self._store.transaction(write=True) as connection:
            yield connection

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with self._store.transaction() as connection:
            yield connection

    def _select(self) -> sa.Select[Any]:
        return sa.select(*_RECORD_COLUMNS)

    def claim(self, record: NewMailRecord, *, now: float) -> tuple[MailRecord, bool]:
        values = {
            "message_key": record.message_key,
            "direction": record.direction,
            "state": "done" if record.done else "claimed",
            "outcome": record.outcome.value,
            "reason": record.reason,
            "mailbox": record.mailbox,
            "ticket_id": record.ticket_id,
            "user_id": record.user_id,
            "ticket_number": record.ticket_number,
            "follow_up_of": record.follow_up_of,
            "address": record.address,
            "subject": record.subject,
            "automatic": record.automatic,
            "raw": record.raw,
            "created_at": now,
            "finished_at": now if record.done else None,
        }
        statement = (
            self._dialect.insert(schema.messages)
            .values(values)
            .on_conflict_do_nothing(index_elements=[_m.message_key])
            .returning(_m.id)
        )
        with self._write() as connection:
            inserted = connection.execute(statement).fetchone() is not None
            row = connection.execute(self._select().where(_m.message_key == record.message_key)).one()
        return _record(row), inserted

    def get(self, message_key: str) -> MailRecord | None:
        with self._read() as connection:
            row = connection.execute(self._select().where(_m.message_key == message_key)).fetchone()
        return None if row is None else _record(row)

    def raw(self, message_key: str) -> bytes | None:
        with self._read() as connection:
            value = connection.execute(sa.select(_m.raw).where(_m.message_key == message_key)).scalar()
        return None if value is None else bytes(value)

    def finish(
        self, message_key: str, *, ticket_id: int | None, support_message_id: int | None, now: float
    ) -> MailRecord:
        with self._write() as connection:
            connection.execute(
                schema.messages.update()
                .where(_m.message_key == message_key)
                .values(state="done", ticket_id=ticket_id, support_message_id=support_message_id, finished_at=now)
            )
            row = connection.execute(self._select().where(_m.message_key == message_key)).one()
        return _record(row)

    def replan(
        self,
        message_key: str,
        *,
        outcome: Outcome,
        reason: str,
        ticket_number: str | None = None,
        follow_up_of: int | None = None,
    ) -> None:
        with self._write() as connection:
            connection.execute(
                schema.messages.update()
                .where(_m.message_key == message_key, _m.state == "claimed")
                .values(outcome=outcome.value, reason=reason, ticket_number=ticket_number, follow_up_of=follow_up_of)
            )

    def thread_of(self, message_keys: Sequence[str]) -> int | None:
        if not message_keys:
            return None
        with self._read() as connection:
            found = connection.execute(
                sa.select(_m.ticket_id)
                .where(_m.message_key.in_(list(message_keys)), _m.ticket_id.is_not(None))
                .order_by(_m.id.desc())
                .limit(1)
            ).scalar()
        return None if found is None else int(found)

    def for_ticket(self, ticket_id: int, ticket_number: str, *, limit: int = 50) -> list[MailRecord]:
        with self._read() as connection:
            rows = connection.execute(
                self._select()
                .where(sa.or_(_m.ticket_id == ticket_id, _m.ticket_number == ticket_number))
                .order_by(_m.id.desc())
                .limit(limit)
            ).fetchall()
        return [_record(row) for row in rows]

    def automatic_sent_since(self, address: str, since: float) -> int:
        with self._read() as connection:
            return int(
                connection.execute(
                    sa.select(sa.func.count())
                    .select_from(schema.messages)
                    .where(
                        _m.address == address,
                        _m.created_at >= since,
                        _m.direction == "out",
                        _m.automatic.is_(True),
                    )
                ).scalar_one()
            )

    def recent(self, *, limit: int = 20) -> list[MailRecord]:
        with self._read() as connection:
            rows = connection.execute(self._select().order_by(_m.id.desc()).limit(limit)).fetchall()
        return [_record(row) for row in rows]

    def counts(self) -> dict[str, int]:
        with self._read() as connection:
            rows = connection.execute(sa.select(_m.outcome, sa.func.count()).group_by(_m.outcome)).fetchall()
        found = {str(outcome): int(count) for outcome, count in rows}
        return {outcome.value: found.get(outcome.value, 0) for outcome in Outcome}

    def add_participants(self, ticket_id: int, addresses: Sequence[str]) -> None:
        if not addresses:
            return
        statement = self._dialect.insert(schema.participants).on_conflict_do_nothing()
        with self._write() as connection:
            connection.execute(statement, [{"ticket_id": ticket_id, "address": a} for a in sorted(set(addresses))])

    def participants(self, ticket_id: int) -> set[str]:
        p = schema.participants.c
        with self._read() as connection:
            return set(connection.execute(sa.select(p.address).where(p.ticket_id == ticket_id)).scalars())

    def set_notify_replies(self, user_id: int, enabled: bool) -> None:
        p = schema.preferences.c
        statement = self._dialect.insert(schema.preferences).values(user_id=user_id, notify_replies=enabled)
        statement = statement.on_conflict_do_update(index_elements=[p.user_id], set_={"notify_replies": enabled})
        with self._write() as connection:
            connection.execute(statement)

    def notify_replies(self, user_id: int) -> bool:
        p = schema.preferences.c
        with self._read() as connection:
            found = connection.execute(sa.select(p.notify_replies).where(p.user_id == user_id)).scalar()
        return bool(found)

    def checkpoint(self, mailbox: str) -> Checkpoint | None:
        with self._read() as connection:
            row = connection.execute(sa.select(schema.checkpoints).where(_c.mailbox == mailbox)).fetchone()
        return None if row is None else _checkpoint(row)

    def advance(self, mailbox: str, uidvalidity: int, uid: int, *, imported: int, now: float) -> None:
        with self._write() as connection:
            connection.execute(
                schema.checkpoints.update()
                .where(_c.mailbox == mailbox, _c.uidvalidity == uidvalidity, _c.last_uid < uid)
                .values(last_uid=uid, imported=_c.imported + imported, polled_at=now)
            )

    def note_poll(self, mailbox: str, uidvalidity: int | None, *, error: str | None, now: float) -> Checkpoint:
        with self._write() as connection:
            row = connection.execute(
                sa.select(schema.checkpoints).where(_c.mailbox == mailbox).with_for_update()
            ).fetchone()
            errors = {"last_error": error, "last_error_at": now} if error is not None else {}
            if row is None:
                connection.execute(
                    schema.checkpoints.insert().values(
                        mailbox=mailbox, uidvalidity=uidvalidity or 0, last_uid=0, imported=0, polled_at=now, **errors
                    )
                )
            else:
                changed = uidvalidity is not None and row.uidvalidity != uidvalidity
                reset = {"uidvalidity": uidvalidity, "last_uid": 0} if changed else {}
                connection.execute(
                    schema.checkpoints.update().where(_c.mailbox == mailbox).values(polled_at=now, **reset, **errors)
                )
            return _checkpoint(connection.execute(sa.select(schema.checkpoints).where(_c.mailbox == mailbox)).one())

    def checkpoints(self) -> list[Checkpoint]:
        with self._read() as connection:
            rows = connection.execute(sa.select(schema.checkpoints).order_by(_c.mailbox)).fetchall()
        return [_checkpoint(row) for row in rows]
