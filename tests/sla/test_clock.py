"""SLA clocks with a clock the test moves: deadlines in business time, warnings and breaches on time, pauses.

The scenario of the issue: a policy of 30 business minutes to first
response (warning 10 minutes before), a 09:00–18:00 weekday calendar, a
ticket created on Friday at 17:50: 10 minutes count on Friday, 20 on
Monday, so the warning is due Monday 09:10 and the breach Monday 09:20 —
and nothing fires on the weekend. The scan job is scheduled for exactly
those instants. Every SQL backend of ``tests/stores.py``.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from supportchat import SupportDesk
from supportchat.errors import ExtensionUnavailable
from supportchat.extensions import extension
from supportchat.jobs import JobStore
from supportchat.models import Actor, Priority
from supportchat.sla import BREACHED, WARNING, CalendarIn, PolicyIn, SlaClock, SlaStore
from supportchat.sla.feature import SCAN, scheduler
from supportchat.store import Store

from ..conftest import FakeClock
from ..stores import StoreMaker

MADRID = ZoneInfo("Europe/Madrid")
FRIDAY = datetime(2027, 1, 8, 17, 50, tzinfo=MADRID)
MONDAY = datetime(2027, 1, 11, tzinfo=MADRID)
OFFICE = {d: [("09:00", "18:00")] for d in ("mon", "tue", "wed", "thu", "fri")}


def sla_store(make_store: StoreMaker) -> tuple[Store, SlaStore]:
    store = make_store()
    try:
        return store, extension(store, SlaStore)  # type: ignore[type-abstract]
    except ExtensionUnavailable:
        assert type(store).__name__ == "SupabaseStore", "every backend but a bare Supabase store has the SLA"
        pytest.skip("SupabaseStore has no SlaStore (its rows live in the fallback store's local database)")


def at(day: datetime, hhmm: str) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return day.replace(hour=hour, minute=minute)


class Scenario:
    def __init__(self, store: Store, sla: SlaStore, **policy: object) -> None:
        sla.put_calendar(CalendarIn(name="office", time_zone="Europe/Madrid", hours=OFFICE))
        fields = {"first_response_minutes": 30, "warning_minutes": 10, "pause_statuses": ["resolved"], **policy}
        sla.put_policy(PolicyIn(name="standard", calendar="office", **fields))  # type: ignore[arg-type]
        self.store, self.sla = store, sla
        self.now = FakeClock(FRIDAY.astimezone(UTC))
        self.desk = SupportDesk(store, clock=self.now)
        self.clock = SlaClock(self.desk, schedule=scheduler(store))
        self.jobs: JobStore = extension(store, JobStore)  # type: ignore[type-abstract]
        self.seen = 0

    def follow(self) -> None:
        """What the ``sla.track`` job does: follow the desk's event log."""
        for record in self.store.events_after(self.seen, limit=1000):
            self.clock.observe(record)
            self.seen = record.id

    def move_to(self, when: datetime) -> None:
        self.now.now = when.astimezone(UTC)

    def scan_at(self, when: datetime) -> list[tuple[str, str]]:
        return [(e.type, e.target) for e in self.clock.scan(when.timestamp())]

    def scans_scheduled(self) -> list[datetime]:
        return sorted(datetime.fromtimestamp(j.due_at, UTC) for j in self.jobs.list_jobs(kind=SCAN))


def test_friday_evening_ticket_warns_and_breaches_on_monday_morning(make_store: StoreMaker) -> None:
    s = Scenario(*sla_store(make_store))
    ticket = s.desk.create_ticket(Actor.user(7), subject="Order", description="Where is it?")
    s.follow()
    view = s.clock.views([ticket])[ticket.id]
    assert view.policy == "standard"
    assert view.first_response_due == at(MONDAY, "09:20")
    # The scan job of the job runner is due exactly at the warning.
    assert s.scans_scheduled() == [at(MONDAY, "09:10").astimezone(UTC)]
    for quiet in (at(FRIDAY, "17:59"), FRIDAY.replace(hour=23), FRIDAY + timedelta(days=1), MONDAY,
                  at(MONDAY, "09:09") + timedelta(seconds=59)):  # fmt: skip
        assert s.scan_at(quiet) == [], quiet
    assert s.scan_at(at(MONDAY, "09:10")) == [(WARNING, "first_response")]
    assert s.scan_at(at(MONDAY, "09:19") + timedelta(seconds=59)) == []
    assert s.scan_at(at(MONDAY, "09:20")) == [(BREACHED, "first_response")]
    assert s.scan_at(at(MONDAY, "12:00")) == []  # once
    events = s.sla.events(ticket_id=ticket.id)
    assert [(e.type, datetime.fromtimestamp(e.fired_at, MADRID)) for e in events] == [
        (WARNING, at(MONDAY, "09:10")),
        (BREACHED, at(MONDAY, "09:20")),
    ]
    assert s.clock.views([ticket])[ticket.id].breached == ["first_response"]


def test_a_pause_status_stops_the_clock(make_store: StoreMaker) -> None:
    s = Scenario(*sla_store(make_store))
    ticket = s.desk.create_ticket(Actor.user(7), subject="Order", description="Where is it?")
    s.follow()
    # Monday 09:05: an admin resolves it without replying (waiting for the customer): 15 minutes were left.
    s.move_to(at(MONDAY, "09:05"))
    s.desk.change_status(Actor.admin(1), ticket.id, "resolved")
    s.follow()
    paused = s.clock.views([ticket])[ticket.id]
    assert paused.paused and paused.first_response_due is None
    assert s.scan_at(at(MONDAY, "09:10")) == [] and s.scan_at(at(MONDAY, "09:29")) == []
    # 09:30: the user writes back, the ticket reopens and the clock runs again with its 15 minutes.
    s.move_to(at(MONDAY, "09:30"))
    s.desk.post_message(Actor.user(7), ticket.id, "Still nothing")
    s.follow()
    running = s.clock.views([ticket])[ticket.id]
    assert not running.paused and running.first_response_due == at(MONDAY, "09:45")
    assert s.scan_at(at(MONDAY, "09:34")) == []
    assert s.scan_at(at(MONDAY, "09:35")) == [(WARNING, "first_response")]
    assert s.scan_at(at(MONDAY, "09:45")) == [(BREACHED, "first_response")]


def test_a_reply_meets_the_target_and_nothing_fires(make_store: StoreMaker) -> None:
    s = Scenario(*sla_store(make_store), next_response_minutes=60)
    ticket = s.desk.create_ticket(Actor.user(7), subject="Order", description="Where is it?")
    s.follow()
    s.move_to(at(MONDAY, "09:05"))
    s.desk.post_message(Actor.admin(1), ticket.id, "Looking into it")
    s.follow()
    assert s.scan_at(at(MONDAY, "10:00")) == []
    assert s.clock.views([ticket])[ticket.id].met == ["first_response"]
    # The user answers: the next response is due an hour (of business time) later.
    s.move_to(at(MONDAY, "17:30"))
    s.desk.post_message(Actor.user(7), ticket.id, "Any news?")
    s.follow()
    assert s.clock.views([ticket])[ticket.id].next_response_due == at(MONDAY + timedelta(days=1), "09:30")


def test_deadlines_stay_fixed_until_reapplied_and_escalation_runs_once(make_store: StoreMaker) -> None:
    s = Scenario(*sla_store(make_store), escalation=[{"action": "raise_priority"}, {"action": "assign", "agent": 9}])
    ticket = s.desk.create_ticket(Actor.user(7), subject="Order", description="Where is it?", priority="high")
    s.follow()
    # A policy change does not move a fixed deadline...
    s.sla.put_policy(PolicyIn(name="standard", calendar="office", first_response_minutes=600))
    assert s.clock.views([ticket])[ticket.id].first_response_due == at(MONDAY, "09:20")
    assert s.scan_at(at(MONDAY, "09:20")) == [(WARNING, "first_response"), (BREACHED, "first_response")]
    # ... the escalation attached when the breach fired is the policy's as it is now (none is left): put it back.
    s.sla.put_policy(PolicyIn(name="standard", calendar="office", first_response_minutes=30,
                              escalation=[{"action": "raise_priority"}, {"action": "assign", "agent": 9}]))  # type: ignore[list-item]  # fmt: skip
    s.move_to(at(MONDAY, "09:21"))
    assert s.clock.escalate() == 1
    assert s.clock.escalate() == 0  # once per breach
    escalated = s.store.get_ticket(ticket.id)
    assert escalated is not None and escalated.priority is Priority.URGENT and escalated.assigned_to == 9
    # Re-applying is the explicit change: deadlines from now, under the policy as it is.
    s.clock.apply(escalated, replace=True, now=at(MONDAY, "10:00"))
    again = s.clock.views([ticket])[ticket.id]
    assert again.first_response_due == at(MONDAY, "10:30")
    assert again.breached == ["first_response"]  # the breach of the first cycle stays in the record
    assert s.scan_at(at(MONDAY, "10:30")) == [(BREACHED, "first_response")]


def test_concurrent_scans_fire_each_breach_once(make_store: StoreMaker) -> None:
    s = Scenario(*sla_store(make_store), warning_minutes=0)
    tickets = [s.desk.create_ticket(Actor.user(7), subject=f"T{i}", description="x") for i in range(40)]
    s.follow()
    clocks = [SlaClock(s.desk) for _ in range(4)]
    start = threading.Barrier(len(clocks))
    fired: list[list[object]] = [[] for _ in clocks]

    def scan(index: int) -> None:
        start.wait()
        for _ in range(3):
            fired[index].extend(clocks[index].scan(at(MONDAY, "09:20").timestamp(), limit=7))

    threads = [threading.Thread(target=scan, args=(i,)) for i in range(len(clocks))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    while s.clock.scan(at(MONDAY, "09:20").timestamp()):  # what the small batches left
        pass
    events = s.sla.events(limit=1000)
    assert len(events) == len(tickets) and {e.type for e in events} == {BREACHED}
    assert len({e.deadline_id for e in events}) == len(tickets)


def test_escalation_hooks_notify_and_hand_over_to_a_team(make_store: StoreMaker) -> None:
    steps = [{"action": "notify"}, {"action": "assign_team", "team": "tier2"}]
    s = Scenario(*sla_store(make_store), escalation=steps)
    handed: list[tuple[int, str]] = []
    heard: list[str] = []
    clock = SlaClock(
        s.desk, assign_team=lambda desk, ticket_id, team: handed.append((ticket_id, team)), listeners=[
            lambda event: heard.append(event.type)]
    )  # fmt: skip
    ticket = s.desk.create_ticket(Actor.user(7), subject="Order", description="Where is it?")
    s.follow()
    clock.scan(at(MONDAY, "09:20").timestamp())
    assert clock.escalate() == 1 and clock.escalate() == 0
    assert handed == [(ticket.id, "tier2")]
    assert heard == [WARNING, BREACHED, "sla_escalated"]
    # Without a teams capability the hand-over is skipped (and logged), the breach still handled once.
    other = s.desk.create_ticket(Actor.user(7), subject="Again", description="Where is it?")
    s.follow()
    s.clock.scan(at(MONDAY + timedelta(days=1), "12:00").timestamp())
    assert s.clock.escalate() == 1
    assert s.sla.events(ticket_id=other.id)[-1].escalated_at is not None


def test_a_late_or_out_of_order_worker_computes_the_same_clock(make_store: StoreMaker) -> None:
    s = Scenario(*sla_store(make_store))
    ticket = s.desk.create_ticket(Actor.user(7), subject="Order", description="Where is it?")
    s.move_to(at(MONDAY, "09:05"))
    s.desk.post_message(Actor.admin(1), ticket.id, "On it")
    s.move_to(at(MONDAY, "09:06"))
    s.desk.change_status(Actor.admin(1), ticket.id, "resolved")
    created, *later = s.store.events_after(0, limit=10)
    for record in later:  # another worker ran the later events first: nothing to follow yet
        s.clock.observe(record)
    assert s.sla.clock(ticket.id) is None
    s.clock.observe(created)  # applied now, at the times things happened
    view = s.clock.views([ticket])[ticket.id]
    assert view.met == ["first_response"] and view.paused
    assert s.scan_at(at(MONDAY, "12:00")) == []
