"""The teams capability beside an :class:`~supportchat.stores.InMemoryStore`: dictionaries behind one lock.

The reference implementation: each deciding step holds the lock while it
counts loads through the store's public protocol and writes the hold, as
the SQL store does inside one locked transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime, timedelta

from ..models import TicketStatus
from ..store import Store
from ..stores.directories_memory import open_loads_by_listing
from .base import AgentState, Hold, HoldResult, Member, QueueEntry, Team
from .rules import Availability, Candidate, has_room, pick_agent

__all__ = ["MemoryTeamStore"]

_OPEN = (TicketStatus.OPEN, TicketStatus.IN_PROGRESS)


class MemoryTeamStore:
    """:class:`~.base.TeamStore` in process memory."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._teams: dict[str, Team] = {}
        self._states: dict[int, AgentState] = {}
        self._ticket_teams: dict[int, str] = {}
        self._queue: dict[int, QueueEntry] = {}

    # -- teams ---------------------------------------------------------------

    def list_teams(self) -> list[Team]:
        with self._lock:
            return [self._teams[name] for name in sorted(self._teams)]

    def get_team(self, name: str) -> Team | None:
        with self._lock:
            return self._teams.get(name)

    def put_team(self, team: Team) -> Team:
        with self._lock:
            self._teams[team.name] = team
        return team

    def remove_team(self, name: str) -> bool:
        with self._lock:
            self._queue = {k: e for k, e in self._queue.items() if e.team != name}
            self._ticket_teams = {k: t for k, t in self._ticket_teams.items() if t != name}
            return self._teams.pop(name, None) is not None

    # -- agents' states -------------------------------------------------------

    def agent_states(self, agent_ids: Sequence[int]) -> dict[int, AgentState]:
        with self._lock:
            return {agent_id: self._state(agent_id) for agent_id in agent_ids}

    def _state(self, agent_id: int) -> AgentState:
        return self._states.get(agent_id) or AgentState(agent_id=agent_id)

    def set_status(self, agent_id: int, status: Availability, now: datetime) -> AgentState:
        with self._lock:
            state = self._state(agent_id)
            if state.status is not status or state.status_since is None:
                state = state.model_copy(update={"status": status, "status_since": now})
                self._states[agent_id] = state
            return state

    def _loads(self, agent_ids: Sequence[int], now: datetime) -> dict[int, int]:
        loads = open_loads_by_listing(self._store, agent_ids)
        for entry in self._queue.values():
            if entry.reserved_for in loads and entry.reserved_until is not None and entry.reserved_until > now:
                ticket = self._store.get_ticket(entry.ticket_id)
                if ticket is not None and ticket.assigned_to != entry.reserved_for:
                    loads[entry.reserved_for] += 1
        return loads

    # -- tickets' teams and the queue --------------------------------------------

    def ticket_teams(self, ticket_ids: Sequence[int]) -> dict[int, str]:
        with self._lock:
            return {t: self._ticket_teams[t] for t in ticket_ids if t in self._ticket_teams}

    def set_ticket_team(self, ticket_id: int, team: str | None, now: datetime) -> None:
        with self._lock:
            if team is None:
                self._ticket_teams.pop(ticket_id, None)
            else:
                self._ticket_teams[ticket_id] = team

    def enqueue(self, ticket_id: int, team: str, queued_at: datetime) -> bool:
        with self._lock:
            if ticket_id in self._queue:
                return False
            self._queue[ticket_id] = QueueEntry(ticket_id=ticket_id, team=team, queued_at=queued_at)
            return True

    def dequeue(self, ticket_id: int) -> bool:
        with self._lock:
            return self._queue.pop(ticket_id, None) is not None

    def _ordered(self, team: str | None) -> list[QueueEntry]:
        entries = [e for e in self._queue.values() if team is None or e.team == team]
        return sorted(entries, key=lambda e: (e.queued_at, e.ticket_id))

    def queue(self, team: str | None = None, *, limit: int = 100) -> list[QueueEntry]:
        with self._lock:
            return self._ordered(team)[:limit]

    def reserve_next(self, team: str, members: Sequence[Member], *, now: datetime, lease: timedelta) -> Hold | None:
        capacity = {member.agent_id: member.capacity for member in members}
        with self._lock:
            head = next((e for e in self._ordered(team) if self._waiting(e, now)), None)
            if head is None or not capacity:
                return None
            loads = self._loads(sorted(capacity), now)
            chosen = pick_agent(
                Candidate(
                    agent_id=agent_id,
                    load=loads[agent_id],
                    capacity=capacity[agent_id],
                    available=self._state(agent_id).status is Availability.AVAILABLE,
                    idle_since=self._state(agent_id).last_assigned_at,
                )
                for agent_id in sorted(capacity)
            )
            if chosen is None:
                return None
            self._hold(head.ticket_id, head.team, chosen.agent_id, now, lease)
            return Hold(ticket_id=head.ticket_id, agent_id=chosen.agent_id)

    def _waiting(self, entry: QueueEntry, now: datetime) -> bool:
        if entry.reserved_until is not None and entry.reserved_until > now:
            return False
        ticket = self._store.get_ticket(entry.ticket_id)
        return ticket is not None and ticket.assigned_to is None and ticket.status in _OPEN

    def _hold(self, ticket_id: int, team: str, agent_id: int, now: datetime, lease: timedelta) -> None:
        entry = self._queue.get(ticket_id) or QueueEntry(ticket_id=ticket_id, team=team, queued_at=now)
        self._queue[ticket_id] = entry.model_copy(update={"reserved_for": agent_id, "reserved_until": now + lease})
        self._states[agent_id] = self._state(agent_id).model_copy(update={"last_assigned_at": now})

    def hold(
        self, ticket_id: int, member: Member, *, now: datetime, lease: timedelta, force: bool = False
    ) -> HoldResult:
        agent_id = member.agent_id
        with self._lock:
            if not force:
                if self._state(agent_id).status is not Availability.AVAILABLE:
                    return HoldResult.UNAVAILABLE
                if not has_room(self._loads([agent_id], now)[agent_id], member.capacity):
                    return HoldResult.FULL
            self._hold(ticket_id, self._ticket_teams.get(ticket_id, ""), agent_id, now, lease)
            return HoldResult.HELD

    def release(self, hold: Hold) -> None:
        with self._lock:
            entry = self._queue.get(hold.ticket_id)
            if entry is not None and entry.reserved_for == hold.agent_id:
                del self._queue[hold.ticket_id]

    def prune(self, now: datetime) -> int:
        with self._lock:
            stale = []
            for ticket_id, entry in self._queue.items():
                ticket = self._store.get_ticket(ticket_id)
                held = entry.reserved_until is not None and entry.reserved_until > now
                if ticket is None or ticket.status not in _OPEN or (ticket.assigned_to is not None and not held):
                    stale.append(ticket_id)
            for ticket_id in stale:
                del self._queue[ticket_id]
            return len(stale)
