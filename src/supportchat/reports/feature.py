"""Reports as a :class:`~supportchat.features.Feature`: ``GET {prefix}/reports`` (spec §19), admins only.

``?from=&to=&group_by=&format=``: ``from``/``to`` are dates (midnight UTC) or ISO
8601 moments, the range is ``[from, to)`` (default: the 30 days before the next
midnight); ``group_by`` is ``day`` (default), ``week``, ``month``, ``agent``,
``category`` or ``priority``; ``format=csv`` answers ``text/csv`` with the same
figures instead of the JSON envelope. The figures come from the stored facts when
they follow this metrics version, else from the histories (:mod:`.upkeep`).

``POST {prefix}/reports/recompute`` rebuilds the stored facts (after a metrics
version or calendar change); the ``reports.facts`` job keeps them as the desk writes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from ..desk import SupportDesk
from ..features import Feature
from ..http.envelope import DataRenderer, Headers
from ..http.routes import Audience, Param, Params, Route, Write
from ..models import Actor
from ..permissions import Action, authorize
from ..rules import parse_choice
from .csv_format import report_csv
from .metrics import METRICS_VERSION, BusinessSeconds
from .report import GroupBy, Report, parse_group_by, resolve_range
from .upkeep import recompute, report_kinds, stored_or_computed

__all__ = ["Formatted", "Recomputed", "ReportRenderer", "feature", "recompute_facts", "report_for"]

_CSV = "text/csv; charset=utf-8"


class Format(enum.StrEnum):
    JSON = "json"
    CSV = "csv"


@dataclass(frozen=True, slots=True)
class Formatted:
    """A report and the format it was asked in."""

    report: Report
    csv: bool


class ReportRenderer(DataRenderer):
    """The JSON envelope of a :class:`Report`, or its CSV when asked for."""

    def __init__(self) -> None:
        super().__init__(Report)

    def __call__(self, result: Any) -> bytes:
        formatted: Formatted = result
        return report_csv(formatted.report).encode() if formatted.csv else super().__call__(formatted.report)

    def headers(self, result: Any) -> Headers:
        formatted: Formatted = result
        if not formatted.csv:
            return ()
        name = f"report-{formatted.report.start.date()}-{formatted.report.end.date()}.csv"
        return (("Content-Type", _CSV), ("Content-Disposition", f'attachment; filename="{name}"'))


def report_for(
    desk: SupportDesk,
    start: str | None = None,
    end: str | None = None,
    group_by: str | None = None,
    *,
    business_seconds: BusinessSeconds | None = None,
    now: datetime | None = None,
) -> Report:
    """The report the route and the CLI answer with, from the query's texts."""
    begin, stop = resolve_range(start, end, now or datetime.now(UTC))
    return stored_or_computed(desk.store, begin, stop, parse_group_by(group_by), business_seconds)


class Recomputed(BaseModel):
    """What a rebuild of the stored facts did."""

    tickets: int = Field(description="Tickets whose facts were stored.")
    metrics_version: int


def recompute_facts(desk: SupportDesk, business_seconds: BusinessSeconds | None = None) -> Recomputed:
    """Rebuild every ticket's stored facts (the route's and ``supportchat report --recompute``'s work)."""
    return Recomputed(tickets=recompute(desk.store, business_seconds), metrics_version=METRICS_VERSION)


def _handler(business_seconds: BusinessSeconds | None) -> Any:
    def handle(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> Formatted:
        authorize(actor, Action.OVERSEE)
        wanted = parse_choice("format", query.get("format"), Format, Format.JSON)
        report = report_for(
            desk, query.get("from"), query.get("to"), query.get("group_by"), business_seconds=business_seconds
        )
        return Formatted(report, csv=wanted is Format.CSV)

    return handle


_PARAMS = (
    Param("from", "query", {"type": "string"}, "First day (YYYY-MM-DD, midnight UTC) or ISO 8601 moment, included."),
    Param("to", "query", {"type": "string"}, "End of the range, excluded (default: the next midnight UTC)."),
    Param("group_by", "query", {"type": "string", "enum": [g.value for g in GroupBy]}, "How rows are grouped."),
    Param(
        "format",
        "query",
        {"type": "string", "enum": [f.value for f in Format]},
        "`csv` for text/csv with the same figures.",
    ),
)


def route(business_seconds: BusinessSeconds | None = None) -> Route:
    """The ``GET /reports`` route; ``business_seconds`` gives the business-time figures (none without)."""
    return Route(
        "reports",
        "GET",
        "/reports",
        Audience.ADMIN,
        _handler(business_seconds),
        ReportRenderer(),
        "Response and resolution times, CSAT and backlog over a range (spec §19)",
        params=_PARAMS,
        errors=(422,),
    )


def recompute_route(business_seconds: BusinessSeconds | None = None) -> Route:
    """``POST /reports/recompute``: rebuild the stored facts from every history."""

    def handle(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> Recomputed:
        authorize(actor, Action.OVERSEE)
        return recompute_facts(desk, business_seconds)

    return Route(
        "reports_recompute",
        "POST",
        "/reports/recompute",
        Audience.ADMIN,
        handle,
        DataRenderer(Recomputed),
        "Rebuild the stored report facts from every ticket's history (after a metrics or calendar change)",
        errors=(503,),
        write=Write.CHANGE,
    )


def feature(commands: Any = None, business_seconds: BusinessSeconds | None = None) -> Feature:
    """The reports feature: its routes, the ``reports.facts`` job, and ``commands`` (``supportchat report``)."""
    return Feature(
        "report",
        routes=(route(business_seconds), recompute_route(business_seconds)),
        job_kinds=lambda store: report_kinds(store, business_seconds),
        commands=commands,
    )
