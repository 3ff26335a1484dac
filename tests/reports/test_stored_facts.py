"""The stored facts and their SQL aggregates equal the reference report over the histories (memory, SQLite, PostgreSQL).

The reference is :func:`build_report`, itself checked against a step-by-step
simulation in ``test_metrics_properties.py``; here random histories (with SLA
outcomes) are stored through :class:`FactStore` and every grouping's report from
the store must equal it field for field.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportchat.extensions import extension
from supportchat.reports import (
    METRICS_VERSION,
    FactStore,
    GroupBy,
    TargetOutcome,
    TicketHistory,
    build_report,
    facts_of,
)

from ..stores import memory_backend, postgres_backend, sqlite_memory_backend
from .histories import START, STEPS, business_hours, simulate

_BACKENDS = {"memory": memory_backend, "sqlite": sqlite_memory_backend, "postgres": postgres_backend}
_TARGETS = ("first_response", "next_response", "resolution")

OUTCOMES = st.lists(st.tuples(st.sampled_from(_TARGETS), st.integers(0, 40 * 24 * 60), st.booleans()), max_size=4)
TICKETS = st.lists(st.tuples(STEPS, OUTCOMES), min_size=1, max_size=10)
STORED = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(params=sorted(_BACKENDS))
def facts(request: pytest.FixtureRequest) -> Iterator[FactStore]:
    with _BACKENDS[request.param](request) as make:
        yield extension(make(), FactStore)  # type: ignore[type-abstract]


def _histories(tickets: list[tuple[list[tuple[int, str, int]], list[tuple[str, int, bool]]]]) -> list[TicketHistory]:
    found = []
    for index, (steps, outcomes) in enumerate(tickets):
        history, _ = simulate(index + 1, START + timedelta(hours=7 * index), steps)
        decided = [TargetOutcome(t, START + timedelta(minutes=m), ok) for t, m, ok in outcomes]
        found.append(replace(history, sla=decided))
    return found


@STORED
@given(TICKETS, st.integers(-2, 20), st.integers(1, 40), st.sampled_from(list(GroupBy)), st.booleans())
def test_a_report_from_the_stored_facts_equals_the_reference(
    facts: FactStore,
    tickets: list[tuple[list[tuple[int, str, int]], list[tuple[str, int, bool]]]],
    from_day: int,
    days: int,
    group_by: GroupBy,
    calendar: bool,
) -> None:
    histories = _histories(tickets)
    business = business_hours if calendar else None
    stored = facts.rebuild([[facts_of(h, business) for h in histories]], METRICS_VERSION)
    assert stored == len(histories)
    assert facts.version() == METRICS_VERSION
    start = START.replace(hour=0) + timedelta(days=from_day, hours=from_day % 3 * 5)
    end = start + timedelta(days=days, minutes=days * 37)
    reference = build_report(histories, start, end, group_by, business)
    assert facts.report(start, end, group_by) == reference


@STORED
@given(TICKETS, st.lists(st.integers(0, 9), max_size=12), st.sampled_from([GroupBy.DAY, GroupBy.AGENT]))
def test_refreshing_tickets_in_any_order_and_a_calendar_change_then_recompute(
    facts: FactStore,
    tickets: list[tuple[list[tuple[int, str, int]], list[tuple[str, int, bool]]]],
    order: list[int],
    group_by: GroupBy,
) -> None:
    histories = _histories(tickets)
    facts.rebuild([], METRICS_VERSION)
    # Jobs refresh tickets one at a time, in any order, some more than once.
    for index in order + list(range(len(histories))):
        if index < len(histories):
            facts.replace([facts_of(histories[index])])
    start, end = START.replace(hour=0) - timedelta(days=1), START + timedelta(days=30)
    assert facts.report(start, end, group_by) == build_report(histories, start, end, group_by)
    # A calendar change: the recompute equals a fresh computation with the new calendar.
    facts.rebuild([[facts_of(h, business_hours) for h in histories]], METRICS_VERSION)
    assert facts.report(start, end, group_by) == build_report(histories, start, end, group_by, business_hours)


def test_an_interrupted_rebuild_leaves_no_version(facts: FactStore) -> None:
    histories = _histories([([(5, "human", 0)], [])])

    def batches() -> Iterator[list[object]]:
        yield [facts_of(histories[0])]
        raise RuntimeError("the worker died")

    facts.rebuild([[facts_of(histories[0])]], METRICS_VERSION)
    with pytest.raises(RuntimeError):
        facts.rebuild(batches(), METRICS_VERSION)  # type: ignore[arg-type]
    assert facts.version() is None


def _boundary_histories() -> list[TicketHistory]:
    """Every score, replies and reopenings landing exactly on midnights (period boundaries), an unanswered ticket."""
    to_midnight = int((START.replace(hour=0) + timedelta(days=1) - START).total_seconds() // 60)
    found = []
    for score in range(5):
        steps = [(to_midnight, "human", score), (60, "resolve", 0), (1, "rate", score), (24 * 60 - 61, "user", 0)]
        found.append(simulate(score + 1, START, steps)[0])
    found.append(simulate(9, START, [(to_midnight, "assign", 1), (24 * 60, "user", 0)])[0])
    return found


@pytest.mark.parametrize("group_by", list(GroupBy))
def test_every_score_and_the_period_boundaries(facts: FactStore, group_by: GroupBy) -> None:
    histories = _boundary_histories()
    facts.rebuild([[facts_of(h) for h in histories]], METRICS_VERSION)
    start = START.replace(hour=0)
    for end in (start + timedelta(days=1), start + timedelta(days=2), start + timedelta(days=9)):
        assert facts.report(start, end, group_by) == build_report(histories, start, end, group_by)
