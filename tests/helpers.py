"""Small helpers shared by the test modules."""

from __future__ import annotations

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
