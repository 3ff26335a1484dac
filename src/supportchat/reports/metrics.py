"""The metrics of spec §19 as pure functions of one ticket's history (version :data:`METRICS_VERSION`).

A ticket's history is its record of changes, its messages and its ratings
(:class:`TicketHistory`). Everything here is computed from that history and
nothing else, so a report over any past range can be recomputed and equals a
recount. Definitions (also in ``docs/reports.md``):

- **Cycle.** Creation starts cycle 1; every reopening (a change of status away
  from ``resolved`` to anything but ``closed``, the rule of
  :func:`supportchat.rules.is_reopening`) starts the next one. A cycle ends
  at its resolution (the change of status to ``resolved``), or is still open.
- **Human agent reply.** A message with ``sender_type == admin`` that is not
  ``automated`` (auto-replies, rules and the bot never count).
- **First response time**, one value per cycle that had one: from the start of
  the cycle to the first human agent reply at or after that start and not after
  the cycle's resolution.
- **Next response time**: from a user message that waits (the first user message
  after a human agent reply, in a cycle whose first response has been given) to
  the next human agent reply. A reply that is its cycle's first response ends
  any wait without giving a next response time (it is counted once, as a first
  response).
- **Resolution time**, per cycle: from the start of the cycle to its resolution;
  and **full resolution time**: from creation to the final resolution, for a
  ticket whose last cycle is resolved.
- **Created / resolved / reopened**: the creation, each resolution and each
  reopening is one event at its moment (a ticket resolved twice counts twice).
- **CSAT**: each rating, at the moment it was given, attributed to the agent
  the rating names.
- **Backlog** at a moment: tickets created before it whose status then was
  ``open`` or ``in_progress``; read from the ticket's :class:`Segment` s (its
  life cut at every change of status, assignee or priority).
- **SLA attainment**, per target (first response, next response, resolution)
  of the SLA policy the ticket is under: each deadline counts once, when it is
  decided, at its breach if it was breached, else when it was met; it is within
  target if it was never breached. A deadline cancelled before either is not
  counted (:class:`TargetOutcome`, read from the SLA's stored deadlines).

Each time figure is an :class:`Fact` at the moment the interval ends (the
reply, the resolution), with its wall-clock seconds and its business seconds
(``business_seconds(start, end)``, the ticket's calendar; ``None`` without one).
Every fact carries the ticket's dimensions *at that moment* (the agent,
category, priority), so grouping by agent attributes a response to who wrote
it and a resolution to whoever was assigned then.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from ..models import Message, Rating, SenderType, Ticket, TicketChange, TicketStatus
from ..rules import is_reopening

__all__ = [
    "METRICS_VERSION",
    "BusinessSeconds",
    "Cycle",
    "Fact",
    "FactKind",
    "Segment",
    "TargetOutcome",
    "TicketHistory",
    "cycles",
    "dimensions_at",
    "is_human_reply",
    "is_open",
    "segments",
    "status_at",
    "ticket_facts",
]

#: Bumped whenever a definition above changes, so stored or exported figures name the rules they follow.
METRICS_VERSION = 2

#: Business seconds between two moments by the ticket's calendar, or ``None`` without a calendar.
BusinessSeconds = Callable[[datetime, datetime], float | None]

_OPEN_STATUSES = frozenset({TicketStatus.OPEN.value, TicketStatus.IN_PROGRESS.value})


class FactKind(enum.StrEnum):
    CREATED = "created"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"
    FULL_RESOLUTION = "full_resolution"
    CSAT = "csat"
    SLA_FIRST_RESPONSE = "sla_first_response"
    SLA_NEXT_RESPONSE = "sla_next_response"
    SLA_RESOLUTION = "sla_resolution"


#: The fact kind of each SLA target (the SLA's target names).
SLA_KINDS = {
    "first_response": FactKind.SLA_FIRST_RESPONSE,
    "next_response": FactKind.SLA_NEXT_RESPONSE,
    "resolution": FactKind.SLA_RESOLUTION,
}


@dataclass(frozen=True, slots=True)
class TargetOutcome:
    """One SLA deadline once decided: its target, when it was decided, and whether it was within target."""

    target: str
    decided_at: datetime
    attained: bool


@dataclass(frozen=True, slots=True)
class TicketHistory:
    """Everything the metrics read about one ticket."""

    ticket: Ticket
    messages: Sequence[Message]
    changes: Sequence[TicketChange]
    ratings: Sequence[Rating] = ()
    sla: Sequence[TargetOutcome] = ()


@dataclass(frozen=True, slots=True)
class Cycle:
    """One open period of a ticket: from creation or a reopening to its resolution (``None``: still open)."""

    number: int
    started_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True, slots=True)
class Fact:
    """One event or measured interval of a ticket, at the moment it ends.

    ``value`` is the wall-clock seconds of a time figure, the score of a CSAT
    fact, 1 (within target) or 0 of an SLA fact, and ``None`` for a count;
    ``business`` the business seconds (or ``None``).
    """

    kind: FactKind
    ticket_id: int
    at: datetime
    agent: int | None
    category: str
    priority: str
    value: float | None = None
    business: float | None = None


def is_human_reply(message: Message) -> bool:
    """A public message of a human agent: the only kind that answers a user."""
    return message.sender_type is SenderType.ADMIN and not message.automated


def _ordered_changes(changes: Sequence[TicketChange]) -> list[TicketChange]:
    return sorted(changes, key=lambda c: (c.changed_at, c.id))


def _ordered_messages(messages: Sequence[Message]) -> list[Message]:
    return sorted(messages, key=lambda m: (m.created_at, m.id))


def _is_resolution(change: TicketChange) -> bool:
    return change.field == "status" and change.new_value == TicketStatus.RESOLVED.value


def cycles(ticket: Ticket, changes: Sequence[TicketChange]) -> list[Cycle]:
    """The ticket's cycles, oldest first: one, plus one per reopening."""
    found: list[Cycle] = []
    started, resolved = ticket.created_at, None
    for change in _ordered_changes(changes):
        if _is_resolution(change) and resolved is None:
            resolved = change.changed_at
        elif is_reopening(change):
            found.append(Cycle(len(found) + 1, started, resolved))
            started, resolved = change.changed_at, None
    found.append(Cycle(len(found) + 1, started, resolved))
    return found


def _value_at(changes: Sequence[TicketChange], field: str, current: str | None, moment: datetime) -> str | None:
    """A recorded field's value at ``moment``: the old value of its first later change, else ``current``."""
    later = [c for c in changes if c.field == field and c.changed_at > moment]
    if not later:
        return current
    return min(later, key=lambda c: (c.changed_at, c.id)).old_value


def status_at(ticket: Ticket, changes: Sequence[TicketChange], moment: datetime) -> str | None:
    """The ticket's status at ``moment`` (``None`` before it was created)."""
    if ticket.created_at > moment:
        return None
    return _value_at(changes, "status", ticket.status.value, moment)


def dimensions_at(ticket: Ticket, changes: Sequence[TicketChange], moment: datetime) -> tuple[int | None, str, str]:
    """(assigned agent, category, priority) of the ticket at ``moment``."""
    current_agent = None if ticket.assigned_to is None else str(ticket.assigned_to)
    agent = _value_at(changes, "assigned_to", current_agent, moment)
    priority = _value_at(changes, "priority", ticket.priority.value, moment) or ticket.priority.value
    return (int(agent) if agent else None), ticket.category.value, priority


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch ``[since, until)`` of a ticket's life with one status, assignee and priority (``until`` None: now)."""

    ticket_id: int
    since: datetime
    until: datetime | None
    status: str
    agent: int | None
    category: str
    priority: str

    def counts_at(self, moment: datetime) -> bool:
        """Whether this stretch is the ticket's state just before ``moment`` (the last state set before it)."""
        return self.since < moment and (self.until is None or self.until >= moment)


def is_open(status: str | None) -> bool:
    """Whether a ticket with this status is in the backlog (open or in progress)."""
    return status in _OPEN_STATUSES


_SEGMENT_FIELDS = frozenset({"status", "assigned_to", "priority"})


def segments(ticket: Ticket, changes: Sequence[TicketChange]) -> list[Segment]:
    """The ticket's life from creation on, cut at every change of status, assignee or priority, oldest first.

    The backlog at a moment counts the open segment for which
    :meth:`Segment.counts_at` holds (changes at one instant give empty stretches, which never count).
    """
    moments = sorted({ticket.created_at} | {c.changed_at for c in changes if c.field in _SEGMENT_FIELDS})
    moments = [m for m in moments if m >= ticket.created_at]
    found = []
    for index, since in enumerate(moments):
        until = moments[index + 1] if index + 1 < len(moments) else None
        agent, category, priority = dimensions_at(ticket, changes, since)
        status = status_at(ticket, changes, since) or ticket.status.value
        found.append(Segment(ticket.id, since, until, status, agent, category, priority))
    return found


def ticket_facts(history: TicketHistory, business_seconds: BusinessSeconds | None = None) -> list[Fact]:
    """Every fact of one ticket (see the module's definitions), in no particular order."""
    ticket, changes = history.ticket, history.changes
    measure = business_seconds or (lambda start, end: None)

    def fact(kind: FactKind, at: datetime, start: datetime | None = None, agent: int | None = None) -> Fact:
        assigned, category, priority = dimensions_at(ticket, changes, at)
        wall = None if start is None else (at - start).total_seconds()
        business = None if start is None else measure(start, at)
        return Fact(kind, ticket.id, at, assigned if agent is None else agent, category, priority, wall, business)

    facts = [fact(FactKind.CREATED, ticket.created_at)]
    ticket_cycles = cycles(ticket, changes)
    for cycle in ticket_cycles:
        if cycle.number > 1:
            facts.append(fact(FactKind.REOPENED, cycle.started_at))
        if cycle.resolved_at is not None:
            facts.append(fact(FactKind.RESOLVED, cycle.resolved_at))
            facts.append(fact(FactKind.RESOLUTION, cycle.resolved_at, cycle.started_at))
    last = ticket_cycles[-1]
    if last.resolved_at is not None:
        facts.append(fact(FactKind.FULL_RESOLUTION, last.resolved_at, ticket.created_at))
    facts.extend(_response_facts(history, ticket_cycles, fact))
    for rating in history.ratings:
        _, category, priority = dimensions_at(ticket, changes, rating.created_at)
        facts.append(
            Fact(FactKind.CSAT, ticket.id, rating.created_at, rating.agent_id, category, priority, rating.score)
        )
    for outcome in history.sla:
        if outcome.target in SLA_KINDS:
            decided = fact(SLA_KINDS[outcome.target], outcome.decided_at)
            facts.append(replace(decided, value=1.0 if outcome.attained else 0.0))
    return facts


def _cycle_of(ticket_cycles: Sequence[Cycle], moment: datetime) -> Cycle:
    current = ticket_cycles[0]
    for cycle in ticket_cycles:
        if cycle.started_at <= moment:
            current = cycle
    return current


def _response_facts(history: TicketHistory, ticket_cycles: Sequence[Cycle], fact: Callable[..., Fact]) -> list[Fact]:
    found: list[Fact] = []
    answered: set[int] = set()
    waiting_since: datetime | None = None
    for message in _ordered_messages(history.messages):
        if message.automated:
            continue
        cycle = _cycle_of(ticket_cycles, message.created_at)
        in_cycle = cycle.resolved_at is None or message.created_at <= cycle.resolved_at
        if message.sender_type is SenderType.USER:
            if cycle.number in answered and waiting_since is None:
                waiting_since = message.created_at
            continue
        if in_cycle and cycle.number not in answered:
            answered.add(cycle.number)
            found.append(fact(FactKind.FIRST_RESPONSE, message.created_at, cycle.started_at, message.sender_id))
            waiting_since = None
        elif waiting_since is not None:
            found.append(fact(FactKind.NEXT_RESPONSE, message.created_at, waiting_since, message.sender_id))
            waiting_since = None
    return found
