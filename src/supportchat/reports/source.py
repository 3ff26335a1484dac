"""Reading tickets' histories from a store, for a report or for the stored facts (a batch in memory at a time)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import islice

from ..store import Store
from ..transfer.source import iter_threads
from .metrics import TicketHistory
from .sla_outcomes import sla_outcomes

__all__ = ["BATCH", "histories", "history_batches", "ticket_histories"]

#: How many tickets' histories are read (and their facts written) at a time.
BATCH = 200


def history_batches(store: Store, size: int = BATCH) -> Iterator[list[TicketHistory]]:
    """Every ticket of ``store`` with its messages, changes, ratings and decided SLA deadlines, in batches."""
    outcomes = sla_outcomes(store)
    threads = iter_threads(store, batch_size=size)
    while records := list(islice(threads, size)):
        decided = outcomes([record.ticket.id for record in records])
        yield [
            TicketHistory(
                ticket=record.ticket,
                messages=record.messages,
                changes=record.changes,
                ratings=store.list_ratings(record.ticket.id),
                sla=decided.get(record.ticket.id, ()),
            )
            for record in records
        ]


def histories(store: Store) -> Iterator[TicketHistory]:
    """Each ticket of ``store`` with its whole history."""
    for batch in history_batches(store):
        yield from batch


def ticket_histories(store: Store, ticket_ids: Sequence[int]) -> list[TicketHistory]:
    """The histories of these tickets (those that exist)."""
    decided = sla_outcomes(store)(ticket_ids)
    found = []
    for ticket_id in ticket_ids:
        ticket = store.get_ticket(ticket_id)
        if ticket is None:
            continue
        found.append(
            TicketHistory(
                ticket=ticket,
                messages=store.list_messages(ticket_id),
                changes=store.list_changes(ticket_id),
                ratings=store.list_ratings(ticket_id),
                sla=decided.get(ticket_id, ()),
            )
        )
    return found
