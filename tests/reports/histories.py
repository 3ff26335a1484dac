"""Random ticket histories for the report tests, simulated step by step with the expected facts beside them.

The simulation is the oracle: it knows when each cycle started and which reply
answered it, without reading the history back the way :mod:`supportchat.reports.metrics` does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from supportchat.models import (
    ActorKind,
    Category,
    Message,
    MessageType,
    Priority,
    Rating,
    SenderType,
    Ticket,
    TicketChange,
    TicketStatus,
)
from supportchat.reports import TicketHistory

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday
AGENTS = (10, 11)
ACTIONS = ("user", "human", "auto", "resolve", "reopen", "assign", "rate")


@dataclass
class Expected:
    """What the simulation knows: (moment, seconds) of each figure, moments of each event."""

    reopened: list[datetime] = field(default_factory=list)
    resolved: list[datetime] = field(default_factory=list)
    first_response: list[tuple[datetime, float]] = field(default_factory=list)
    next_response: list[tuple[datetime, float]] = field(default_factory=list)
    resolution: list[tuple[datetime, float]] = field(default_factory=list)
    full_resolution: list[tuple[datetime, float]] = field(default_factory=list)
    csat: list[tuple[datetime, int]] = field(default_factory=list)


def simulate(ticket_id: int, created_at: datetime, steps: list[tuple[int, str, int]]) -> tuple[TicketHistory, Expected]:
    """A ticket living through ``steps`` (minutes after the previous step, action, a free choice)."""
    expected = Expected()
    messages: list[Message] = []
    changes: list[TicketChange] = []
    ratings: list[Rating] = []
    status, assigned = TicketStatus.OPEN, None
    now = cycle_start = created_at
    cycle, answered, waiting = 1, False, None
    rated: set[int] = set()

    def message(sender: SenderType, sender_id: int, automated: bool = False) -> None:
        messages.append(
            Message(
                id=ticket_id * 1000 + len(messages) + 1,
                ticket_id=ticket_id,
                sender_id=sender_id,
                sender_type=sender,
                message="m",
                message_type=MessageType.TEXT,
                file_url=None,
                is_read=False,
                created_at=now,
                automated=automated,
            )
        )

    def change(name: str, old: object, new: object) -> None:
        changes.append(
            TicketChange(
                id=ticket_id * 1000 + len(changes) + 1,
                ticket_id=ticket_id,
                field=name,
                old_value=None if old is None else str(old),
                new_value=None if new is None else str(new),
                changed_by_kind=ActorKind.ADMIN,
                changed_by=AGENTS[0],
                changed_at=now,
            )
        )

    def reopen(to: TicketStatus) -> None:
        nonlocal status, cycle, cycle_start, answered
        change("status", status, to)
        status, cycle, cycle_start, answered = to, cycle + 1, now, False
        expected.reopened.append(now)

    for minutes, action, choice in steps:
        now = now + timedelta(minutes=minutes)
        if action == "user":
            message(SenderType.USER, 1)
            if status is TicketStatus.RESOLVED:
                reopen(TicketStatus.OPEN)
            elif answered and waiting is None:
                waiting = now
        elif action == "human":
            message(SenderType.ADMIN, AGENTS[choice % 2])
            if status is not TicketStatus.RESOLVED and not answered:
                answered = True
                expected.first_response.append((now, (now - cycle_start).total_seconds()))
                waiting = None
            elif waiting is not None:
                expected.next_response.append((now, (now - waiting).total_seconds()))
                waiting = None
        elif action == "auto":
            message(SenderType.ADMIN, AGENTS[0], automated=True)
        elif action == "resolve" and status is not TicketStatus.RESOLVED:
            change("status", status, TicketStatus.RESOLVED)
            status = TicketStatus.RESOLVED
            expected.resolved.append(now)
            expected.resolution.append((now, (now - cycle_start).total_seconds()))
        elif action == "reopen" and status is TicketStatus.RESOLVED:
            reopen(TicketStatus.IN_PROGRESS)
        elif action == "assign":
            new = AGENTS[choice % 2]
            change("assigned_to", assigned, new)
            assigned = new
        elif action == "rate" and status is TicketStatus.RESOLVED and cycle not in rated:
            rated.add(cycle)
            score = 1 + choice % 5
            ratings.append(
                Rating(
                    ticket_id=ticket_id,
                    cycle=cycle,
                    score=score,
                    comment=None,
                    user_id=1,
                    agent_id=assigned,
                    created_at=now,
                )
            )
            expected.csat.append((now, score))
    if status is TicketStatus.RESOLVED:
        last = expected.resolved[-1]
        expected.full_resolution.append((last, (last - created_at).total_seconds()))
    ticket = Ticket(
        id=ticket_id,
        ticket_number=f"T-{ticket_id}",
        user_id=1,
        subject="s",
        description="d",
        priority=Priority.MEDIUM,
        status=status,
        category=Category.GENERAL,
        assigned_to=assigned,
        created_at=created_at,
        updated_at=now,
        resolved_at=expected.resolved[-1] if status is TicketStatus.RESOLVED else None,
    )
    return TicketHistory(ticket, messages, changes, ratings), expected


STEPS = st.lists(st.tuples(st.integers(1, 3000), st.sampled_from(ACTIONS), st.integers(0, 9)), max_size=25)


def business_hours(start: datetime, end: datetime) -> float:
    """Seconds of ``[start, end)`` on weekdays between 09:00 and 17:00 UTC (a simple test calendar)."""
    total = 0.0
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    while day < end:
        if day.weekday() < 5:
            opens, closes = day.replace(hour=9), day.replace(hour=17)
            overlap = (min(closes, end) - max(opens, start)).total_seconds()
            total += max(0.0, overlap)
        day += timedelta(days=1)
    return total
