"""Reading every ticket of a store, batch by batch, for an export.

A SQL store is read by keyset pagination (``id > last id seen``, oldest
first) with one query for a batch's tickets, one for their messages and one
for their change records: each batch costs the same however deep into the
table it is. Any other store is read through the :class:`Store` protocol,
page by page.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ..models import ActorKind, Message, TicketChange, TicketQuery
from ..store import Store
from .records import ThreadRecord

if TYPE_CHECKING:
    from ..stores.sql import SQLStore

__all__ = ["DEFAULT_BATCH_SIZE", "iter_threads"]

DEFAULT_BATCH_SIZE = 500


def iter_threads(store: Store, *, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[ThreadRecord]:
    """Every ticket of ``store`` with its messages and changes; at most one batch in memory."""
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    sql_store = _as_sql_store(store)
    if sql_store is not None:
        return _iter_sql(sql_store, batch_size)
    return _iter_protocol(store, batch_size)


def _as_sql_store(store: Store) -> SQLStore | None:
    from ..stores.sql import SQLStore

    return store if isinstance(store, SQLStore) else None


def _iter_protocol(store: Store, batch_size: int) -> Iterator[ThreadRecord]:
    page = 1
    while True:
        tickets, _ = store.list_tickets(TicketQuery(page=page, per_page=batch_size))
        for ticket in tickets:
            yield ThreadRecord(
                ticket=ticket, messages=store.list_messages(ticket.id), changes=store.list_changes(ticket.id)
            )
        if len(tickets) < batch_size:
            return
        page += 1


def _iter_sql(store: SQLStore, batch_size: int) -> Iterator[ThreadRecord]:
    import sqlalchemy as sa

    from ..sqlschema import tables as schema
    from ..stores._sql_errors import translated

    # The store's own row readers and ticket selection: rows from our schema
    # need no validation, and this is the export's hot loop.
    from ..stores.sql import _SELECT_MESSAGE, _SELECT_TICKET
    from ..stores.sql import _message as sql_message
    from ..stores.sql import _ticket as sql_ticket

    t, m, c = schema.tickets.c, schema.messages.c, schema.changes.c
    after = 0
    while True:
        with translated(), store.engine.connect() as connection:
            rows: Any = connection.execute(_SELECT_TICKET.where(t.id > after).order_by(t.id).limit(batch_size)).all()
            if not rows:
                return
            first, last = rows[0].id, rows[-1].id
            # A range on ticket_id (indexed) rather than IN (...): one bound pair per batch.
            messages = connection.execute(
                _SELECT_MESSAGE.where(m.ticket_id.between(first, last)).order_by(m.ticket_id, m.id)
            ).all()
            changes = connection.execute(
                sa.select(schema.changes).where(c.ticket_id.between(first, last)).order_by(c.ticket_id, c.id)
            ).all()
        messages_by_ticket = _grouped(messages, sql_message)
        changes_by_ticket = _grouped(changes, lambda row: _change(row._mapping))
        for row in rows:
            yield ThreadRecord.model_construct(
                ticket=sql_ticket(row),
                messages=messages_by_ticket.get(row.id, []),
                changes=changes_by_ticket.get(row.id, []),
            )
        after = last


def _grouped(rows: Any, build: Callable[[Any], Message | TicketChange]) -> dict[int, list[Any]]:
    grouped: defaultdict[int, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row.ticket_id].append(build(row))
    return grouped


_ACTOR_KIND = {member.value: member for member in ActorKind}


def _change(row: Any) -> TicketChange:
    return TicketChange.model_construct(**{**row, "changed_by_kind": _ACTOR_KIND[row["changed_by_kind"]]})
