"""A ticket's SLA is the same whether the fallback store's primary went down and came back or never did.

The SLA's rows live in the fallback store's local database (one copy), but the
clock follows the ticket's record of changes through the fallback store: the
primary's while it serves, the local copy's during an outage, the primary's
again after the replay. The two stores number change records each their own
way (the primary has years of history, the local copy starts empty), so the
clock must not depend on those numbers. Hypothesis draws a ticket's life
(messages both ways, status changes, the time between them), where an outage
starts and ends, and how far the primary's change ids run ahead, and checks the
deadlines against the same life on one store that never failed — with every
event delivered once more after the last step, as a worker resuming from an old
cursor would.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from tenacity import Retrying, stop_after_attempt, wait_none

from supportchat import SupportDesk
from supportchat.errors import SupportChatError
from supportchat.events import Event
from supportchat.extensions import extension
from supportchat.models import Actor, EventRecord
from supportchat.sla import CalendarIn, PolicyIn, SlaClock, SlaStore
from supportchat.stores import FallbackStore, InMemoryStore, Store
from supportchat.stores.fallback import CircuitBreaker

from ..conftest import FakeClock
from ..faults import FaultyStore
from .test_clock import FRIDAY, OFFICE

USER, ADMIN = Actor.user(7), Actor.admin(1)
STEPS = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=600),  # minutes since the step before
        st.sampled_from(["user writes", "admin replies", "open", "in_progress", "resolved"]),
    ),
    min_size=1,
    max_size=8,
)


def history_ahead(store: Store, changes: int) -> None:
    """Give ``store`` ``changes`` earlier change records (on a ticket of its own), so its ids run ahead."""
    desk = SupportDesk(store, clock=FakeClock(FRIDAY.astimezone(UTC) - timedelta(days=30)))
    old = desk.create_ticket(USER, subject="Old", description="long ago")
    for index in range(changes):
        desk.change_status(ADMIN, old.id, "in_progress" if index % 2 == 0 else "open")


def live(store: Store, steps: list[tuple[int, str]], outage: range, primary: FaultyStore | None) -> list[tuple]:
    """Run the ticket's life on ``store``, the SLA following every desk event; its deadlines at the end."""
    sla: SlaStore = extension(store, SlaStore)  # type: ignore[type-abstract]
    sla.put_calendar(CalendarIn(name="office", time_zone="Europe/Madrid", hours=OFFICE))
    sla.put_policy(
        PolicyIn(
            name="standard",
            calendar="office",
            first_response_minutes=30,
            next_response_minutes=60,
            resolution_minutes=240,
            warning_minutes=10,
            pause_statuses=["resolved"],  # type: ignore[list-item]
        )
    )
    now = FakeClock(FRIDAY.astimezone(UTC))
    desk = SupportDesk(store, clock=now)
    clock = SlaClock(desk)
    delivered: list[EventRecord] = []

    def follow(event: Event) -> None:
        record = EventRecord(
            id=len(delivered) + 1,
            type=event.type,
            ticket_id=event.ticket.id,
            user_id=event.ticket.user_id,
            message_id=event.message.id if event.message is not None else None,
            created_at=event.at,
        )
        delivered.append(record)
        clock.observe(record)

    desk.subscribe(follow)
    ticket = desk.create_ticket(USER, subject="Order", description="Where is it?")
    for index, (minutes, step) in enumerate(steps):
        if primary is not None:
            if index == outage.start:
                primary.down = True
            if index == outage.stop:
                primary.recover()
                assert isinstance(store, FallbackStore)
                assert store.replay().error is None
        now.advance(minutes=minutes)
        try:
            if step == "user writes":
                desk.post_message(USER, ticket.id, f"step {index}")
            elif step == "admin replies":
                desk.post_message(ADMIN, ticket.id, f"answer {index}")
            else:
                desk.change_status(ADMIN, ticket.id, step)
        except SupportChatError:
            pass  # a transition the lifecycle refuses: refused alike on both stores
    for record in list(delivered):  # delivered again (at least once), after any recovery
        clock.observe(record)
    found = clock.store.clock(ticket.id)
    assert found is not None
    deadlines = clock.store.deadlines([ticket.id])
    assert all(d.met_at is None or d.met_at >= d.started_at for d in deadlines), "met before it began"
    # Not the cycle: a next response's is its message's id, and outage messages keep outage ids.
    rows = sorted((d.target, d.started_at, d.due_at, d.warn_at, d.paused_left, d.state, d.met_at) for d in deadlines)
    return [(found.paused_since,), *rows]


@given(steps=STEPS, bounds=st.tuples(st.integers(0, 8), st.integers(0, 8)), ahead=st.integers(0, 12))
def test_an_outage_and_its_replay_leave_the_deadlines_as_one_store_would(
    steps: list[tuple[int, str]], bounds: tuple[int, int], ahead: int
) -> None:
    outage = range(min(bounds), max(bounds))
    reference = InMemoryStore()
    history_ahead(reference, ahead)
    primary = FaultyStore(InMemoryStore())
    history_ahead(primary.inner, ahead)
    with tempfile.TemporaryDirectory() as folder:
        store = FallbackStore(
            primary,  # type: ignore[arg-type]
            InMemoryStore(),  # the local copy: its change ids start at 1
            journal=Path(folder) / "journal.sqlite",
            retry=Retrying(stop=stop_after_attempt(1), wait=wait_none(), sleep=lambda _s: None),
            breaker=CircuitBreaker(cool_down=3600),
        )
        try:
            assert live(store, steps, outage, primary) == live(reference, steps, range(0), None)
        finally:
            store.close()
