"""Opening a very long conversation costs bounded memory (issue 12 #2).

A ticket with 25,000 messages used to cost about 200 MB per open, because the
desk loaded every message. It now reads one page (the newest) from the
database, so the cost of an open does not grow with the conversation.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from supportchat import Actor, SupportDesk
from supportchat.stores import SQLStore

from .helpers import ADMIN, fill_long_ticket

MESSAGES = 25_000
#: Per open of the newest page; the whole thread is about 30 MB of text alone.
BUDGET_BYTES = 5 * 1024 * 1024


@pytest.fixture
def long_ticket(tmp_path: Path) -> Iterator[tuple[SupportDesk, int]]:
    path = tmp_path / "long.db"
    store = SQLStore.from_url(f"sqlite:///{path}")
    desk = SupportDesk(store)
    yield desk, fill_long_ticket(desk, path, MESSAGES).id
    store.close()


def _peak_of(call: object) -> int:
    assert callable(call)
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_opening_a_25000_message_ticket_costs_bounded_memory(long_ticket: tuple[SupportDesk, int]) -> None:
    desk, ticket_id = long_ticket
    # The first open also marks all 25,000 user messages read (in the database, not in Python).
    peaks = [_peak_of(lambda: desk.get_ticket(ADMIN, ticket_id)) for _ in range(2)]
    peaks.append(_peak_of(lambda: desk.get_ticket(Actor.user(1), ticket_id)))
    assert max(peaks) < BUDGET_BYTES, [f"{p / 1e6:.1f} MB" for p in peaks]
    print("peaks per open (MB):", [round(p / 1e6, 2) for p in peaks])

    thread = desk.get_ticket(ADMIN, ticket_id)
    assert len(thread.messages) == desk.limits.thread_messages and thread.has_more_before
    assert thread.message_count == MESSAGES and thread.unread_count == 0
    older = desk.get_ticket(ADMIN, ticket_id, before_id=thread.messages[0].id)
    assert older.messages[-1].id == thread.messages[0].id - 1
