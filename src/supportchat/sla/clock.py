"""SLA clocks: applying a policy to a ticket, following the ticket, firing warnings and breaches, escalating.

:class:`SlaClock` is the one place these rules live:

- **applied once**: a new ticket falls under the first policy whose
  conditions hold (:func:`~.policy.choose_policy`); its deadlines are
  computed then, in its calendar's business time, and stored. Changing a
  policy later moves nothing; :meth:`SlaClock.apply` with ``replace`` is the
  explicit re-computation.
- **targets**: *first response* runs from creation to the first admin
  message; *next response* from a user message that waits (after an admin
  has replied) to the next admin message; *resolution* from creation, or a
  reopening, to ``resolved`` or ``closed``. Closing cancels what still runs.
- **pause**: while the ticket's status is one of the policy's pause
  statuses, every running deadline stands still; leaving it moves each by
  the business time it had left.
- **firing**: :meth:`scan` reads the deadlines due by now through the
  index on ``next_fire_at`` and records ``sla_warning`` (``warning_minutes``
  of business time before) and ``sla_breached`` once each;
  :meth:`escalate` runs a policy's escalation once per breach.

Changes are followed from the desk's event log (a job kind, see
:mod:`.feature`), with the times the events carry, so a late worker computes
the same deadlines as a prompt one.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..desk import SupportDesk
from ..extensions import extension
from ..models import (
    Actor,
    EventRecord,
    EventType,
    Priority,
    SenderType,
    Ticket,
    TicketChange,
    TicketStatus,
    UTCDateTime,
)
from .base import BREACHED, WARNING, Clock, Deadline, Firing, NewDeadline, SlaEvent, SlaStore, log_entry
from .business_time import Calendar, NoWorkingTime, add_business_time, business_time_between
from .policy import Facts, PolicyOut, Target, calendar, choose_policy, facts_of

__all__ = ["FactsOf", "SlaClock", "SlaView", "TeamAssigner"]

logger = logging.getLogger("supportchat.sla")

#: Hands a ticket to a team (the teams capability supplies it); ``None`` until one is installed.
TeamAssigner = Callable[[SupportDesk, int, str], None]
Listener = Callable[[SlaEvent], None]
#: What is known of a ticket when its policy is chosen (tags and team from their capabilities).
FactsOf = Callable[[SupportDesk, Ticket], Facts]
_PRIORITIES = list(Priority)


class SlaView(BaseModel):
    """A ticket's SLA as the admin ticket JSON carries it (``sla``)."""

    model_config = ConfigDict(frozen=True)

    policy: str | None = Field(description="The policy's name (`null` if it was deleted since).")
    first_response_due: UTCDateTime | None = None
    next_response_due: UTCDateTime | None = None
    resolution_due: UTCDateTime | None = None
    breached: list[Target] = Field(default_factory=list, description="Targets breached in any cycle.")
    warned: list[Target] = Field(default_factory=list)
    met: list[Target] = Field(default_factory=list, description="Targets whose latest cycle was met.")
    paused: bool = False


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class SlaClock:
    """The SLA of ``desk``'s tickets (their store's :class:`SlaStore`).

    ``facts`` says what is known of a ticket when a policy is chosen (tags
    and teams come from their capabilities); ``assign_team`` carries out the
    ``assign_team`` escalation; ``listeners`` hear every event that fires
    (``notify`` escalations too, with the breach).
    """

    def __init__(
        self,
        desk: SupportDesk,
        *,
        facts: FactsOf | None = None,
        assign_team: TeamAssigner | None = None,
        listeners: Sequence[Listener] = (),
        schedule: Callable[[float], None] | None = None,
    ) -> None:
        self.desk = desk
        self.store: SlaStore = extension(desk.store, SlaStore)  # type: ignore[type-abstract]
        self._facts = facts or (lambda desk, ticket: facts_of(ticket))
        self.assign_team = assign_team
        self.listeners = list(listeners)
        self._schedule = schedule

    # -- applying a policy ---------------------------------------------------

    def apply(self, ticket: Ticket, *, replace: bool = False, now: datetime | None = None) -> PolicyOut | None:
        """Put ``ticket`` under its policy; with ``replace``, recompute its deadlines from ``now``.

        The first application starts the clocks at the ticket's creation;
        re-applying starts the running targets afresh at ``now`` (the
        explicit change). Returns the policy, or ``None`` if none applies.
        """
        policy = choose_policy(self.store.policies(), self._facts(self.desk, ticket))
        if policy is None:
            return None
        cal = self._calendar(policy)
        start = ticket.created_at if not replace else (now or datetime.now(UTC))
        # Re-applied, the history before now is done with; applied first, it is replayed below.
        seen = len(_status_changes(self.desk.store.list_changes(ticket.id))) if replace else 0
        targets = [Target.FIRST_RESPONSE, Target.RESOLUTION]
        # A re-application is a cycle of its own (numbered by its instant): the earlier ones stay as history.
        cycle = int(start.timestamp() * 1000) if replace else 0
        new = [d for target in targets if (d := self._new(policy, cal, target, cycle, start)) is not None]
        if not self.store.start_clock(ticket.id, policy.id, new, status_changes_seen=seen, replace=replace):
            return policy
        if replace:
            if ticket.status in policy.pause_statuses:
                self._pause(ticket.id, cal, start)
        else:
            # What happened before this ran (a worker behind, or another worker that ran a later
            # event first) counts at the times it happened: status changes, then an admin's reply.
            clock = self.store.clock(ticket.id)
            paused = self._follow_changes(ticket, policy, cal, clock) if clock is not None else False
            first = next(
                (m for m in self.desk.store.list_messages(ticket.id, limit=200) if m.sender_type is SenderType.ADMIN),
                None,
            )
            if first is not None:
                self._message(ticket, policy, cal, first.id, paused)
        self.schedule()
        return policy

    def _new(self, policy: PolicyOut, cal: Calendar, target: Target, cycle: int, start: datetime) -> NewDeadline | None:
        minutes = policy.minutes(target)
        if minutes is None:
            return None
        began = start.timestamp()
        try:
            due = add_business_time(cal, start, timedelta(minutes=minutes)).timestamp()
        except NoWorkingTime:
            return NewDeadline(target.value, cycle, began, None, None, None)  # never due: nothing to fire
        warn = None
        if policy.warning_minutes:
            lead = max(minutes - policy.warning_minutes, 0)
            warn = add_business_time(cal, start, timedelta(minutes=lead)).timestamp()
        return NewDeadline(target.value, cycle, began, due, warn, warn if warn is not None else due)

    def _calendar(self, policy: PolicyOut) -> Calendar:
        for spec in self.store.calendars():
            if spec.name == policy.calendar:
                return calendar(spec)
        raise LookupError(f"calendar {policy.calendar!r} is gone")

    def _policy(self, policy_id: int) -> PolicyOut | None:
        return next((p for p in self.store.policies() if p.id == policy_id), None)

    # -- following the ticket -----------------------------------------------

    def observe(self, record: EventRecord) -> None:
        """Follow one event of the desk's log (in log order)."""
        ticket = self.desk.store.get_ticket(record.ticket_id)
        if ticket is None:
            return
        clock = self.store.clock(ticket.id)
        if clock is None:
            if record.type is EventType.TICKET_CREATED:
                self.apply(ticket)
            return
        policy = self._policy(clock.policy_id)
        if policy is None:
            return  # deleted: its deadlines stay as fixed, nothing new starts
        cal = self._calendar(policy)
        paused = self._follow_changes(ticket, policy, cal, clock)
        if record.type is EventType.MESSAGE_CREATED and record.message_id is not None:
            self._message(ticket, policy, cal, record.message_id, paused)
        self.schedule()

    def _follow_changes(self, ticket: Ticket, policy: PolicyOut, cal: Calendar, clock: Clock) -> bool:
        """Apply the ticket's status changes not seen yet, in order; whether its clocks are paused after.

        The clock counts the status changes it has followed rather than keeping a change id: ids
        are each store's own (the fallback store's primary and local copy number them apart),
        while a ticket's status changes are the same, in the same order, in both.
        """
        paused = clock.paused_since is not None
        changes = _status_changes(self.desk.store.list_changes(ticket.id))
        for position, change in enumerate(changes[clock.status_changes_seen :], start=clock.status_changes_seen + 1):
            if change.old_value and change.new_value:
                old, new = TicketStatus(change.old_value), TicketStatus(change.new_value)
                paused = self._status_changed(ticket.id, policy, cal, old, new, change.changed_at, position, paused)
        if len(changes) > clock.status_changes_seen:
            self.store.save_clock(ticket.id, clock={"status_changes_seen": len(changes)}, updates={})
        return paused

    def _status_changed(
        self,
        ticket_id: int,
        policy: PolicyOut,
        cal: Calendar,
        old: TicketStatus,
        new: TicketStatus,
        at: datetime,
        position: int,
        paused: bool,
    ) -> bool:
        running = self._running(ticket_id)
        if new in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
            self._finish([d for d in running if d.target == Target.RESOLUTION], at, state="met")
        if new is TicketStatus.CLOSED:
            self._finish([d for d in running if d.target != Target.RESOLUTION], at, state="cancelled")
            return paused
        if old is TicketStatus.RESOLVED and (cycle := self._new(policy, cal, Target.RESOLUTION, position, at)):
            # Reopened: resolution runs again from now, as a new cycle (numbered by the change's position).
            self.store.save_clock(
                ticket_id, clock={}, updates={}, new=[self._held(cycle, cal, at) if paused else cycle]
            )
        if new in policy.pause_statuses and not paused:
            self._pause(ticket_id, cal, at)
            return True
        if new not in policy.pause_statuses and paused:
            self._resume(ticket_id, cal, at)
            return False
        return paused

    def _message(self, ticket: Ticket, policy: PolicyOut, cal: Calendar, message_id: int, paused: bool) -> None:
        found = self.desk.store.list_messages(ticket.id, after_id=message_id - 1, limit=1)
        if not found or found[0].id != message_id:
            return
        message = found[0]
        running = self._running(ticket.id)
        if message.sender_type is SenderType.ADMIN:
            # Only what was waiting when it was written: a late or repeated delivery of an older
            # reply must not meet a next response that a later user message started.
            answered = [
                d
                for d in running
                if d.target in (Target.FIRST_RESPONSE, Target.NEXT_RESPONSE)
                and d.started_at <= message.created_at.timestamp()
            ]
            self._finish(answered, message.created_at, state="met")
            return
        if any(d.target == Target.NEXT_RESPONSE for d in running) or not self._answered_before(ticket, message_id):
            return
        cycle = self._new(policy, cal, Target.NEXT_RESPONSE, message_id, message.created_at)
        if cycle is not None:
            held = self._held(cycle, cal, message.created_at) if paused else cycle
            self.store.save_clock(ticket.id, clock={}, updates={}, new=[held])

    def _answered_before(self, ticket: Ticket, message_id: int) -> bool:
        earlier = self.desk.store.list_messages(ticket.id, before_id=message_id, limit=200, newest=True)
        return any(m.sender_type is SenderType.ADMIN for m in earlier)

    def _running(self, ticket_id: int) -> list[Deadline]:
        return [d for d in self.store.deadlines([ticket_id]) if d.state == "active"]

    def _finish(self, deadlines: Sequence[Deadline], at: datetime, *, state: str) -> None:
        for deadline in deadlines:
            values = {"state": state, "met_at": at.timestamp(), "next_fire_at": None}
            self.store.save_clock(deadline.ticket_id, clock={}, updates={deadline.id: values})

    def _pause(self, ticket_id: int, cal: Calendar, at: datetime) -> None:
        updates: dict[int, Mapping[str, Any]] = {}
        for d in self._running(ticket_id):
            if d.due_at is None or d.due_at <= at.timestamp():
                continue  # never due, or already past due: nothing to hold
            left = business_time_between(cal, at, _at(d.due_at)).total_seconds()
            warn_left = None
            if d.warn_at is not None and d.warned_at is None:
                warn_left = business_time_between(cal, at, _at(d.warn_at)).total_seconds()
            updates[d.id] = {
                "due_at": None,
                "warn_at": None,
                "paused_left": left,
                "paused_warn_left": warn_left,
                "next_fire_at": None,
            }
        self.store.save_clock(ticket_id, clock={"paused_since": at.timestamp()}, updates=updates)

    def _resume(self, ticket_id: int, cal: Calendar, at: datetime) -> None:
        updates: dict[int, Mapping[str, Any]] = {}
        for d in self._running(ticket_id):
            if d.paused_left is None:
                continue
            due = add_business_time(cal, at, timedelta(seconds=d.paused_left)).timestamp()
            warn = None
            if d.paused_warn_left is not None:
                warn = add_business_time(cal, at, timedelta(seconds=d.paused_warn_left)).timestamp()
            updates[d.id] = {
                "due_at": due,
                "warn_at": warn,
                "paused_left": None,
                "paused_warn_left": None,
                "next_fire_at": warn if warn is not None else due,
            }
        self.store.save_clock(ticket_id, clock={"paused_since": None}, updates=updates)

    @staticmethod
    def _held(new: NewDeadline, cal: Calendar, at: datetime) -> NewDeadline:
        """A cycle begun while the clocks stand still: its whole allowance waits for the resumption."""
        if new.due_at is None:
            return new
        left = business_time_between(cal, at, _at(new.due_at)).total_seconds()
        warn_left = None if new.warn_at is None else business_time_between(cal, at, _at(new.warn_at)).total_seconds()
        return dataclasses.replace(
            new, due_at=None, warn_at=None, next_fire_at=None, paused_left=left, paused_warn_left=warn_left
        )

    # -- firing and escalating ----------------------------------------------

    def scan(self, now: float | None = None, *, limit: int = 500) -> list[SlaEvent]:
        """Fire every warning and breach due by ``now`` (once each, whatever runs at once); what fired."""
        at = time.time() if now is None else now
        firings: list[Firing] = []
        for deadline in self.store.due(at, limit=limit):
            if deadline.warned_at is None and deadline.warn_at is not None and deadline.warn_at <= at:
                firings.append((deadline, WARNING, deadline.due_at))
                deadline = dataclasses.replace(deadline, warned_at=at, next_fire_at=deadline.due_at)
            if deadline.breached_at is None and deadline.due_at is not None and deadline.due_at <= at:
                firings.append((deadline, BREACHED, None))
        fired = self.store.fire(firings, now=at) if firings else []
        for event in fired:
            # The store put it in the desk's event log with the firing; this process's streams hear it now.
            when, data = log_entry(event)
            self.desk.announce(Actor.system(), event.ticket_id, event.type, at=when, data=data)
            self._tell(event)
        return fired

    def escalate(self, now: float | None = None) -> int:
        """Run the escalation of every breach not escalated yet; how many breaches were handled.

        An action that fails is logged and the breach is still marked (its
        other actions ran): escalation is once per breach, not a retry loop.
        """
        handled = 0
        for event in self.store.unescalated():
            clock = self.store.clock(event.ticket_id)
            policy = None if clock is None else self._policy(clock.policy_id)
            for step in policy.escalation if policy is not None else ():
                try:
                    self._act(step.action, step, event)
                except Exception:
                    logger.warning("SLA escalation %s of ticket %s failed", step.action, event.ticket_id, exc_info=True)
            if self.store.mark_escalated(event.id, now=time.time() if now is None else now):
                handled += 1
        return handled

    def _act(self, action: str, step: Any, event: SlaEvent) -> None:
        system = Actor.system()
        if action == "raise_priority":
            ticket = self.desk.store.get_ticket(event.ticket_id)
            if ticket is None:
                return
            current = _PRIORITIES.index(ticket.priority)
            target = _PRIORITIES.index(step.priority) if step.priority else min(current + 1, len(_PRIORITIES) - 1)
            if target > current:
                self.desk.set_priority(system, event.ticket_id, _PRIORITIES[target])
        elif action == "assign":
            self.desk.assign(system, event.ticket_id, step.agent)
        elif action == "assign_team":
            if self.assign_team is None:
                logger.warning("SLA escalation assign_team %r: no teams capability is installed", step.team)
                return
            self.assign_team(self.desk, event.ticket_id, step.team)
        elif action == "notify":
            self._tell(dataclasses.replace(event, type="sla_escalated"))

    def _tell(self, event: SlaEvent) -> None:
        for listener in self.listeners:
            try:
                listener(event)
            except Exception:
                logger.warning("SLA listener failed on %s", event.type, exc_info=True)

    def schedule(self) -> None:
        """Make sure a scan is due when the earliest armed deadline is."""
        when = self.store.next_fire_at()
        if when is not None and self._schedule is not None:
            self._schedule(when)

    # -- what admins see -----------------------------------------------------

    def views(self, tickets: Sequence[Ticket]) -> dict[int, SlaView]:
        """The ``sla`` of each ticket under a policy (two queries for any number of tickets)."""
        ids = [t.id for t in tickets]
        clocks = {c.ticket_id: c for c in self.store.clocks(ids)}
        if not clocks:
            return {}
        names = {p.id: p.name for p in self.store.policies()}
        by_ticket: dict[int, list[Deadline]] = {}
        for deadline in self.store.deadlines(list(clocks)):
            by_ticket.setdefault(deadline.ticket_id, []).append(deadline)
        return {
            ticket_id: _view(names.get(clock.policy_id), clock.paused_since is not None, by_ticket.get(ticket_id, []))
            for ticket_id, clock in clocks.items()
        }


def _status_changes(changes: Sequence[TicketChange]) -> list[TicketChange]:
    return [change for change in changes if change.field == "status"]


def _view(policy: str | None, paused: bool, deadlines: Sequence[Deadline]) -> SlaView:
    latest: dict[str, Deadline] = {}
    for deadline in deadlines:
        if deadline.state != "cancelled" and (
            deadline.target not in latest or deadline.started_at >= latest[deadline.target].started_at
        ):
            latest[deadline.target] = deadline
    due: dict[str, datetime | None] = {
        f"{target}_due": None if d.due_at is None else _at(d.due_at) for target, d in latest.items()
    }
    return SlaView(
        policy=policy,
        breached=sorted({Target(d.target) for d in deadlines if d.breached_at is not None}),
        warned=sorted({Target(d.target) for d in deadlines if d.warned_at is not None}),
        met=sorted(Target(t) for t, d in latest.items() if d.state == "met"),
        paused=paused,
        **due,
    )
