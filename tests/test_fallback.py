"""FallbackStore against a fault-injecting InMemoryStore: routing, breaker, journal, replay."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_none

from supportchat import Actor, SupportDesk, TicketNotFound, ValidationError
from supportchat.errors import ConcurrentUpdate, DuplicateMessage, TicketNumberTaken
from supportchat.models import Category, MessageType, NewMessage, NewTicket, Priority, SenderType
from supportchat.stores import FallbackStore, IdRange, InMemoryStore, Journal
from supportchat.stores._breaker import BreakerState, CircuitBreaker

from .conftest import FakeClock
from .faults import FaultyStore, Witness, flapping, snapshot

USER = Actor.user(7)
ADMIN = Actor.admin(1)


class Ticks:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def no_wait_retry(attempts: int = 3) -> Retrying:
    return Retrying(stop=stop_after_attempt(attempts), wait=wait_none(), sleep=lambda _s: None)


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@pytest.fixture
def primary() -> FaultyStore:
    return FaultyStore(InMemoryStore())


@pytest.fixture
def fallback() -> FaultyStore:
    return FaultyStore(InMemoryStore())


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    return tmp_path / "journal.sqlite"


@pytest.fixture
def make_fallback_store(
    primary: FaultyStore, fallback: FaultyStore, journal_path: Path, ticks: Ticks
) -> Iterator[Callable[..., FallbackStore]]:
    opened: list[FallbackStore] = []

    def make(**options: object) -> FallbackStore:
        options.setdefault("retry", no_wait_retry())
        options.setdefault("breaker", CircuitBreaker(cool_down=10, clock=ticks))
        options.setdefault("journal", journal_path)
        store = FallbackStore(primary, fallback, **options)  # type: ignore[arg-type]
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.journal.close()


@pytest.fixture
def store(make_fallback_store: Callable[..., FallbackStore]) -> FallbackStore:
    return make_fallback_store()


@pytest.fixture
def desk(store: FallbackStore, clock: FakeClock) -> SupportDesk:
    return SupportDesk(store, clock=clock)


def new_ticket(number: str = "TKT-0000000A", **fields: object) -> NewTicket:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    values: dict[str, object] = {
        "ticket_number": number,
        "user_id": 7,
        "subject": "s",
        "description": "d",
        "priority": Priority.MEDIUM,
        "category": Category.GENERAL,
        "created_at": now,
        "updated_at": now,
    }
    values.update(fields)
    return NewTicket(**values)  # type: ignore[arg-type]


def new_message(ticket_id: int, uid: str) -> NewMessage:
    return NewMessage(
        ticket_id=ticket_id,
        sender_id=7,
        sender_type=SenderType.USER,
        message="hello",
        message_type=MessageType.TEXT,
        file_url=None,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        uid=uid,
    )


def busy_ticket(desk: SupportDesk) -> int:
    """A ticket with a conversation, a status change and read messages; returns its id."""
    ticket = desk.create_ticket(USER, subject="Printer", description="It jams")
    desk.post_message(USER, ticket.id, "still jammed")
    desk.get_ticket(ADMIN, ticket.id)
    desk.change_status(ADMIN, ticket.id, "in_progress", assigned_to=1)
    desk.post_message(ADMIN, ticket.id, "on my way")
    desk.set_priority(ADMIN, ticket.id, "high")
    return ticket.id


# -- the primary is up -------------------------------------------------------


def test_a_healthy_primary_serves_and_every_write_is_mirrored(
    desk: SupportDesk, store: FallbackStore, primary: FaultyStore, fallback: FaultyStore
) -> None:
    busy_ticket(desk)
    assert snapshot(primary.inner) == snapshot(fallback.inner)
    assert snapshot(primary.inner)["statistics"].total_tickets == 1
    state = store.state()
    assert (state.serving, state.breaker, state.pending_writes, state.last_error) == (
        "primary",
        BreakerState.CLOSED,
        0,
        None,
    )
    reads = [c for c in fallback.calls if c.startswith(("get_", "list_", "statistics"))]
    # The fallback is only read to rebase mirrored writes, never to answer the caller.
    assert set(reads) <= {"get_ticket"}


def test_copying_a_row_the_fallback_already_holds_is_no_failure(store: FallbackStore, fallback: FaultyStore) -> None:
    # The very ticket is there already (copied before, say by a replay).
    fallback.inner.insert_ticket(new_ticket("TKT-0000000A", id=1))
    store.insert_ticket(new_ticket("TKT-0000000A"))
    assert store.state().mirror_failures == 0


@pytest.mark.parametrize(
    "held",
    [
        new_ticket("TKT-0000000Z", id=1),  # the primary's id under another number
        new_ticket("TKT-0000000A", id=99),  # the primary's number under another id
    ],
)
def test_copying_into_a_fallback_that_holds_another_row_there_is_counted(
    store: FallbackStore, primary: FaultyStore, fallback: FaultyStore, held: NewTicket
) -> None:
    fallback.inner.insert_ticket(held)
    stored = store.insert_ticket(new_ticket("TKT-0000000A"))
    assert stored.id == 1 and primary.inner.get_ticket(1) is not None
    assert store.state().mirror_failures == 1


def test_a_message_uid_the_fallback_holds_for_another_message_is_counted(
    store: FallbackStore, fallback: FaultyStore
) -> None:
    ticket = store.insert_ticket(new_ticket("TKT-0000000A"))
    other = store.insert_ticket(new_ticket("TKT-0000000B"))

    # The fallback already has the uid about to be used, on the other ticket.
    fallback.inner.insert_message(new_message(other.id, "u-1"), expected_version=0, changes={})
    store.insert_message(new_message(ticket.id, "u-1"), expected_version=0, changes={})
    assert store.state().mirror_failures == 1


@pytest.mark.parametrize(
    ("error", "operation"),
    [
        (TicketNumberTaken("taken"), "insert_ticket"),
        (DuplicateMessage("u1"), "insert_message"),
        (ConcurrentUpdate("moved"), "update_ticket"),
        (TicketNotFound("gone"), "update_ticket"),
        (ValidationError("status", "bad"), "update_ticket"),
    ],
)
def test_a_callers_fault_is_neither_retried_nor_served_by_the_fallback(
    store: FallbackStore, primary: FaultyStore, fallback: FaultyStore, error: Exception, operation: str
) -> None:
    ticket = store.insert_ticket(new_ticket())
    fallback.calls.clear()
    attempts: list[str] = []

    def refuse(*_args: object, **_kwargs: object) -> object:
        attempts.append(operation)
        raise error

    primary.inner = _Refusing(primary.inner, operation, refuse)  # type: ignore[assignment]
    with pytest.raises(type(error)):
        if operation == "insert_ticket":
            store.insert_ticket(new_ticket("TKT-0000000B"))
        elif operation == "insert_message":
            from supportchat.models import MessageType, NewMessage

            message = NewMessage(
                ticket_id=ticket.id,
                sender_id=7,
                sender_type=SenderType.USER,
                message="hi",
                message_type=MessageType.TEXT,
                file_url=None,
                created_at=ticket.created_at,
                uid="u1",
            )
            store.insert_message(message, expected_version=ticket.version, changes={})
        else:
            store.update_ticket(ticket.id, expected_version=ticket.version, changes={"priority": Priority.HIGH})
    assert attempts == [operation]
    assert fallback.calls == []
    assert store.state().breaker is BreakerState.CLOSED
    assert store.journal.pending_count == 0


class _Refusing:
    def __init__(self, inner: object, name: str, replacement: Callable[..., object]) -> None:
        self._inner, self._name, self._replacement = inner, name, replacement

    def __getattr__(self, name: str) -> object:
        return self._replacement if name == self._name else getattr(self._inner, name)


def test_a_transient_failure_is_retried_on_the_primary(store: FallbackStore, primary: FaultyStore) -> None:
    primary.schedule = lambda index, _name: index == 0
    ticket = store.insert_ticket(new_ticket())
    assert primary.calls == ["insert_ticket", "insert_ticket"]
    assert primary.inner.get_ticket(ticket.id) == ticket
    assert ticket.id < IdRange().start
    assert store.state().serving == "primary"
    assert store.journal.pending_count == 0


def test_an_injected_policy_that_retries_everything_still_never_retries_the_callers_fault(
    make_fallback_store: Callable[..., FallbackStore], primary: FaultyStore
) -> None:
    greedy = Retrying(
        stop=stop_after_attempt(5), wait=wait_none(), sleep=lambda _s: None, retry=retry_if_exception_type(Exception)
    )
    store = make_fallback_store(retry=greedy)
    store.insert_ticket(new_ticket())
    primary.calls.clear()
    with pytest.raises(TicketNumberTaken):
        store.insert_ticket(new_ticket())
    assert primary.calls == ["insert_ticket"]


# -- the primary is down -----------------------------------------------------


def test_an_outage_opens_the_breaker_and_later_calls_skip_the_primary(
    desk: SupportDesk, store: FallbackStore, primary: FaultyStore, ticks: Ticks
) -> None:
    primary.down = True
    ticket = desk.create_ticket(USER, subject="Down", description="now")
    assert primary.calls == ["insert_ticket"] * 3  # one call, retried twice
    assert ticket.id >= IdRange().start
    primary.calls.clear()
    desk.post_message(USER, ticket.id, "hello?")
    desk.get_ticket(ADMIN, ticket.id)
    desk.statistics(ADMIN)
    assert primary.calls == []
    state = store.state()
    assert (state.serving, state.breaker) == ("fallback", BreakerState.OPEN)
    assert state.pending_writes == 3  # ticket, message, mark_read
    assert state.last_error is not None and "injected fault" in state.last_error
    assert state.last_error_at is not None


def test_reads_during_an_outage_see_what_was_written_before_it(
    desk: SupportDesk, store: FallbackStore, primary: FaultyStore
) -> None:
    ticket_id = busy_ticket(desk)
    before = desk.get_ticket(ADMIN, ticket_id, mark_read=False)
    primary.down = True
    during = desk.get_ticket(ADMIN, ticket_id, mark_read=False)
    assert during == before
    assert desk.statistics(ADMIN).total_tickets == 1


def test_the_breaker_probes_once_after_its_cool_down(
    desk: SupportDesk, store: FallbackStore, primary: FaultyStore, ticks: Ticks
) -> None:
    primary.down = True
    desk.create_ticket(USER, subject="a", description="b")
    primary.calls.clear()
    ticks.now += 10
    desk.create_ticket(USER, subject="c", description="d")
    # The journal is pending, so the probe is the replay's first call: a single attempt.
    assert primary.calls == ["get_ticket"]
    assert store.state().breaker is BreakerState.OPEN
    primary.calls.clear()
    desk.create_ticket(USER, subject="e", description="f")
    assert primary.calls == []


def test_recovery_replays_the_outage_and_the_primary_serves_again(
    desk: SupportDesk, store: FallbackStore, primary: FaultyStore, fallback: FaultyStore, ticks: Ticks
) -> None:
    before = busy_ticket(desk)
    primary.down = True
    during = busy_ticket(desk)
    desk.post_message(USER, before, "any news?")
    desk.change_status(ADMIN, before, "resolved")
    desk.post_message(USER, before, "it broke again")  # reopens
    told = desk.get_ticket(ADMIN, during)
    primary.recover()
    ticks.now += 10
    desk.statistics(ADMIN)  # any call after the cool-down replays
    assert store.state().pending_writes == 0
    assert store.state().serving == "primary"
    assert snapshot(primary.inner) == snapshot(fallback.inner)
    assert primary.inner.get_ticket(during).ticket_number == told.ticket_number  # type: ignore[union-attr]
    assert [m.id for m in primary.inner.list_messages(during)] == [m.id for m in told.messages]
    primary.calls.clear()
    desk.get_ticket(ADMIN, during)
    assert primary.calls  # the primary answers again


def test_replay_by_hand_reports_progress(
    desk: SupportDesk, store: FallbackStore, primary: FaultyStore, fallback: FaultyStore
) -> None:
    primary.down = True
    for n in range(3):
        desk.create_ticket(USER, subject=f"t{n}", description="d")
    primary.recover()
    seen: list[tuple[int, int]] = []
    report = store.replay(progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert (report.applied, report.already_there, report.conflicts, report.remaining) == (3, 0, 0, 0)
    assert report.complete
    assert snapshot(primary.inner) == snapshot(fallback.inner)


def test_a_replay_that_fails_half_way_resumes_without_duplicates(
    desk: SupportDesk, store: FallbackStore, primary: FaultyStore, fallback: FaultyStore
) -> None:
    primary.down = True
    for _ in range(3):
        busy_ticket(desk)
    pending = store.journal.pending_count
    primary.recover()
    primary.fail_after(7)
    report = store.replay()
    assert report.error is not None and 0 < report.remaining < pending
    assert store.state().breaker is BreakerState.OPEN
    primary.recover()
    assert store.replay().complete
    assert snapshot(primary.inner) == snapshot(fallback.inner)


def test_writes_whose_answer_was_lost_during_a_replay_are_not_applied_twice(
    desk: SupportDesk, store: FallbackStore, primary: FaultyStore, fallback: FaultyStore
) -> None:
    primary.down = True
    busy_ticket(desk)
    primary.recover()
    # Every replayed write reaches the primary but its answer is lost: each
    # replay stops there, and the next one must find that write already there.
    primary.lose_answers = True
    rounds = 0
    while store.journal.pending_count and rounds < 50:
        assert store.replay().error is not None or store.journal.pending_count == 0
        rounds += 1
    assert store.journal.pending_count == 0
    assert store.state().conflicts == 0
    assert snapshot(primary.inner) == snapshot(fallback.inner)
    assert primary.inner.statistics().total_tickets == 1


def test_a_restarted_process_replays_the_journal_and_never_reuses_an_id(
    make_fallback_store: Callable[..., FallbackStore],
    primary: FaultyStore,
    fallback: FaultyStore,
    clock: FakeClock,
) -> None:
    primary.down = True
    first = SupportDesk(make_fallback_store(), clock=clock)
    old = first.create_ticket(USER, subject="before the crash", description="d")
    # The process dies: the first store is never closed. A new one opens the same journal.
    second_store = make_fallback_store()
    assert second_store.journal.pending_count == 1
    second = SupportDesk(second_store, clock=clock)
    new = second.create_ticket(USER, subject="after the restart", description="d")
    assert new.id > old.id >= IdRange().start
    primary.recover()
    assert second_store.replay().complete
    assert {t.id for t in primary.inner.list_tickets(_everything())[0]} == {old.id, new.id}
    assert snapshot(primary.inner) == snapshot(fallback.inner)


def test_outage_ids_skip_ids_the_primary_handed_out(
    desk: SupportDesk, store: FallbackStore, primary: FaultyStore
) -> None:
    primary.inner.insert_ticket(new_ticket("TKT-00000001", id=IdRange().start + 41))
    from_primary = desk.create_ticket(USER, subject="after", description="d")
    assert from_primary.id == IdRange().start + 42
    primary.down = True
    during = desk.create_ticket(USER, subject="down", description="d")
    assert during.id == IdRange().start + 43


def test_a_ticket_the_primary_refuses_for_good_is_parked_and_the_replay_goes_on(
    desk: SupportDesk, store: FallbackStore, primary: FaultyStore
) -> None:
    primary.down = True
    clash = store.insert_ticket(new_ticket("TKT-0000000C"))
    fine = desk.create_ticket(USER, subject="fine", description="d")
    primary.recover()
    primary.inner.insert_ticket(new_ticket("TKT-0000000C"))  # someone else took the number
    report = store.replay()
    assert (report.applied, report.conflicts, report.remaining) == (1, 1, 0)
    assert store.state().conflicts == 1
    [(entry, reason)] = store.journal.conflicts()
    assert entry.operation.ticket_id == clash.id  # type: ignore[union-attr]
    assert "TKT-0000000C" in reason
    assert primary.inner.get_ticket(fine.id) is not None


def test_a_message_whose_uid_the_primary_holds_on_another_ticket_is_parked(
    store: FallbackStore, primary: FaultyStore
) -> None:
    ticket = store.insert_ticket(new_ticket("TKT-0000000C"))
    other = store.insert_ticket(new_ticket("TKT-0000000D"))
    primary.down = True
    store.insert_message(new_message(ticket.id, "u-9"), expected_version=0, changes={})
    primary.recover()
    primary.inner.insert_message(new_message(other.id, "u-9"), expected_version=0, changes={})
    report = store.replay()
    assert (report.applied, report.already_there, report.conflicts) == (0, 0, 1)
    [(entry, reason)] = store.journal.conflicts()
    assert entry.operation.ticket_id == ticket.id and "u-9" in reason


def test_a_failed_fallback_write_leaves_no_journal_entry_and_uses_no_id(
    store: FallbackStore, primary: FaultyStore
) -> None:
    primary.down = True
    first = store.insert_ticket(new_ticket("TKT-0000000D"))
    with pytest.raises(TicketNumberTaken):
        store.insert_ticket(new_ticket("TKT-0000000D"))
    assert store.journal.pending_count == 1
    second = store.insert_ticket(new_ticket("TKT-0000000E"))
    assert second.id == first.id + 1


def test_the_journal_survives_reopening(journal_path: Path) -> None:
    journal = Journal(journal_path, id_range=IdRange(start=500, stop=1000))
    with journal.recording() as recording:
        assert recording.allocate("ticket") == 500
        assert recording.allocate("message") == 500
    journal.close()
    reopened = Journal(journal_path, id_range=IdRange(start=500, stop=1000))
    with reopened.recording() as recording:
        assert recording.allocate("ticket") == 501
    reopened.close()


def test_an_exhausted_id_range_is_an_error_not_a_reused_id(journal_path: Path) -> None:
    journal = Journal(journal_path, id_range=IdRange(start=1, stop=2))
    with journal.recording() as recording:
        recording.allocate("ticket")
    with pytest.raises(OverflowError), journal.recording() as recording:
        recording.allocate("ticket")
    journal.close()


def test_breaker_states_follow_failures_and_cool_down(ticks: Ticks) -> None:
    breaker = CircuitBreaker(failure_threshold=2, cool_down=5, clock=ticks)
    breaker.record_failure()
    assert breaker.acquire() == _permit(probe=False)
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN and breaker.acquire() is None
    ticks.now += 5
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.acquire() == _permit(probe=True)
    assert breaker.acquire() is None  # one probe at a time
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    ticks.now += 5
    assert breaker.acquire() == _permit(probe=True)
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED


def _permit(*, probe: bool) -> object:
    from supportchat.stores._breaker import Permit

    return Permit(probe=probe)


def _everything() -> object:
    from supportchat.models import TicketQuery

    return TicketQuery(per_page=1000)


def test_a_closed_fallback_store_closes_both_stores(journal_path: Path) -> None:
    closed: list[str] = []

    class Tracking(InMemoryStore):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

        def close(self) -> None:
            closed.append(self.name)

    FallbackStore(Tracking("primary"), Tracking("fallback"), journal=journal_path).close()
    assert closed == ["primary", "fallback"]


@pytest.mark.timeout(60)
def test_threads_writing_through_a_flapping_primary_lose_nothing(
    make_fallback_store: Callable[..., FallbackStore], primary: FaultyStore, fallback: FaultyStore
) -> None:
    primary.schedule = flapping(up=5, down=3)
    store = make_fallback_store(retry=no_wait_retry(2), breaker=CircuitBreaker(cool_down=0.001), replay_batch=5)
    desk = SupportDesk(store)
    witness = Witness()
    desk.subscribe(witness)
    errors: list[BaseException] = []

    def client(user: int) -> None:
        try:
            for n in range(15):
                ticket = desk.create_ticket(Actor.user(user), subject=f"t{n}", description="d")
                desk.post_message(Actor.user(user), ticket.id, "hello")
                desk.get_ticket(Actor.admin(user), ticket.id)
                desk.change_status(Actor.admin(user), ticket.id, "resolved")
                desk.post_message(Actor.user(user), ticket.id, "again")
        except BaseException as error:  # reported below, with the thread's traceback
            errors.append(error)

    threads = [threading.Thread(target=client, args=(user,)) for user in range(1, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=50)
    assert not errors, errors
    assert primary.failures > 0
    assert any(ticket_id >= IdRange().start for ticket_id in witness.tickets), "nothing was journalled"
    primary.schedule = None
    assert store.replay().complete
    assert store.state().conflicts == 0
    witness.check(primary.inner)
    assert snapshot(primary.inner) == snapshot(fallback.inner)


def test_for_supabase_builds_a_sqlite_fallback_with_its_journal_beside_it(tmp_path: Path) -> None:
    from .netfaults import closed_port

    database = tmp_path / "support.db"
    store = FallbackStore.for_supabase(
        f"http://127.0.0.1:{closed_port()}", "a.b.c", sqlite_path=database, timeout=0.5, retry=no_wait_retry(1)
    )
    ticket = SupportDesk(store).create_ticket(USER, subject="Offline", description="d")
    assert ticket.id >= IdRange().start
    assert store.state().pending_writes == 1
    assert store.journal.path == str(tmp_path / "support.db.journal")
    store.close()
    from supportchat.stores import SQLiteStore

    reopened = SQLiteStore(database)
    assert reopened.get_ticket(ticket.id) == ticket
    reopened.close()


class _GatedUpdates(InMemoryStore):
    """Holds the next update inside the store until the test releases it (a write in flight)."""

    def __init__(self) -> None:
        super().__init__()
        self.armed = False
        self.entered = threading.Event()
        self.release = threading.Event()

    def update_ticket(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
        if self.armed:
            self.armed = False
            self.entered.set()
            self.release.wait(timeout=10)
        return super().update_ticket(*args, **kwargs)  # type: ignore[arg-type]


@pytest.mark.timeout(30)
def test_a_fail_over_waits_for_primary_writes_in_flight_so_no_update_is_lost(
    make_fallback_store: Callable[..., FallbackStore],
    primary: FaultyStore,
    fallback: FaultyStore,
    clock: FakeClock,
    ticks: Ticks,
) -> None:
    primary.inner = gated = _GatedUpdates()
    store = make_fallback_store(retry=no_wait_retry(1))
    desk = SupportDesk(store, clock=clock)
    ticket = desk.create_ticket(USER, subject="Contested", description="d")
    gated.armed = True
    first = threading.Thread(target=desk.set_priority, args=(Actor.admin(1), ticket.id, "high"))
    first.start()
    assert gated.entered.wait(timeout=5)  # admin 1's update is now inside the primary
    primary.down = True
    second = threading.Thread(target=desk.set_priority, args=(Actor.admin(2), ticket.id, "urgent"))
    second.start()
    second.join(timeout=0.3)
    assert second.is_alive(), "the fallback write must wait for the primary write in flight"
    gated.release.set()
    first.join(timeout=5)
    second.join(timeout=5)
    primary.recover()
    ticks.now += 10
    assert store.replay().complete
    for side in (gated, fallback.inner):
        changes = side.list_changes(ticket.id)
        assert [(c.old_value, c.new_value) for c in changes] == [("medium", "high"), ("high", "urgent")]
        for before, after in itertools.pairwise(changes):
            assert after.old_value == before.new_value
    assert snapshot(gated) == snapshot(fallback.inner)


def test_automatic_replay_goes_in_batches_and_can_be_turned_off(
    make_fallback_store: Callable[..., FallbackStore], primary: FaultyStore, ticks: Ticks, journal_path: Path
) -> None:
    store = make_fallback_store(replay_batch=2)
    primary.down = True
    for n in range(5):
        store.insert_ticket(new_ticket(f"TKT-0000001{n}"))
    primary.recover()
    ticks.now += 10
    store.get_ticket(1)
    assert store.journal.pending_count == 3  # one batch per call
    store.get_ticket(1)
    store.get_ticket(1)
    assert store.journal.pending_count == 0
    assert store.state().serving == "primary"

    other_primary = FaultyStore(InMemoryStore())
    manual = FallbackStore(
        other_primary,  # type: ignore[arg-type]
        InMemoryStore(),
        journal=journal_path.with_name("manual.sqlite"),
        retry=no_wait_retry(),
        breaker=CircuitBreaker(cool_down=10, clock=ticks),
        auto_replay=False,
    )
    other_primary.down = True
    manual.insert_ticket(new_ticket("TKT-00000020"))
    other_primary.recover()
    ticks.now += 10
    manual.get_ticket(1)
    assert manual.state().pending_writes == 1
    assert manual.state().serving == "fallback"
    assert manual.replay().applied == 1
