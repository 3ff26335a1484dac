"""Internal notes and tags written during an outage reach the primary once, in order, with their ids.

The fallback store journals a note and a tag change like any other write, behind the
ticket and messages they belong to; the replay copies them in order, finds what an
interrupted or answer-lost replay already wrote, and the primary ends as the fallback is.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tenacity import Retrying, stop_after_attempt, wait_none

from supportchat import Actor, SupportDesk
from supportchat.models import EventType
from supportchat.stores import FallbackStore, InMemoryStore, Journal
from supportchat.stores._breaker import CircuitBreaker

from .faults import FaultyStore, snapshot

USER = Actor.user(7)
ADMIN = Actor.admin(1)


class World:
    def __init__(self, tmp_path: Path) -> None:
        self.primary = FaultyStore(InMemoryStore())
        self.fallback = FaultyStore(InMemoryStore())
        self.store = FallbackStore(
            self.primary,  # type: ignore[arg-type]
            self.fallback,  # type: ignore[arg-type]
            journal=tmp_path / "journal.sqlite",
            retry=Retrying(stop=stop_after_attempt(2), wait=wait_none(), sleep=lambda _s: None),
            breaker=CircuitBreaker(cool_down=3600),
            auto_replay=False,
        )
        self.desk = SupportDesk(self.store)

    def outage(self) -> dict[str, object]:
        """Notes and tags on a ticket from before the outage and on one opened during it."""
        before = self.desk.create_ticket(USER, subject="Before", description="the outage")
        self.desk.add_note(ADMIN, before.id, "noted before the outage")
        self.primary.down = True
        during = self.desk.create_ticket(USER, subject="During", description="the outage")
        told = [
            self.desk.add_note(ADMIN, before.id, "first note in the outage"),
            self.desk.add_note(ADMIN, during.id, "a note on a ticket the primary has not seen"),
        ]
        self.desk.set_tags(ADMIN, before.id, ["vip", "refund"])
        self.desk.post_message(ADMIN, during.id, "we are on it")
        self.desk.add_tags(ADMIN, during.id, ["Late delivery"])
        self.desk.remove_tags(ADMIN, before.id, ["refund"])
        told.append(self.desk.add_note(ADMIN, during.id, "second note there"))
        self.desk.set_tags(ADMIN, during.id, ["bug_42"])
        return {"before": before.id, "during": during.id, "notes": told}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    made = World(tmp_path)
    yield made
    made.store.journal.close()


def _assert_primary_holds_the_outage(world: World, told: dict[str, object]) -> None:
    primary = world.primary.inner
    assert snapshot(primary) == snapshot(world.fallback.inner)
    before, during = int(told["before"]), int(told["during"])  # type: ignore[call-overload]
    # Every note once, under the id its writer was given, in the order written.
    assert [n.note for n in primary.list_notes(before)] == ["noted before the outage", "first note in the outage"]
    assert [n.note for n in primary.list_notes(during)] == [
        "a note on a ticket the primary has not seen",
        "second note there",
    ]
    notes = [n for t in (before, during) for n in primary.list_notes(t)]
    assert {n.id for n in told["notes"]} <= {n.id for n in notes}  # type: ignore[attr-defined]
    assert primary.ticket_tags([before, during]) == {before: ("vip",), during: ("bug_42",)}
    assert primary.statistics().by_tag == {"bug_42": 1, "vip": 1}
    # The record of changes tells the tag changes in order, each once.
    assert [(c.old_value, c.new_value) for c in primary.list_changes(during) if c.field == "tags"] == [
        (None, "late-delivery"),
        ("late-delivery", "bug_42"),
    ]
    assert [c.new_value for c in primary.list_changes(before) if c.field == "tags"] == ["refund vip", "vip"]
    kinds = [e.type for e in primary.events_after(0, limit=1000)]
    assert kinds.count(EventType.NOTE_CREATED) == 4 and kinds.count(EventType.TAGS_CHANGED) == 4


def test_notes_and_tags_of_an_outage_are_replayed_once_in_order(world: World) -> None:
    told = world.outage()
    assert world.store.journal.pending_count == 9
    world.primary.recover()
    report = world.store.replay()
    assert report.complete and report.applied == 9 and report.conflicts == 0
    _assert_primary_holds_the_outage(world, told)
    assert world.store.replay().applied == 0  # nothing twice


def test_a_replay_that_fails_half_way_resumes_without_duplicating_a_note_or_a_tag_change(world: World) -> None:
    told = world.outage()
    world.primary.recover()
    world.primary.fail_after(9)
    first = world.store.replay()
    assert first.error is not None and 0 < first.remaining < 9
    world.primary.recover()
    assert world.store.replay().complete
    _assert_primary_holds_the_outage(world, told)


def test_notes_and_tags_whose_answer_was_lost_are_not_applied_twice(world: World) -> None:
    told = world.outage()
    world.primary.recover()
    world.primary.lose_answers = True
    for _ in range(60):
        if not world.store.journal.pending_count:
            break
        world.store.replay()
    assert world.store.journal.pending_count == 0 and world.store.state().conflicts == 0
    _assert_primary_holds_the_outage(world, told)


def test_the_primary_serving_again_mirrors_notes_and_tags_into_the_fallback(world: World) -> None:
    ticket = world.desk.create_ticket(USER, subject="Up", description="all along")
    note = world.desk.add_note(ADMIN, ticket.id, "the primary was up")
    world.desk.set_tags(ADMIN, ticket.id, ["vip"])
    assert world.store.journal.pending_count == 0
    assert [n.id for n in world.fallback.inner.list_notes(ticket.id)] == [note.id]
    assert world.fallback.inner.ticket_tags([ticket.id]) == {ticket.id: ("vip",)}


def test_a_journal_made_before_notes_gains_note_ids(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE id_counters (kind TEXT PRIMARY KEY CHECK (kind IN ('ticket', 'message')),"
        " next_id INTEGER NOT NULL);"
        "INSERT INTO id_counters VALUES ('ticket', 1000000005), ('message', 1000000009);"
    )
    old.close()
    journal = Journal(path)
    try:
        with journal.recording() as recording:
            assert recording.allocate("ticket") == 1000000005  # the old counters are kept
            assert recording.allocate("note") == journal.id_range.start
    finally:
        journal.close()


def test_two_equal_notes_written_at_one_instant_both_reach_the_primary(tmp_path: Path) -> None:
    world = World(tmp_path)
    try:
        instant = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
        desk = SupportDesk(world.store, clock=lambda: instant)
        ticket = desk.create_ticket(USER, subject="Twice", description="the same words")
        world.primary.down = True
        first, second = (desk.add_note(ADMIN, ticket.id, "call back") for _ in range(2))
        world.primary.recover()
        assert world.store.replay().complete
        assert [n.id for n in world.primary.inner.list_notes(ticket.id)] == [first.id, second.id]
    finally:
        world.store.journal.close()
