"""Automation rules (spec §18) as data, and the pure engine that decides what they do.

A :class:`Rule` says *when* (an event trigger, or a time trigger: a condition
that has held for a duration), *if* (every :class:`Condition` holds for the
ticket as it is then) and *what* (its :class:`Action` s). Rules are pydantic
models, so a rule set is plain JSON (or YAML), validated when saved, and each
carries a ``version`` that every automatic action records.

:func:`evaluate` is the whole decision, a pure function of the rules, what
happened and the ticket's facts; the live runner and the dry run both call it,
which is why a dry run over a past range lists exactly what the live run did.
Its safety rules, stated once here:

- **no self-trigger**: a change made by a rule never fires that rule again
  (its id is in the happening's ``chain``);
- **bounded chains**: a change made by rules fires further rules only while the
  chain is shorter than :data:`MAX_CHAIN`;
- **bounded messages**: a reply action is dropped once the ticket has had
  :attr:`Limits.messages_per_hour` automatic messages in the last hour.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..search import words

__all__ = [
    "MAX_CHAIN",
    "Action",
    "ActionKind",
    "Apply",
    "Condition",
    "Event",
    "EventTrigger",
    "Facts",
    "Firing",
    "Happening",
    "Limits",
    "Rule",
    "TimeTrigger",
    "Trigger",
    "apply_to_facts",
    "cascade",
    "evaluate",
    "holds",
    "time_instants",
]

#: How many rules a chain of automatic changes may pass through.
MAX_CHAIN = 3


class Event(enum.StrEnum):
    TICKET_CREATED = "ticket_created"
    TICKET_UPDATED = "ticket_updated"
    MESSAGE_CREATED = "message_created"
    SLA_WARNING = "sla_warning"
    SLA_BREACHED = "sla_breached"
    #: A time trigger's instant came (the runner's own happening).
    TIME = "time"


class ActionKind(enum.StrEnum):
    ASSIGN = "assign"
    SET_PRIORITY = "set_priority"
    SET_STATUS = "set_status"
    ADD_TAGS = "add_tags"
    REMOVE_TAGS = "remove_tags"
    REPLY = "reply"
    ADD_NOTE = "add_note"
    NOTIFY = "notify"
    TRANSFER = "transfer"


#: Actions that write a message the customer reads.
_MESSAGES = frozenset({ActionKind.REPLY})

Field_ = Literal[
    "status", "priority", "category", "assigned_to", "tags", "channel", "message", "sender", "business_hours"
]
Operator = Literal["is", "is_not", "in", "not_in", "contains", "has", "lacks"]


class Condition(BaseModel):
    """One test of the ticket's facts, e.g. ``{"field": "status", "op": "is", "value": "open"}``.

    ``message contains`` matches whole words of the latest user message
    (accents and case ignored); ``tags has``/``lacks`` a tag; ``business_hours
    is true`` the ticket's calendar; ``assigned_to is null`` an unassigned ticket.
    """

    model_config = ConfigDict(frozen=True)

    field: Field_
    op: Operator
    value: Any = None

    @model_validator(mode="after")
    def _fits(self) -> Condition:
        if self.op in ("in", "not_in") and not isinstance(self.value, list):
            raise ValueError(f"{self.op} needs a list of values")
        if self.op in ("has", "lacks") and self.field != "tags":
            raise ValueError("has and lacks apply to tags")
        if self.op == "contains" and self.field != "message":
            raise ValueError("contains applies to message")
        return self


class EventTrigger(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["event"] = "event"
    events: tuple[Event, ...] = Field(min_length=1)


class TimeTrigger(BaseModel):
    """Fires once the conditions have held for ``after`` since the ticket's last change (e.g. pending 48 h)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["time"] = "time"
    after: timedelta = Field(gt=timedelta(0))


Trigger = Annotated[EventTrigger | TimeTrigger, Field(discriminator="kind")]


class Action(BaseModel):
    """What a rule does, e.g. ``{"kind": "set_priority", "value": "high"}`` or ``{"kind": "reply", "value": 3}``."""

    model_config = ConfigDict(frozen=True)

    kind: ActionKind
    value: Any = None


class Rule(BaseModel):
    """A rule: its trigger, the conditions that must all hold, and its actions, in order."""

    model_config = ConfigDict(frozen=True)

    id: int
    name: str = Field(min_length=1, max_length=120)
    version: int = Field(default=1, ge=1)
    enabled: bool = True
    trigger: Trigger
    conditions: tuple[Condition, ...] = ()
    actions: tuple[Action, ...] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class Facts:
    """What the conditions may read of a ticket at one instant."""

    status: str
    priority: str
    category: str
    assigned_to: int | None
    tags: frozenset[str] = frozenset()
    channel: str = "app"
    #: The latest user message (or the description of a new ticket).
    message: str = ""
    #: Who made the change being reacted to: ``user``, ``admin`` or ``automation``.
    sender: str = "user"
    business_hours: bool = True
    #: When the ticket last changed (a time trigger counts from it).
    changed_at: datetime | None = None
    #: Automatic messages the ticket received in the last hour.
    automatic_messages_last_hour: int = 0

    def value(self, name: str) -> Any:
        return getattr(self, name)


@dataclass(frozen=True, slots=True)
class Happening:
    """What the engine reacts to: an event (or a time trigger's instant) on one ticket."""

    event: Event
    ticket_id: int
    at: datetime
    #: The rules whose actions caused this, oldest first (empty for a person's or a user's change).
    chain: tuple[int, ...] = ()
    #: A time trigger's instant concerns only the rule it was set for.
    only: int | None = None


@dataclass(frozen=True, slots=True)
class Limits:
    messages_per_hour: int = 3
    max_chain: int = MAX_CHAIN


@dataclass(frozen=True, slots=True)
class Firing:
    """A rule firing on a ticket: the actions to take, with the rule's version for the record."""

    rule_id: int
    rule_version: int
    ticket_id: int
    at: datetime
    actions: tuple[Action, ...]
    chain: tuple[int, ...] = field(default=())
    #: Reply actions left out by the per-ticket cap on automatic messages.
    dropped: tuple[Action, ...] = ()


def holds(condition: Condition, facts: Facts) -> bool:
    """Whether ``condition`` holds for ``facts``."""
    if condition.field == "message":
        wanted = words(str(condition.value or ""))
        present = set(words(facts.message))
        return bool(wanted) and all(w in present for w in wanted)
    if condition.field == "tags":
        tag = str(condition.value).lower()
        return (tag in facts.tags) is (condition.op == "has")
    actual = facts.value(condition.field)
    value = condition.value
    if condition.op in ("is", "is_not"):
        same = actual == value or (isinstance(actual, str) and isinstance(value, str) and actual == value.lower())
        return same is (condition.op == "is")
    members = list(value)
    return (actual in members) is (condition.op == "in")


def _triggered(rule: Rule, happening: Happening, facts: Facts) -> bool:
    trigger = rule.trigger
    if isinstance(trigger, EventTrigger):
        return happening.event in trigger.events
    # A time trigger fires at its instant only if the ticket has not changed since it was set.
    return (
        happening.event is Event.TIME
        and facts.changed_at is not None
        and happening.at >= facts.changed_at + trigger.after
    )


def evaluate(rules: Sequence[Rule], happening: Happening, facts: Facts, limits: Limits = Limits()) -> list[Firing]:
    """The rules that fire on ``happening`` with ``facts``, in rule-id order, with their actions."""
    if len(happening.chain) >= limits.max_chain:
        return []
    budget = max(0, limits.messages_per_hour - facts.automatic_messages_last_hour)
    fired: list[Firing] = []
    for rule in sorted(rules, key=lambda r: r.id):
        if happening.only is not None and rule.id != happening.only:
            continue
        if not rule.enabled or rule.id in happening.chain or not _triggered(rule, happening, facts):
            continue
        if not all(holds(condition, facts) for condition in rule.conditions):
            continue
        kept: list[Action] = []
        dropped: list[Action] = []
        for action in rule.actions:
            if action.kind in _MESSAGES:
                if budget == 0:
                    dropped.append(action)
                    continue
                budget -= 1
            kept.append(action)
        fired.append(
            Firing(
                rule_id=rule.id,
                rule_version=rule.version,
                ticket_id=happening.ticket_id,
                at=happening.at,
                actions=tuple(kept),
                chain=(*happening.chain, rule.id),
                dropped=tuple(dropped),
            )
        )
    return fired


#: Applies a firing's actions (to a desk, or to facts in a dry run) and says what changed:
#: the events the actions caused and the ticket's facts after them.
Apply = Callable[[Firing, Facts], tuple[Sequence[Event], Facts]]


def cascade(
    rules: Sequence[Rule], happening: Happening, facts: Facts, apply: Apply, limits: Limits = Limits()
) -> list[Firing]:
    """Every firing ``happening`` causes, the chains it starts included, in the order they are applied.

    Each firing's actions are handed to ``apply``; the events they cause are
    evaluated in turn with the chain extended by the rule, so a rule never
    fires on its own change and no chain passes :attr:`Limits.max_chain` rules.
    The live runner's ``apply`` writes to the desk; the dry run's
    (:func:`apply_to_facts`) only computes the facts, so both list the same firings.
    """
    done: list[Firing] = []
    pending: list[Happening] = [happening]
    # One ticket, one state: every happening is judged on the facts as the firings so far left them.
    current = facts
    while pending:
        cause = pending.pop(0)
        for firing in evaluate(rules, cause, current, limits):
            events, current = apply(firing, current)
            done.append(firing)
            pending.extend(Happening(event, firing.ticket_id, firing.at, firing.chain) for event in events)
    return done


def apply_to_facts(firing: Firing, facts: Facts) -> tuple[list[Event], Facts]:
    """What ``firing``'s actions do to the ticket's facts, and the events a desk would announce (the dry run)."""
    changes: dict[str, Any] = {}
    events: list[Event] = []
    replies = 0
    for action in firing.actions:
        kind, value = action.kind, action.value
        if kind is ActionKind.SET_PRIORITY and facts.priority != value:
            changes["priority"] = value
        elif kind is ActionKind.SET_STATUS and facts.status != value:
            changes["status"] = value
        elif kind in (ActionKind.ASSIGN, ActionKind.TRANSFER) and facts.assigned_to != value:
            changes["assigned_to"] = value
        elif kind is ActionKind.ADD_TAGS:
            tags = changes.get("tags", facts.tags) | {str(t).lower() for t in value}
            if tags != facts.tags:
                changes["tags"] = frozenset(tags)
        elif kind is ActionKind.REMOVE_TAGS:
            tags = changes.get("tags", facts.tags) - {str(t).lower() for t in value}
            if tags != facts.tags:
                changes["tags"] = frozenset(tags)
        elif kind is ActionKind.REPLY:
            replies += 1
    if set(changes) - {"tags"}:
        events.append(Event.TICKET_UPDATED)
    events.extend([Event.MESSAGE_CREATED] * replies)
    after = replace(
        facts,
        **changes,
        sender="automation",
        changed_at=firing.at if changes or replies else facts.changed_at,
        automatic_messages_last_hour=facts.automatic_messages_last_hour + replies,
    )
    return events, after


def time_instants(rules: Sequence[Rule], changed_at: datetime) -> list[tuple[Rule, datetime]]:
    """The instant each time-triggered rule of ``rules`` comes for a ticket last changed at ``changed_at``.

    The live scheduler sets a job at each; the dry run replays each: whether it
    fires is :func:`evaluate`'s (the ticket must not have changed since).
    """
    return [(rule, changed_at + rule.trigger.after) for rule in rules if isinstance(rule.trigger, TimeTrigger)]
