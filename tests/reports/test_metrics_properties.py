"""Property tests of the report metrics (spec §19) against a simulation that knows the answers."""

from __future__ import annotations

import math
import statistics
from dataclasses import replace
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from supportchat.reports import FactKind, GroupBy, TicketHistory, build_report, cycles, ticket_facts

from .histories import START, STEPS, Expected, business_hours, simulate

FAST = settings(max_examples=150, deadline=None)


def _facts(history: TicketHistory, kind: FactKind) -> list[tuple[object, float | None]]:
    return sorted((f.at, f.value) for f in ticket_facts(history) if f.kind is kind)


@FAST
@given(STEPS)
def test_every_time_figure_and_count_equals_the_simulation(steps: list[tuple[int, str, int]]) -> None:
    history, expected = simulate(1, START, steps)
    assert _facts(history, FactKind.FIRST_RESPONSE) == sorted(expected.first_response)
    assert _facts(history, FactKind.NEXT_RESPONSE) == sorted(expected.next_response)
    assert _facts(history, FactKind.RESOLUTION) == sorted(expected.resolution)
    assert _facts(history, FactKind.FULL_RESOLUTION) == sorted(expected.full_resolution)
    assert [at for at, _ in _facts(history, FactKind.REOPENED)] == expected.reopened
    assert [at for at, _ in _facts(history, FactKind.RESOLVED)] == expected.resolved
    assert _facts(history, FactKind.CSAT) == sorted((at, float(score)) for at, score in expected.csat)
    assert len(cycles(history.ticket, history.changes)) == 1 + len(expected.reopened)


@FAST
@given(STEPS)
def test_business_time_is_never_more_than_wall_clock_time(steps: list[tuple[int, str, int]]) -> None:
    history, _ = simulate(1, START, steps)
    for fact in ticket_facts(history, business_hours):
        if fact.value is not None and fact.kind is not FactKind.CSAT:
            assert fact.business is not None
            assert 0 <= fact.business <= fact.value


def test_a_ticket_reopened_twice_has_three_cycles() -> None:
    steps = [(5, "human", 0), (60, "resolve", 0), (30, "user", 0), (10, "resolve", 0), (10, "reopen", 0)]
    history, _ = simulate(1, START, steps)
    found = cycles(history.ticket, history.changes)
    assert [c.number for c in found] == [1, 2, 3]
    assert found[0].resolved_at is not None and found[1].resolved_at is not None and found[2].resolved_at is None
    assert sum(1 for f in ticket_facts(history) if f.kind is FactKind.FIRST_RESPONSE) == 1


@FAST
@given(STEPS, st.lists(st.integers(0, 80_000), max_size=6))
def test_automated_messages_never_count_as_a_response(steps: list[tuple[int, str, int]], extra: list[int]) -> None:
    history, _ = simulate(1, START, steps)
    human_only = replace(history, messages=[m for m in history.messages if not m.automated])
    template = next((m for m in history.messages if m.automated), None)
    more = list(history.messages)
    if template is not None:
        more += [
            template.model_copy(update={"id": 900_000 + i, "created_at": START + timedelta(minutes=minutes)})
            for i, minutes in enumerate(extra)
        ]
    with_more = replace(history, messages=more)
    reference = sorted((f.kind, f.at, f.value) for f in ticket_facts(human_only))
    assert sorted((f.kind, f.at, f.value) for f in ticket_facts(history)) == reference
    assert sorted((f.kind, f.at, f.value) for f in ticket_facts(with_more)) == reference
    automated_moments = {m.created_at for m in more if m.automated} - {m.created_at for m in human_only.messages}
    responses = {FactKind.FIRST_RESPONSE, FactKind.NEXT_RESPONSE}
    assert not any(f.at in automated_moments for f in ticket_facts(with_more) if f.kind in responses)


def _p90(values: list[float]) -> float:
    return sorted(values)[math.ceil(0.9 * len(values)) - 1]


@settings(max_examples=60, deadline=None)
@given(st.lists(STEPS, min_size=1, max_size=12), st.integers(0, 20), st.integers(1, 30))
def test_a_reports_figures_equal_a_brute_force_recount(
    tickets: list[list[tuple[int, str, int]]], from_day: int, days: int
) -> None:
    simulated = [simulate(i + 1, START + timedelta(hours=7 * i), steps) for i, steps in enumerate(tickets)]
    start = START.replace(hour=0) + timedelta(days=from_day)
    end = start + timedelta(days=days)
    report = build_report([h for h, _ in simulated], start, end, GroupBy.WEEK)
    expected: list[Expected] = [e for _, e in simulated]

    def within(moments: list[object]) -> list[object]:
        return [m for m in moments if start <= m < end]  # type: ignore[operator]

    total = report.total
    assert total.created == len(within([h.ticket.created_at for h, _ in simulated]))
    assert total.resolved == sum(len(within(list(e.resolved))) for e in expected)
    assert total.reopened == sum(len(within(list(e.reopened))) for e in expected)
    for name in ("first_response", "next_response", "resolution", "full_resolution"):
        values = [v for e in expected for at, v in getattr(e, name) if start <= at < end]
        figure = getattr(total, name).wall
        assert figure.count == len(values), name
        if values:
            assert figure.mean == round(statistics.fmean(values), 3)
            assert figure.median == round(statistics.median(values), 3)
            assert figure.p90 == round(_p90(values), 3)
    scores = [s for e in expected for at, s in e.csat if start <= at < end]
    assert total.csat.count == len(scores)
    if scores:
        assert total.csat.satisfied_share == round(sum(s >= 4 for s in scores) / len(scores), 3)
    # The rows partition the range: their counts add up to the total; the last backlog is the total's.
    assert sum(r.created for r in report.rows) == total.created
    assert sum(r.first_response.wall.count for r in report.rows) == total.first_response.wall.count
    assert report.rows[-1].backlog == total.backlog
    open_at_end = 0
    for history, _ in simulated:
        status = history.ticket.status.value
        for c in sorted(history.changes, key=lambda c: c.changed_at, reverse=True):
            if c.field == "status" and c.changed_at >= end:
                status = c.old_value or status
        if history.ticket.created_at < end and status in ("open", "in_progress"):
            open_at_end += 1
    assert total.backlog == open_at_end
