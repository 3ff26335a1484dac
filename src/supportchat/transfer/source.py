"""Reading every ticket of a store, batch by batch, for an export.

A store with the :class:`~supportchat.store.ThreadExport` capability (the
SQL stores) reads whole batches in a few queries; any other store is read
through the :class:`~supportchat.store.Store` protocol, page by page.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import ExtensionUnavailable
from ..extensions import extension
from ..models import TicketQuery
from ..store import Store, ThreadExport
from .records import ThreadRecord

__all__ = ["DEFAULT_BATCH_SIZE", "iter_threads"]

DEFAULT_BATCH_SIZE = 500


def iter_threads(store: Store, *, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[ThreadRecord]:
    """Every ticket of ``store`` with its messages and changes; at most one batch in memory."""
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    try:
        exporter = extension(store, ThreadExport)  # type: ignore[type-abstract]
    except ExtensionUnavailable:
        return _iter_protocol(store, batch_size)
    return (record for batch in exporter.thread_batches(batch_size) for record in batch)


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
