"""Stored report facts: :class:`FactStore`, the store extension, and its in-memory implementation.

A ticket's stored facts are exactly :func:`~supportchat.reports.metrics.ticket_facts`
and its open :func:`~supportchat.reports.metrics.segments` (:class:`TicketFacts`),
written by the ``reports.facts`` job (:mod:`.upkeep`); a report over them equals
the reference report over the histories (``tests/reports/test_stored_facts.py``).
The in-memory store keeps them as they are and reports with
:func:`~supportchat.reports.report.report_from_facts`; the SQL store
(:mod:`.sql`) aggregates them in the database.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from ..store import Store
from .metrics import Fact, Segment
from .report import GroupBy, Report, report_from_facts

__all__ = ["FactStore", "MemoryFactStore", "TicketFacts"]


@dataclass(frozen=True, slots=True)
class TicketFacts:
    """One ticket's facts and its open segments, as the metrics compute them."""

    ticket_id: int
    facts: Sequence[Fact]
    segments: Sequence[Segment]


@runtime_checkable
class FactStore(Protocol):
    """The report facts in the store's database (``extension(store, FactStore)``); each call atomic."""

    def version(self) -> int | None:
        """The metrics version the stored facts follow, or ``None`` if they were never (fully) built."""
        ...

    def replace(self, tickets: Sequence[TicketFacts]) -> None:
        """Replace these tickets' facts (a ticket with none keeps none)."""
        ...

    def rebuild(self, batches: Iterable[Sequence[TicketFacts]], version: int) -> int:
        """Drop every fact, store ``batches``' and then record ``version``; how many tickets were stored.

        Until it finishes :meth:`version` is ``None`` (reports read the histories meanwhile).
        """
        ...

    def sla_cursor(self) -> int:
        """The last SLA event whose ticket's facts were refreshed (0: none)."""
        ...

    def move_sla_cursor(self, event_id: int) -> None: ...

    def report(self, start: datetime, end: datetime, group_by: GroupBy) -> Report:
        """The report over ``[start, end)`` from the stored facts."""
        ...


class MemoryFactStore:
    """The :class:`FactStore` of an in-memory store (one per store, kept on it): the reference for the SQL one."""

    def __new__(cls, store: Store) -> MemoryFactStore:
        existing = getattr(store, "_report_facts", None)
        if isinstance(existing, MemoryFactStore):
            return existing
        made = super().__new__(cls)
        made._lock = threading.Lock()
        made._tickets = {}
        made._version = None
        made._sla_cursor = 0
        store._report_facts = made  # type: ignore[attr-defined]
        return made

    _lock: threading.Lock
    _tickets: dict[int, TicketFacts]
    _version: int | None
    _sla_cursor: int

    def version(self) -> int | None:
        return self._version

    def replace(self, tickets: Sequence[TicketFacts]) -> None:
        with self._lock:
            for one in tickets:
                self._tickets[one.ticket_id] = one

    def rebuild(self, batches: Iterable[Sequence[TicketFacts]], version: int) -> int:
        with self._lock:
            self._tickets, self._version = {}, None
        stored = 0
        for batch in batches:
            self.replace(batch)
            stored += len(batch)
        self._version = version
        return stored

    def sla_cursor(self) -> int:
        return self._sla_cursor

    def move_sla_cursor(self, event_id: int) -> None:
        self._sla_cursor = max(self._sla_cursor, event_id)

    def report(self, start: datetime, end: datetime, group_by: GroupBy) -> Report:
        with self._lock:
            kept = list(self._tickets.values())
        facts = (fact for one in kept for fact in one.facts)
        found = (segment for one in kept for segment in one.segments)
        return report_from_facts(facts, found, start, end, group_by)
