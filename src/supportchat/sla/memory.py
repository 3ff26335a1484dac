"""The SLA in process memory, for the in-memory store (tests and experiments): the reference for the SQL one."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import Conflict, ValidationError
from ..extensions import extension
from ..models import TicketStatus
from ..store import EventLog, Store
from .base import BREACHED, Clock, Deadline, DueFilter, Firing, NewDeadline, SlaEvent, log_entry
from .policy import CalendarIn, CalendarOut, PolicyIn, PolicyOut

__all__ = ["MemorySlaStore"]

_ACTIVE = "active"


class MemorySlaStore:
    """The :class:`~supportchat.sla.base.SlaStore` of an :class:`~supportchat.stores.memory.InMemoryStore`.

    One per store (kept on it), so every desk over that store sees the same clocks.
    """

    def __new__(cls, store: Store) -> MemorySlaStore:
        existing = getattr(store, "_sla_memory", None)
        if isinstance(existing, MemorySlaStore):
            return existing
        made = super().__new__(cls)
        made._setup(store)
        store._sla_memory = made  # type: ignore[attr-defined]
        return made

    def _setup(self, store: Store) -> None:
        self._tickets = store
        self._lock = threading.RLock()
        self._calendars: dict[str, CalendarOut] = {}
        self._policies: dict[str, PolicyOut] = {}
        self._clocks: dict[int, Clock] = {}
        self._deadlines: dict[int, Deadline] = {}
        self._events: list[SlaEvent] = []
        self._ids = {"calendar": 0, "policy": 0, "deadline": 0, "event": 0}

    def _next(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    # -- calendars and policies ---------------------------------------------

    def put_calendar(self, calendar: CalendarIn) -> CalendarOut:
        with self._lock:
            found = self._calendars.get(calendar.name)
            stored = CalendarOut(id=found.id if found else self._next("calendar"), **calendar.model_dump())
            self._calendars[calendar.name] = stored
            return stored

    def calendars(self) -> list[CalendarOut]:
        with self._lock:
            return sorted(self._calendars.values(), key=lambda c: c.name)

    def delete_calendar(self, name: str) -> bool:
        with self._lock:
            users = sorted(p.name for p in self._policies.values() if p.calendar == name)
            if name in self._calendars and users:
                raise Conflict(f"calendar {name!r} is used by policies", details={"policies": users})
            return self._calendars.pop(name, None) is not None

    def put_policy(self, policy: PolicyIn) -> PolicyOut:
        with self._lock:
            if policy.calendar not in self._calendars:
                raise ValidationError("calendar", f"no calendar named {policy.calendar!r}")
            found = self._policies.get(policy.name)
            stored = PolicyOut(id=found.id if found else self._next("policy"), **policy.model_dump())
            self._policies[policy.name] = stored
            return stored

    def policies(self) -> list[PolicyOut]:
        with self._lock:
            return sorted(self._policies.values(), key=lambda p: (p.position, p.id))

    def delete_policy(self, name: str) -> bool:
        with self._lock:
            return self._policies.pop(name, None) is not None

    # -- clocks and deadlines ------------------------------------------------

    def clock(self, ticket_id: int) -> Clock | None:
        with self._lock:
            return self._clocks.get(ticket_id)

    def clocks(self, ticket_ids: Sequence[int]) -> list[Clock]:
        with self._lock:
            return [self._clocks[i] for i in ticket_ids if i in self._clocks]

    def deadlines(self, ticket_ids: Sequence[int]) -> list[Deadline]:
        wanted = set(ticket_ids)
        with self._lock:
            found = [d for d in self._deadlines.values() if d.ticket_id in wanted]
        return sorted(found, key=lambda d: (d.ticket_id, d.target, d.cycle))

    def start_clock(
        self,
        ticket_id: int,
        policy_id: int,
        deadlines: Sequence[NewDeadline],
        *,
        status_changes_seen: int,
        replace: bool,
    ) -> bool:
        with self._lock:
            if ticket_id in self._clocks and not replace:
                return False
            for d in list(self._deadlines.values()):
                if d.ticket_id == ticket_id and d.state == _ACTIVE:
                    self._deadlines[d.id] = dataclasses.replace(d, state="cancelled", next_fire_at=None)
            self._clocks[ticket_id] = Clock(ticket_id, policy_id, None, status_changes_seen)
            self._add(ticket_id, deadlines)
        return True

    def _add(self, ticket_id: int, deadlines: Sequence[NewDeadline]) -> None:
        for new in deadlines:
            values = dataclasses.asdict(new)
            same = [
                d
                for d in self._deadlines.values()
                if (d.ticket_id, d.target, d.cycle) == (ticket_id, new.target, new.cycle)
            ]
            fresh: dict[str, Any] = {"state": _ACTIVE, "met_at": None, "warned_at": None, "breached_at": None}
            if same:
                continue  # a cycle exists once
            made = Deadline(id=self._next("deadline"), ticket_id=ticket_id, **values, **fresh)
            self._deadlines[made.id] = made

    def save_clock(
        self,
        ticket_id: int,
        *,
        clock: Mapping[str, Any],
        updates: Mapping[int, Mapping[str, Any]],
        new: Sequence[NewDeadline] = (),
    ) -> None:
        with self._lock:
            if clock and ticket_id in self._clocks:
                self._clocks[ticket_id] = dataclasses.replace(self._clocks[ticket_id], **clock)
            for deadline_id, values in updates.items():
                found = self._deadlines.get(deadline_id)
                if found is not None and found.ticket_id == ticket_id:
                    self._deadlines[deadline_id] = dataclasses.replace(found, **values)
            self._add(ticket_id, new)

    # -- the scan ---------------------------------------------------------------

    def due(self, now: float, *, limit: int = 500) -> list[Deadline]:
        with self._lock:
            armed = [d for d in self._deadlines.values() if d.next_fire_at is not None and d.next_fire_at <= now]
        return sorted(armed, key=lambda d: (d.next_fire_at or 0.0, d.id))[:limit]

    def fire(self, firings: Sequence[Firing], *, now: float) -> list[SlaEvent]:
        fired = []
        with self._lock:
            for deadline, kind, next_fire_at in firings:
                stamp = "breached_at" if kind == BREACHED else "warned_at"
                current = self._deadlines.get(deadline.id)
                if (
                    current is None
                    or current.state != _ACTIVE
                    or current.next_fire_at != deadline.next_fire_at
                    or getattr(current, stamp) is not None
                ):
                    continue
                assert deadline.due_at is not None
                stamped: dict[str, Any] = {stamp: now, "next_fire_at": next_fire_at}
                self._deadlines[deadline.id] = dataclasses.replace(current, **stamped)
                event = SlaEvent(
                    self._next("event"),
                    deadline.id,
                    deadline.ticket_id,
                    kind,
                    deadline.target,
                    deadline.due_at,
                    now,
                    None,
                )
                self._events.append(event)
                at, data = log_entry(event)
                extension(self._tickets, EventLog).append_event(deadline.ticket_id, kind, at=at, data=data)  # type: ignore[type-abstract]
                fired.append(event)
        return fired

    def unescalated(self, *, limit: int = 100) -> list[SlaEvent]:
        with self._lock:
            return [e for e in self._events if e.type == BREACHED and e.escalated_at is None][:limit]

    def mark_escalated(self, event_id: int, *, now: float) -> bool:
        with self._lock:
            for position, event in enumerate(self._events):
                if event.id == event_id and event.escalated_at is None:
                    self._events[position] = dataclasses.replace(event, escalated_at=now)
                    return True
        return False

    def events(self, *, ticket_id: int | None = None, after_id: int = 0, limit: int = 100) -> list[SlaEvent]:
        with self._lock:
            found = [e for e in self._events if e.id > after_id and ticket_id in (None, e.ticket_id)]
        return found[:limit]

    def next_fire_at(self) -> float | None:
        with self._lock:
            armed = [d.next_fire_at for d in self._deadlines.values() if d.next_fire_at is not None]
        return min(armed, default=None)

    def due_tickets(self, where: DueFilter, *, offset: int, limit: int) -> tuple[list[int], int]:
        soonest: dict[int, float | None] = {}
        with self._lock:
            for d in self._deadlines.values():
                if d.state == _ACTIVE:
                    known = soonest.get(d.ticket_id)
                    soonest[d.ticket_id] = d.due_at if known is None else min(known, d.due_at or known)
        chosen = []
        for ticket_id, due in soonest.items():
            ticket = self._tickets.get_ticket(ticket_id)
            if ticket is None or ticket.status is TicketStatus.CLOSED:
                continue
            checks = [
                where.status in (None, ticket.status),
                where.priority in (None, ticket.priority),
                where.category in (None, ticket.category),
                ticket.assigned_to is None if where.unassigned else where.assigned_to in (None, ticket.assigned_to),
            ]
            if all(checks):
                chosen.append((due is None, due or 0.0, ticket_id))
        chosen.sort()
        return [ticket_id for _, _, ticket_id in chosen[offset : offset + limit]], len(chosen)
