"""The assignment rule and the teams' own input rules, as pure functions on plain data.

Auto-assignment (spec §17) gives a waiting ticket to the team member who
takes tickets now (:attr:`Candidate.available`), has room under their
capacity, and carries the fewest open tickets; among equally loaded
members, the one idle longest (whose last ticket came longest ago, or who
never had one) wins, and the agent id breaks what is left, so the choice is
the same in every process. The stores apply :func:`pick_agent` inside the
transaction that reserves the ticket, on loads they count there.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ..errors import ValidationError
from ..models import Category
from ..rules import clean_text, parse_choice

__all__ = [
    "DISPLAY_NAME_LENGTH",
    "REASON_LENGTH",
    "Availability",
    "Candidate",
    "has_room",
    "parse_availability",
    "parse_categories",
    "parse_reason",
    "pick_agent",
]

#: Longest transfer reason or note, after sanitising.
REASON_LENGTH = 500
DISPLAY_NAME_LENGTH = 100


class Availability(enum.StrEnum):
    """Whether an agent takes tickets now (only ``available`` does)."""

    AVAILABLE = "available"
    #: Briefly away (a break, a meeting): keeps their tickets, takes no new ones.
    AWAY = "away"
    #: Off duty.
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A team member as the rule sees them at one instant."""

    agent_id: int
    #: Open and in-progress tickets assigned to them, plus tickets reserved for them.
    load: int
    #: 0 means no limit.
    capacity: int
    available: bool = True
    #: When their last ticket was given to them; ``None``: never (idle longest).
    idle_since: datetime | None = None


def has_room(load: int, capacity: int) -> bool:
    """Whether an agent with ``load`` open tickets may take one more (capacity 0: no limit)."""
    return capacity == 0 or load < capacity


def _idle_key(candidate: Candidate) -> tuple[int, float]:
    # Never assigned sorts first; then the oldest last assignment.
    return (0, 0.0) if candidate.idle_since is None else (1, candidate.idle_since.timestamp())


def pick_agent(candidates: Iterable[Candidate]) -> Candidate | None:
    """The available candidate with room and the least load, ties by longest idle, then lowest id."""
    eligible = [c for c in candidates if c.available and has_room(c.load, c.capacity)]
    return min(eligible, key=lambda c: (c.load, _idle_key(c), c.agent_id), default=None)


def parse_availability(value: object) -> Availability:
    return parse_choice("status", value, Availability)


def parse_categories(value: object) -> tuple[Category, ...]:
    """The ticket categories a team takes, as a sorted tuple without repeats."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if not isinstance(value, list | tuple):
        raise ValidationError("categories", "must be a list of categories", allowed=[c.value for c in Category])
    return tuple(sorted({parse_choice("categories", item, Category) for item in value}))


def parse_reason(field: str, value: object) -> str | None:
    """An optional transfer reason or note: sanitised text of at most :data:`REASON_LENGTH` characters."""
    if value is None or value == "":
        return None
    return clean_text(field, value, REASON_LENGTH)
