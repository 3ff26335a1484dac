"""Ratings and merges (spec §12) on every store in ``tests/stores.py``.

Half drives the store through the protocol (atomicity, uniqueness, counters,
the event log); half drives a desk over it, so that each backend carries the
rules end to end: ratings once per resolution cycle, and a merged ticket's id
and number reaching the ticket it was merged into.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from supportchat import ConcurrentUpdate, EventType, SupportDesk, TicketClosed, TicketStatus
from supportchat.errors import (
    AlreadyMerged,
    DifferentOwners,
    DuplicateRating,
    Forbidden,
    MergeIntoItself,
    RatingNotOpen,
    ValidationError,
)
from supportchat.models import ActorKind, NewTicketChange, Rating, SenderType
from supportchat.store import TicketMerge
from supportchat.stores import Store

from .conftest import FakeClock
from .helpers import ADMIN, ALICE, BOB, open_ticket, snapshot

T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


def _rating(ticket_id: int, cycle: int = 1, score: int = 4) -> Rating:
    return Rating(ticket_id=ticket_id, cycle=cycle, score=score, comment="fine", user_id=1, agent_id=100, created_at=T0)


def _record(field: str, new: object) -> NewTicketChange:
    return NewTicketChange(
        field=field, old_value=None, new_value=str(new), changed_by_kind=ActorKind.ADMIN, changed_by=100, changed_at=T0
    )


# -- the protocol -----------------------------------------------------------------


def test_a_rating_is_stored_with_its_change_record_and_one_event(desk: SupportDesk, store: Store) -> None:
    ticket = open_ticket(desk)
    before = store.last_event_id()
    stored = store.insert_rating(
        _rating(ticket.id), expected_version=ticket.version, changes={"updated_at": T0}, history=[_record("rating", 4)]
    )
    assert stored == _rating(ticket.id)
    assert store.list_ratings(ticket.id) == [_rating(ticket.id)]
    assert [c.field for c in store.list_changes(ticket.id)] == ["rating"]
    events = store.events_after(before)
    assert [(e.type, e.ticket_id) for e in events] == [(EventType.TICKET_UPDATED, ticket.id)]
    after = store.get_ticket(ticket.id)
    assert after is not None and after.version == ticket.version + 1


def test_a_second_rating_of_a_cycle_and_a_stale_version_write_nothing(desk: SupportDesk, store: Store) -> None:
    ticket = open_ticket(desk)
    store.insert_rating(_rating(ticket.id), expected_version=ticket.version, changes={})
    current = store.get_ticket(ticket.id)
    assert current is not None
    before = snapshot(store)
    with pytest.raises(DuplicateRating):
        store.insert_rating(_rating(ticket.id, score=1), expected_version=current.version, changes={})
    with pytest.raises(ConcurrentUpdate):
        store.insert_rating(_rating(ticket.id, cycle=2), expected_version=ticket.version, changes={})
    assert snapshot(store) == before
    assert store.list_ratings(ticket.id) == [_rating(ticket.id)]
    store.insert_rating(_rating(ticket.id, cycle=2, score=2), expected_version=current.version, changes={})
    assert [(r.cycle, r.score) for r in store.list_ratings(ticket.id)] == [(1, 4), (2, 2)]


def test_a_merge_moves_messages_under_their_ids_with_the_counters(desk: SupportDesk, store: Store) -> None:
    older, newer = open_ticket(desk), open_ticket(desk)
    posted = [
        desk.post_message(ALICE, older.id, "first, in the older ticket"),
        desk.post_message(ALICE, newer.id, "second, in the newer ticket"),
        desk.post_message(ADMIN, older.id, "third, an answer in the older ticket"),
    ]
    source, target = store.get_ticket(older.id), store.get_ticket(newer.id)
    assert source is not None and target is not None
    before = store.last_event_id()
    stats = store.statistics()
    merged = store.merge_tickets(
        TicketMerge(
            source.id,
            target.id,
            source_version=source.version,
            target_version=target.version,
            source_changes={"status": TicketStatus.CLOSED, "updated_at": T0},
            target_changes={"updated_at": T0},
            source_history=(_record("merged_into", target.id),),
            target_history=(_record("merged_from", source.id),),
        )
    )
    assert merged.id == target.id and merged.version == target.version + 1
    assert (merged.message_count, merged.unread_from_user, merged.unread_from_admin) == (3, 2, 1)
    assert [m.id for m in store.list_messages(target.id)] == [m.id for m in posted]
    assert all(m.ticket_id == target.id for m in store.list_messages(target.id))
    assert store.list_messages(source.id) == []
    closed = store.get_ticket(source.id)
    assert closed is not None
    assert (closed.status, closed.merged_into, closed.message_count, closed.unread_from_user) == (
        TicketStatus.CLOSED,
        target.id,
        0,
        0,
    )
    assert [c.field for c in store.list_changes(source.id)] == ["merged_into"]
    assert [c.field for c in store.list_changes(target.id)] == ["merged_from"]
    events = store.events_after(before)
    assert sorted(e.ticket_id for e in events) == sorted([source.id, target.id])
    assert {e.type for e in events} == {EventType.TICKET_UPDATED}
    after = store.statistics()
    assert after.unread_messages == stats.unread_messages == 2
    assert after.by_status["closed"] == stats.by_status["closed"] + 1
    message = store.get_message_by_uid(posted[0].uid or "")
    assert message is not None and message.ticket_id == target.id


def test_a_merge_at_a_stale_version_writes_nothing(desk: SupportDesk, store: Store) -> None:
    source, target = open_ticket(desk), open_ticket(desk)
    desk.post_message(ALICE, source.id, "hello")
    fresh_source, fresh_target = store.get_ticket(source.id), store.get_ticket(target.id)
    assert fresh_source is not None and fresh_target is not None
    before = snapshot(store)
    for versions in ((source.version, fresh_target.version), (fresh_source.version, fresh_target.version + 5)):
        with pytest.raises(ConcurrentUpdate):
            store.merge_tickets(
                TicketMerge(
                    source.id,
                    target.id,
                    source_version=versions[0],
                    target_version=versions[1],
                    source_changes={"updated_at": T0},
                    target_changes={"updated_at": T0},
                )
            )
    assert snapshot(store) == before


# -- the desk over each store -----------------------------------------------------


def test_the_owner_rates_once_per_resolution(store: Store, clock: FakeClock) -> None:
    desk = SupportDesk(store, clock=clock)
    ticket = open_ticket(desk)
    with pytest.raises(RatingNotOpen) as not_yet:
        desk.rate(ALICE, ticket.id, 5)
    assert not_yet.value.details["reason"] == "not_resolved"
    desk.change_status(ADMIN, ticket.id, "resolved", assigned_to=100)
    with pytest.raises(Forbidden):
        desk.rate(ADMIN, ticket.id, 5)
    with pytest.raises(ValidationError):
        desk.rate(ALICE, ticket.id, 6)
    first = desk.rate(ALICE, ticket.ticket_number.lower(), "4", comment="  quick <script>x</script>  ")
    assert (first.cycle, first.score, first.agent_id, first.user_id) == (1, 4, 100, ALICE.id)
    assert first.comment == "quick < script>x</script>"
    with pytest.raises(RatingNotOpen) as twice:
        desk.rate(ALICE, ticket.id, 1)
    assert twice.value.details == {"reason": "already_rated", "cycle": 1}
    desk.post_message(ALICE, ticket.id, "it broke again")  # reopens: a new cycle
    desk.change_status(ADMIN, ticket.id, "closed", assigned_to=101)
    second = desk.rate(ALICE, ticket.id, 2)
    assert (second.cycle, second.agent_id) == (2, 101)
    thread = desk.get_ticket(ADMIN, ticket.id)
    assert thread.rating == second and thread.ratings == [first, second]
    assert [c.field for c in desk.history(ADMIN, ticket.id)].count("rating") == 2


def test_a_merged_tickets_lookups_reach_the_target(store: Store, clock: FakeClock) -> None:
    desk = SupportDesk(store, clock=clock)
    source, target = open_ticket(desk, subject="first"), open_ticket(desk, subject="second")
    desk.post_message(ALICE, source.id, "about my order")
    clock.advance(seconds=1)
    desk.post_message(ADMIN, target.id, "we are on it")
    merged = desk.merge(ADMIN, source.ticket_number, str(target.id))
    assert merged.id == target.id and merged.message_count == 2
    for ref in (source.id, str(source.id), source.ticket_number, source.ticket_number.lower()):
        for actor in (ADMIN, ALICE):
            assert desk.get_ticket(actor, ref).id == target.id
        assert [m.message for m in desk.messages_after(ALICE, ref)] == ["about my order", "we are on it"]
    with pytest.raises(Exception) as other:
        desk.get_ticket(BOB, source.id)
    assert getattr(other.value, "status", None) == 404
    reply = desk.post_message(ALICE, source.ticket_number, "thanks")
    assert reply.ticket_id == target.id
    desk.change_status(ADMIN, source.id, "resolved")
    assert desk.rate(ALICE, source.id, 5).ticket_id == target.id
    closed = store.get_ticket(source.id)
    assert closed is not None and closed.status is TicketStatus.CLOSED and closed.merged_into == target.id
    assert [c.field for c in store.list_changes(source.id)] == ["status", "merged_into"]
    assert "merged_from" in [c.field for c in store.list_changes(target.id)]
    assert store.statistics().by_status["closed"] == 1


def test_merges_are_refused_with_clear_codes(store: Store, clock: FakeClock) -> None:
    desk = SupportDesk(store, clock=clock)
    first, second, third = open_ticket(desk), open_ticket(desk), open_ticket(desk)
    bobs = open_ticket(desk, actor=BOB)
    closed = open_ticket(desk)
    desk.change_status(ADMIN, closed.id, "closed")
    with pytest.raises(Forbidden):
        desk.merge(ALICE, first.id, second.id)
    with pytest.raises(MergeIntoItself):
        desk.merge(ADMIN, first.id, first.ticket_number)
    with pytest.raises(DifferentOwners):
        desk.merge(ADMIN, first.id, bobs.id)
    with pytest.raises(TicketClosed):
        desk.merge(ADMIN, first.id, closed.id)
    desk.merge(ADMIN, first.id, second.id)
    with pytest.raises(AlreadyMerged):
        desk.merge(ADMIN, first.id, third.id)
    with pytest.raises(AlreadyMerged):
        desk.merge(ADMIN, third.id, first.id)
    assert [e.code for e in (MergeIntoItself("x"), DifferentOwners("x"), AlreadyMerged("x"))] == [
        "merge_into_itself",
        "different_owners",
        "already_merged",
    ]
    # A chain: the target merged on again; the first ticket follows both merges.
    desk.merge(ADMIN, second.id, third.id)
    assert desk.get_ticket(ALICE, first.ticket_number).id == third.id
    assert desk.get_ticket(ADMIN, first.id).message_count == 0
    assert {m.sender_type for m in store.list_messages(third.id)} <= {SenderType.USER, SenderType.ADMIN}


def _merge_at_once(desk: SupportDesk, first: int, second: int) -> list[object]:
    """Two admins merge ``first`` into ``second`` and ``second`` into ``first`` at the same moment."""
    start = threading.Barrier(2)
    outcomes: list[object] = []

    def merge(source: int, target: int) -> None:
        start.wait()
        try:
            outcomes.append(desk.merge(ADMIN, source, target).id)
        except AlreadyMerged as refused:
            outcomes.append(refused)

    workers = [threading.Thread(target=merge, args=pair) for pair in ((first, second), (second, first))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    return outcomes


def test_two_admins_merging_two_tickets_into_each_other_at_once_make_no_cycle(store: Store) -> None:
    desk = SupportDesk(store)
    for _ in range(3):
        first, second = open_ticket(desk), open_ticket(desk)
        outcomes = _merge_at_once(desk, first.id, second.id)
        assert sum(isinstance(o, AlreadyMerged) for o in outcomes) == 1 and len(outcomes) == 2
        stored = [store.get_ticket(first.id), store.get_ticket(second.id)]
        assert sorted(t.merged_into is None for t in stored if t is not None) == [False, True]
