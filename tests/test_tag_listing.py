"""Listing by tag reads the ``(tag, ticket_id)`` index in order and stops at the page; its total is a counter.

As ``tests/test_listing_plans.py`` does for the other filters: on SQLite the page
statement is explained (no scan of the tickets, no sort), the total of a listing by
tag alone comes from the tag's counter (no ``count(*)`` runs), and on every backend
pages and totals by tag, with or without another filter, equal a recount.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator

import pytest

from supportchat import Actor, SupportDesk
from supportchat.migrations import upgrade
from supportchat.models import TicketQuery, TicketStatus
from supportchat.stores import Store
from supportchat.stores.sql import SQLStore, create_engine

from .test_store_contract import new_ticket

TAGS = ("vip", "refund", "bug", "late-delivery")


def _tag_everything(store: Store, count: int, chance: random.Random) -> dict[int, set[str]]:
    tagged: dict[int, set[str]] = {}
    for n in range(count):
        ticket = store.insert_ticket(
            new_ticket(f"TKT-{n:08d}", user_id=chance.randint(1, 40), status=chance.choice(list(TicketStatus)))
        )
        tags = {tag for tag in TAGS if chance.random() < 0.3}
        if tags:
            store.replace_tags(ticket.id, expected=(), tags=tuple(sorted(tags)))
        tagged[ticket.id] = tags
    return tagged


@pytest.fixture
def traced() -> Iterator[tuple[SQLStore, list[str], sqlite3.Connection]]:
    database = sqlite3.connect(":memory:", check_same_thread=False)
    engine = create_engine("sqlite://", creator=lambda: database)
    upgrade(engine)
    store = SQLStore(engine)
    _tag_everything(store, 3000, random.Random(5))
    statements: list[str] = []
    database.set_trace_callback(statements.append)
    yield store, statements, database
    database.set_trace_callback(None)
    engine.dispose()


@pytest.mark.parametrize(
    "shape", [{}, {"status": TicketStatus.OPEN}, {"user_id": 3}], ids=["tag", "tag+status", "tag+user"]
)
def test_a_listing_by_tag_reads_its_index_in_order(
    traced: tuple[SQLStore, list[str], sqlite3.Connection], shape: dict[str, object]
) -> None:
    store, statements, database = traced
    store.list_tickets(TicketQuery(tag="vip", **shape, per_page=20))  # type: ignore[arg-type]
    (page,) = [s for s in statements if s.lstrip().upper().startswith("SELECT") and "LIMIT" in s.upper()]
    database.set_trace_callback(None)
    plan = " / ".join(row[3] for row in database.execute(f"EXPLAIN QUERY PLAN {page}"))
    assert "TEMP B-TREE" not in plan, plan
    assert "support_ticket_tags USING COVERING INDEX ix_support_ticket_tags_tag_ticket_id (tag=?)" in plan, plan
    assert "SCAN support_tickets" not in plan, plan
    assert "support_tickets USING INTEGER PRIMARY KEY (rowid=?)" in plan, plan


def test_the_total_of_a_listing_by_tag_is_its_counter(traced: tuple[SQLStore, list[str], sqlite3.Connection]) -> None:
    store, statements, _database = traced
    _page, total = store.list_tickets(TicketQuery(tag="refund", per_page=5))
    assert not [s for s in statements if "count(" in s.lower()], statements
    everything, _ = store.list_tickets(TicketQuery(tag="refund", per_page=5000))
    assert total == len(everything) > 0
    assert store.statistics().by_tag["refund"] == total


def test_pages_and_totals_by_tag_equal_a_recount(store: Store) -> None:
    chance = random.Random(11)
    tagged = _tag_everything(store, 60, chance)
    desk = SupportDesk(store)
    admin = Actor.admin(1)
    for ticket_id in chance.sample(sorted(tagged), 20):  # retag through the desk: removals and additions
        wanted = {tag for tag in TAGS if chance.random() < 0.4}
        desk.set_tags(admin, ticket_id, sorted(wanted))
        tagged[ticket_id] = wanted
    for ticket_id in chance.sample(sorted(tagged), 20):  # tagged tickets move: the tag+status counters follow
        current = store.get_ticket(ticket_id)
        assert current is not None
        if current.status is not TicketStatus.CLOSED:
            desk.change_status(admin, ticket_id, chance.choice(["open", "in_progress", "resolved", "closed"]))
    for tag in TAGS:
        for status in (None, TicketStatus.OPEN):
            expected = sorted(
                (
                    i
                    for i, tags in tagged.items()
                    if tag in tags and (status is None or store.get_ticket(i).status is status)
                ),  # type: ignore[union-attr]
                reverse=True,
            )
            page, total = store.list_tickets(TicketQuery(tag=tag, status=status, per_page=7))
            assert total == len(expected), (tag, status)
            assert [t.id for t in page] == expected[:7], (tag, status)
            second, _ = store.list_tickets(TicketQuery(tag=tag, status=status, per_page=7, page=2))
            assert [t.id for t in second] == expected[7:14], (tag, status)
        assert store.statistics().by_tag.get(tag, 0) == sum(1 for tags in tagged.values() if tag in tags)


def test_the_total_of_a_listing_by_tag_and_status_is_a_counter_too(
    traced: tuple[SQLStore, list[str], sqlite3.Connection],
) -> None:
    store, statements, _database = traced
    _page, total = store.list_tickets(TicketQuery(tag="vip", status=TicketStatus.RESOLVED, per_page=5))
    assert not [s for s in statements if "count(" in s.lower()], statements
    everything, _ = store.list_tickets(TicketQuery(tag="vip", per_page=5000))
    assert total == sum(1 for t in everything if t.status is TicketStatus.RESOLVED) > 0
