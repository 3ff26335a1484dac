"""The customer projection of ratings and merged tickets (spec §11, §12)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportchat import Actor, SupportDesk
from supportchat.models import Rating
from supportchat.projection import CustomerTicketThread, NotCustomerData, customer_rating, customer_view
from supportchat.stores import InMemoryStore

AT = datetime(2026, 5, 1, 10, tzinfo=UTC)


def _rated_thread(agent: int, score: int, comment: str | None, reopenings: int) -> tuple[SupportDesk, int]:
    desk = SupportDesk(InMemoryStore(), clock=lambda: AT)
    owner, admin = Actor.user(7), Actor.admin(agent)
    ticket = desk.create_ticket(owner, subject="Pago", description="Doble cobro")
    desk.change_status(admin, ticket.id, "resolved", assigned_to=agent)
    desk.rate(owner, ticket.id, score, comment=comment)
    for _ in range(reopenings):
        desk.post_message(owner, ticket.id, "otra vez")
        desk.change_status(admin, ticket.id, "resolved")
        desk.rate(owner, ticket.id, score, comment=comment)
    # Reassigned since: the ticket's assignee (a seed column the user sees) is not whom the ratings count for.
    desk.assign(admin, ticket.id, 1)
    return desk, ticket.id


@given(
    agent=st.integers(min_value=900_000, max_value=999_999),
    score=st.integers(min_value=1, max_value=5),
    comment=st.none() | st.sampled_from(["gracias", "lento <b>pero</b> bien", "😀"]),
    reopenings=st.integers(min_value=0, max_value=2),
)
def test_the_owner_sees_their_latest_rating_never_the_agent(
    agent: int, score: int, comment: str | None, reopenings: int
) -> None:
    desk, ticket_id = _rated_thread(agent, score, comment, reopenings)
    owner = Actor.user(7)
    view = customer_view(desk.get_ticket(owner, ticket_id), owner)
    assert isinstance(view, CustomerTicketThread) and view.rating is not None
    assert (view.rating.score, view.rating.comment, view.rating.cycle) == (score, comment, reopenings + 1)
    document = view.model_dump_json()
    assert str(agent) not in document and "agent_id" not in document and "ratings" not in document
    assert desk.get_ticket(Actor.admin(1), ticket_id).ratings[-1].agent_id == agent  # staff see it


def test_another_tickets_rating_and_another_users_ticket_are_not_projected() -> None:
    desk, ticket_id = _rated_thread(5, 4, None, 0)
    owner = Actor.user(7)
    thread = desk.get_ticket(owner, ticket_id)
    assert thread.rating is not None
    stray = Rating(ticket_id=ticket_id + 1, cycle=1, score=1, comment=None, user_id=7, agent_id=5, created_at=AT)
    with pytest.raises(NotCustomerData):
        customer_rating(stray, thread, owner)
    with pytest.raises(NotCustomerData):
        customer_view(thread, Actor.user(8))
    assert json.loads(customer_view(thread, owner).model_dump_json())["merged_into"] is None
