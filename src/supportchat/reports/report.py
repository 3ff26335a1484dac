"""A report over a date range (spec §19): the facts of many tickets, grouped, summarised.

Groups: ``day``, ``week`` (ISO weeks, Monday 00:00 UTC), ``month`` (UTC) give one
row per period that meets the range, even an empty one, each with the backlog at
the end of that period (or at ``to`` for the last, partial one); ``agent``,
``category`` and ``priority`` give one row per value met, with the backlog at
``to``. A fact belongs to the range if its moment is in ``[from, to)``; the
``total`` row holds every fact of the range whatever the grouping.
"""

from __future__ import annotations

import enum
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, Field

from ..errors import ValidationError
from ..models import TicketStatus, UTCDateTime
from ..rules import parse_choice
from .figures import CsatFigure, TimeFigure, csat, summarize
from .metrics import (
    METRICS_VERSION,
    BusinessSeconds,
    Fact,
    FactKind,
    TicketHistory,
    dimensions_at,
    status_at,
    status_timeline,
    ticket_facts,
)

__all__ = [
    "DEFAULT_DAYS",
    "GroupBy",
    "Report",
    "ReportRow",
    "build_report",
    "parse_group_by",
    "period_starts",
    "resolve_range",
]

_OPEN = frozenset({TicketStatus.OPEN.value, TicketStatus.IN_PROGRESS.value})
UNASSIGNED = "unassigned"


class GroupBy(enum.StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    AGENT = "agent"
    CATEGORY = "category"
    PRIORITY = "priority"

    @property
    def is_period(self) -> bool:
        return self in (GroupBy.DAY, GroupBy.WEEK, GroupBy.MONTH)


class ReportRow(BaseModel):
    """The figures of one group (a period, an agent, a category, a priority) or of the whole range."""

    group: str = Field(
        description="The period's first day (YYYY-MM-DD), the agent id or `unassigned`, the category or"
        " the priority; `total` for the whole range."
    )
    created: int
    resolved: int
    reopened: int
    first_response: TimeFigure
    next_response: TimeFigure
    resolution: TimeFigure
    full_resolution: TimeFigure = Field(description="From creation to the final resolution.")
    csat: CsatFigure
    backlog: int = Field(description="Open or in-progress tickets at the end of the period (or of the range).")


class Report(BaseModel):
    """Spec §19's figures over ``[from, to)``, grouped."""

    metrics_version: int
    start: UTCDateTime = Field(description="The range's first moment (the query's `from`), included.")
    end: UTCDateTime = Field(description="The range's end (the query's `to`), excluded.")
    group_by: GroupBy
    rows: list[ReportRow]
    total: ReportRow


def _day(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _period_start(moment: datetime, group_by: GroupBy) -> datetime:
    day = _day(moment)
    if group_by is GroupBy.WEEK:
        return day - timedelta(days=day.weekday())
    if group_by is GroupBy.MONTH:
        return day.replace(day=1)
    return day


def _next_period(start: datetime, group_by: GroupBy) -> datetime:
    if group_by is GroupBy.DAY:
        return start + timedelta(days=1)
    if group_by is GroupBy.WEEK:
        return start + timedelta(days=7)
    return (start + timedelta(days=32)).replace(day=1)


def period_starts(start: datetime, end: datetime, group_by: GroupBy) -> Iterator[tuple[datetime, datetime]]:
    """Each period meeting ``[start, end)``: (its first moment, the moment its backlog is taken)."""
    period = _period_start(start, group_by)
    while period < end:
        following = _next_period(period, group_by)
        yield period, min(following, end)
        period = following


def _key(fact: Fact, group_by: GroupBy) -> str:
    if group_by.is_period:
        return _period_start(fact.at, group_by).date().isoformat()
    if group_by is GroupBy.AGENT:
        return UNASSIGNED if fact.agent is None else str(fact.agent)
    return fact.category if group_by is GroupBy.CATEGORY else fact.priority


def _time(facts: list[Fact], kind: FactKind) -> TimeFigure:
    chosen = [f for f in facts if f.kind is kind]
    return TimeFigure(
        wall=summarize([f.value for f in chosen if f.value is not None]),
        business=summarize([f.business for f in chosen if f.business is not None]),
    )


def _row(group: str, facts: list[Fact], backlog: int) -> ReportRow:
    def count(kind: FactKind) -> int:
        return sum(1 for f in facts if f.kind is kind)

    return ReportRow(
        group=group,
        created=count(FactKind.CREATED),
        resolved=count(FactKind.RESOLVED),
        reopened=count(FactKind.REOPENED),
        first_response=_time(facts, FactKind.FIRST_RESPONSE),
        next_response=_time(facts, FactKind.NEXT_RESPONSE),
        resolution=_time(facts, FactKind.RESOLUTION),
        full_resolution=_time(facts, FactKind.FULL_RESOLUTION),
        csat=csat([f.value for f in facts if f.kind is FactKind.CSAT and f.value is not None]),
        backlog=backlog,
    )


def check_range(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValidationError("from", "from and to must carry a time zone")
    if end <= start:
        raise ValidationError("to", "must be after from")


def build_report(
    histories: Iterable[TicketHistory],
    start: datetime,
    end: datetime,
    group_by: GroupBy = GroupBy.DAY,
    business_seconds: BusinessSeconds | None = None,
) -> Report:
    """The report over ``[start, end)``: reads each history once, keeps only the facts of the range."""
    check_range(start, end)
    periods = list(period_starts(start, end, group_by)) if group_by.is_period else []
    by_group: dict[str, list[Fact]] = defaultdict(list)
    everything: list[Fact] = []
    backlog: dict[str, int] = defaultdict(int)
    total_backlog = 0
    for history in histories:
        for fact in ticket_facts(history, business_seconds):
            if start <= fact.at < end:
                everything.append(fact)
                by_group[_key(fact, group_by)].append(fact)
        ticket, changes = history.ticket, history.changes
        # Backlog: open at the moment just before the period's end (a period is half-open).
        before_end = end - timedelta(microseconds=1)
        if status_at(ticket, changes, before_end) in _OPEN:
            total_backlog += 1
            if not group_by.is_period:
                agent, category, priority = dimensions_at(ticket, changes, before_end)
                probe = Fact(FactKind.CREATED, ticket.id, before_end, agent, category, priority)
                backlog[_key(probe, group_by)] += 1
        if periods:
            timeline = status_timeline(ticket, changes)
            moments = [since for since, _ in timeline]
            for period, taken in periods:
                # The last status set strictly before the period's end; none if the ticket was not yet created.
                at = bisect_left(moments, taken) - 1
                if at >= 0 and timeline[at][1] in _OPEN:
                    backlog[period.date().isoformat()] += 1
    if group_by.is_period:
        groups = [period.date().isoformat() for period, _ in periods]
    else:
        groups = sorted(set(by_group) | set(backlog), key=_sort_key)
    return Report(
        metrics_version=METRICS_VERSION,
        start=start,
        end=end,
        group_by=group_by,
        rows=[_row(group, by_group.get(group, []), backlog.get(group, 0)) for group in groups],
        total=_row("total", everything, total_backlog),
    )


def _sort_key(group: str) -> tuple[int, int, str]:
    return (0, int(group), "") if group.isdigit() else (1, 0, group)


#: The range a report covers when ``from`` is not given: the 30 days before ``to``.
DEFAULT_DAYS = 30


def _moment(name: str, text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(name, "must be a date (YYYY-MM-DD) or an ISO 8601 moment") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def resolve_range(start: str | None, end: str | None, now: datetime) -> tuple[datetime, datetime]:
    """``[from, to)`` from a query's texts: a date means its midnight UTC; ``to`` defaults to the next midnight."""
    stop = _moment("to", end) if end else _day(now) + timedelta(days=1)
    begin = _moment("from", start) if start else stop - timedelta(days=DEFAULT_DAYS)
    check_range(begin, stop)
    return begin, stop


def parse_group_by(text: str | None) -> GroupBy:
    """The grouping a query names (default ``day``)."""
    return parse_choice("group_by", text or None, GroupBy, GroupBy.DAY)
