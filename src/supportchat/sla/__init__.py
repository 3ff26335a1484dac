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

import contextlib
from collections.abc import Sequence
from typing import Any

from ..errors import StorageUnavailable
from ..extensions import extension, register_extension
from ..store import EventLog
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
    Firing,
    NewDeadline,
    SlaEvent,
    SlaStore,
    log_entry,
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


class _FallbackSlaStore:
    """The local database's SLA store, whose firings also reach the log the fallback store reads.

    In the local fallback database, beside the jobs that fire it: warnings and breaches keep
    firing through an outage, and there is one copy of each deadline, so nothing to reconcile
    at recovery (docs/sla.md, "Storage"). The local store logs each firing in its own
    transaction, which is the log served during an outage; while the primary serves, the
    entry is appended to the primary's log too, after the firing (a crash in between loses
    that entry from the primary's log, not the firing).
    """

    def __init__(self, store: FallbackStore) -> None:
        self._primary = store.primary
        self._local = extension(store.fallback, SlaStore)  # type: ignore[type-abstract]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._local, name)

    def fire(self, firings: Sequence[Firing], *, now: float) -> list[SlaEvent]:
        fired: list[SlaEvent] = self._local.fire(firings, now=now)
        for event in fired:
            at, data = log_entry(event)
            # During an outage the reads are the local log's, which has it.
            with contextlib.suppress(StorageUnavailable):
                extension(self._primary, EventLog).append_event(event.ticket_id, event.type, at=at, data=data)  # type: ignore[type-abstract]
        return fired


def _fallback_sla(store: FallbackStore) -> Any:
    return _FallbackSlaStore(store)


# (mypy does not take a Protocol for type[E]; the registry is keyed by protocol on purpose.)
register_extension(SlaStore, SQLStore, SQLSlaStore)  # type: ignore[type-abstract]
register_extension(SlaStore, InMemoryStore, MemorySlaStore)  # type: ignore[type-abstract]
register_extension(SlaStore, FallbackStore, _fallback_sla)  # type: ignore[type-abstract]
