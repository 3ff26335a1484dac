"""The rule engine's safety, for random rule sets and events: no self-trigger, bounded chains, bounded replies."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError as PydanticError

from supportchat.automation.engine import (
    MESSAGE_ACTIONS,
    Acknowledgement,
    Action,
    ActionKind,
    Condition,
    Event,
    EventTrigger,
    Facts,
    Firing,
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
CHANNELS = ["app", "email"]
CALENDARS = ["madrid", "mexico"]

conditions = st.one_of(
    st.builds(
        Condition, field=st.just("status"), op=st.sampled_from(["is", "is_not"]), value=st.sampled_from(STATUSES)
    ),
    st.builds(
        Condition, field=st.just("priority"), op=st.sampled_from(["is", "is_not"]), value=st.sampled_from(PRIORITIES)
    ),
    st.builds(Condition, field=st.just("tags"), op=st.sampled_from(["has", "lacks"]), value=st.sampled_from("abc")),
    st.builds(
        Condition, field=st.just("channel"), op=st.sampled_from(["is", "is_not"]), value=st.sampled_from(CHANNELS)
    ),
    st.builds(
        Condition,
        field=st.just("business_hours"),
        op=st.sampled_from(["is", "is_not"]),
        value=st.booleans(),
        calendar=st.sampled_from(CALENDARS),
    ),
)
actions = st.one_of(
    st.builds(Action, kind=st.just(ActionKind.SET_PRIORITY), value=st.sampled_from(PRIORITIES)),
    st.builds(Action, kind=st.just(ActionKind.SET_STATUS), value=st.sampled_from(STATUSES)),
    st.builds(
        Action, kind=st.just(ActionKind.ADD_TAGS), value=st.lists(st.sampled_from("abc"), min_size=1, max_size=2)
    ),
    st.builds(Action, kind=st.just(ActionKind.REMOVE_TAGS), value=st.lists(st.sampled_from("abc"), min_size=1)),
    st.builds(Action, kind=st.just(ActionKind.REPLY), value=st.integers(1, 3)),
    st.builds(Action, kind=st.just(ActionKind.ADD_NOTE), value=st.just("Revisar {{ticket.number}}")),
    st.builds(
        Action,
        kind=st.just(ActionKind.TRANSFER),
        value=st.one_of(
            st.fixed_dictionaries({"agent": st.integers(1, 3)}, optional={"force": st.booleans()}),
            st.fixed_dictionaries({"team": st.sampled_from(["billing", "tech"])}),
        ),
    ),
    st.builds(Action, kind=st.just(ActionKind.NOTIFY), value=st.just({"text": "Mira esto", "agents": [1]})),
    st.builds(
        Action,
        kind=st.just(ActionKind.ACKNOWLEDGE),
        value=st.builds(
            lambda calendar: {"calendar": calendar, "inside": {"es": 1, "en": 2}, "outside": {"es": 3}},
            st.sampled_from(CALENDARS),
        ),
    ),
)
events = st.sampled_from(
    [Event.TICKET_CREATED, Event.TICKET_UPDATED, Event.MESSAGE_CREATED, Event.SLA_WARNING, Event.SLA_BREACHED]
)


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
    channel=st.sampled_from(CHANNELS),
    working_calendars=st.frozensets(st.sampled_from(CALENDARS)),
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
        replies += sum(a.kind in MESSAGE_ACTIONS for a in firing.actions)
        assert all(a.kind in MESSAGE_ACTIONS for a in firing.dropped), "only messages are capped"
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


def test_business_hours_channel_and_tag_conditions_read_their_facts() -> None:
    def fires(condition: Condition, state: Facts) -> bool:
        rule = Rule(
            id=1,
            name="r",
            trigger=EventTrigger(events=(Event.SLA_BREACHED,)),
            conditions=(condition,),
            actions=(Action(kind=ActionKind.ADD_TAGS, value=["late"]),),
        )
        return bool(evaluate([rule], Happening(Event.SLA_BREACHED, 1, NOW), state))

    base = Facts(status="open", priority="low", category="general", assigned_to=None)
    inside = replace(base, working_calendars=frozenset({"madrid"}), channel="email")
    open_hours = Condition(field="business_hours", op="is", value=True, calendar="madrid")
    assert fires(open_hours, inside) and not fires(open_hours, base)
    assert fires(Condition(field="business_hours", op="is", value=False, calendar="madrid"), base)
    assert fires(Condition(field="business_hours", op="is_not", value=True, calendar="mexico"), inside)
    assert fires(Condition(field="channel", op="is", value="email"), inside)
    assert not fires(Condition(field="channel", op="is", value="email"), base)
    tagged = replace(base, tags=frozenset({"reembolso"}))
    assert fires(Condition(field="tags", op="has", value="Reembolsó"), tagged), "tags compare as the core stores them"
    assert fires(Condition(field="tags", op="lacks", value="vip"), tagged)
    for bad in (
        {"field": "business_hours", "op": "is", "value": True},  # which calendar?
        {"field": "status", "op": "is", "value": "open", "calendar": "madrid"},
        {"field": "channel", "op": "is", "value": "fax"},
        {"field": "tags", "op": "has", "value": "no tags!"},
    ):
        with pytest.raises(PydanticError):
            Condition.model_validate(bad)


def test_new_actions_check_their_values_and_the_acknowledgement_picks_hours_then_language() -> None:
    for bad in (
        {"kind": "add_tags", "value": []},
        {"kind": "transfer", "value": {"agent": 1, "team": "billing"}},
        {"kind": "transfer", "value": {"agent": "five"}},
        {"kind": "notify", "value": {"agents": [1]}},
        {"kind": "add_note", "value": " "},
        {"kind": "acknowledge", "value": {"calendar": "madrid", "inside": {"en": 1}, "outside": {"es": 2}}},
    ):
        with pytest.raises(PydanticError):
            Action.model_validate(bad)
    ack = Acknowledgement(calendar="madrid", inside={"es": 1, "en": 2}, outside={"es": 3, "en": 4})
    assert ack.canned_for(working=True, language="en") == 2
    assert ack.canned_for(working=False, language="es") == 3
    assert ack.canned_for(working=False, language="pt") == 3, "another language gets the default"
    transfer = Firing(1, 1, 1, NOW, (Action(kind=ActionKind.TRANSFER, value={"team": "billing"}),))
    assigned = Facts(status="open", priority="low", category="general", assigned_to=4)
    events, after = apply_to_facts(transfer, assigned)
    assert after.assigned_to is None and events == [Event.TICKET_UPDATED], "to a team: unassigned into it"
    noted = Firing(
        1, 1, 1, NOW, (Action(kind=ActionKind.ADD_NOTE, value="x"), Action(kind=ActionKind.ADD_TAGS, value=["a"]))
    )
    events, after = apply_to_facts(noted, assigned)
    assert events == [] and after.tags == {"a"}, "notes and tags announce nothing the rules react to"
