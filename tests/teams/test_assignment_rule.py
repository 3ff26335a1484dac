"""The assignment rule, pure: least loaded available agent with room, ties by longest idle, then lowest id.

A property test against a reference written the other way round (sort
everyone, take the first who qualifies), and a stateful test that runs the
rule as the queue does, over the in-memory team store and a real desk, and
checks after every step that no agent is above capacity, no ticket is
assigned twice, and the queue is handed out in arrival order.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from supportchat import Actor, InMemoryStore, SupportDesk
from supportchat.people import agent_store, parse_agent
from supportchat.teams import Availability, Candidate, Team, TeamDesk, has_room, pick_agent

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)

candidates = st.lists(
    st.builds(
        Candidate,
        agent_id=st.integers(1, 30),
        load=st.integers(0, 6),
        capacity=st.integers(0, 6),
        available=st.booleans(),
        idle_since=st.one_of(st.none(), st.integers(0, 5).map(lambda m: EPOCH + timedelta(minutes=m))),
    ),
    max_size=12,
    unique_by=lambda c: c.agent_id,
)


def reference(pool: list[Candidate]) -> Candidate | None:
    """Everyone in the rule's order of preference; the first who may take a ticket."""

    def preference(c: Candidate) -> tuple[int, bool, datetime, int]:
        return (c.load, c.idle_since is not None, c.idle_since or EPOCH, c.agent_id)

    for candidate in sorted(pool, key=preference):
        if candidate.available and (candidate.capacity == 0 or candidate.load < candidate.capacity):
            return candidate
    return None


@given(candidates)
def test_pick_agent_agrees_with_the_reference(pool: list[Candidate]) -> None:
    assert pick_agent(pool) == reference(pool)


@given(candidates)
def test_the_chosen_agent_may_take_it_and_nobody_eligible_is_less_loaded(pool: list[Candidate]) -> None:
    chosen = pick_agent(pool)
    eligible = [c for c in pool if c.available and has_room(c.load, c.capacity)]
    if chosen is None:
        assert eligible == []
        return
    assert chosen in eligible
    assert all(c.load >= chosen.load for c in eligible)
    for tied in (c for c in eligible if c.load == chosen.load and c is not chosen):
        if chosen.idle_since is not None:
            assert tied.idle_since is not None and tied.idle_since >= chosen.idle_since


@given(st.integers(0, 100), st.integers(0, 100))
def test_capacity_zero_is_no_limit(load: int, capacity: int) -> None:
    assert has_room(load, 0)
    assert has_room(load, capacity) == (capacity == 0 or load < capacity)


class TheQueue(RuleBasedStateMachine):
    """Tickets arrive, are handed out, resolved and agents come and go; the invariants hold throughout."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = EPOCH
        self.store = InMemoryStore()
        self.desk = SupportDesk(self.store, clock=lambda: self.clock)
        self.capacity = {1: 2, 2: 1, 3: 3}
        for agent_id, capacity in self.capacity.items():
            agent_store(self.store).put_agent(
                parse_agent(id=agent_id, name=f"a{agent_id}", teams=["t"], capacity=capacity)
            )
        self.teams = TeamDesk(self.desk, clock=lambda: self.clock)
        self.teams.store.put_team(Team(name="t", display_name="T", auto_assign=True))
        self.arrivals: list[int] = []
        self.handed: list[int] = []

    def tick(self) -> None:
        self.clock += timedelta(seconds=1)

    @rule()
    def a_ticket_arrives(self) -> None:
        self.tick()
        ticket = self.desk.create_ticket(Actor.user(5), subject="s", description="d")
        self.teams.store.enqueue(ticket.id, "t", ticket.created_at)
        self.arrivals.append(ticket.id)

    @rule()
    def hand_out_one(self) -> None:
        self.tick()
        hold = self.teams.assign_next("t")
        if hold is not None:
            self.handed.append(hold.ticket_id)

    @precondition(lambda self: self.handed)
    @rule(data=st.data())
    def resolve_one(self, data: st.DataObject) -> None:
        self.tick()
        open_ = [t for t in self.handed if self.store.get_ticket(t).status.value == "open"]  # type: ignore[union-attr]
        if open_:
            self.desk.change_status(Actor.admin(1), data.draw(st.sampled_from(open_)), "resolved")

    @rule(agent=st.sampled_from([1, 2, 3]), status=st.sampled_from(list(Availability)))
    def an_agent_changes_status(self, agent: int, status: Availability) -> None:
        self.tick()
        self.teams.store.set_status(agent, status, self.clock)

    @invariant()
    def nobody_above_capacity(self) -> None:
        for agent_id, capacity in self.capacity.items():
            load = sum(
                1
                for t in self.handed
                if (ticket := self.store.get_ticket(t)) is not None
                and ticket.assigned_to == agent_id
                and ticket.status.value == "open"
            )
            assert load <= capacity

    @invariant()
    def each_ticket_once_and_in_arrival_order(self) -> None:
        assert len(set(self.handed)) == len(self.handed)
        assert self.handed == self.arrivals[: len(self.handed)]

    @invariant()
    def nobody_unavailable_got_one(self) -> None:
        if self.handed:
            last = self.store.get_ticket(self.handed[-1])
            assert last is not None and last.assigned_to in self.capacity


TheQueue.TestCase.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)
test_the_queue = TheQueue.TestCase
