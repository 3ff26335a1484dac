"""The SQL stores' export and bulk-load capabilities (:class:`ThreadExport`, :class:`BulkLoad`).

Registered as store extensions of :class:`~supportchat.stores.sql.SQLStore`
(see :mod:`supportchat.extensions`); :mod:`supportchat.transfer` asks for
them by protocol and falls back to the :class:`~supportchat.store.Store`
protocol for a store without them.

An export is read by keyset pagination (``id > last id seen``, oldest
first) with one query for a batch's tickets, one for their messages and one
for their change records: each batch costs the same however deep into the
table it is. Rows become models through the store's own row readers (rows
from our schema need no validation, and this is the export's hot loop).

A bulk load writes a whole batch of new tickets in one transaction with
multi-row statements: going through the protocol costs a transaction per
ticket and per message, which is right for a desk but makes a
million-ticket import take hours. The schema's triggers log the events, and
the per-ticket counters are set to what the messages imply, exactly as the
store would have left them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from ..models import ActorKind, Message, NewTicket, SenderType, ThreadRecord, TicketChange
from ..sqlschema import tables as schema
from .sql import _ADVANCE_SEQUENCE, _SELECT_MESSAGE, _SELECT_TICKET, SQLStore, _message, _message_row, _ticket

__all__ = ["SQLBulkLoad", "SQLThreadExport"]

_t, _m, _c = schema.tickets.c, schema.messages.c, schema.changes.c
_ACTOR_KIND = {member.value: member for member in ActorKind}
#: Ticket columns copied from a record as they are (counters and the version are recomputed).
_TICKET_COLUMNS = set(NewTicket.model_fields) - {"id"}
_CHANGE_COLUMNS = {"field", "old_value", "new_value", "changed_by", "changed_at"}


class SQLThreadExport:
    """:class:`~supportchat.store.ThreadExport` on a SQL store."""

    def __init__(self, store: SQLStore) -> None:
        self._store = store

    def thread_batches(self, batch_size: int) -> Iterator[list[ThreadRecord]]:
        after = 0
        while True:
            with self._store.transaction() as connection:
                rows: Any = connection.execute(
                    _SELECT_TICKET.where(_t.id > after).order_by(_t.id).limit(batch_size)
                ).all()
                if not rows:
                    return
                first, last = rows[0].id, rows[-1].id
                # A range on ticket_id (indexed) rather than IN (...): one bound pair per batch.
                messages = connection.execute(
                    _SELECT_MESSAGE.where(_m.ticket_id.between(first, last)).order_by(_m.ticket_id, _m.id)
                ).all()
                changes = connection.execute(
                    sa.select(schema.changes).where(_c.ticket_id.between(first, last)).order_by(_c.ticket_id, _c.id)
                ).all()
            messages_by_ticket = _grouped(messages, _message)
            changes_by_ticket = _grouped(changes, lambda row: _change(row._mapping))
            yield [
                ThreadRecord.model_construct(
                    ticket=_ticket(row),
                    messages=messages_by_ticket.get(row.id, []),
                    changes=changes_by_ticket.get(row.id, []),
                )
                for row in rows
            ]
            after = last


class SQLBulkLoad:
    """:class:`~supportchat.store.BulkLoad` on a SQL store."""

    def __init__(self, store: SQLStore) -> None:
        self._store = store

    def ticket_numbers_present(self, numbers: Sequence[str]) -> set[str]:
        with self._store.transaction() as connection:
            rows = connection.execute(sa.select(_t.ticket_number).where(_t.ticket_number.in_(list(numbers)))).all()
        return {row.ticket_number for row in rows}

    def insert_threads(self, threads: Sequence[ThreadRecord], *, keep_ids: bool) -> int:
        with self._store.transaction(write=True) as connection:
            ticket_ids = _insert_returning_ids(connection, schema.tickets, [_ticket_row(r, keep_ids) for r in threads])
            message_rows: list[dict[str, Any]] = []
            change_rows: list[dict[str, Any]] = []
            for record, ticket_id in zip(threads, ticket_ids, strict=True):
                message_rows += [_message_row(message, ticket_id, keep_id=keep_ids) for message in record.messages]
                change_rows += [
                    {
                        **change.model_dump(include=_CHANGE_COLUMNS),
                        "ticket_id": ticket_id,
                        "changed_by_kind": change.changed_by_kind.value,
                    }
                    for change in record.changes
                ]
            if message_rows:
                connection.execute(schema.messages.insert(), message_rows)
            if change_rows:
                connection.execute(schema.changes.insert(), change_rows)
                # One version bump (and so one ticket_updated event) per ticket with a history,
                # as the one-by-one path writes it.
                with_history = [ticket_id for r, ticket_id in zip(threads, ticket_ids, strict=True) if r.changes]
                connection.execute(
                    schema.tickets.update().where(_t.id.in_(with_history)).values(version=_t.version + sa.literal(1))
                )
            if keep_ids and connection.dialect.name == "postgresql":
                _advance_sequences(connection, (schema.tickets, schema.messages))
        return len(message_rows)


def _ticket_row(record: ThreadRecord, keep_ids: bool) -> dict[str, Any]:
    messages = record.messages
    row: dict[str, Any] = {
        **record.ticket.model_dump(include=_TICKET_COLUMNS),  # enumerations bind as their values
        # One version per message; the history's bump comes with its update.
        "version": len(messages),
        "message_count": len(messages),
        "unread_from_user": sum(1 for m in messages if m.sender_type is SenderType.USER and not m.is_read),
        "unread_from_admin": sum(1 for m in messages if m.sender_type is SenderType.ADMIN and not m.is_read),
    }
    if keep_ids:
        row["id"] = record.ticket.id
    return row


def _insert_returning_ids(connection: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> list[int]:
    if not rows:
        return []
    statement = table.insert().returning(table.c.id, sort_by_parameter_order=True)
    return [row.id for row in connection.execute(statement, rows)]


def _advance_sequences(connection: sa.Connection, tables: Sequence[sa.Table]) -> None:
    """After rows with explicit ids, keep PostgreSQL's id sequences ahead of them."""
    for table in tables:
        connection.execute(_ADVANCE_SEQUENCE[table.name])


def _grouped(rows: Any, build: Callable[[Any], Message | TicketChange]) -> dict[int, list[Any]]:
    grouped: defaultdict[int, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row.ticket_id].append(build(row))
    return grouped


def _change(row: Any) -> TicketChange:
    return TicketChange.model_construct(**{**row, "changed_by_kind": _ACTOR_KIND[row["changed_by_kind"]]})
