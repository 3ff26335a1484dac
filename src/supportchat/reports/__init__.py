"""Reports (spec §19): response and resolution times, CSAT, backlog, from each ticket's history.

- :mod:`.metrics`: the definitions, pure functions of one ticket's history (versioned);
- :mod:`.figures`: count, mean, median, p90;
- :mod:`.report`: the facts of many tickets over a range, grouped;
- :mod:`.csv_format`: the same report as CSV;
- :mod:`.source`: the histories of a store's tickets;
- :mod:`.feature`: ``GET {prefix}/reports`` (imported by what mounts it).
"""

from __future__ import annotations

from .figures import CsatFigure, Summary, TimeFigure
from .metrics import METRICS_VERSION, BusinessSeconds, Cycle, Fact, FactKind, TicketHistory, cycles, ticket_facts
from .report import GroupBy, Report, ReportRow, build_report
from .source import histories

__all__ = [
    "METRICS_VERSION",
    "BusinessSeconds",
    "CsatFigure",
    "Cycle",
    "Fact",
    "FactKind",
    "GroupBy",
    "Report",
    "ReportRow",
    "Summary",
    "TicketHistory",
    "TimeFigure",
    "build_report",
    "cycles",
    "histories",
    "ticket_facts",
]
