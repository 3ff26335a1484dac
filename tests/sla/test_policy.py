"""Which policy applies (conditions on priority, category, tag, team), and what a calendar accepts."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from supportchat.models import Category, Priority
from supportchat.sla import CalendarIn, Conditions, Facts, PolicyOut
from supportchat.sla.policy import calendar, choose_policy

TAGS = ["vip", "refund", "bug"]
TEAMS = ["billing", "tier2"]


def subset(values: list[object]) -> st.SearchStrategy[list[object]]:
    return st.lists(st.sampled_from(values), unique=True, max_size=2)


conditions = st.builds(
    Conditions,
    priority=subset(list(Priority)),
    category=subset(list(Category)),
    tag=subset(TAGS),  # type: ignore[arg-type]
    team=subset(TEAMS),  # type: ignore[arg-type]
)
facts = st.builds(
    Facts,
    priority=st.sampled_from(list(Priority)),
    category=st.sampled_from(list(Category)),
    tags=st.frozensets(st.sampled_from(TAGS), max_size=2),
    team=st.none() | st.sampled_from(TEAMS),
)


def holds(c: Conditions, f: Facts) -> bool:
    """The rule as the docs state it: each condition given must match; a tag condition needs one common tag."""
    checks = [
        not c.priority or f.priority in c.priority,
        not c.category or f.category in c.category,
        not c.tag or any(tag in f.tags for tag in c.tag),
        not c.team or f.team in c.team,
    ]
    return all(checks)


@given(st.lists(st.tuples(st.integers(-3, 3), conditions), max_size=6), facts)
def test_the_first_policy_by_position_whose_conditions_hold_applies(
    entries: list[tuple[int, Conditions]], fact: Facts
) -> None:
    policies = [
        PolicyOut(id=i + 1, name=f"p{i}", position=position, conditions=c, calendar="c")
        for i, (position, c) in enumerate(entries)
    ]
    chosen = choose_policy(policies, fact)
    matching = sorted((p for p in policies if holds(p.conditions, fact)), key=lambda p: (p.position, p.id))
    assert chosen == (matching[0] if matching else None)


def test_a_team_condition_never_holds_while_no_team_is_known() -> None:
    facts_without_team = Facts(priority=Priority.HIGH, category=Category.GENERAL)
    assert not Conditions(team=["billing"]).hold_for(facts_without_team)
    assert Conditions(priority=[Priority.HIGH]).hold_for(facts_without_team)


def test_calendars_take_split_days_midnight_crossings_and_a_countrys_holidays() -> None:
    spec = CalendarIn(
        name="es",
        time_zone="Europe/Madrid",
        hours={"mon": [("09:00", "14:00"), ("16:00", "19:00")], "fri": [("22:00", "06:00")]},
        holidays=[date(2027, 1, 7)],
        holiday_country="ES",
    )
    built = calendar(spec)
    assert built.week[0] == ((540, 840), (960, 1140)) and built.week[4] == ((1320, 360),)
    assert date(2027, 1, 7) in built.holidays and date(2027, 1, 6) in built.holidays  # Epiphany, from `holidays`
    assert date(2027, 1, 8) not in built.holidays
    for bad in (
        {"time_zone": "Mars/Olympus"},
        {"hours": {"mon": [("09:00", "09:00")]}},
        {"hours": {"monday": [("09:00", "10:00")]}},
        {"hours": {"mon": [("25:00", "10:00")]}},
        {"holiday_country": "XX"},
    ):
        with pytest.raises(ValidationError):
            CalendarIn.model_validate({"name": "x", "time_zone": "UTC", "hours": {}, **bad})
