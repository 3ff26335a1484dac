"""Small helpers shared by the test modules."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from supportchat import Actor, SupportDesk, Ticket
from supportchat.models import TicketQuery
from supportchat.stores import Store

ADMIN = Actor.admin(100)
OTHER_ADMIN = Actor.admin(101)
ALICE = Actor.user(1)
BOB = Actor.user(2)


def open_ticket(desk: SupportDesk, actor: Actor = ALICE, **fields: Any) -> Ticket:
    fields.setdefault("subject", "Payment failed")
    fields.setdefault("description", "My card was declined at checkout")
    return desk.create_ticket(actor, **fields)


def all_tickets(store: Store) -> list[Ticket]:
    tickets: list[Ticket] = []
    page = 1
    while True:
        items, total = store.list_tickets(TicketQuery(page=page, per_page=100))
        tickets += items
        if len(tickets) >= total or not items:
            return tickets
        page += 1


def snapshot(store: Store) -> dict[str, Any]:
    """Everything observable through the protocol, to prove a failed call wrote nothing."""
    tickets = all_tickets(store)
    return {
        "tickets": [t.model_dump() | {"version": t.version} for t in tickets],
        "messages": {t.id: [m.model_dump() for m in store.list_messages(t.id)] for t in tickets},
        "changes": {t.id: [c.model_dump() for c in store.list_changes(t.id)] for t in tickets},
        "statistics": store.statistics().model_dump(),
        "events": [e.model_dump() for e in store.events_after(0, limit=100_000)],
    }


def fill_long_ticket(desk: SupportDesk, path: Path, messages: int, size: int = 1200) -> Ticket:
    """A ticket of user 1 with ``messages`` messages of about ``size`` characters, in the SQLite file ``path``.

    The first is posted through the desk, the rest are copies of it made by one
    statement (25,000 desk calls would take minutes); the ticket's counters are set to match.
    """
    ticket = open_ticket(desk)
    first = desk.post_message(ALICE, ticket.id, "x" * size)
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO support_messages (ticket_id, sender_id, sender_type, message, message_type, is_read,"
            " created_at, uid) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
            " SELECT ticket_id, sender_id, sender_type, message || i, message_type, is_read, created_at,"
            " uid || '-' || i FROM support_messages, n WHERE id = ?",
            (messages - 1, first.id),
        )
        db.execute(
            "UPDATE support_tickets SET message_count = ?, unread_from_user = ? WHERE id = ?",
            (messages, messages, ticket.id),
        )
    return ticket
