"""Random sequences of desk operations against a simple model, on every store.

After every step the machine checks the invariants the spec names:
statistics equal a recount, numbers are unique and well-formed, ``resolved_at``
is set exactly when a ticket is resolved, closed tickets gained no messages,
every message's read flag is what spec §5 says, a merged ticket's id and
number always reach the ticket it was merged into, and ratings exist only
for resolved or closed tickets, once per resolution cycle (spec §12), and each ticket's internal
notes and tags are the model's (tag counts equal a recount; neither is ever
in the owner's view nor on the owner's event stream).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from supportchat import Actor, SupportDesk, TicketClosed, TicketStatus
from supportchat.errors import (
    AlreadyMerged,
    DifferentOwners,
    InvalidTransition,
    MergeIntoItself,
    RatingNotOpen,
    ValidationError,
)
from supportchat.event_types import owner_may_see
from supportchat.models import SenderType
from supportchat.numbers import TICKET_NUMBER_PATTERN
from supportchat.projection import customer_view
from supportchat.rules import allowed_transitions, parse_tags

from .conftest import FakeClock
from .helpers import all_tickets
from .stores import StoreMaker

ADMINS = st.sampled_from([Actor.admin(100), Actor.admin(101)])
USERS = st.integers(min_value=1, max_value=3)
STATUSES = st.sampled_from(list(TicketStatus))
#: Spelled as people type them; the tag rule normalises them (``VIP`` is ``vip``).
TAGS = st.lists(st.sampled_from(["vip", "VIP", "refund", "Reembolsó", "bug_42", "late delivery"]), max_size=4)
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30)


@dataclass
class ModelMessage:
    sender: SenderType
    is_read: bool = False
    id: int = 0


@dataclass
class ModelTicket:
    id: int
    user_id: int
    priority: str
    category: str
    status: TicketStatus = TicketStatus.OPEN
    messages: list[ModelMessage] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tags: set[str] = field(default_factory=set)
    #: Spec §12: the resolution cycle (one more per reopening), the cycles rated, the merge.
    cycle: int = 1
    rated: set[int] = field(default_factory=set)
    merged_into: int | None = None

    def set_status(self, status: TicketStatus) -> None:
        if self.status is TicketStatus.RESOLVED and status in (TicketStatus.OPEN, TicketStatus.IN_PROGRESS):
            self.cycle += 1
        self.status = status


class DeskMachine(RuleBasedStateMachine):
    make_store: StoreMaker

    tickets = Bundle("tickets")

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.desk = SupportDesk(self.make_store(), clock=self.clock)
        self.model: dict[int, ModelTicket] = {}

    @initialize(target=tickets)
    def first_ticket(self) -> int:
        return self._create(1, "medium", "general")

    @rule(
        target=tickets,
        user=USERS,
        priority=st.sampled_from(["low", "high", "urgent"]),
        category=st.sampled_from(["billing", "flight"]),
    )
    def create(self, user: int, priority: str, category: str) -> int:
        return self._create(user, priority, category)

    def _create(self, user: int, priority: str, category: str) -> int:
        ticket = self.desk.create_ticket(
            Actor.user(user), subject="Need help", description="Details", priority=priority, category=category
        )
        self.model[ticket.id] = ModelTicket(ticket.id, user, priority, category)
        return ticket.id

    @rule(ticket_id=tickets, text=TEXT)
    def user_writes(self, ticket_id: int, text: str) -> None:
        ticket = self._live(ticket_id)
        self._post(Actor.user(ticket.user_id), ticket, SenderType.USER, "user says " + text)

    @rule(ticket_id=tickets, admin=ADMINS)
    def admin_writes(self, ticket_id: int, admin: Actor) -> None:
        self._post(admin, self._live(ticket_id), SenderType.ADMIN, "admin replies")

    def _post(self, actor: Actor, ticket: ModelTicket, sender: SenderType, text: str) -> None:
        if ticket.status is TicketStatus.CLOSED:
            try:
                self.desk.post_message(actor, ticket.id, text)
            except TicketClosed:
                return
            raise AssertionError("a closed ticket accepted a message")
        posted = self.desk.post_message(actor, ticket.id, text)
        ticket.messages.append(ModelMessage(sender, id=posted.id))
        if sender is SenderType.USER and ticket.status is TicketStatus.RESOLVED:
            ticket.set_status(TicketStatus.OPEN)

    @rule(ticket_id=tickets, admin=ADMINS, target_status=STATUSES, assignee=st.none() | st.sampled_from([100, 101]))
    def change_status(self, ticket_id: int, admin: Actor, target_status: TicketStatus, assignee: int | None) -> None:
        ticket = self._live(ticket_id)
        allowed = target_status is ticket.status or target_status in allowed_transitions(ticket.status)
        try:
            updated = self.desk.change_status(admin, ticket_id, target_status.value, assigned_to=assignee)
        except (TicketClosed, InvalidTransition):
            assert not allowed
            return
        assert allowed
        ticket.set_status(target_status)
        assert updated.status is target_status and updated.id == ticket.id

    @rule(ticket_id=tickets)
    def admin_opens(self, ticket_id: int) -> None:
        self.desk.get_ticket(Actor.admin(100), ticket_id)
        for message in self._live(ticket_id).messages:
            if message.sender is SenderType.USER:
                message.is_read = True

    @rule(ticket_id=tickets)
    def owner_opens(self, ticket_id: int) -> None:
        ticket = self._live(ticket_id)
        thread = self.desk.get_ticket(Actor.user(ticket.user_id), ticket_id)
        assert thread.unread_count == 0
        for message in ticket.messages:
            if message.sender is SenderType.ADMIN:
                message.is_read = True

    @rule(ticket_id=tickets, priority=st.sampled_from(["low", "medium", "high", "urgent"]))
    def reprioritise(self, ticket_id: int, priority: str) -> None:
        self.desk.set_priority(Actor.admin(101), ticket_id, priority)
        self._live(ticket_id).priority = priority

    @rule(days=st.integers(min_value=0, max_value=10))
    def time_passes(self, days: int) -> None:
        self.clock.advance(days=days, seconds=1)

    @rule(older_than=st.integers(min_value=0, max_value=8))
    def auto_close(self, older_than: int) -> None:
        from datetime import timedelta

        due = {t.id for t in self.desk.close_resolved(older_than=timedelta(days=older_than), dry_run=True)}
        closed = self.desk.close_resolved(older_than=timedelta(days=older_than))
        assert {t.id for t in closed} == due
        for ticket in closed:
            assert ticket.status is TicketStatus.CLOSED and ticket.resolved_at is None
            model = self.model[ticket.id]
            assert model.status is TicketStatus.RESOLVED
            model.set_status(TicketStatus.CLOSED)

    @rule(ticket_id=tickets, admin=ADMINS, text=TEXT)
    def admin_notes(self, ticket_id: int, admin: Actor, text: str) -> None:
        try:
            note = self.desk.add_note(admin, ticket_id, "internal " + text)
        except ValidationError:
            return  # markup that neutralising lengthens past the limit; nothing stored
        self._live(ticket_id).notes.append(note.note)  # a merged ticket's lookups reach its target

    @rule(ticket_id=tickets, admin=ADMINS, tags=TAGS, how=st.sampled_from(["set", "add", "remove"]))
    def admin_tags(self, ticket_id: int, admin: Actor, tags: list[str], how: str) -> None:
        model = self._live(ticket_id)
        wanted = set(parse_tags(tags))
        change = {"set": self.desk.set_tags, "add": self.desk.add_tags, "remove": self.desk.remove_tags}[how]
        ticket = change(admin, ticket_id, tags)
        model.tags = {"set": wanted, "add": model.tags | wanted, "remove": model.tags - wanted}[how]
        assert set(ticket.tags) == model.tags

    @precondition(lambda self: len(self.model) > 1)
    @rule(ticket_id=consumes(tickets))
    def forget(self, ticket_id: int) -> None:
        """Stop touching a ticket (keeps bundles varied); it stays checked."""

    # -- ratings and merges (spec §12) ---------------------------------------

    def _live(self, ticket_id: int) -> ModelTicket:
        """The model of the ticket a lookup of ``ticket_id`` reaches (through its merges)."""
        ticket = self.model[ticket_id]
        while ticket.merged_into is not None:
            ticket = self.model[ticket.merged_into]
        return ticket

    @rule(
        ticket_id=tickets,
        score=st.integers(min_value=1, max_value=5),
        comment=st.sampled_from([None, "", "great", "slow <b>reply</b>"]),
    )
    def owner_rates(self, ticket_id: int, score: int, comment: str | None) -> None:
        ticket = self._live(ticket_id)
        ratable = ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED) and ticket.cycle not in ticket.rated
        try:
            rating = self.desk.rate(Actor.user(ticket.user_id), ticket_id, score, comment=comment)
        except RatingNotOpen:
            assert not ratable
            return
        assert ratable
        assert (rating.ticket_id, rating.cycle, rating.score) == (ticket.id, ticket.cycle, score)
        ticket.rated.add(ticket.cycle)

    @rule(source_id=tickets, target_id=tickets, admin=ADMINS)
    def admin_merges(self, source_id: int, target_id: int, admin: Actor) -> None:
        source, target = self.model[source_id], self.model[target_id]
        if source_id == target_id:
            expected: type[Exception] | None = MergeIntoItself
        elif source.merged_into is not None or target.merged_into is not None:
            expected = AlreadyMerged
        elif source.user_id != target.user_id:
            expected = DifferentOwners
        elif target.status is TicketStatus.CLOSED:
            expected = TicketClosed
        else:
            expected = None
        number = self.desk.store.get_ticket(source_id)
        assert number is not None
        try:
            merged = self.desk.merge(admin, number.ticket_number, target_id)
        except (MergeIntoItself, AlreadyMerged, DifferentOwners, TicketClosed) as refusal:
            assert type(refusal) is expected
            return
        assert expected is None and merged.id == target_id
        target.messages = sorted([*target.messages, *source.messages], key=lambda m: m.id)
        source.messages = []
        source.set_status(TicketStatus.CLOSED)
        source.merged_into = target_id

    @invariant()
    def merged_lookups_reach_the_target(self) -> None:
        for ticket in all_tickets(self.desk.store):
            model = self.model[ticket.id]
            assert ticket.merged_into == model.merged_into
            if model.merged_into is None:
                continue
            live = self._live(ticket.id).id
            owner = Actor.user(model.user_id)
            assert self.desk.get_ticket(Actor.admin(100), ticket.id, mark_read=False).id == live
            assert self.desk.get_ticket(owner, ticket.ticket_number.lower(), mark_read=False).id == live
            assert self.desk.store.list_messages(ticket.id) == []

    @invariant()
    def ratings_only_when_resolved_once_per_cycle(self) -> None:
        for ticket_id, model in self.model.items():
            ratings = self.desk.store.list_ratings(ticket_id)
            cycles = [r.cycle for r in ratings]
            assert len(set(cycles)) == len(cycles)
            assert set(cycles) == model.rated
            assert all(1 <= r.score <= 5 and r.user_id == model.user_id for r in ratings)

    # -- invariants ------------------------------------------------------

    @invariant()
    def statistics_equal_a_recount(self) -> None:
        stats = self.desk.statistics(Actor.admin(100))
        stored = all_tickets(self.desk.store)
        assert stats.total_tickets == len(self.model) == len(stored)
        assert stats.by_status == {s.value: 0 for s in TicketStatus} | dict(Counter(t.status.value for t in stored))
        assert stats.by_status == {s.value: 0 for s in TicketStatus} | dict(
            Counter(t.status.value for t in self.model.values())
        )
        assert sum(stats.by_priority.values()) == len(stored)
        assert stats.by_priority["urgent"] == sum(1 for t in self.model.values() if t.priority == "urgent")
        assert stats.by_category["flight"] == sum(1 for t in self.model.values() if t.category == "flight")
        unread = sum(
            1 for t in self.model.values() for m in t.messages if m.sender is SenderType.USER and not m.is_read
        )
        assert stats.unread_messages == unread
        assert stats.by_tag == dict(Counter(tag for t in self.model.values() for tag in t.tags))

    @invariant()
    def numbers_unique_and_well_formed(self) -> None:
        numbers = [t.ticket_number for t in all_tickets(self.desk.store)]
        assert len(set(numbers)) == len(numbers)
        assert all(TICKET_NUMBER_PATTERN.match(n) for n in numbers)

    @invariant()
    def tickets_match_the_model(self) -> None:
        for ticket in all_tickets(self.desk.store):
            model = self.model[ticket.id]
            assert ticket.status is model.status
            assert (ticket.resolved_at is not None) == (ticket.status is TicketStatus.RESOLVED)
            # Closed tickets gained no messages: the model refuses them, so counts agree.
            assert ticket.message_count == len(model.messages)
            messages = self.desk.store.list_messages(ticket.id)
            assert [(m.id, m.sender_type, m.is_read) for m in messages] == [
                (m.id, m.sender, m.is_read) for m in model.messages
            ]
            assert ticket.unread_from_user == sum(
                1 for m in model.messages if m.sender is SenderType.USER and not m.is_read
            )

    @invariant()
    def notes_and_tags_match_the_model_and_stay_internal(self) -> None:
        admin = Actor.admin(100)
        for ticket_id, model in self.model.items():
            assert [n.note for n in self.desk.store.list_notes(ticket_id)] == model.notes
            assert set(self.desk.store.ticket_tags([ticket_id]).get(ticket_id, ())) == model.tags
            owner = Actor.user(model.user_id)
            view = customer_view(self.desk.get_ticket(owner, ticket_id, mark_read=False), owner).model_dump_json()
            assert "notes" not in view and "tags" not in view
        for user in {m.user_id for m in self.model.values()}:
            assert not [
                e for e in self.desk.store.events_after(0, user_id=user, limit=10_000) if not owner_may_see(e.type)
            ]
        for tag in {tag for m in self.model.values() for tag in m.tags}:
            listed = self.desk.list_tickets(admin, tag=tag, per_page=100)
            assert [t.id for t in listed.items] == sorted(
                (i for i, m in self.model.items() if tag in m.tags), reverse=True
            )
            assert listed.total == len(listed.items)


#: Backends whose every call is an HTTP round trip to the PostgREST emulator: a quarter of the runs
#: keeps them inside the suite's time (the same machine runs in full on every local backend).
REMOTE_BACKENDS = {"supabase", "supabase+sqlite"}


def test_desk_keeps_its_invariants(make_store: StoreMaker, request: pytest.FixtureRequest) -> None:
    class Machine(DeskMachine):
        pass

    Machine.make_store = staticmethod(make_store)  # type: ignore[assignment]
    examples = settings().max_examples
    if request.node.callspec.params["make_store"] in REMOTE_BACKENDS:
        examples = max(10, examples // 4)
    run_state_machine_as_test(Machine, settings=settings(stateful_step_count=25, max_examples=examples))
