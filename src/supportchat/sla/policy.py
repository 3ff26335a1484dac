"""SLA calendars and policies as data: what admins enter, and which policy a ticket falls under.

A policy applies to a ticket when every condition it states holds (an
empty condition holds for everyone): the ticket's priority, category, one of
its tags, its team. Tags and teams come from other capabilities: they reach
the SLA through :class:`Facts`, which holds whatever is known (a condition on
a fact nobody supplies does not hold).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..models import Category, Priority, Ticket, TicketStatus
from .business_time import MINUTES_PER_DAY, Calendar

__all__ = [
    "DAYS",
    "CalendarIn",
    "CalendarOut",
    "Conditions",
    "Escalation",
    "Facts",
    "PolicyIn",
    "PolicyOut",
    "Target",
    "choose_policy",
    "facts_of",
]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


class Target(enum.StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


def minutes_of(text: str) -> int:
    """``"09:30"`` → 570; ``"24:00"`` is 1440 (midnight at the end of the day)."""
    match = _HHMM.fullmatch(text)
    if not match or (match[1] == "24" and match[2] != "00"):
        raise ValueError(f"{text!r}: a time is HH:MM, 00:00 to 24:00")
    return int(match[1]) * 60 + int(match[2])


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class CalendarIn(BaseModel):
    """A business calendar as an admin enters it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    time_zone: str = Field(description="An IANA time zone, e.g. `Europe/Madrid`.")
    hours: dict[str, list[tuple[str, str]]] = Field(
        description='Working intervals per weekday (`mon` … `sun`), `["09:00", "14:00"]`; an end at or '
        "before its start crosses midnight. Days left out have no working hours."
    )
    holidays: list[date] = Field(default_factory=list, description="Local dates without working hours.")
    holiday_country: str | None = Field(
        default=None, description="Add this country's public holidays (ISO code, the `holidays` package)."
    )
    holiday_subdivision: str | None = None

    @field_validator("hours")
    @classmethod
    def _known_days(cls, hours: dict[str, list[tuple[str, str]]]) -> dict[str, list[tuple[str, str]]]:
        unknown = set(hours) - set(DAYS)
        if unknown:
            raise ValueError(f"unknown days {sorted(unknown)}; use {', '.join(DAYS)}")
        for intervals in hours.values():
            for start, end in intervals:
                if minutes_of(start) == minutes_of(end) or minutes_of(start) == MINUTES_PER_DAY:
                    raise ValueError(f"{start}-{end}: an interval needs a start before 24:00 and a different end")
        return hours

    def week(self) -> tuple[tuple[tuple[int, int], ...], ...]:
        return tuple(tuple((minutes_of(a), minutes_of(b)) for a, b in self.hours.get(day, [])) for day in DAYS)

    @model_validator(mode="after")
    def _valid_calendar(self) -> CalendarIn:
        try:
            calendar(self)
        except Exception as exc:  # an unknown zone or country
            raise ValueError(str(exc)) from None
        return self


class CalendarOut(CalendarIn):
    id: int


def calendar(spec: CalendarIn) -> Calendar:
    """The business-time calendar of a stored or entered calendar."""
    entered = frozenset(spec.holidays)
    holidays: Any = entered
    if spec.holiday_country:
        import holidays as public_holidays

        country = public_holidays.country_holidays(spec.holiday_country, subdiv=spec.holiday_subdivision)
        holidays = _Union(entered, country)
    return Calendar(spec.time_zone, spec.week(), holidays)


@dataclass(frozen=True, slots=True)
class _Union:
    entered: frozenset[date]
    country: Any

    def __contains__(self, day: object) -> bool:
        return day in self.entered or day in self.country


class Conditions(BaseModel):
    """When a policy applies: each non-empty list must contain the ticket's value (a tag: any of its tags)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    priority: list[Priority] = Field(default_factory=list)
    category: list[Category] = Field(default_factory=list)
    tag: list[str] = Field(default_factory=list)
    team: list[str] = Field(default_factory=list)

    def hold_for(self, facts: Facts) -> bool:
        if self.priority and facts.priority not in self.priority:
            return False
        if self.category and facts.category not in self.category:
            return False
        if self.tag and not set(self.tag) & facts.tags:
            return False
        return not self.team or (facts.team is not None and facts.team in self.team)


class Escalation(BaseModel):
    """What a breach does, once: raise the priority one step or to a level, assign an agent or a team, notify."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Literal["raise_priority", "assign", "assign_team", "notify"]
    priority: Priority | None = Field(default=None, description="`raise_priority`: to this level (default: one up).")
    agent: int | None = Field(default=None, ge=1, description="`assign`: the agent's id.")
    team: str | None = Field(default=None, description="`assign_team`: the team's name.")

    @model_validator(mode="after")
    def _complete(self) -> Escalation:
        if self.action == "assign" and self.agent is None:
            raise ValueError("assign needs an agent")
        if self.action == "assign_team" and not self.team:
            raise ValueError("assign_team needs a team")
        return self


class PolicyIn(BaseModel):
    """An SLA policy as an admin enters it (targets in business minutes of its calendar)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    position: int = Field(default=0, description="Policies are tried lowest first; the first that holds applies.")
    conditions: Conditions = Field(default_factory=Conditions)
    calendar: str = Field(description="The name of its business calendar.")
    first_response_minutes: int | None = Field(default=None, ge=1)
    next_response_minutes: int | None = Field(default=None, ge=1)
    resolution_minutes: int | None = Field(default=None, ge=1)
    pause_statuses: list[TicketStatus] = Field(
        default_factory=list, description="While the ticket has one of these statuses its clocks stand still."
    )
    warning_minutes: int = Field(default=0, ge=0, description="`sla_warning` fires this long (business time) before.")
    escalation: list[Escalation] = Field(default_factory=list, description="Run once per breach.")

    def minutes(self, target: Target) -> int | None:
        value: int | None = getattr(self, f"{target.value}_minutes")
        return value


class PolicyOut(PolicyIn):
    id: int


@dataclass(frozen=True, slots=True)
class Facts:
    """What is known about a ticket when a policy is chosen."""

    priority: Priority
    category: Category
    tags: frozenset[str] = field(default_factory=frozenset)
    team: str | None = None


def facts_of(ticket: Ticket) -> Facts:
    """The facts the ticket itself carries (tags and teams are added by their capabilities' fact hooks)."""
    return Facts(priority=ticket.priority, category=ticket.category)


def choose_policy(policies: Sequence[PolicyOut], facts: Facts) -> PolicyOut | None:
    """The first policy by position (then id) whose conditions hold, or ``None``."""
    for policy in sorted(policies, key=lambda p: (p.position, p.id)):
        if policy.conditions.hold_for(facts):
            return policy
    return None
