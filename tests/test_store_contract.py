"""The contract every store keeps, run against every backend in ``tests/stores.py``.

Half of it drives the store directly through the protocol (atomicity,
uniqueness, counters, the event log); half drives a ``SupportDesk`` over the
store, so that each backend is proven to carry the desk's rules end to end.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from supportchat import (
    Actor,
    ConcurrentUpdate,
    EventType,
    SupportDesk,
    TicketClosed,
    TicketNotFound,
    TicketStatus,
)
from supportchat.errors import DuplicateMessage, Forbidden, TicketIdTaken, TicketNumberTaken, ValidationError
from supportchat.models import (
    ActorKind,
    Category,
    MessageType,
    NewMessage,
    NewTicket,
    NewTicketChange,
    Priority,
    SenderType,
    TicketQuery,
)
from supportchat.numbers import TICKET_NUMBER_PATTERN
from supportchat.realtime.stream import latest_event_id
from supportchat.rules import Limits
from supportchat.stores import Store

from .conftest import FakeClock
from .faults import FaultyStore
from .helpers import ADMIN, ALICE, BOB, OTHER_ADMIN, all_tickets, open_ticket, snapshot

T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


def new_ticket(number: str = "TKT-00000001", user_id: int = 1, **over: object) -> NewTicket:
    fields: dict[str, object] = {
        "ticket_number": number,
        "user_id": user_id,
        "subject": "Subject",
        "description": "Description",
        "priority": Priority.MEDIUM,
        "category": Category.GENERAL,
        "created_at": T0,
        "updated_at": T0,
    }
    fields.update(over)
    return NewTicket(**fields)  # type: ignore[arg-type]


def new_message(ticket_id: int, uid: str, sender: SenderType = SenderType.USER, **over: object) -> NewMessage:
    fields: dict[str, object] = {
        "ticket_id": ticket_id,
        "sender_id": 1 if sender is SenderType.USER else 100,
        "sender_type": sender,
        "message": "Hello ñandú 👋 <not a tag>",
        "message_type": MessageType.TEXT,
        "file_url": None,
        "created_at": T0,
        "uid": uid,
    }
    fields.update(over)
    return NewMessage(**fields)  # type: ignore[arg-type]


# -- the protocol, directly -------------------------------------------------


def test_insert_and_get_ticket_round_trips_every_column(store: Store) -> None:
    stored = store.insert_ticket(new_ticket(assigned_to=7, priority=Priority.URGENT, category=Category.FLIGHT))
    assert stored.id > 0
    assert store.get_ticket(stored.id) == stored
    assert store.get_ticket_by_number("TKT-00000001") == stored
    assert stored.created_at == T0 and stored.created_at.tzinfo is not None
    assert stored.updated_at.utcoffset() == timedelta(0)
    assert (stored.priority, stored.category, stored.assigned_to) == (Priority.URGENT, Category.FLIGHT, 7)
    assert (stored.status, stored.resolved_at, stored.message_count) == (TicketStatus.OPEN, None, 0)


def test_unknown_ticket_is_none(store: Store) -> None:
    assert store.get_ticket(424242) is None
    assert store.get_ticket_by_number("TKT-ZZZZZZZZ") is None


def test_duplicate_ticket_number_is_refused_and_writes_nothing(store: Store) -> None:
    store.insert_ticket(new_ticket("TKT-AAAAAAAA"))
    before = snapshot(store)
    with pytest.raises(TicketNumberTaken):
        store.insert_ticket(new_ticket("TKT-AAAAAAAA", user_id=2))
    assert snapshot(store) == before


def test_a_taken_ticket_id_is_its_own_error_and_writes_nothing(store: Store) -> None:
    store.insert_ticket(new_ticket("TKT-AAAAAAAA", id=5000))
    before = snapshot(store)
    with pytest.raises(TicketIdTaken) as raised:
        store.insert_ticket(new_ticket("TKT-BBBBBBBB", id=5000))
    assert not isinstance(raised.value, TicketNumberTaken)  # the desk would draw numbers in vain
    assert snapshot(store) == before


def test_explicit_ticket_id_is_kept(store: Store) -> None:
    stored = store.insert_ticket(new_ticket(id=5000))
    assert stored.id == 5000
    assert store.get_ticket(5000) == stored


def test_update_checks_version_applies_changes_and_records_history(store: Store) -> None:
    ticket = store.insert_ticket(new_ticket())
    later = T0 + timedelta(minutes=5)
    record = NewTicketChange(
        field="status",
        old_value="open",
        new_value="resolved",
        changed_by_kind=ActorKind.ADMIN,
        changed_by=100,
        changed_at=later,
    )
    updated = store.update_ticket(
        ticket.id,
        expected_version=ticket.version,
        changes={"status": TicketStatus.RESOLVED, "resolved_at": later, "updated_at": later, "assigned_to": 9},
        history=[record],
    )
    assert updated.version == ticket.version + 1
    assert (updated.status, updated.resolved_at, updated.updated_at, updated.assigned_to) == (
        TicketStatus.RESOLVED,
        later,
        later,
        9,
    )
    assert store.get_ticket(ticket.id) == updated
    [change] = store.list_changes(ticket.id)
    assert (change.field, change.old_value, change.new_value, change.changed_by, change.changed_at) == (
        "status",
        "open",
        "resolved",
        100,
        later,
    )
    cleared = store.update_ticket(
        ticket.id, expected_version=updated.version, changes={"resolved_at": None, "assigned_to": None}
    )
    assert cleared.resolved_at is None and cleared.assigned_to is None


def test_stale_version_is_refused_and_writes_nothing(store: Store) -> None:
    ticket = store.insert_ticket(new_ticket())
    store.update_ticket(ticket.id, expected_version=ticket.version, changes={"priority": Priority.HIGH})
    before = snapshot(store)
    with pytest.raises(ConcurrentUpdate):
        store.update_ticket(ticket.id, expected_version=ticket.version, changes={"priority": Priority.LOW})
    with pytest.raises(ConcurrentUpdate):
        store.insert_message(new_message(ticket.id, "u-stale"), expected_version=ticket.version, changes={})
    assert snapshot(store) == before


def test_update_of_missing_ticket_is_not_found(store: Store) -> None:
    with pytest.raises(TicketNotFound):
        store.update_ticket(999_999, expected_version=0, changes={"priority": Priority.HIGH})


def test_messages_keep_counters_and_order(store: Store) -> None:
    ticket = store.insert_ticket(new_ticket())
    version = ticket.version
    stored = []
    for n, sender in enumerate([SenderType.USER, SenderType.ADMIN, SenderType.USER]):
        at = T0 + timedelta(seconds=n)
        message = store.insert_message(
            new_message(ticket.id, f"uid-{n}", sender, created_at=at),
            expected_version=version,
            changes={"updated_at": at},
        )
        version += 1
        stored.append(message)
    assert [m.id for m in stored] == sorted(m.id for m in stored)
    assert store.list_messages(ticket.id) == stored
    assert store.list_messages(ticket.id, after_id=stored[0].id) == stored[1:]
    assert store.list_messages(ticket.id, after_id=stored[0].id, limit=1) == stored[1:2]
    assert stored[0].message == "Hello ñandú 👋 <not a tag>"
    assert stored[0].is_read is False
    current = store.get_ticket(ticket.id)
    assert current is not None
    assert (current.message_count, current.unread_from_user, current.unread_from_admin) == (3, 2, 1)
    assert current.updated_at == T0 + timedelta(seconds=2)
    assert store.get_message_by_uid("uid-1") == stored[1]
    assert store.get_message_by_uid("nope") is None


def test_messages_are_read_backwards_from_the_newest(store: Store) -> None:
    ticket = store.insert_ticket(new_ticket())
    stored = []
    for n in range(7):
        stored.append(
            store.insert_message(new_message(ticket.id, f"uid-{n}"), expected_version=ticket.version + n, changes={})
        )
    ids = [m.id for m in stored]

    def listed(**kwargs: object) -> list[int]:
        return [m.id for m in store.list_messages(ticket.id, **kwargs)]  # type: ignore[arg-type]

    assert listed(limit=3, newest=True) == ids[4:]
    assert listed(before_id=ids[4], limit=3, newest=True) == ids[1:4]
    assert listed(before_id=ids[1], limit=3, newest=True) == ids[:1]
    assert listed(before_id=ids[0], limit=3, newest=True) == []
    assert listed(before_id=ids[4]) == ids[:4]
    assert listed(before_id=ids[4], limit=2) == ids[:2]
    assert listed(after_id=ids[1], before_id=ids[5]) == ids[2:5]
    assert listed(after_id=ids[1], before_id=ids[5], limit=2, newest=True) == ids[3:5]
    assert listed(newest=True) == ids
    assert store.list_messages(ticket.id, limit=2, newest=True) == stored[5:]


def test_duplicate_message_uid_is_refused_and_writes_nothing(store: Store) -> None:
    ticket = store.insert_ticket(new_ticket())
    store.insert_message(new_message(ticket.id, "same"), expected_version=ticket.version, changes={})
    before = snapshot(store)
    with pytest.raises(DuplicateMessage):
        store.insert_message(new_message(ticket.id, "same"), expected_version=ticket.version + 1, changes={})
    assert snapshot(store) == before


def test_mark_read_marks_one_side_only(store: Store) -> None:
    ticket = store.insert_ticket(new_ticket())
    version = ticket.version
    for n, sender in enumerate([SenderType.USER, SenderType.USER, SenderType.ADMIN]):
        store.insert_message(new_message(ticket.id, f"m{n}", sender), expected_version=version, changes={})
        version += 1
    assert store.mark_read(ticket.id, SenderType.USER) == 2
    assert store.mark_read(ticket.id, SenderType.USER) == 0
    reads = {m.uid: m.is_read for m in store.list_messages(ticket.id)}
    assert reads == {"m0": True, "m1": True, "m2": False}
    current = store.get_ticket(ticket.id)
    assert current is not None
    assert (current.unread_from_user, current.unread_from_admin) == (0, 1)
    assert store.statistics().unread_messages == 0


def test_list_filters_paginates_and_counts(store: Store) -> None:
    specs = [
        (1, Priority.LOW, Category.BILLING, None, "Refund for order"),
        (1, Priority.HIGH, Category.FLIGHT, 7, "Flight delayed"),
        (2, Priority.HIGH, Category.BILLING, 7, "Double charge"),
        (3, Priority.URGENT, Category.ORDER, 8, "Order missing"),
        (2, Priority.MEDIUM, Category.GENERAL, None, "Hello there"),
    ]
    ids = []
    for n, (user, priority, category, assignee, subject) in enumerate(specs):
        ticket = store.insert_ticket(
            new_ticket(
                f"TKT-0000000{n}",
                user_id=user,
                priority=priority,
                category=category,
                assigned_to=assignee,
                subject=subject,
            )
        )
        ids.append(ticket.id)

    def listed(**filters: object) -> list[int]:
        items, total = store.list_tickets(TicketQuery(**filters))  # type: ignore[arg-type]
        assert total == len(items)
        return [t.id for t in items]

    assert listed() == ids[::-1]
    assert listed(user_id=2) == [ids[4], ids[2]]
    assert listed(priority=Priority.HIGH) == [ids[2], ids[1]]
    assert listed(category=Category.BILLING) == [ids[2], ids[0]]
    assert listed(assigned_to=7) == [ids[2], ids[1]]
    assert listed(unassigned=True) == [ids[4], ids[0]]
    assert listed(status=TicketStatus.OPEN, priority=Priority.URGENT) == [ids[3]]
    assert listed(q="CHARGE") == [ids[2]]
    assert listed(q="tkt-00000003") == [ids[3]]
    assert listed(q="nothing like it") == []
    # Search itself: tests/test_search_contract.py.
    page, total = store.list_tickets(TicketQuery(page=2, per_page=2))
    assert [t.id for t in page] == [ids[2], ids[1]] and total == 5
    page, total = store.list_tickets(TicketQuery(page=9, per_page=2))
    assert page == [] and total == 5


def test_statistics_count_every_dimension(store: Store) -> None:
    empty = store.statistics()
    assert empty.total_tickets == 0 and set(empty.by_status) == {s.value for s in TicketStatus}
    a = store.insert_ticket(new_ticket("TKT-00000001", priority=Priority.HIGH, category=Category.FLIGHT))
    store.insert_ticket(new_ticket("TKT-00000002"))
    store.update_ticket(a.id, expected_version=a.version, changes={"status": TicketStatus.CLOSED})
    store.insert_message(new_message(a.id, "x"), expected_version=a.version + 1, changes={})
    stats = store.statistics()
    assert stats.total_tickets == 2
    assert stats.by_status == {"open": 1, "in_progress": 0, "resolved": 0, "closed": 1}
    assert stats.by_priority == {"low": 0, "medium": 1, "high": 1, "urgent": 0}
    assert stats.by_category == {"general": 1, "technical": 0, "billing": 0, "flight": 1, "order": 0}
    assert stats.unread_messages == 1


def test_resolved_before_finds_old_resolved_tickets_oldest_first(store: Store) -> None:
    made = []
    for n, age in enumerate([10, 3, 20]):
        ticket = store.insert_ticket(new_ticket(f"TKT-0000000{n}"))
        made.append(
            store.update_ticket(
                ticket.id,
                expected_version=ticket.version,
                changes={"status": TicketStatus.RESOLVED, "resolved_at": T0 - timedelta(days=age)},
            )
        )
    store.insert_ticket(new_ticket("TKT-00000009"))
    due = store.resolved_before(T0 - timedelta(days=7), limit=10)
    assert [t.id for t in due] == [made[2].id, made[0].id]
    assert [t.id for t in store.resolved_before(T0 - timedelta(days=7), limit=1)] == [made[2].id]


def test_event_log_has_one_entry_per_write(store: Store) -> None:
    a = store.insert_ticket(new_ticket("TKT-00000001", user_id=1))
    b = store.insert_ticket(new_ticket("TKT-00000002", user_id=2))
    message = store.insert_message(new_message(a.id, "e1"), expected_version=a.version, changes={})
    store.update_ticket(b.id, expected_version=b.version, changes={"priority": Priority.LOW})
    store.mark_read(a.id, SenderType.USER)
    events = store.events_after(0)
    assert [(e.type, e.ticket_id) for e in events] == [
        (EventType.TICKET_CREATED, a.id),
        (EventType.TICKET_CREATED, b.id),
        (EventType.MESSAGE_CREATED, a.id),
        (EventType.TICKET_UPDATED, b.id),
    ]
    assert events[2].message_id == message.id
    assert [e.id for e in events] == sorted({e.id for e in events})
    assert store.events_after(events[1].id) == events[2:]
    assert [e.ticket_id for e in store.events_after(0, user_id=2)] == [b.id, b.id]
    assert store.events_after(0, limit=2) == events[:2]
    assert store.events_after(events[-1].id) == []


def test_last_event_id_is_the_newest_entry_of_the_log(store: Store) -> None:
    assert store.last_event_id() == 0
    a = store.insert_ticket(new_ticket("TKT-00000001"))
    assert store.last_event_id() == store.events_after(0)[-1].id
    store.insert_message(new_message(a.id, "e1"), expected_version=a.version, changes={})
    store.mark_read(a.id, SenderType.USER)  # logs nothing
    events = store.events_after(0)
    assert len(events) == 2
    assert store.last_event_id() == events[-1].id
    assert store.events_after(store.last_event_id()) == []


def test_a_new_stream_starts_from_one_query_not_a_walk_through_the_log(store: Store) -> None:
    for number in range(3):
        store.insert_ticket(new_ticket(f"TKT-0000000{number + 1}"))
    watched = FaultyStore(store)
    assert latest_event_id(watched) == store.events_after(0)[-1].id  # type: ignore[arg-type]
    assert watched.calls == ["last_event_id"]


# -- the desk's rules over the store -----------------------------------------


def test_created_ticket_has_a_fresh_number_and_defaults(desk: SupportDesk) -> None:
    ticket = open_ticket(desk)
    assert TICKET_NUMBER_PATTERN.match(ticket.ticket_number)
    assert (ticket.status, ticket.priority, ticket.category, ticket.user_id) == (
        TicketStatus.OPEN,
        Priority.MEDIUM,
        Category.GENERAL,
        1,
    )
    numbers = {open_ticket(desk).ticket_number for _ in range(30)} | {ticket.ticket_number}
    assert len(numbers) == 31


def test_ticket_numbers_are_found_however_a_person_types_them(store: Store, clock: FakeClock) -> None:
    desk = SupportDesk(store, clock=clock, number_generator=lambda: "TKT-0A1B2C3D")
    ticket = open_ticket(desk)
    for typed in ["TKT-0A1B2C3D", "tkt-0a1b2c3d", "TKT-OA1B2C3D", "tkt-oaib2c3d", "TKT-0AlB2C3D", " TKT-0A1B2C3D "]:
        assert desk.get_ticket(ADMIN, typed).id == ticket.id, typed
    assert desk.get_ticket(ADMIN, str(ticket.id)).id == ticket.id
    with pytest.raises(TicketNotFound):
        desk.get_ticket(ADMIN, "TKT-0A1B2C3E")


def test_legacy_ticket_numbers_are_found_as_stored(store: Store) -> None:
    store.insert_ticket(new_ticket("TKT-20240101-ol"))
    desk = SupportDesk(store)
    assert desk.get_ticket(ADMIN, "TKT-20240101-ol").ticket_number == "TKT-20240101-ol"


def test_number_collision_draws_again(store: Store, clock: FakeClock) -> None:
    draws = iter(["TKT-AAAAAAAA", "TKT-AAAAAAAA", "TKT-AAAAAAAA", "TKT-BBBBBBBB"])
    desk = SupportDesk(store, clock=clock, number_generator=lambda: next(draws))
    first = open_ticket(desk)
    second = open_ticket(desk)
    assert (first.ticket_number, second.ticket_number) == ("TKT-AAAAAAAA", "TKT-BBBBBBBB")
    assert len(all_tickets(store)) == 2


def test_read_state_follows_the_recipient(desk: SupportDesk) -> None:
    ticket = open_ticket(desk)
    desk.post_message(ALICE, ticket.id, "first question")
    desk.post_message(ALICE, ticket.id, "second question")
    assert desk.list_tickets(ADMIN).items[0].unread_count == 2
    assert desk.list_user_tickets(ALICE, 1).items[0].unread_count == 0
    assert desk.statistics(ADMIN).unread_messages == 2

    thread = desk.get_ticket(ALICE, ticket.id)  # the owner opening it reads nothing of their own
    assert [m.is_read for m in thread.messages] == [False, False]
    thread = desk.get_ticket(ADMIN, ticket.ticket_number)
    assert [m.is_read for m in thread.messages] == [True, True]
    assert thread.unread_count == 0 and thread.message_count == 2
    assert desk.statistics(ADMIN).unread_messages == 0

    desk.post_message(ADMIN, ticket.id, "an answer")
    assert desk.list_user_tickets(ALICE, 1).items[0].unread_count == 1
    assert desk.get_ticket(ADMIN, ticket.id).messages[-1].is_read is False
    thread = desk.get_ticket(ALICE, ticket.id)
    assert [m.is_read for m in thread.messages] == [True, True, True]
    assert thread.unread_count == 0


def test_an_opened_thread_is_paged_from_the_newest_and_read_whole(store: Store, clock: FakeClock) -> None:
    desk = SupportDesk(store, clock=clock, limits=Limits(thread_messages=3, thread_messages_max=4))
    ticket = open_ticket(desk)
    for n in range(8):
        desk.post_message(ALICE, ticket.id, f"question {n}")
    before = snapshot(store)
    with pytest.raises(ValidationError):
        desk.get_ticket(ADMIN, ticket.id, limit=5)
    with pytest.raises(ValidationError):
        desk.get_ticket(ADMIN, ticket.id, before_id="x")
    assert snapshot(store) == before  # a refused page marks nothing read

    newest = desk.get_ticket(ADMIN, ticket.id)
    assert [m.message for m in newest.messages] == [f"question {n}" for n in (5, 6, 7)]
    assert newest.has_more_before is True
    assert (newest.message_count, newest.unread_count) == (8, 0)
    older = desk.get_ticket(ADMIN, ticket.id, before_id=newest.messages[0].id, limit=4)
    assert [m.message for m in older.messages] == [f"question {n}" for n in (1, 2, 3, 4)]
    assert older.has_more_before is True
    oldest = desk.get_ticket(ADMIN, ticket.id, before_id=str(older.messages[0].id))
    assert [m.message for m in oldest.messages] == ["question 0"] and oldest.has_more_before is False
    # Opening the newest page read every message of the ticket, not only the page shown.
    assert all(m.is_read for m in store.list_messages(ticket.id))
    assert desk.statistics(ADMIN).unread_messages == 0


def test_lifecycle_through_the_desk(desk: SupportDesk, clock: FakeClock) -> None:
    ticket = open_ticket(desk)
    progressing = desk.change_status(ADMIN, ticket.id, "in_progress", assigned_to=100)
    assert (progressing.status, progressing.assigned_to, progressing.resolved_at) == ("in_progress", 100, None)
    clock.advance(minutes=3)
    resolved = desk.change_status(ADMIN, ticket.id, "resolved")
    assert resolved.resolved_at == clock.now and resolved.updated_at == clock.now
    again = desk.change_status(ADMIN, ticket.id, "resolved")
    assert again.resolved_at == resolved.resolved_at

    clock.advance(minutes=1)
    desk.post_message(ALICE, ticket.id, "it broke again")
    reopened = desk.get_ticket(ADMIN, ticket.id)
    assert (reopened.status, reopened.resolved_at) == (TicketStatus.OPEN, None)

    desk.change_status(ADMIN, ticket.id, "closed")
    with pytest.raises(TicketClosed):
        desk.post_message(ALICE, ticket.id, "hello?")
    with pytest.raises(TicketClosed):
        desk.post_message(ADMIN, ticket.id, "hello?")
    with pytest.raises(TicketClosed):
        desk.change_status(ADMIN, ticket.id, "open")
    assert desk.change_status(ADMIN, ticket.id, "closed", assigned_to=101).assigned_to == 101
    assert desk.get_ticket(ADMIN, ticket.id).message_count == 1

    history = [
        (c.field, c.old_value, c.new_value, c.changed_by_kind, c.changed_by) for c in desk.history(ADMIN, ticket.id)
    ]
    assert history == [
        ("status", "open", "in_progress", ActorKind.ADMIN, 100),
        ("assigned_to", None, "100", ActorKind.ADMIN, 100),
        ("status", "in_progress", "resolved", ActorKind.ADMIN, 100),
        ("status", "resolved", "open", ActorKind.USER, 1),
        ("status", "open", "closed", ActorKind.ADMIN, 100),
        ("assigned_to", "100", "101", ActorKind.ADMIN, 100),
    ]


def test_admin_message_does_not_reopen_a_resolved_ticket(desk: SupportDesk) -> None:
    ticket = open_ticket(desk)
    desk.change_status(ADMIN, ticket.id, "resolved")
    desk.post_message(ADMIN, ticket.id, "glad it is fixed")
    assert desk.get_ticket(ADMIN, ticket.id).status is TicketStatus.RESOLVED


def test_priority_and_assignment_are_recorded(desk: SupportDesk, clock: FakeClock) -> None:
    ticket = open_ticket(desk)
    clock.advance(seconds=30)
    assert desk.set_priority(ADMIN, ticket.id, "urgent").priority is Priority.URGENT
    assert desk.assign(OTHER_ADMIN, ticket.id, 101).assigned_to == 101
    assert desk.assign(OTHER_ADMIN, ticket.id, None).assigned_to is None
    unchanged = desk.set_priority(ADMIN, ticket.id, "urgent")
    assert unchanged.updated_at == clock.now
    changes = desk.history(ADMIN, ticket.id)
    assert [(c.field, c.new_value, c.changed_by, c.changed_at) for c in changes] == [
        ("priority", "urgent", 100, clock.now),
        ("assigned_to", "101", 101, clock.now),
        ("assigned_to", None, 101, clock.now),
    ]


def test_auto_close_closes_only_old_resolved_tickets(desk: SupportDesk, clock: FakeClock) -> None:
    old, recent, open_one = open_ticket(desk), open_ticket(desk), open_ticket(desk)
    desk.change_status(ADMIN, old.id, "resolved")
    clock.advance(days=5)
    desk.change_status(ADMIN, recent.id, "resolved")
    clock.advance(days=3)
    assert [t.id for t in desk.close_resolved(dry_run=True)] == [old.id]
    assert desk.get_ticket(ADMIN, old.id).status is TicketStatus.RESOLVED
    closed = desk.close_resolved()
    assert [t.id for t in closed] == [old.id]
    assert desk.close_resolved() == []
    statuses = {t.id: t.status for t in desk.list_tickets(ADMIN).items}
    assert statuses == {old.id: "closed", recent.id: "resolved", open_one.id: "open"}
    [*_, last] = desk.history(ADMIN, old.id)
    assert (last.new_value, last.changed_by_kind) == ("closed", ActorKind.SYSTEM)
    assert [t.id for t in desk.close_resolved(older_than=timedelta(days=2))] == [recent.id]


def test_users_see_only_their_own_tickets(desk: SupportDesk) -> None:
    mine = open_ticket(desk, ALICE)
    theirs = open_ticket(desk, BOB)
    assert [t.id for t in desk.list_user_tickets(ALICE, 1).items] == [mine.id]
    for call in (
        lambda: desk.get_ticket(ALICE, theirs.id),
        lambda: desk.get_ticket(ALICE, theirs.ticket_number),
        lambda: desk.post_message(ALICE, theirs.id, "hi"),
        lambda: desk.messages_after(ALICE, theirs.id, 0),
    ):
        with pytest.raises(TicketNotFound):
            call()
    for call in (
        lambda: desk.list_user_tickets(ALICE, 2),
        lambda: desk.create_ticket(ALICE, user_id=2, subject="s", description="d"),
        lambda: desk.change_status(ALICE, mine.id, "closed"),
        lambda: desk.list_tickets(ALICE),
        lambda: desk.statistics(ALICE),
        lambda: desk.history(ALICE, mine.id),
    ):
        with pytest.raises(Forbidden):
            call()
    assert desk.get_ticket(BOB, theirs.id).messages == []


def test_messages_after_returns_only_newer(desk: SupportDesk) -> None:
    ticket = open_ticket(desk)
    first = desk.post_message(ALICE, ticket.id, "one")
    second = desk.post_message(ADMIN, ticket.id, "two")
    third = desk.post_message(ALICE, ticket.id, "three")
    assert desk.messages_after(ALICE, ticket.id, first.id) == [second, third]
    assert desk.messages_after(ADMIN, ticket.ticket_number, "0") == [first, second, third]
    assert desk.messages_after(ADMIN, ticket.id, third.id) == []


def test_client_message_id_makes_a_retry_idempotent(desk: SupportDesk) -> None:
    ticket = open_ticket(desk)
    first = desk.post_message(ALICE, ticket.id, "sent twice", client_message_id="c-1")
    again = desk.post_message(ALICE, ticket.id, "sent twice", client_message_id="c-1")
    assert again == first
    other_sender = desk.post_message(ADMIN, ticket.id, "same client id, other sender", client_message_id="c-1")
    assert other_sender.id != first.id
    assert desk.get_ticket(ADMIN, ticket.id).message_count == 2


def test_events_are_announced_after_each_write(desk: SupportDesk) -> None:
    seen: list[tuple[EventType, tuple[str, ...]]] = []
    desk.subscribe(lambda event: seen.append((event.type, event.changed)))

    def broken(event: object) -> None:
        raise RuntimeError("a listener that fails must not fail the write")

    desk.subscribe(broken)
    ticket = open_ticket(desk)
    desk.post_message(ALICE, ticket.id, "hi")
    desk.change_status(ADMIN, ticket.id, "resolved")
    desk.post_message(ALICE, ticket.id, "again")
    desk.change_status(ADMIN, ticket.id, "resolved")
    desk.change_status(ADMIN, ticket.id, "resolved")  # no change, no event
    assert seen == [
        (EventType.TICKET_CREATED, ()),
        (EventType.MESSAGE_CREATED, ()),
        (EventType.TICKET_UPDATED, ("status", "resolved_at")),
        (EventType.MESSAGE_CREATED, ("status", "resolved_at")),
        (EventType.TICKET_UPDATED, ("status", "resolved_at")),
    ]
    assert Counter(e.type for e in desk.store.events_after(0)) == {
        EventType.TICKET_CREATED: 1,
        EventType.MESSAGE_CREATED: 2,
        EventType.TICKET_UPDATED: 2,
    }


def test_two_admins_at_once_lose_no_update(make_store: object, clock: FakeClock) -> None:
    store = make_store()  # type: ignore[operator]
    desk = SupportDesk(store, clock=clock, update_attempts=200)
    ticket = open_ticket(desk)
    errors: list[BaseException] = []
    priorities = ["low", "high", "urgent", "medium"]

    def work(admin_id: int) -> None:
        try:
            for n in range(10):
                desk.set_priority(Actor.admin(admin_id), ticket.id, priorities[(admin_id + n) % 4])
                desk.post_message(Actor.admin(admin_id), ticket.id, f"reply {n}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(admin_id,)) for admin_id in (100, 101, 102)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    final = desk.get_ticket(ADMIN, ticket.id)
    assert final.message_count == 30
    changes = desk.history(ADMIN, ticket.id)
    # Every recorded change starts where the previous one ended: nothing was overwritten unseen.
    for before, after in itertools.pairwise(changes):
        assert after.old_value == before.new_value
    assert changes[-1].new_value == final.priority.value


def test_one_change_carries_one_instant(store: Store) -> None:
    """A clock that moves on every read: resolved_at, updated_at and the change record still agree."""
    ticks = iter(T0 + timedelta(microseconds=n) for n in range(10_000))
    desk = SupportDesk(store, clock=lambda: next(ticks))
    ticket = open_ticket(desk)
    resolved = desk.change_status(ADMIN, ticket.id, "resolved", assigned_to=100)
    assert resolved.resolved_at == resolved.updated_at
    changes = desk.history(ADMIN, ticket.id)
    assert [c.changed_at for c in changes] == [resolved.updated_at] * 2
    desk.post_message(ALICE, ticket.id, "still broken")
    reopened = desk.get_ticket(ADMIN, ticket.id)
    assert desk.history(ADMIN, ticket.id)[-1].changed_at == reopened.updated_at
