"""The rule engine's safety, for random rule sets and events: no self-trigger, bounded chains, bounded replies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError as PydanticError

from supportchat.automation.engine import (
    Action,
    ActionKind,
    Condition,
    Event,
    EventTrigger,
    Facts,
    Happening,
    Limits,
    Rule,
    TimeTrigger,
    apply_to_facts,
    cascade,
    evaluate,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
STATUSES = ["open", "in_progress", "resolved"]
PRIORITIES = ["low", "medium", "high", "urgent"]

conditions = st.one_of(
    st.builds(
        Condition, field=st.just("status"), op=st.sampled_from(["is", "is_not"]), value=st.sampled_from(STATUSES)
    ),
    st.builds(
        Condition, field=st.just("priority"), op=st.sampled_from(["is", "is_not"]), value=st.sampled_from(PRIORITIES)
    ),
    st.builds(Condition, field=st.just("tags"), op=st.sampled_from(["has", "lacks"]), value=st.sampled_from("abc")),
)
actions = st.one_of(
    st.builds(Action, kind=st.just(ActionKind.SET_PRIORITY), value=st.sampled_from(PRIORITIES)),
    st.builds(Action, kind=st.just(ActionKind.SET_STATUS), value=st.sampled_from(STATUSES)),
    st.builds(
        Action, kind=st.just(ActionKind.ADD_TAGS), value=st.lists(st.sampled_from("abc"), min_size=1, max_size=2)
    ),
    st.builds(Action, kind=st.just(ActionKind.REMOVE_TAGS), value=st.lists(st.sampled_from("abc"), min_size=1)),
    st.builds(Action, kind=st.just(ActionKind.REPLY), value=st.integers(1, 3)),
)
events = st.sampled_from([Event.TICKET_CREATED, Event.TICKET_UPDATED, Event.MESSAGE_CREATED])


@st.composite
def rule_sets(draw: st.DrawFn) -> list[Rule]:
    count = draw(st.integers(1, 6))
    return [
        Rule(
            id=index + 1,
            name=f"rule {index + 1}",
            version=draw(st.integers(1, 3)),
            trigger=EventTrigger(events=tuple(draw(st.sets(events, min_size=1)))),
            conditions=tuple(draw(st.lists(conditions, max_size=2))),
            actions=tuple(draw(st.lists(actions, min_size=1, max_size=3))),
        )
        for index in range(count)
    ]


facts = st.builds(
    Facts,
    status=st.sampled_from(STATUSES),
    priority=st.sampled_from(PRIORITIES),
    category=st.just("general"),
    assigned_to=st.none(),
    tags=st.frozensets(st.sampled_from("abc")),
    changed_at=st.just(NOW),
    automatic_messages_last_hour=st.integers(0, 4),
)


@settings(max_examples=150, deadline=None)
@given(rule_sets(), events, facts, st.integers(1, 4), st.integers(0, 4))
def test_no_rule_fires_on_its_own_change_chains_stop_and_replies_are_capped(
    rules: list[Rule], event: Event, start: Facts, max_chain: int, per_hour: int
) -> None:
    limits = Limits(messages_per_hour=per_hour, max_chain=max_chain)
    firings = cascade(rules, Happening(event, 1, NOW), start, apply_to_facts, limits)
    replies = 0
    for firing in firings:
        assert firing.rule_id not in firing.chain[:-1], "a rule fired on a change it caused"
        assert firing.chain[-1] == firing.rule_id and len(firing.chain) <= max_chain
        replies += sum(a.kind is ActionKind.REPLY for a in firing.actions)
        assert all(a.kind is ActionKind.REPLY for a in firing.dropped)
    assert replies <= max(0, per_hour - start.automatic_messages_last_hour)
    # A chain of distinct rules, each at most once per chain: the run is finite and small.
    assert len(firings) <= sum(len(rules) ** depth for depth in range(1, max_chain + 1))


@given(rule_sets(), events, facts)
def test_a_happening_caused_by_a_rule_never_fires_that_rule(rules: list[Rule], event: Event, state: Facts) -> None:
    for rule in rules:
        fired = evaluate(rules, Happening(event, 1, NOW, chain=(rule.id,)), state)
        assert rule.id not in [f.rule_id for f in fired]


def test_a_time_trigger_fires_only_once_its_duration_has_passed_since_the_last_change() -> None:
    pending = Rule(
        id=1,
        name="Waiting on the user 48 h",
        trigger=TimeTrigger(after=timedelta(hours=48)),
        conditions=(Condition(field="status", op="is", value="resolved"),),
        actions=(Action(kind=ActionKind.SET_STATUS, value="closed"),),
    )
    state = Facts(status="resolved", priority="low", category="general", assigned_to=None, changed_at=NOW)
    early = Happening(Event.TIME, 1, NOW + timedelta(hours=47, minutes=59))
    due = Happening(Event.TIME, 1, NOW + timedelta(hours=48))
    assert evaluate([pending], early, state) == []
    assert [f.rule_id for f in evaluate([pending], due, state)] == [1]
    # An event is not its instant, and a ticket that changed meanwhile is not due.
    assert evaluate([pending], Happening(Event.TICKET_UPDATED, 1, due.at), state) == []
    moved = Facts(
        status="resolved", priority="low", category="general", assigned_to=None, changed_at=NOW + timedelta(hours=1)
    )
    assert evaluate([pending], due, moved) == []


def test_message_conditions_match_words_and_bad_rules_are_refused() -> None:
    state = Facts(
        status="open", priority="low", category="general", assigned_to=None, message="¿Cuándo llega mi REEMBOLSÓ?"
    )
    assert evaluate(
        [
            Rule(
                id=1,
                name="refunds",
                trigger=EventTrigger(events=(Event.MESSAGE_CREATED,)),
                conditions=(Condition(field="message", op="contains", value="reembolso"),),
                actions=(Action(kind=ActionKind.ADD_TAGS, value=["refund"]),),
            )
        ],
        Happening(Event.MESSAGE_CREATED, 1, NOW),
        state,
    )
    with pytest.raises(PydanticError):
        Condition(field="status", op="contains", value="x")
    with pytest.raises(PydanticError):
        Rule(id=1, name="nothing", trigger=EventTrigger(events=(Event.TICKET_CREATED,)), actions=())
    rule = Rule.model_validate_json(
        '{"id": 7, "name": "urgent", "trigger": {"kind": "event", "events": ["ticket_created"]},'
        ' "conditions": [{"field": "priority", "op": "is", "value": "urgent"}],'
        ' "actions": [{"kind": "assign", "value": 5}]}'
    )
    assert rule.trigger == EventTrigger(events=(Event.TICKET_CREATED,)) and rule.version == 1
