"""Reports (spec §19): response and resolution times, CSAT, backlog, from each ticket's history.

- :mod:`.metrics`: the definitions, pure functions of one ticket's history (versioned);
- :mod:`.figures`: count, mean, median, p90;
- :mod:`.report`: the facts of many tickets over a range, grouped;
- :mod:`.csv_format`: the same report as CSV;
- :mod:`.source`: the histories of a store's tickets (with :mod:`.sla_outcomes`, the SLA's decided deadlines);
- :class:`FactStore` (the store extension, tables from migration ``0017_report_facts``):
  the stored facts, implemented for the SQL store (:mod:`.sql`, aggregates in SQL) and the in-memory store;
- :mod:`.upkeep`: the ``reports.facts`` job, :func:`recompute`, and which source a report reads;
- :mod:`.feature`: ``GET {prefix}/reports`` and ``POST {prefix}/reports/recompute`` (imported by what mounts it).
"""

from __future__ import annotations

from ..extensions import register_extension
from ..stores.memory import InMemoryStore
from ..stores.sql import SQLStore
from .figures import CsatFigure, SlaFigure, Summary, TimeFigure
from .metrics import (
    METRICS_VERSION,
    BusinessSeconds,
    Cycle,
    Fact,
    FactKind,
    Segment,
    TargetOutcome,
    TicketHistory,
    cycles,
    segments,
    ticket_facts,
)
from .report import GroupBy, Report, ReportRow, build_report, report_from_facts
from .source import histories
from .sql import SQLFactStore
from .store import FactStore, MemoryFactStore, TicketFacts
from .upkeep import FACTS, facts_of, recompute, refresh, report_kinds, stored_or_computed

__all__ = [
    "FACTS",
    "METRICS_VERSION",
    "BusinessSeconds",
    "CsatFigure",
    "Cycle",
    "Fact",
    "FactKind",
    "FactStore",
    "GroupBy",
    "MemoryFactStore",
    "Report",
    "ReportRow",
    "SQLFactStore",
    "Segment",
    "SlaFigure",
    "Summary",
    "TargetOutcome",
    "TicketFacts",
    "TicketHistory",
    "TimeFigure",
    "build_report",
    "cycles",
    "facts_of",
    "histories",
    "recompute",
    "refresh",
    "report_from_facts",
    "report_kinds",
    "segments",
    "stored_or_computed",
    "ticket_facts",
]

# (mypy does not take a Protocol for type[E]; the registry is keyed by protocol on purpose.)
register_extension(FactStore, SQLStore, SQLFactStore)  # type: ignore[type-abstract]
register_extension(FactStore, InMemoryStore, MemoryFactStore)  # type: ignore[type-abstract]
