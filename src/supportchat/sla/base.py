"""What the SLA keeps, and :class:`SlaStore`, the store extension that keeps it.

Deadlines are rows of their own (``support_sla_deadlines``), fixed when a
policy applies: a later change of the policy does not move them, only an
explicit re-application does (:meth:`SlaStore.start_clock` with
``replace``). Times are Unix seconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from ..event_types import declare_event_type
from ..models import Category, Priority, TicketStatus, utc_iso
from .policy import CalendarIn, CalendarOut, PolicyIn, PolicyOut

__all__ = [
    "SLA_BREACHED",
    "SLA_WARNING",
    "Clock",
    "Deadline",
    "DeadlineState",
    "DueFilter",
    "Firing",
    "NewDeadline",
    "SlaEvent",
    "SlaStore",
    "log_entry",
]

DeadlineState = str  # "active", "met", "cancelled"
#: Also the desk's event log's types: each firing is an entry there too (the admin stream, staff's notifiers).
SLA_WARNING = declare_event_type(
    "sla_warning",
    declared_by="sla",
    description="An SLA target is about to be missed; data: target, due_at, sla_event_id.",
)
SLA_BREACHED = declare_event_type(
    "sla_breached", declared_by="sla", description="An SLA target was missed; data: target, due_at, sla_event_id."
)
WARNING = SLA_WARNING.name
BREACHED = SLA_BREACHED.name


@dataclass(frozen=True, slots=True)
class Clock:
    ticket_id: int
    policy_id: int
    paused_since: float | None
    status_changes_seen: int


@dataclass(frozen=True, slots=True)
class NewDeadline:
    target: str
    cycle: int
    started_at: float
    due_at: float | None
    warn_at: float | None
    next_fire_at: float | None
    paused_left: float | None = None
    paused_warn_left: float | None = None


@dataclass(frozen=True, slots=True)
class Deadline:
    id: int
    ticket_id: int
    target: str
    cycle: int
    started_at: float
    due_at: float | None
    warn_at: float | None
    paused_left: float | None
    paused_warn_left: float | None
    state: DeadlineState
    met_at: float | None
    warned_at: float | None
    breached_at: float | None
    next_fire_at: float | None


#: A deadline as read, what fires for it (``sla_warning`` / ``sla_breached``), and when it next fires after.
Firing = tuple["Deadline", str, float | None]


@dataclass(frozen=True, slots=True)
class SlaEvent:
    """An ``sla_warning`` or ``sla_breached`` that fired."""

    id: int
    deadline_id: int
    ticket_id: int
    type: str
    target: str
    due_at: float
    fired_at: float
    escalated_at: float | None


def log_entry(event: SlaEvent) -> tuple[datetime, dict[str, Any]]:
    """When a firing happened and what its event-log entry says (both stores write it with the firing)."""
    data = {"target": event.target, "due_at": utc_iso(_instant(event.due_at)), "sla_event_id": event.id}
    return _instant(event.fired_at), data


def _instant(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@dataclass(frozen=True, slots=True)
class DueFilter:
    """The admin list's filters, for ``sort=due``."""

    status: TicketStatus | None = None
    priority: Priority | None = None
    category: Category | None = None
    assigned_to: int | None = None
    unassigned: bool = False


@runtime_checkable
class SlaStore(Protocol):
    """Calendars, policies, clocks, deadlines and SLA events (``extension(store, SlaStore)``); each call atomic."""

    def put_calendar(self, calendar: CalendarIn) -> CalendarOut:
        """Create the calendar, or replace the one of that name (deadlines already fixed keep their times)."""
        ...

    def calendars(self) -> list[CalendarOut]: ...

    def delete_calendar(self, name: str) -> bool:
        """Remove it; ``Conflict`` if a policy uses it; whether it existed."""
        ...

    def put_policy(self, policy: PolicyIn) -> PolicyOut:
        """Create the policy or replace the one of that name; ``ValidationError`` for an unknown calendar."""
        ...

    def policies(self) -> list[PolicyOut]: ...

    def delete_policy(self, name: str) -> bool:
        """Remove it (tickets under it keep their deadlines); whether it existed."""
        ...

    def clock(self, ticket_id: int) -> Clock | None: ...

    def deadlines(self, ticket_ids: Sequence[int]) -> list[Deadline]:
        """Every deadline of these tickets, by ticket, target and cycle."""
        ...

    def clocks(self, ticket_ids: Sequence[int]) -> list[Clock]: ...

    def start_clock(
        self,
        ticket_id: int,
        policy_id: int,
        deadlines: Sequence[NewDeadline],
        *,
        status_changes_seen: int,
        replace: bool,
    ) -> bool:
        """Put the ticket under a policy with these deadlines; unless ``replace``, only if it has no clock yet.

        With ``replace`` the deadlines still running are cancelled first; met and fired ones stay.
        """
        ...

    def save_clock(
        self,
        ticket_id: int,
        *,
        clock: Mapping[str, Any],
        updates: Mapping[int, Mapping[str, Any]],
        new: Sequence[NewDeadline] = (),
    ) -> None:
        """Change the clock row, deadlines by id, and add deadlines (a new cycle exists once), in one transaction."""
        ...

    def due(self, now: float, *, limit: int = 500) -> list[Deadline]:
        """Active deadlines whose warning or breach is due by ``now``, soonest first (through the index)."""
        ...

    def fire(self, firings: Sequence[Firing], *, now: float) -> list[SlaEvent]:
        """Record each firing, in order, in one transaction; the events recorded.

        A firing counts only if its deadline is still active, unchanged since
        it was read (``next_fire_at``) and not fired for that kind yet; then
        its ``next_fire_at`` becomes the firing's.
        """
        ...

    def unescalated(self, *, limit: int = 100) -> list[SlaEvent]:
        """Breaches whose escalation has not run yet, oldest first."""
        ...

    def mark_escalated(self, event_id: int, *, now: float) -> bool: ...

    def events(self, *, ticket_id: int | None = None, after_id: int = 0, limit: int = 100) -> list[SlaEvent]: ...

    def next_fire_at(self) -> float | None:
        """When the scan next has work (the earliest armed deadline)."""
        ...

    def due_tickets(self, where: DueFilter, *, offset: int, limit: int) -> tuple[list[int], int]:
        """Tickets with an active deadline, the soonest due first (paused ones last); a page of ids and the total."""
        ...
