"""Loading a batch of new tickets into a SQL store in one transaction.

Going through the :class:`Store` protocol costs a transaction per ticket and
per message, which is right for a desk but makes a million-ticket import take
hours. For a SQL store the loader hands whole batches of tickets that the
database does not hold yet to :func:`insert_new_tickets`: one transaction
writes their rows, messages and change records with multi-row statements
(the schema's triggers log the events), and the per-ticket counters are set
to what the messages imply, exactly as the store would have left them. Any clash (a
ticket or message that exists after all, an id taken) rolls the batch back
and the loader falls back to the careful one-by-one path for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..models import SenderType
from .records import TICKET_COLUMNS, ThreadRecord

if TYPE_CHECKING:
    import sqlalchemy as sa

    from ..stores.sql import SQLStore

__all__ = ["existing_numbers", "insert_new_tickets"]

Clean = Callable[[str, str], str]


def existing_numbers(store: SQLStore, numbers: Sequence[str]) -> set[str]:
    """Which of ``numbers`` the store holds already (one query)."""
    import sqlalchemy as sa

    from ..sqlschema import tables as schema
    from ..stores._sql_errors import translated

    t = schema.tickets.c
    with translated(), store.engine.connect() as connection:
        rows = connection.execute(sa.select(t.ticket_number).where(t.ticket_number.in_(list(numbers)))).all()
    return {row.ticket_number for row in rows}


def insert_new_tickets(store: SQLStore, records: Sequence[ThreadRecord], *, keep_ids: bool, clean: Clean) -> int:
    """Write ``records`` (tickets the store lacks) in one transaction; returns how many messages.

    The schema's triggers log the events: ``ticket_created`` and
    ``message_created`` for the inserted rows, and ``ticket_updated`` for
    the one version bump given to each ticket that has change records (as
    the one-by-one path writes its history). Raises a
    :class:`~supportchat.errors.StorageError` (nothing written) if any row
    clashes with what the database holds.
    """
    import sqlalchemy as sa

    from ..sqlschema import tables as schema
    from ..sqlschema.engine import WRITE
    from ..stores._sql_errors import translated

    with translated(), store.engine.execution_options(**{WRITE: True}).begin() as connection:
        ticket_rows = [_ticket_row(record, keep_ids, clean) for record in records]
        ticket_ids = _insert_returning_ids(connection, schema.tickets, ticket_rows)
        message_rows: list[dict[str, Any]] = []
        change_rows: list[dict[str, Any]] = []
        for record, ticket_id in zip(records, ticket_ids, strict=True):
            ticket = record.ticket
            for message in sorted(record.messages, key=lambda m: m.id):
                row = {
                    "ticket_id": ticket_id,
                    "sender_id": message.sender_id,
                    "sender_type": message.sender_type.value,
                    "message": clean("message", message.message),
                    "message_type": message.message_type.value,
                    "file_url": message.file_url,
                    "is_read": message.is_read,
                    "created_at": message.created_at,
                    "uid": message.uid or f"import:{ticket.ticket_number}:{message.id}",
                }
                if keep_ids:
                    row["id"] = message.id
                message_rows.append(row)
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
            with_history = [ticket_id for record, ticket_id in zip(records, ticket_ids, strict=True) if record.changes]
            t = schema.tickets.c
            connection.execute(
                schema.tickets.update().where(t.id.in_(with_history)).values(version=t.version + sa.literal(1))
            )
        if keep_ids and connection.dialect.name == "postgresql":
            _advance_sequences(connection, (schema.tickets, schema.messages))
    return len(message_rows)


_CHANGE_COLUMNS = {"field", "old_value", "new_value", "changed_by", "changed_at"}


def _ticket_row(record: ThreadRecord, keep_ids: bool, clean: Clean) -> dict[str, Any]:
    ticket = record.ticket
    unread_user = sum(1 for m in record.messages if m.sender_type is SenderType.USER and not m.is_read)
    unread_admin = sum(1 for m in record.messages if m.sender_type is SenderType.ADMIN and not m.is_read)
    row: dict[str, Any] = {
        **ticket.model_dump(include=TICKET_COLUMNS),  # enumerations bind as their values
        "subject": clean("subject", ticket.subject),
        "description": clean("description", ticket.description),
        # One version per message; the history's bump comes with its update.
        "version": len(record.messages),
        "message_count": len(record.messages),
        "unread_from_user": unread_user,
        "unread_from_admin": unread_admin,
    }
    if keep_ids:
        row["id"] = ticket.id
    return row


def _insert_returning_ids(connection: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> list[int]:
    if not rows:
        return []
    statement = table.insert().returning(table.c.id, sort_by_parameter_order=True)
    return [row.id for row in connection.execute(statement, rows)]


def _advance_sequences(connection: sa.Connection, tables: Sequence[sa.Table]) -> None:
    """After rows with explicit ids, keep PostgreSQL's id sequences ahead of them."""
    import sqlalchemy as sa

    for table in tables:
        connection.execute(
            sa.text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), (SELECT max(id) FROM {table.name}))")
        )
