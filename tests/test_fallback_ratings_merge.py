"""Ratings and merges made while the primary is down reach it after recovery: once, in order (spec §9, §12)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tenacity import Retrying, stop_after_attempt, wait_none

from supportchat import Actor, SupportDesk
from supportchat.stores import FallbackStore, InMemoryStore
from supportchat.stores._breaker import CircuitBreaker

from .conftest import FakeClock
from .faults import FaultyStore, Witness, snapshot

ADMIN = Actor.admin(1)
ANA = Actor.user(7)


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@pytest.fixture
def primary() -> FaultyStore:
    return FaultyStore(InMemoryStore())


@pytest.fixture
def fallback() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
def store(tmp_path: Path, primary: FaultyStore, fallback: InMemoryStore, ticks: Ticks) -> Iterator[FallbackStore]:
    store = FallbackStore(
        primary,
        fallback,
        journal=tmp_path / "journal.sqlite",
        retry=Retrying(stop=stop_after_attempt(2), wait=wait_none(), sleep=lambda _s: None),
        breaker=CircuitBreaker(cool_down=10, clock=ticks),
    )
    yield store
    store.journal.close()


@pytest.fixture
def desk(store: FallbackStore, clock: FakeClock) -> SupportDesk:
    return SupportDesk(store, clock=clock)


def _outage(desk: SupportDesk, before: tuple[int, int]) -> dict[str, int]:
    """While the primary is down: rate, reopen, rate again, merge; a ticket made in the outage merged too."""
    rated, kept = before
    desk.rate(ANA, rated, 5, comment="primera")
    desk.post_message(ANA, rated, "otra vez")  # reopens: a second cycle
    desk.change_status(ADMIN, rated, "resolved", assigned_to=2)
    desk.rate(ANA, rated, 2)
    during = desk.create_ticket(ANA, subject="Nuevo", description="Durante el corte")
    desk.post_message(ANA, during.id, "hola")
    desk.merge(ADMIN, during.ticket_number, kept)
    desk.merge(ADMIN, rated, kept)
    desk.post_message(ANA, during.id, "after both merges")  # reaches the surviving ticket
    return {"rated": rated, "kept": kept, "during": during.id}


def _before(desk: SupportDesk) -> tuple[int, int]:
    rated = desk.create_ticket(ANA, subject="Pago", description="Doble cobro")
    kept = desk.create_ticket(ANA, subject="Reembolso", description="Pedido")
    desk.post_message(ANA, rated.id, "¿novedades?")
    desk.post_message(ADMIN, kept.id, "lo vemos")
    desk.change_status(ADMIN, rated.id, "resolved", assigned_to=1)
    return rated.id, kept.id


def test_outage_ratings_and_merges_are_replayed_once_in_order(
    desk: SupportDesk, store: FallbackStore, primary: FaultyStore, fallback: InMemoryStore, ticks: Ticks
) -> None:
    witness = Witness()
    desk.subscribe(witness)
    before = _before(desk)
    primary.down = True
    ids = _outage(desk, before)
    told = desk.get_ticket(ADMIN, ids["kept"])
    assert store.journal.pending_count > 0
    assert primary.inner.list_ratings(ids["rated"]) == []  # nothing reached the primary yet

    primary.recover()
    ticks.now += 10
    report = store.replay()
    assert report.complete and report.conflicts == 0 and report.already_there == 0
    assert store.state().serving == "primary"
    assert snapshot(primary.inner) == snapshot(fallback)
    ratings = primary.inner.list_ratings(ids["rated"])
    assert [(r.cycle, r.score, r.agent_id) for r in ratings] == [(1, 5, 1), (2, 2, 2)]
    for source in (ids["rated"], ids["during"]):
        merged = primary.inner.get_ticket(source)
        assert merged is not None and merged.merged_into == ids["kept"] and merged.message_count == 0
    survivor = primary.inner.get_ticket(ids["kept"])
    assert survivor is not None and survivor.message_count == len(told.messages)
    assert [m.id for m in primary.inner.list_messages(ids["kept"])] == [m.id for m in told.messages]
    assert [m.id for m in told.messages] == sorted(m.id for m in told.messages)
    witness.check(primary.inner)
    # Once: a second replay finds nothing to do, and the primary serves the merged lookups.
    again = store.replay()
    assert (again.applied, again.already_there, again.remaining) == (0, 0, 0)
    primary.calls.clear()
    assert desk.get_ticket(ANA, ids["during"]).id == ids["kept"]
    assert "get_ticket" in primary.calls


def test_ratings_and_merges_whose_answer_was_lost_are_not_applied_twice(
    desk: SupportDesk, store: FallbackStore, primary: FaultyStore, fallback: InMemoryStore, ticks: Ticks
) -> None:
    before = _before(desk)
    primary.down = True
    ids = _outage(desk, before)
    primary.recover()
    # Every replayed write reaches the primary but its answer is lost: the next replay finds it there.
    primary.lose_answers = True
    rounds = 0
    while store.journal.pending_count and rounds < 60:
        store.replay()
        rounds += 1
    assert store.journal.pending_count == 0 and store.state().conflicts == 0
    assert snapshot(primary.inner) == snapshot(fallback)
    assert [r.cycle for r in primary.inner.list_ratings(ids["rated"])] == [1, 2]


def test_a_rating_the_primary_holds_differently_is_parked_not_doubled(
    desk: SupportDesk, store: FallbackStore, primary: FaultyStore
) -> None:
    rated, _kept = _before(desk)
    primary.down = True
    desk.rate(ANA, rated, 5)
    # Meanwhile another process rated the same cycle on the primary directly.
    ticket = primary.inner.get_ticket(rated)
    assert ticket is not None
    journalled = store.fallback.list_ratings(rated)[0]
    primary.inner.insert_rating(journalled.model_copy(update={"score": 1}), expected_version=ticket.version, changes={})
    primary.recover()
    report = store.replay()
    assert report.conflicts == 1 and report.remaining == 0
    assert [r.score for r in primary.inner.list_ratings(rated)] == [1]
