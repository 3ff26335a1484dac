"""Fault injection on real sockets: FallbackStore(SupabaseStore, SQLiteStore).

The primary is the real ``supabase`` client talking HTTP to 127.0.0.1, where a
:class:`~tests.netfaults.FaultyGateway` serves the PostgREST emulator
(PostgreSQL underneath) or fails: refused connections, a server that never
answers, 503, non-JSON 502, flapping, a failure in the middle of a replay,
and a process restart during an outage. Every test is bounded in time.

After recovery each test checks, on the emulated Supabase database itself:
every ticket and message a client was told was created exists exactly once,
with the same ticket number and id, messages in their original order, and
the primary holds the same tickets, messages, changes and statistics as the
fallback.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from supportchat import Actor, SupportDesk
from supportchat.stores import FallbackStore, IdRange, SQLiteStore
from supportchat.stores._breaker import BreakerState, CircuitBreaker
from supportchat.stores.fallback import default_retry
from supportchat.stores.supabase import SupabaseStore

from .conftest import FakeClock
from .faults import Witness, snapshot
from .netfaults import FaultyGateway, Mode, closed_port
from .postgrest_emulator.project import EmulatedProject
from .postgrest_emulator.session import shared_project

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]

#: The primary's HTTP timeout: how long a hanging Supabase can hold a request.
TIMEOUT = 0.4
ATTEMPTS = 2
COOL_DOWN = 30.0
USERS = [Actor.user(n) for n in (1, 2, 3)]
ADMIN = Actor.admin(100)


class Ticks:
    """The breaker's clock, moved by hand so that probes happen when the test says."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Rig:
    """One deployment: the gateway, the emulated project, the stores and a desk over them."""

    project: EmulatedProject
    gateway: FaultyGateway
    folder: Path
    ticks: Ticks
    clock: FakeClock
    witness: Witness
    store: FallbackStore
    desk: SupportDesk

    def open_store(self, primary_url: str | None = None, folder: Path | None = None) -> FallbackStore:
        """A FallbackStore as a (re)started process builds it: same journal, same SQLite file."""
        primary = SupabaseStore.from_url(primary_url or self.gateway.url, self.project.service_key, timeout=TIMEOUT)
        folder = folder or self.folder
        return FallbackStore(
            primary,
            SQLiteStore(folder / "fallback.db"),
            journal=folder / "journal.sqlite",
            retry=default_retry(attempts=ATTEMPTS, within=5 * TIMEOUT, initial_wait=0.01, max_wait=0.05),
            breaker=CircuitBreaker(cool_down=COOL_DOWN, clock=self.ticks),
        )

    def restart(self) -> None:
        """The process dies (nothing is closed cleanly) and a new one starts."""
        self.store = self.open_store()
        self.desk = SupportDesk(self.store, clock=self.clock)
        self.desk.subscribe(self.witness)

    def primary_direct(self) -> SupabaseStore:
        """The emulated Supabase database, read without the gateway."""
        return self.project.store()

    def recover(self) -> None:
        """Heal the network, let the cool-down pass and drain the journal."""
        self.gateway.mode = "forward"
        self.ticks.now += COOL_DOWN
        self.desk.statistics(ADMIN)  # the first call after the cool-down replays a batch
        report = self.store.replay()
        assert report.complete and report.conflicts == 0, report
        state = self.store.state()
        assert (state.serving, state.pending_writes, state.breaker) == ("primary", 0, BreakerState.CLOSED)

    def check_recovered(self) -> None:
        primary = self.primary_direct()
        self.witness.check(primary)
        assert snapshot(primary) == snapshot(self.store.fallback)


@pytest.fixture
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    project = shared_project(request)
    project.reset()
    gateway = FaultyGateway(project.transport)
    ticks, clock, witness = Ticks(), FakeClock(), Witness()
    rig = Rig(project, gateway, tmp_path, ticks, clock, witness, None, None)  # type: ignore[arg-type]
    rig.restart()
    yield rig
    gateway.close()
    rig.store.close()


def session(desk: SupportDesk, rounds: int = 2) -> list[int]:
    """Users open tickets and talk with an admin, who triages; returns the ticket ids."""
    ids = []
    for n in range(rounds):
        for user in USERS:
            ticket = desk.create_ticket(user, subject=f"Help {n}", description="Something broke", priority="high")
            ids.append(ticket.id)
            desk.post_message(user, ticket.id, "first detail")
            desk.get_ticket(ADMIN, ticket.id)  # marks read
            desk.change_status(ADMIN, ticket.id, "in_progress", assigned_to=100)
            desk.post_message(ADMIN, ticket.id, "looking into it")
            desk.post_message(user, ticket.id, "thanks")
    desk.change_status(ADMIN, ids[0], "resolved")
    desk.post_message(USERS[0], ids[0], "it broke again")  # reopens
    return ids


@pytest.mark.parametrize("fault", ["refuse", "hang", "503", "502"])
def test_an_outage_is_detected_in_bounded_time_served_locally_and_replayed(rig: Rig, fault: Mode) -> None:
    before = session(rig.desk, rounds=1)
    rig.gateway.mode = fault

    started = time.perf_counter()
    during = rig.desk.create_ticket(USERS[1], subject="During", description="the outage")
    detection = time.perf_counter() - started
    # Each attempt waits at most TIMEOUT (a hang) and the waits between are tiny.
    assert detection < ATTEMPTS * TIMEOUT + 0.5
    assert during.id >= IdRange().start

    requests = rig.gateway.requests
    started = time.perf_counter()
    session(rig.desk, rounds=1)
    rig.desk.post_message(ADMIN, before[0], "we are on it")
    outage_message = rig.desk.post_message(USERS[1], during.id, "hello?")
    rig.desk.change_status(ADMIN, during.id, "resolved")
    served_locally = time.perf_counter() - started
    assert rig.gateway.requests == requests, "the open breaker must keep requests off the primary"
    assert served_locally < TIMEOUT * 3  # dozens of calls, none of them waiting on the network
    state = rig.store.state()
    assert (state.serving, state.breaker) == ("fallback", BreakerState.OPEN)
    assert state.pending_writes > 0 and state.last_error is not None

    rig.recover()
    rig.check_recovered()
    # The primary serves again, and a fresh write lands after the replayed ones.
    later = rig.desk.create_ticket(USERS[2], subject="After", description="recovery")
    assert rig.primary_direct().get_ticket(later.id) is not None
    message = rig.desk.post_message(USERS[1], during.id, "one more")
    assert message.id > outage_message.id >= IdRange().start
    rig.check_recovered()


def test_a_closed_port_from_the_start_is_served_by_the_fallback(rig: Rig, tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    store = rig.open_store(primary_url=f"http://127.0.0.1:{closed_port()}", folder=tmp_path / "other")
    desk = SupportDesk(store, clock=rig.clock)
    started = time.perf_counter()
    ticket = desk.create_ticket(USERS[0], subject="Nobody", description="listens")
    assert time.perf_counter() - started < ATTEMPTS * TIMEOUT + 0.5
    assert desk.get_ticket(USERS[0], ticket.id).ticket_number == ticket.ticket_number
    assert store.state().pending_writes == 1
    store.close()


def test_a_flapping_primary_loses_nothing(rig: Rig) -> None:
    # Three requests fail in every seven, alternating 503 and a non-JSON 502.
    rig.gateway.set_schedule(lambda index: ("forward", "forward", "forward", "forward", "503", "502", "503")[index % 7])
    for round_ in range(3):
        session(rig.desk, rounds=1)
        rig.ticks.now += COOL_DOWN  # let the breaker probe again
        rig.desk.statistics(ADMIN)
        assert rig.store.state().conflicts == 0, round_
    journalled = [t for t in rig.witness.tickets if t >= IdRange().start]
    assert journalled and len(journalled) < len(rig.witness.tickets), "the primary never flapped"
    rig.recover()
    rig.check_recovered()


def test_a_replay_failing_half_way_resumes_without_duplicates(rig: Rig) -> None:
    session(rig.desk, rounds=1)
    rig.gateway.mode = "503"
    session(rig.desk, rounds=2)
    pending = rig.store.state().pending_writes
    for failing in ("hang", "502", "503"):
        rig.gateway.fail_after(9, failing)  # a few entries get through, then it fails again
        report = rig.store.replay()
        assert report.error is not None and 0 < report.remaining < pending, report
        pending = report.remaining
    rig.recover()
    rig.check_recovered()


def test_a_process_restarting_during_an_outage_replays_after_recovery(rig: Rig) -> None:
    session(rig.desk, rounds=1)
    rig.gateway.mode = "hang"
    first = rig.desk.create_ticket(USERS[0], subject="Before the crash", description="d")
    rig.desk.post_message(USERS[0], first.id, "are you there?")
    rig.restart()  # the old process is gone without closing anything
    assert rig.store.state().pending_writes == 2
    second = rig.desk.create_ticket(USERS[1], subject="After the restart", description="d")
    assert second.id > first.id  # the restarted process does not hand out an id twice
    rig.desk.post_message(USERS[0], first.id, "hello again")
    rig.recover()
    rig.check_recovered()
