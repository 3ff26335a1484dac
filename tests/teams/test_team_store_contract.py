"""The TeamStore extension's contract and the transfer rules, on every backend of ``tests/stores.py`` that has one.

The teams capability is implemented for the SQL store (SQLite file and
in-memory, PostgreSQL), the in-memory store and the fallback store (in its
local database, so also Supabase with a SQLite fallback). A bare Supabase
store has none (docs/teams.md), which the first test checks is the
configuration error it should be.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest

from supportchat import Actor, SupportDesk
from supportchat.errors import (
    AgentAtCapacity,
    AgentUnavailable,
    ExtensionUnavailable,
    StorageUnavailable,
    TicketClosed,
    ValidationError,
)
from supportchat.models import Category, Ticket
from supportchat.people import AgentStore, agent_store, parse_agent
from supportchat.stores import FallbackStore, Store
from supportchat.teams import Availability, Hold, HoldResult, Member, Team, TeamDesk, TeamStore, team_store

from ..stores import StoreMaker

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)
ADMIN = Actor.admin(1)
UNSUPPORTED = ("SupabaseStore",)
T = TypeVar("T")


def teams_of(store: Store) -> TeamStore:
    try:
        return team_store(store)
    except ExtensionUnavailable:
        assert type(store).__name__ in UNSUPPORTED, "every backend but a bare Supabase store has teams"
        pytest.skip("SupabaseStore has no TeamStore (its rows live in the fallback store's local database)")


def new_ticket(desk: SupportDesk, index: int = 0, category: str = "general") -> Ticket:
    return desk.create_ticket(ADMIN, subject=f"ticket {index}", description="help", user_id=7, category=category)


def primary_down(store: Store) -> bool:
    return isinstance(store, FallbackStore) and getattr(store.primary, "down", False)


def directory(store: Store) -> AgentStore:
    """Where the test writes agents: with the primary down (fallback-down) the directory refuses
    writes, so they are the agents copied into the fallback before the outage."""
    return agent_store(store.fallback if primary_down(store) else store)  # type: ignore[attr-defined]


def as_the_admin_retries(call: Callable[[], T]) -> T:
    """A directory write the flapping primary may refuse (503) until the admin's next try."""
    for _ in range(4):
        try:
            return call()
        except StorageUnavailable:
            pass
    return call()


def agents(store: Store, *capacities: int, team: str = "desk") -> None:
    for agent_id, capacity in enumerate(capacities, start=1):
        as_the_admin_retries(
            lambda: directory(store).put_agent(
                parse_agent(id=agent_id, name=f"agent {agent_id}", teams=[team], capacity=capacity)  # noqa: B023
            )
        )


def test_unsupported_stores_say_so(make_store: StoreMaker) -> None:
    store = make_store()
    if type(store).__name__ not in UNSUPPORTED:
        assert isinstance(team_store(store), TeamStore)
        return
    with pytest.raises(ExtensionUnavailable, match="has no TeamStore extension"):
        team_store(store)


def test_teams_are_kept_replaced_and_removed_with_their_queue(make_store: StoreMaker) -> None:
    store = make_store()
    teams = teams_of(store)
    desk = SupportDesk(store)
    assert teams.list_teams() == [] and teams.get_team("desk") is None
    made = Team(name="desk", display_name="Front desk", categories=(Category.BILLING, Category.ORDER))
    teams.put_team(made)
    teams.put_team(Team(name="alpha", display_name="Alpha", auto_assign=True))
    assert teams.get_team("desk") == made
    assert [t.name for t in teams.list_teams()] == ["alpha", "desk"]
    teams.put_team(made.model_copy(update={"auto_assign": True}))
    assert teams.get_team("desk").auto_assign is True  # type: ignore[union-attr]
    ticket = new_ticket(desk)
    teams.set_ticket_team(ticket.id, "desk", NOW)
    assert teams.enqueue(ticket.id, "desk", NOW)
    assert teams.remove_team("desk") and not teams.remove_team("desk")
    assert teams.queue() == [] and teams.ticket_teams([ticket.id]) == {}


def test_an_agent_is_available_until_told_otherwise(make_store: StoreMaker) -> None:
    teams = teams_of(make_store())
    fresh = teams.agent_states([5])[5]
    assert fresh.status is Availability.AVAILABLE and fresh.last_assigned_at is None
    away = teams.set_status(5, Availability.AWAY, NOW)
    assert away.status is Availability.AWAY and away.status_since == NOW
    again = teams.set_status(5, Availability.AWAY, NOW + timedelta(hours=1))
    assert again.status_since == NOW, "setting the same status again is not a change"
    assert teams.agent_states([5, 6])[6].status is Availability.AVAILABLE


def test_the_queue_keeps_arrival_order_and_each_ticket_once(make_store: StoreMaker) -> None:
    store = make_store()
    teams, desk = teams_of(store), SupportDesk(store)
    first, second, third = (new_ticket(desk, i) for i in range(3))
    assert teams.enqueue(second.id, "desk", NOW)
    assert teams.enqueue(third.id, "desk", NOW)  # same instant: by ticket id
    assert teams.enqueue(first.id, "desk", NOW - timedelta(minutes=5))
    assert not teams.enqueue(first.id, "desk", NOW), "queued once"
    assert [e.ticket_id for e in teams.queue("desk")] == [first.id, second.id, third.id]
    assert teams.queue("other") == []
    assert teams.dequeue(second.id) and not teams.dequeue(second.id)
    assert [e.ticket_id for e in teams.queue()] == [first.id, third.id]


def test_reserve_next_follows_the_rule_and_counts_holds(make_store: StoreMaker) -> None:
    store = make_store()
    teams, desk = teams_of(store), SupportDesk(store)
    tickets = [new_ticket(desk, i) for i in range(5)]
    for ticket in tickets:
        teams.enqueue(ticket.id, "desk", ticket.created_at)
    members = [Member(1, 2), Member(2, 2)]
    # Both idle, equal load: the lower id; then the other (idle longer); then loads tie again.
    first = teams.reserve_next("desk", members, now=NOW, lease=LEASE)
    assert first == Hold(tickets[0].id, 1)
    second = teams.reserve_next("desk", members, now=NOW + timedelta(seconds=1), lease=LEASE)
    assert second == Hold(tickets[1].id, 2), "a live hold counts in the load"
    third = teams.reserve_next("desk", members, now=NOW + timedelta(seconds=2), lease=LEASE)
    assert third == Hold(tickets[2].id, 1), "agent 1 was idle longer"
    fourth = teams.reserve_next("desk", members, now=NOW + timedelta(seconds=3), lease=LEASE)
    assert fourth == Hold(tickets[3].id, 2)
    assert teams.reserve_next("desk", members, now=NOW + timedelta(seconds=4), lease=LEASE) is None, "all full"
    assert teams.agent_states([1])[1].last_assigned_at == NOW + timedelta(seconds=2)
    # The desk writes an assignment and the hold ends: the load is the same ticket, counted once.
    desk.assign(Actor.system(), first.ticket_id, 1, expected_assignee=None)
    teams.release(first)
    assert teams.reserve_next("desk", members, now=NOW + timedelta(seconds=5), lease=LEASE) is None
    # Resolving frees a place.
    desk.change_status(ADMIN, first.ticket_id, "resolved")
    assert teams.reserve_next("desk", members, now=NOW + timedelta(seconds=6), lease=LEASE) == Hold(tickets[4].id, 1)


def test_reserve_next_skips_unavailable_members_assigned_and_closed_tickets(make_store: StoreMaker) -> None:
    store = make_store()
    teams, desk = teams_of(store), SupportDesk(store)
    taken, closed, waiting = (new_ticket(desk, i) for i in range(3))
    for ticket in (taken, closed, waiting):
        teams.enqueue(ticket.id, "desk", ticket.created_at)
    desk.assign(ADMIN, taken.id, 9)
    desk.change_status(ADMIN, closed.id, "closed")
    teams.set_status(1, Availability.OFFLINE, NOW)
    members = [Member(1), Member(2)]
    assert teams.reserve_next("desk", members, now=NOW, lease=LEASE) == Hold(waiting.id, 2)
    assert teams.reserve_next("desk", [Member(1)], now=NOW, lease=LEASE) is None
    assert teams.reserve_next("desk", [], now=NOW, lease=LEASE) is None
    assert teams.prune(NOW + 2 * LEASE) == 2, "the closed and the assigned tickets' entries"
    assert [e.ticket_id for e in teams.queue("desk")] == [waiting.id]


def test_a_hold_checks_state_and_room_unless_forced_and_expires(make_store: StoreMaker) -> None:
    store = make_store()
    teams, desk = teams_of(store), SupportDesk(store)
    one, two, three = (new_ticket(desk, i) for i in range(3))
    desk.assign(ADMIN, one.id, 4)
    assert teams.hold(two.id, Member(4, 2), now=NOW, lease=LEASE) is HoldResult.HELD
    assert teams.hold(three.id, Member(4, 2), now=NOW, lease=LEASE) is HoldResult.FULL
    assert teams.hold(three.id, Member(4, 2), now=NOW + 2 * LEASE, lease=LEASE) is HoldResult.HELD, "expired"
    teams.set_status(5, Availability.AWAY, NOW)
    assert teams.hold(three.id, Member(5), now=NOW, lease=LEASE) is HoldResult.UNAVAILABLE
    assert teams.hold(three.id, Member(5), now=NOW, lease=LEASE, force=True) is HoldResult.HELD
    teams.release(Hold(three.id, 5))
    assert three.id not in {e.ticket_id for e in teams.queue()}


def test_route_sends_new_tickets_to_the_team_of_their_category(make_store: StoreMaker) -> None:
    store = make_store()
    teams_of(store)
    desk = SupportDesk(store)
    agents(store, 1, team="billing")
    routing = TeamDesk(desk)
    routing.put_team(ADMIN, "billing", auto_assign=True, categories=["billing"])
    routing.put_team(ADMIN, "tech", categories=["technical"])
    billed = [new_ticket(desk, i, "billing") for i in range(2)]
    technical = new_ticket(desk, 3, "technical")
    general = new_ticket(desk, 4)
    assert [routing.route(t) for t in (*billed, technical, general)] == ["billing", "billing", "tech", None]
    assert store.get_ticket(billed[0].id).assigned_to == 1  # type: ignore[union-attr]
    assert [e.ticket_id for e in routing.store.queue("billing")] == [billed[1].id], "capacity 1: the second waits"
    assert routing.store.queue("tech") == [], "no auto-assignment: it waits unassigned in the team, unqueued"
    desk.change_status(ADMIN, billed[0].id, "resolved")
    assert routing.sweep() == 1 and store.get_ticket(billed[1].id).assigned_to == 1  # type: ignore[union-attr]


def test_transfer_to_an_agent_is_refused_when_unavailable_or_full_unless_forced(make_store: StoreMaker) -> None:
    store = make_store()
    teams_of(store)
    desk = SupportDesk(store)
    agents(store, 1, 0)
    as_the_admin_retries(lambda: directory(store).put_agent(parse_agent(id=3, name="on leave", available=False)))
    routing = TeamDesk(desk)
    held, other, closed = (new_ticket(desk, i) for i in range(3))
    first = routing.transfer(ADMIN, held.id, to=1, reason="speaks Portuguese", note="call her back")
    assert first.ticket.assigned_to == 1 and first.from_agent is None
    with pytest.raises(AgentAtCapacity) as full:
        routing.transfer(ADMIN, other.ticket_number, to=1)
    assert full.value.status == 409 and full.value.details == {"agent_id": 1, "capacity": 1}
    routing.set_availability(ADMIN, 2, "away")
    with pytest.raises(AgentUnavailable) as away:
        routing.transfer(ADMIN, other.id, to=2)
    assert away.value.code == "agent_unavailable" and away.value.details["status"] == "away"
    with pytest.raises(AgentUnavailable):
        routing.transfer(ADMIN, other.id, to=3)
    assert store.get_ticket(other.id).assigned_to is None, "a refused transfer writes nothing"  # type: ignore[union-attr]
    forced = routing.transfer(ADMIN, other.id, to=1, reason="escalation", force=True)
    assert forced.ticket.assigned_to == 1 and forced.forced
    same = routing.transfer(ADMIN, held.id, to=1, reason="again")
    assert same.ticket.assigned_to == 1 and same.ticket.version == first.ticket.version, "theirs already: no write"
    moved = routing.transfer(ADMIN, held.id, to=3, force=True)
    assert (moved.from_agent, moved.to_agent) == (1, 3)
    desk.change_status(ADMIN, closed.id, "closed")
    with pytest.raises(TicketClosed):
        routing.transfer(ADMIN, closed.id, to=1, force=True)
    with pytest.raises(ValidationError, match="no such agent"):
        routing.transfer(ADMIN, held.id, to=99)
    with pytest.raises(ValidationError, match="exactly one"):
        routing.transfer(ADMIN, held.id, to=1, team="desk")
    record = [(c.field, c.old_value, c.new_value) for c in desk.history(ADMIN, held.id)]
    assert record == [
        ("assigned_to", None, "1"),
        ("transfer_reason", None, "speaks Portuguese"),
        ("transfer_note", None, "call her back"),
        ("assigned_to", "1", "3"),
        ("transfer_forced", None, "true"),
    ]


def test_transfer_to_a_team_unassigns_into_its_queue(make_store: StoreMaker) -> None:
    store = make_store()
    teams_of(store)
    desk = SupportDesk(store)
    agents(store, 0, team="desk")
    routing = TeamDesk(desk)
    routing.put_team(ADMIN, "night", auto_assign=True)
    routing.put_team(ADMIN, "desk")
    ticket = new_ticket(desk)
    desk.assign(ADMIN, ticket.id, 1)
    done = routing.transfer(ADMIN, ticket.id, team="night", reason="after hours")
    assert done.ticket.assigned_to is None and done.team == "night" and done.from_agent == 1
    assert [e.ticket_id for e in routing.store.queue("night")] == [ticket.id], "nobody in night: it waits"
    record = [(c.field, c.old_value, c.new_value) for c in desk.history(ADMIN, ticket.id)]
    assert ("team", None, "night") in record and ("transfer_reason", None, "after hours") in record
    if primary_down(store):
        with pytest.raises(StorageUnavailable, match="directory changes wait"):  # docs/architecture.md
            routing.add_member(ADMIN, "night", 1)
        assert [e.ticket_id for e in routing.store.queue("night")] == [ticket.id], "still waiting"
        return
    as_the_admin_retries(lambda: routing.add_member(ADMIN, "night", 1))
    assert store.get_ticket(ticket.id).assigned_to == 1, "a new member takes what waits"  # type: ignore[union-attr]


def test_an_agent_going_away_can_give_their_tickets_back_to_the_queue(make_store: StoreMaker) -> None:
    store = make_store()
    teams_of(store)
    desk = SupportDesk(store)
    agents(store, 2, 2)
    routing = TeamDesk(desk)
    routing.put_team(ADMIN, "desk", auto_assign=True, categories=["general"])
    tickets = [new_ticket(desk, i) for i in range(4)]
    for ticket in tickets:
        routing.route(ticket)
    assert sorted(store.get_ticket(t.id).assigned_to for t in tickets) == [1, 1, 2, 2]  # type: ignore[union-attr,type-var]
    theirs = [t.id for t in tickets if store.get_ticket(t.id).assigned_to == 2]  # type: ignore[union-attr]
    routing.set_availability(ADMIN, 2, "offline", requeue=True)
    assert all(store.get_ticket(t).assigned_to is None for t in theirs)  # type: ignore[union-attr]
    assert [e.ticket_id for e in routing.store.queue("desk")] == theirs, "back in arrival order"
    routing.set_availability(ADMIN, 2, "available")
    assert all(store.get_ticket(t).assigned_to == 2 for t in theirs)  # type: ignore[union-attr]
