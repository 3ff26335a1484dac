"""Listing and searching through PostgREST finds exactly what the reference store finds.

The same tickets go into an ``InMemoryStore`` and into ``SupabaseStore`` over
the emulator; hypothesis then draws queries (filters, pages and search text
full of PostgREST's, tsquery's and regular expressions' special characters)
and both must answer the same page and total (a search: the same tickets, in
each engine's order of relevance).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportchat.models import Category, NewTicket, Priority, TicketQuery, TicketStatus
from supportchat.stores import InMemoryStore
from supportchat.stores.supabase import SupabaseStore

from .postgrest_emulator import EmulatedProject
from .postgrest_emulator.session import require_postgres

pytestmark = pytest.mark.postgres

TEXTS = [
    "a < b > c",
    "Price: 5% off_now",
    "star*power and more*",
    "paren (x), comma, and.dot",
    'quote "hi" \\ backslash',
    "Ünïcödé ÉCOLE café",
    "caret^dollar$ pipe|plus+ question?",
    "brackets [a-z]{2} and \\d+",
    "plain words only",
    "TKT-LOOKALIKE in text",
]
# Characters whose casefold() differs from lower() (ß, ﬁ, …) fold differently in
# PostgreSQL; they are documented, not searched here.
SEARCH_ALPHABET = st.sampled_from(list("abcdeÉéüÜxyz ABC<>%_*,.()\"'\\:^$|+?[]{}-0159TK"))


@pytest.fixture(scope="module")
def stores() -> Iterator[tuple[InMemoryStore, SupabaseStore]]:
    # A project of its own: other modules' tests empty the shared one, and
    # parallel workers may interleave them with these.
    require_postgres()
    with EmulatedProject.create() as project:
        supabase = project.store()
        memory = InMemoryStore()
        for ticket in dataset():
            memory.insert_ticket(ticket)
            supabase.insert_ticket(ticket)
        yield memory, supabase


def dataset() -> Iterator[NewTicket]:
    """Forty tickets over every status, priority, category, three owners and three assignments."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    combos = itertools.cycle(itertools.product(Priority, Category, [None, 7, 8]))
    for n, (priority, category, assignee) in zip(range(40), combos, strict=False):
        yield NewTicket(
            ticket_number=f"TKT-{n:08d}",
            user_id=1 + n % 3,
            subject=TEXTS[n % len(TEXTS)],
            description=TEXTS[(n * 7 + 3) % len(TEXTS)],
            priority=priority,
            category=category,
            status=list(TicketStatus)[n % 4],
            assigned_to=assignee,
            created_at=start + timedelta(minutes=n),
            updated_at=start + timedelta(minutes=n),
        )


def search_text() -> st.SearchStrategy[str]:
    from_texts = st.tuples(st.sampled_from(TEXTS), st.integers(0, 30), st.integers(1, 8)).map(
        lambda t: t[0][t[1] : t[1] + t[2]]
    )
    return st.one_of(from_texts, st.text(SEARCH_ALPHABET, min_size=1, max_size=6)).filter(lambda q: q.strip() != "")


queries = st.builds(
    TicketQuery,
    status=st.none() | st.sampled_from(TicketStatus),
    priority=st.none() | st.sampled_from(Priority),
    category=st.none() | st.sampled_from(Category),
    assigned_to=st.none() | st.sampled_from([7, 8, 9]),
    unassigned=st.booleans(),
    user_id=st.none() | st.integers(1, 4),
    q=st.none() | search_text(),
    page=st.integers(1, 4),
    per_page=st.integers(1, 15),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=queries)
def test_list_tickets_matches_the_reference_store(
    stores: tuple[InMemoryStore, SupabaseStore], query: TicketQuery
) -> None:
    memory, supabase = stores
    expected, expected_total = memory.list_tickets(query)
    found, total = supabase.list_tickets(query)
    assert total == expected_total
    if not query.q:
        assert [t.ticket_number for t in found] == [t.ticket_number for t in expected]
        return
    # A search ranks by each engine's relevance: the same page size, and the same
    # tickets over all pages (tests/test_search_contract.py has the full contract).
    assert len(found) == len(expected)
    whole = query.model_copy(update={"page": 1, "per_page": 1000})
    assert {t.ticket_number for t in supabase.list_tickets(whole)[0]} == {
        t.ticket_number for t in memory.list_tickets(whole)[0]
    }


@pytest.mark.parametrize(
    "q", ["*", "%", "_", "\\", '"', ",", "(", ")", ".", "a < b", "5% off_", "[a-z]", ":*", "&|!", "'"]
)
def test_special_characters_are_only_separators(stores: tuple[InMemoryStore, SupabaseStore], q: str) -> None:
    memory, supabase = stores
    query = TicketQuery(q=q, per_page=100)
    found, total = supabase.list_tickets(query)
    expected, expected_total = memory.list_tickets(query)
    assert total == expected_total == len(found)
    assert {t.id for t in found} == {t.id for t in expected}
