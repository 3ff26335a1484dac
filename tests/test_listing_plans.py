"""Every common listing reads one index in order and stops at the page; its total is a counter.

On SQLite the statements the store runs are captured and explained: no
listing may scan the table or sort it (``USE TEMP B-TREE``), and the totals
of one filter or a common pair come from the statistics counters (no
``count(*)`` statement runs). Across every backend the totals, counters or
not, equal what is there after a random mix of writes.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from datetime import timedelta

import pytest

from supportchat.migrations import upgrade
from supportchat.models import Category, Priority, Ticket, TicketQuery, TicketStatus
from supportchat.stores import Store
from supportchat.stores.sql import SQLStore, create_engine

from .test_store_contract import T0, new_ticket

#: Each one filter, and the pairs a desk lists by most.
SHAPES: list[dict[str, object]] = [
    {},
    {"status": TicketStatus.OPEN},
    {"priority": Priority.HIGH},
    {"category": Category.BILLING},
    {"assigned_to": 7},
    {"unassigned": True},
    {"user_id": 3},
    {"status": TicketStatus.OPEN, "assigned_to": 7},
    {"status": TicketStatus.OPEN, "unassigned": True},
    {"status": TicketStatus.IN_PROGRESS, "category": Category.FLIGHT},
    {"status": TicketStatus.OPEN, "priority": Priority.URGENT},
]
COUNTED = [shape for shape in SHAPES if "user_id" not in shape]


@pytest.fixture
def traced() -> Iterator[tuple[SQLStore, list[str], sqlite3.Connection]]:
    database = sqlite3.connect(":memory:", check_same_thread=False)
    engine = create_engine("sqlite://", creator=lambda: database)
    upgrade(engine)
    store = SQLStore(engine)
    chance = random.Random(5)
    for n in range(3000):
        store.insert_ticket(
            new_ticket(
                f"TKT-{n:08d}",
                user_id=chance.randint(1, 50),
                priority=chance.choice(list(Priority)),
                category=chance.choice(list(Category)),
                status=chance.choice(list(TicketStatus)),
                assigned_to=chance.choice([None, 7, 8, 9]),
                created_at=T0 + timedelta(seconds=n),
                updated_at=T0 + timedelta(seconds=n),
            )
        )
    statements: list[str] = []
    database.set_trace_callback(statements.append)
    yield store, statements, database
    database.set_trace_callback(None)
    engine.dispose()


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "+".join(s) or "all")
def test_a_listing_reads_an_index_in_order(
    traced: tuple[SQLStore, list[str], sqlite3.Connection], shape: dict[str, object]
) -> None:
    store, statements, database = traced
    store.list_tickets(TicketQuery(**shape, per_page=20))  # type: ignore[arg-type]
    (page,) = [s for s in statements if s.lstrip().upper().startswith("SELECT") and "LIMIT" in s.upper()]
    statements.clear()
    database.set_trace_callback(None)
    plan = " / ".join(row[3] for row in database.execute(f"EXPLAIN QUERY PLAN {page}"))
    assert "TEMP B-TREE" not in plan, plan
    if shape:
        assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, plan
        assert plan.count("=?") == len(shape), plan  # one index serves every filter
    else:
        assert plan.startswith("SCAN support_tickets"), plan  # the rowid order: newest first, no sort


@pytest.mark.parametrize("shape", COUNTED, ids=lambda s: "+".join(s) or "all")
def test_a_listings_total_is_a_counter(
    traced: tuple[SQLStore, list[str], sqlite3.Connection], shape: dict[str, object]
) -> None:
    store, statements, _database = traced
    _page, total = store.list_tickets(TicketQuery(**shape, per_page=5))  # type: ignore[arg-type]
    assert not [s for s in statements if "count(" in s.lower()], statements
    everything, _ = store.list_tickets(TicketQuery(**shape, per_page=5000))  # type: ignore[arg-type]
    assert total == len(everything)


def test_totals_stay_exact_through_every_kind_of_write(store: Store) -> None:
    chance = random.Random(11)
    tickets = []
    for n in range(60):
        tickets.append(
            store.insert_ticket(
                new_ticket(
                    f"TKT-{n:08d}",
                    user_id=3 if n % 4 == 0 else 1,
                    priority=chance.choice(list(Priority)),
                    category=chance.choice(list(Category)),
                    assigned_to=chance.choice([None, 7, 8]),
                )
            )
        )
    for ticket in chance.sample(tickets, 40):
        changes: dict[str, object] = {
            "status": chance.choice(list(TicketStatus)),
            "assigned_to": chance.choice([None, 7, 8]),
        }
        if chance.random() < 0.5:
            changes["priority"] = chance.choice(list(Priority))
        store.update_ticket(ticket.id, expected_version=ticket.version, changes=changes)  # type: ignore[arg-type]
    everything, _ = store.list_tickets(TicketQuery(per_page=1000))
    for shape in SHAPES:
        query = TicketQuery(**shape, per_page=3)  # type: ignore[arg-type]
        expected = [t for t in everything if _matches(t, query)]
        page, total = store.list_tickets(query)
        assert total == len(expected), shape
        assert [t.id for t in page] == [t.id for t in expected[:3]], shape


def _matches(ticket: Ticket, query: TicketQuery) -> bool:
    checks = {
        "status": query.status,
        "priority": query.priority,
        "category": query.category,
        "user_id": query.user_id,
    }
    if any(value is not None and getattr(ticket, name) != value for name, value in checks.items()):
        return False
    if query.unassigned:
        return ticket.assigned_to is None
    return query.assigned_to is None or ticket.assigned_to == query.assigned_to
