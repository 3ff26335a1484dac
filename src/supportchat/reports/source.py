"""Reading every ticket's history from a store, for a report (one batch of threads in memory at a time)."""

from __future__ import annotations

from collections.abc import Iterator

from ..store import Store
from ..transfer.source import iter_threads
from .metrics import TicketHistory

__all__ = ["histories"]


def histories(store: Store) -> Iterator[TicketHistory]:
    """Each ticket of ``store`` with its messages, changes and ratings."""
    for record in iter_threads(store):
        yield TicketHistory(
            ticket=record.ticket,
            messages=record.messages,
            changes=record.changes,
            ratings=store.list_ratings(record.ticket.id),
        )
