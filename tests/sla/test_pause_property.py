"""Pauses as a property: however a ticket is paused and resumed, its deadline leaves exactly the target.

Random calendars (the strategy of the business-time tests: DST zones,
split days, midnight crossings, holidays), a first-response target, and a
random sequence of pauses (``resolved``, the pause status) each ended by
the user writing back (which reopens the ticket). The reference keeps the
business time left in minutes; the clock stores a due time and recomputes
it at each pause and resumption, through the desk, the event log and the
store. They agree to the second.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from supportchat import SupportDesk
from supportchat.extensions import extension
from supportchat.models import Actor
from supportchat.sla import CalendarIn, PolicyIn, SlaClock, SlaStore, add_business_time, business_time_between
from supportchat.sla.business_time import Calendar
from supportchat.sla.policy import DAYS, hhmm
from supportchat.stores import InMemoryStore

from ..conftest import FakeClock
from .test_business_time import cases


def entered(calendar: Calendar) -> CalendarIn:
    hours = {DAYS[i]: [(hhmm(a), hhmm(b)) for a, b in day] for i, day in enumerate(calendar.week) if day}
    return CalendarIn(
        name="c",
        time_zone=calendar.time_zone,
        hours=hours,
        holidays=sorted(calendar.holidays),  # type: ignore[type-var]
    )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cases(),
    st.integers(1, 600),
    st.lists(st.tuples(st.integers(1, 900), st.integers(1, 900)), max_size=3),
)
def test_paused_business_time_does_not_count(
    case: tuple[Calendar, datetime], target: int, pauses: list[tuple[int, int]]
) -> None:
    calendar, start = case
    # Calendars whose working time is rarer than this (hours only in a skipped DST hour, say) meet the
    # three-year horizon of "never" (tested in test_business_time.py); the property is about pauses.
    assume(business_time_between(calendar, start, start + timedelta(days=60)) >= timedelta(minutes=4 * target))
    store = InMemoryStore()
    sla: SlaStore = extension(store, SlaStore)  # type: ignore[type-abstract]
    sla.put_calendar(entered(calendar))
    sla.put_policy(PolicyIn(name="p", calendar="c", first_response_minutes=target, pause_statuses=["resolved"]))  # type: ignore[list-item]
    now = FakeClock(start.astimezone(UTC))
    desk = SupportDesk(store, clock=now)
    clock = SlaClock(desk)
    ticket = desk.create_ticket(Actor.user(3), subject="s", description="d")
    seen = 0

    def follow() -> None:
        nonlocal seen
        for record in store.events_after(seen, limit=100):
            clock.observe(record)
            seen = record.id

    follow()
    left, here = timedelta(minutes=target), now.now
    for run, pause in pauses:
        paused_at = here + timedelta(minutes=run)
        used = business_time_between(calendar, here, paused_at)
        if used >= left:
            break  # due before this pause: the pause holds nothing
        left -= used
        now.now = paused_at
        desk.change_status(Actor.admin(1), ticket.id, "resolved")
        follow()
        here = now.now = paused_at + timedelta(minutes=pause)
        desk.post_message(Actor.user(3), ticket.id, "still there?")  # reopens: the clock runs again
        follow()
    expected = add_business_time(calendar, here, left)
    due = clock.views([ticket])[ticket.id].first_response_due
    assert due is not None and abs(due - expected) < timedelta(seconds=1), (due, expected)
