"""SLA attainment's input: each ticket's decided deadlines, read through the SLA's public store extension.

A deadline is decided at its breach if it was breached (``breached_at``), else
when it was met; it is within target if it was met, never breached, and not
after its due time (a reply just past due is late even before the breach scan
ran). Cancelled deadlines that never breached are not decided. A store without
the SLA (or the SLA not installed) gives no outcomes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from ..errors import ExtensionUnavailable
from ..extensions import extension
from ..sla import Deadline, SlaStore
from .metrics import TargetOutcome

__all__ = ["OutcomesOf", "SlaEventsAfter", "no_outcomes", "outcome_of", "sla_events_after", "sla_outcomes"]

#: The decided SLA deadlines of some tickets, by ticket id.
OutcomesOf = Callable[[Sequence[int]], dict[int, list[TargetOutcome]]]

_MET = "met"


def no_outcomes(ticket_ids: Sequence[int]) -> dict[int, list[TargetOutcome]]:
    return {}


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def outcome_of(deadline: Deadline) -> TargetOutcome | None:
    """The deadline's outcome, or ``None`` while it is undecided (or was cancelled unbreached)."""
    met_at = deadline.met_at if deadline.state == _MET else None
    decided = deadline.breached_at if deadline.breached_at is not None else met_at
    if decided is None:
        return None
    on_time = met_at is not None and (deadline.due_at is None or met_at <= deadline.due_at)
    return TargetOutcome(deadline.target, _moment(decided), deadline.breached_at is None and on_time)


def sla_outcomes(store: object) -> OutcomesOf:
    """Read ``store``'s SLA deadlines (``supportchat.sla.SlaStore``); no outcomes if it keeps none."""
    try:
        sla = extension(store, SlaStore)  # type: ignore[type-abstract]
    except ExtensionUnavailable:
        return no_outcomes

    def outcomes(ticket_ids: Sequence[int]) -> dict[int, list[TargetOutcome]]:
        found: dict[int, list[TargetOutcome]] = {}
        for deadline in sla.deadlines(list(ticket_ids)):
            outcome = outcome_of(deadline)
            if outcome is not None:
                found.setdefault(deadline.ticket_id, []).append(outcome)
        return found

    return outcomes


#: The tickets of SLA events (breaches, warnings) after an event id: (event id, ticket id), oldest first.
SlaEventsAfter = Callable[[int], list[tuple[int, int]]]


def sla_events_after(store: object) -> SlaEventsAfter:
    """Read ``store``'s fired SLA events after an id (a breach decides a deadline with no desk event)."""
    try:
        sla = extension(store, SlaStore)  # type: ignore[type-abstract]
    except ExtensionUnavailable:
        return lambda after_id: []
    return lambda after_id: [(e.id, e.ticket_id) for e in sla.events(after_id=after_id, limit=500)]
