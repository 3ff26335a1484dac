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
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, Field

from ..errors import ValidationError
from ..models import UTCDateTime
from ..rules import parse_choice
from .figures import CsatFigure, SlaFigure, Summary, TimeFigure, csat, sla_of, summarize
from .metrics import (
    METRICS_VERSION,
    SLA_KINDS,
    BusinessSeconds,
    Fact,
    FactKind,
    Segment,
    TicketHistory,
    is_open,
    segments,
    ticket_facts,
)

__all__ = [
    "BUSINESS",
    "COUNTED",
    "DEFAULT_DAYS",
    "TIMED",
    "UNASSIGNED",
    "WALL",
    "GroupBy",
    "Report",
    "ReportRow",
    "SlaAttainment",
    "Tally",
    "agent_key",
    "assemble",
    "backlog_moments",
    "backlog_of",
    "build_report",
    "check_range",
    "group_key",
    "parse_group_by",
    "period_key",
    "period_starts",
    "report_from_facts",
    "resolve_range",
    "tally_of",
]

UNASSIGNED = "unassigned"
#: The kinds counted as events, and the kinds measured as times (wall-clock and business).
COUNTED = (FactKind.CREATED, FactKind.RESOLVED, FactKind.REOPENED)
TIMED = (FactKind.FIRST_RESPONSE, FactKind.NEXT_RESPONSE, FactKind.RESOLUTION, FactKind.FULL_RESOLUTION)
WALL, BUSINESS = "wall", "business"


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


class SlaAttainment(BaseModel):
    """Deadlines of the SLA decided in the group, per target (none without an SLA policy)."""

    first_response: SlaFigure
    next_response: SlaFigure
    resolution: SlaFigure


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
    sla: SlaAttainment
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


def period_key(moment: datetime, group_by: GroupBy) -> str:
    """The group of a moment by day, week or month: the period's first day (YYYY-MM-DD)."""
    return _period_start(moment, group_by).date().isoformat()


def agent_key(agent: int | None) -> str:
    """The group of an agent's figures: the id, or ``unassigned``."""
    return UNASSIGNED if agent is None else str(agent)


def group_key(group_by: GroupBy, at: datetime, agent: int | None, category: str, priority: str) -> str:
    """The group of a fact (or a segment) with these dimensions."""
    if group_by.is_period:
        return period_key(at, group_by)
    if group_by is GroupBy.AGENT:
        return agent_key(agent)
    return category if group_by is GroupBy.CATEGORY else priority


def _fact_key(fact: Fact, group_by: GroupBy) -> str:
    return group_key(group_by, fact.at, fact.agent, fact.category, fact.priority)


@dataclass
class Tally:
    """What one group's row shows before its backlog: counts, time summaries, CSAT, SLA attainment.

    Built from facts in memory (:func:`tally_of`) or from a database's aggregates (``reports.sql``).
    """

    counts: dict[FactKind, int] = field(default_factory=dict)
    times: dict[tuple[FactKind, str], Summary] = field(default_factory=dict)
    csat: CsatFigure = field(default_factory=lambda: CsatFigure(count=0))
    sla: dict[FactKind, SlaFigure] = field(default_factory=dict)


def tally_of(facts: Iterable[Fact]) -> Tally:
    """The tally of ``facts`` (one group's)."""
    by_kind: dict[FactKind, list[Fact]] = defaultdict(list)
    for fact in facts:
        by_kind[fact.kind].append(fact)
    tally = Tally(counts={kind: len(by_kind[kind]) for kind in COUNTED})
    for kind in TIMED:
        chosen = by_kind[kind]
        tally.times[kind, WALL] = summarize([f.value for f in chosen if f.value is not None])
        tally.times[kind, BUSINESS] = summarize([f.business for f in chosen if f.business is not None])
    tally.csat = csat([f.value for f in by_kind[FactKind.CSAT] if f.value is not None])
    for kind in SLA_KINDS.values():
        decided = [f.value for f in by_kind[kind] if f.value is not None]
        tally.sla[kind] = sla_of(len(decided), sum(1 for value in decided if value))
    return tally


def _time(tally: Tally, kind: FactKind) -> TimeFigure:
    empty = Summary(count=0)
    return TimeFigure(wall=tally.times.get((kind, WALL), empty), business=tally.times.get((kind, BUSINESS), empty))


def _row(group: str, tally: Tally, backlog: int) -> ReportRow:
    def attainment(target: str) -> SlaFigure:
        return tally.sla.get(SLA_KINDS[target], sla_of(0, 0))

    return ReportRow(
        group=group,
        created=tally.counts.get(FactKind.CREATED, 0),
        resolved=tally.counts.get(FactKind.RESOLVED, 0),
        reopened=tally.counts.get(FactKind.REOPENED, 0),
        first_response=_time(tally, FactKind.FIRST_RESPONSE),
        next_response=_time(tally, FactKind.NEXT_RESPONSE),
        resolution=_time(tally, FactKind.RESOLUTION),
        full_resolution=_time(tally, FactKind.FULL_RESOLUTION),
        csat=tally.csat,
        sla=SlaAttainment(**{target: attainment(target) for target in SLA_KINDS}),
        backlog=backlog,
    )


def check_range(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValidationError("from", "from and to must carry a time zone")
    if end <= start:
        raise ValidationError("to", "must be after from")


def backlog_moments(start: datetime, end: datetime, group_by: GroupBy) -> list[tuple[str, datetime]]:
    """(group, moment) at which each period's backlog is taken (the period's end, or ``end``)."""
    return [(period.date().isoformat(), taken) for period, taken in period_starts(start, end, group_by)]


def backlog_of(
    found: Iterable[Segment], start: datetime, end: datetime, group_by: GroupBy
) -> tuple[dict[str, int], int]:
    """The backlog per group (per period: at each period's end; else at ``end``, by dimension) and at ``end``."""
    moments = backlog_moments(start, end, group_by) if group_by.is_period else []
    by_group: dict[str, int] = defaultdict(int)
    total = 0
    for segment in found:
        if not is_open(segment.status):
            continue
        if segment.counts_at(end):
            total += 1
            if not group_by.is_period:
                by_group[group_key(group_by, end, segment.agent, segment.category, segment.priority)] += 1
        for group, taken in moments:
            if segment.counts_at(taken):
                by_group[group] += 1
    return by_group, total


def assemble(
    start: datetime,
    end: datetime,
    group_by: GroupBy,
    tallies: Mapping[str, Tally],
    total: Tally,
    backlog: Mapping[str, int],
    total_backlog: int,
) -> Report:
    """The report from each group's tally and backlog: one row per period, or per value met, sorted."""
    if group_by.is_period:
        groups = [group for group, _ in backlog_moments(start, end, group_by)]
    else:
        groups = sorted(set(tallies) | set(backlog), key=_sort_key)
    return Report(
        metrics_version=METRICS_VERSION,
        start=start,
        end=end,
        group_by=group_by,
        rows=[_row(group, tallies.get(group, Tally()), backlog.get(group, 0)) for group in groups],
        total=_row("total", total, total_backlog),
    )


def report_from_facts(
    facts: Iterable[Fact], found: Iterable[Segment], start: datetime, end: datetime, group_by: GroupBy
) -> Report:
    """The report over ``[start, end)`` from every ticket's facts and segments."""
    check_range(start, end)
    by_group: dict[str, list[Fact]] = defaultdict(list)
    everything: list[Fact] = []
    for fact in facts:
        if start <= fact.at < end:
            everything.append(fact)
            by_group[_fact_key(fact, group_by)].append(fact)
    backlog, total_backlog = backlog_of(found, start, end, group_by)
    tallies = {group: tally_of(chosen) for group, chosen in by_group.items()}
    return assemble(start, end, group_by, tallies, tally_of(everything), backlog, total_backlog)


def build_report(
    histories: Iterable[TicketHistory],
    start: datetime,
    end: datetime,
    group_by: GroupBy = GroupBy.DAY,
    business_seconds: BusinessSeconds | None = None,
) -> Report:
    """The reference report over ``[start, end)``, computed from every ticket's history."""
    check_range(start, end)
    facts: list[Fact] = []
    found: list[Segment] = []
    for history in histories:
        facts.extend(f for f in ticket_facts(history, business_seconds) if start <= f.at < end)
        found.extend(segments(history.ticket, history.changes))
    return report_from_facts(facts, found, start, end, group_by)


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
