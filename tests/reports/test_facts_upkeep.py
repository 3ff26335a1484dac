"""The ``reports.facts`` job keeps the stored facts as the desk writes; SLA attainment from the SLA's deadlines.

The job runs in a real :class:`JobRunner` (dispatch from the event log, then the
handler), over a SQLite file and the in-memory store; afterwards the report the
route would answer (from the stored facts) equals the reference computed from
the histories, for every grouping.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from supportchat import Actor, SupportDesk
from supportchat.extensions import extension
from supportchat.jobs import JobRunner
from supportchat.reports import METRICS_VERSION, GroupBy, build_report, histories, recompute, report_kinds
from supportchat.reports.csv_format import report_csv
from supportchat.reports.upkeep import fact_store, stored_or_computed
from supportchat.sla import CalendarIn, PolicyIn, SlaClock, SlaStore
from supportchat.store import Store
from supportchat.stores import InMemoryStore
from supportchat.stores.sql import SQLStore

from ..conftest import FakeClock
from .test_hand_worked import Clock, _write_the_week

START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 3, 10, tzinfo=UTC)


def _drain(runner: JobRunner) -> None:
    for _ in range(200):
        if runner.run_once() == 0 and runner.run_once() == 0:
            return
    raise AssertionError("the jobs never settled")


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "memory":
        return InMemoryStore()
    return SQLStore.from_url(f"sqlite:///{tmp_path / 'desk.db'}")


def test_the_job_keeps_the_facts_equal_to_the_reference(store: Store) -> None:
    assert recompute(store) == 0  # an empty desk: the facts follow this version from now on
    runner = JobRunner(store, report_kinds(store))
    runner.start_cursors()
    clock = Clock()
    _write_the_week(SupportDesk(store, clock=lambda: clock.now), clock)
    _drain(runner)
    facts = fact_store(store)
    assert facts is not None and facts.version() == METRICS_VERSION
    for group_by in GroupBy:
        reference = build_report(histories(store), START, END, group_by)
        assert facts.report(START, END, group_by) == reference, group_by
        assert stored_or_computed(store, START, END, group_by) == reference


def test_a_version_change_is_detected_and_the_histories_are_read(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    _write_the_week(SupportDesk(store, clock=lambda: clock.now), clock)
    facts = fact_store(store)
    assert facts is not None
    assert facts.version() is None  # never built: the histories are read
    recompute(store)
    assert facts.version() == METRICS_VERSION
    monkeypatch.setattr("supportchat.reports.upkeep.METRICS_VERSION", METRICS_VERSION + 1)
    monkeypatch.setattr(type(facts), "report", lambda *a: pytest.fail("stale facts must not be read"))
    reference = build_report(histories(store), START, END, GroupBy.DAY)
    assert stored_or_computed(store, START, END, GroupBy.DAY) == reference


ALWAYS = {day: [("00:00", "24:00")] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def test_sla_attainment_counts_each_decided_deadline_once(store: Store) -> None:
    """First response in 30 min, resolution in 60, around the clock.

    T1: answered at +10 (within), resolved at +50 (within).
    T2: answered at +45 (late: breached at the +40 scan), resolved at +65 (breached at the +62 scan).
    T3: never answered nor resolved: both deadlines breach (first response at +40, resolution at +62).
    First response: 3 decided, 1 within (0.333); resolution: 3 decided, 1 within (0.333).
    """
    sla: SlaStore = extension(store, SlaStore)  # type: ignore[type-abstract]
    sla.put_calendar(CalendarIn(name="always", time_zone="UTC", hours=ALWAYS))
    sla.put_policy(
        PolicyIn(name="standard", calendar="always", first_response_minutes=30, resolution_minutes=60)  # type: ignore[arg-type]
    )
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    now = FakeClock(start)
    desk = SupportDesk(store, clock=now)
    clock = SlaClock(desk)
    seen = 0

    def follow() -> None:
        nonlocal seen
        for record in store.events_after(seen, limit=1000):
            clock.observe(record)
            seen = record.id

    def at(minutes: int) -> None:
        now.now = start + timedelta(minutes=minutes)

    user, agent = Actor.user(1), Actor.admin(10)
    t1, t2, _t3 = (desk.create_ticket(user, subject="Ayuda", description="x").id for _ in range(3))
    follow()
    at(10)
    desk.post_message(agent, t1, "Hola")
    follow()
    clock.scan((start + timedelta(minutes=40)).timestamp())
    at(45)
    desk.post_message(agent, t2, "Hola")
    at(50)
    desk.change_status(agent, t1, "resolved")
    follow()
    clock.scan((start + timedelta(minutes=62)).timestamp())
    at(65)
    desk.change_status(agent, t2, "resolved")
    follow()

    recompute(store)
    report = stored_or_computed(store, start.replace(hour=0), start + timedelta(days=1), GroupBy.DAY)
    sla_row = report.total.sla
    assert (sla_row.first_response.count, sla_row.first_response.attained) == (3, 1)
    assert sla_row.first_response.share == 0.333
    assert (sla_row.resolution.count, sla_row.resolution.attained, sla_row.resolution.share) == (3, 1, 0.333)
    assert sla_row.next_response.count == 0
    assert report == build_report(histories(store), report.start, report.end, GroupBy.DAY)
    line = list(csv.DictReader(io.StringIO(report_csv(report))))[-1]
    assert (line["sla_first_response_count"], line["sla_first_response_share"]) == ("3", "0.333")
    assert line["sla_resolution_attained"] == "1"
