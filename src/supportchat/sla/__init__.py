"""SLA: business calendars, policies, deadlines, ``sla_warning`` / ``sla_breached`` and escalation (spec §17).

- :mod:`.business_time`: the pure business-time arithmetic (one module);
- :mod:`.policy`: calendars and policies as data, and which policy applies;
- :class:`SlaStore` (the store extension, tables from migration ``0011_sla``):
  implemented for the SQL store (SQLite and PostgreSQL), the in-memory store and
  the fallback store (in its local database);
- :class:`SlaClock`: applies policies, follows tickets, fires and escalates;
- :mod:`.feature`: routes, job kinds, the ``sla`` field of the admin ticket JSON.

See ``docs/sla.md``.
"""

from __future__ import annotations

from typing import Any

from ..extensions import extension, register_extension
from ..stores.fallback import FallbackStore
from ..stores.memory import InMemoryStore
from ..stores.sql import SQLStore
from .base import (
    BREACHED,
    SLA_BREACHED,
    SLA_WARNING,
    WARNING,
    Clock,
    Deadline,
    DueFilter,
    NewDeadline,
    SlaEvent,
    SlaStore,
)
from .business_time import Calendar, NoWorkingTime, add_business_time, business_time_between
from .clock import SlaClock, SlaView, TeamAssigner
from .memory import MemorySlaStore
from .policy import CalendarIn, CalendarOut, Conditions, Escalation, Facts, PolicyIn, PolicyOut, Target
from .sql import SQLSlaStore

__all__ = [
    "BREACHED",
    "SLA_BREACHED",
    "SLA_WARNING",
    "WARNING",
    "Calendar",
    "CalendarIn",
    "CalendarOut",
    "Clock",
    "Conditions",
    "Deadline",
    "DueFilter",
    "Escalation",
    "Facts",
    "MemorySlaStore",
    "NewDeadline",
    "NoWorkingTime",
    "PolicyIn",
    "PolicyOut",
    "SQLSlaStore",
    "SlaClock",
    "SlaEvent",
    "SlaStore",
    "SlaView",
    "Target",
    "TeamAssigner",
    "add_business_time",
    "business_time_between",
]


def _fallback_sla(store: FallbackStore) -> Any:
    # In the local fallback database, beside the jobs that fire it: warnings and breaches keep
    # firing through an outage, and there is one copy of each deadline, so nothing to reconcile
    # at recovery (docs/sla.md, "Storage").
    return extension(store.fallback, SlaStore)  # type: ignore[type-abstract]


# (mypy does not take a Protocol for type[E]; the registry is keyed by protocol on purpose.)
register_extension(SlaStore, SQLStore, SQLSlaStore)  # type: ignore[type-abstract]
register_extension(SlaStore, InMemoryStore, MemorySlaStore)  # type: ignore[type-abstract]
register_extension(SlaStore, FallbackStore, _fallback_sla)  # type: ignore[type-abstract]
