"""Export and bulk import through the stores' public capabilities, on every backend.

A store with :class:`ThreadExport` / :class:`BulkLoad` (the SQL stores) is
read and written in batches through them; any other store through the
:class:`Store` protocol. Either way an export imported into an empty store
of the same kind gives back the same export.
"""

from __future__ import annotations

import pytest

from supportchat import SupportDesk
from supportchat.errors import ExtensionUnavailable
from supportchat.extensions import extension
from supportchat.models import TicketQuery
from supportchat.store import BulkLoad, ThreadExport
from supportchat.stores.sql import SQLStore
from supportchat.transfer import import_threads, iter_threads

from .helpers import ADMIN, ALICE, BOB, open_ticket
from .stores import StoreMaker


def test_an_export_imported_into_an_empty_store_exports_the_same(make_store: StoreMaker) -> None:
    source = make_store()
    desk = SupportDesk(source)
    for actor in (ALICE, BOB, ALICE):
        ticket = open_ticket(desk, actor)
        desk.post_message(actor, ticket.id, "Still broken <3 & x<y")
        desk.post_message(ADMIN, ticket.id, "Looking into it")
    desk.change_status(ADMIN, ticket.id, "resolved", assigned_to=ADMIN.id)
    records = list(iter_threads(source, batch_size=2))
    exported = [record.to_json() for record in records]
    assert len(exported) == 3

    target = make_store()  # on some backends the same database, emptied: the export is in memory
    report = import_threads(target, records, batch_size=2)
    assert (report.tickets_created, report.messages_created) == (3, 6)
    assert [record.to_json() for record in iter_threads(target, batch_size=2)] == exported
    again = import_threads(target, records, batch_size=2)
    assert (again.tickets_created, again.messages_created, again.tickets_skipped) == (0, 0, 3)
    # The import's rows are in the search index too (same transaction, on every backend).
    found, total = target.list_tickets(TicketQuery(q="still broken"))
    assert total == 3 and all(t.highlight for t in found)


def test_sql_stores_have_the_capabilities_and_others_use_the_protocol(make_store: StoreMaker) -> None:
    store = make_store()
    if isinstance(store, SQLStore):
        assert extension(store, ThreadExport) is extension(store, ThreadExport)  # type: ignore[type-abstract]
        assert extension(store, BulkLoad).ticket_numbers_present(["TKT-00000001"]) == set()  # type: ignore[type-abstract]
    else:
        with pytest.raises(ExtensionUnavailable):
            extension(store, BulkLoad)  # type: ignore[type-abstract]
