"""Keeping the stored report facts: the ``reports.facts`` job, the full rebuild, and which source a report reads.

- :func:`facts_of` turns one history into what is stored, with the metrics'
  own functions (:func:`~supportchat.reports.metrics.ticket_facts`,
  :func:`~supportchat.reports.metrics.segments`): nothing is computed twice.
- The ``reports.facts`` job kind reacts to every desk event by recomputing that
  ticket's facts from its whole history (so it is idempotent, and a late or
  repeated job only rewrites the same rows), plus the tickets of SLA events
  fired since the last run (a breach decides a deadline without a desk event);
  with an SLA, the ticket is refreshed once more :data:`SLA_SETTLE` seconds
  later, after the SLA's own job for that event has recorded what it met.
- :func:`recompute` rebuilds every ticket's facts (``supportchat report
  --recompute``, ``POST {prefix}/reports/recompute``), after a metrics version
  change or a calendar change; until one has run with this version
  (:data:`~supportchat.reports.metrics.METRICS_VERSION`), :func:`stored_or_computed`
  reports from the histories instead, so a stale table is never read.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from datetime import datetime

from ..errors import ExtensionUnavailable
from ..extensions import extension
from ..jobs import Job, JobKind, JobStore, NewJob
from ..store import Store
from .metrics import METRICS_VERSION, BusinessSeconds, TicketHistory, is_open, segments, ticket_facts
from .report import GroupBy, Report, build_report
from .sla_outcomes import no_outcomes, sla_events_after, sla_outcomes
from .source import histories, history_batches, ticket_histories
from .store import FactStore, TicketFacts

__all__ = ["FACTS", "fact_store", "facts_of", "recompute", "refresh", "report_kinds", "stored_or_computed"]

logger = logging.getLogger("supportchat.reports")

FACTS = "reports.facts"


def fact_store(store: object) -> FactStore | None:
    """The store's report facts, or ``None`` if it keeps none (reports then read the histories)."""
    try:
        return extension(store, FactStore)  # type: ignore[type-abstract]
    except ExtensionUnavailable:
        return None


def facts_of(history: TicketHistory, business_seconds: BusinessSeconds | None = None) -> TicketFacts:
    """What is stored for one ticket: its facts, and the open segments of its life (the backlog)."""
    open_segments = [s for s in segments(history.ticket, history.changes) if is_open(s.status)]
    return TicketFacts(history.ticket.id, ticket_facts(history, business_seconds), open_segments)


def refresh(store: Store, ticket_ids: Iterable[int], business_seconds: BusinessSeconds | None = None) -> None:
    """Recompute these tickets' stored facts from their histories (a ticket gone keeps none)."""
    facts = fact_store(store)
    if facts is None:
        return
    wanted = sorted(set(ticket_ids))
    found = {h.ticket.id: facts_of(h, business_seconds) for h in ticket_histories(store, wanted)}
    facts.replace([found.get(i, TicketFacts(i, (), ())) for i in wanted])


def recompute(store: Store, business_seconds: BusinessSeconds | None = None) -> int:
    """Rebuild every ticket's stored facts at this metrics version; how many tickets."""
    facts = fact_store(store)
    if facts is None:
        raise ExtensionUnavailable(f"{type(store).__name__} keeps no report facts (reports read the histories)")
    # The job takes over from the events after this point if it never ran: none written meanwhile is missed.
    extension(store, JobStore).start_cursor(FACTS, store.last_event_id())  # type: ignore[type-abstract]
    batches = ([facts_of(h, business_seconds) for h in batch] for batch in history_batches(store))
    return facts.rebuild(batches, METRICS_VERSION)


def stored_or_computed(
    store: Store,
    start: datetime,
    end: datetime,
    group_by: GroupBy,
    business_seconds: BusinessSeconds | None = None,
) -> Report:
    """The report from the stored facts if they follow this metrics version, else from the histories."""
    facts = fact_store(store)
    if facts is not None:
        built = facts.version()
        if built == METRICS_VERSION:
            return facts.report(start, end, group_by)
        if built is not None:
            logger.warning(
                "report facts follow metrics version %s, not %s: reading the histories until"
                " `supportchat report --recompute` runs",
                built,
                METRICS_VERSION,
            )
    return build_report(histories(store), start, end, group_by, business_seconds)


#: Seconds after a desk event when its ticket is refreshed once more, if the store keeps an SLA: the SLA's own
#: job for the same event (which records a deadline met) may run after this one.
SLA_SETTLE = 5.0


def report_kinds(
    store: Store, business_seconds: BusinessSeconds | None = None, *, settle: float = SLA_SETTLE
) -> Sequence[JobKind]:
    """The ``reports.facts`` job kind over ``store`` (none if it keeps no facts)."""
    facts = fact_store(store)
    if facts is None:
        return []
    breaches = sla_events_after(store)
    keeps_sla = sla_outcomes(store) is not no_outcomes

    def keep(job: Job) -> None:
        tickets = {int(job.payload["ticket_id"])}
        fired = breaches(facts.sla_cursor())
        tickets.update(ticket_id for _, ticket_id in fired)
        refresh(store, tickets, business_seconds)
        if fired:
            facts.move_sla_cursor(fired[-1][0])
        if keeps_sla and not job.payload.get("settle"):
            again = NewJob(
                FACTS,
                {"ticket_id": job.payload["ticket_id"], "settle": True},
                due_at=time.time() + settle,
                dedupe_key=f"{FACTS}:settle:{job.id}",
            )
            extension(store, JobStore).enqueue([again])  # type: ignore[type-abstract]

    return [JobKind(FACTS, keep, reaction=lambda record: {"ticket_id": record.ticket_id})]
