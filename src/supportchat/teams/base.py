"""What the teams capability keeps, and :class:`TeamStore`, the store extension that keeps it.

Four kinds of rows, beside the store's tickets:

- a **team**: a name (the directories' team names), a display name, whether
  it auto-assigns, and the ticket categories it takes (new tickets of those
  categories are routed to it);
- an agent's **state**: their availability (:class:`~.rules.Availability`)
  and when they were last given a ticket (the "longest idle" of the rule);
- a ticket's **team**: where it was routed or transferred;
- the **queue**: tickets of auto-assigning teams waiting for an agent, in
  arrival order. An entry is also how a ticket is *reserved* for an agent
  between the decision and the desk's write of the assignment (a *hold*):
  held tickets count in the agent's load, so two deciders never give one
  agent more than their capacity, and the hold expires if its decider dies.

Team membership is not here: it is the agents directory's ``teams``
(:mod:`supportchat.people`), whoever supplies the agents.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from ..extensions import extension
from ..models import Category, UTCDateTime
from .rules import Availability

__all__ = ["AgentState", "Hold", "HoldResult", "Member", "QueueEntry", "Team", "TeamStore", "team_store"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Team(_Frozen):
    """A team of agents."""

    name: str
    display_name: str
    #: Hand the team's waiting tickets to its members automatically (off by default).
    auto_assign: bool = False
    #: New tickets of these categories are routed to this team.
    categories: tuple[Category, ...] = ()


class AgentState(_Frozen):
    """An agent's availability, and when they last received a ticket."""

    agent_id: int
    status: Availability = Availability.AVAILABLE
    status_since: UTCDateTime | None = None
    last_assigned_at: UTCDateTime | None = None


class QueueEntry(_Frozen):
    """A ticket waiting for an agent of its team (or held for one)."""

    ticket_id: int
    team: str
    queued_at: UTCDateTime
    reserved_for: int | None = None
    reserved_until: UTCDateTime | None = None


@dataclass(frozen=True, slots=True)
class Member:
    """A team member the directory says may take tickets, with their capacity (0: no limit)."""

    agent_id: int
    capacity: int = 0


@dataclass(frozen=True, slots=True)
class Hold:
    """A ticket reserved for an agent until the desk has written the assignment."""

    ticket_id: int
    agent_id: int


class HoldResult(enum.StrEnum):
    HELD = "held"
    #: The agent's state is not ``available``.
    UNAVAILABLE = "unavailable"
    #: The agent's load (open tickets and holds) is at their capacity.
    FULL = "full"


@runtime_checkable
class TeamStore(Protocol):
    """Teams, agent states, tickets' teams and the queue (reach it with ``team_store(store)``).

    Every method is one atomic step, safe from any thread or process sharing
    the database. Loads are open and in-progress tickets assigned to the
    agent plus live holds for them on tickets not (yet) theirs.
    """

    # -- teams ---------------------------------------------------------------

    def list_teams(self) -> list[Team]: ...

    def get_team(self, name: str) -> Team | None: ...

    def put_team(self, team: Team) -> Team:
        """Insert or replace the team of this name."""
        ...

    def remove_team(self, name: str) -> bool:
        """Remove the team and its queue (tickets keep no team); whether it existed."""
        ...

    # -- agents' states -------------------------------------------------------

    def agent_states(self, agent_ids: Sequence[int]) -> dict[int, AgentState]:
        """The state of each id (an agent never set is available, never assigned)."""
        ...

    def set_status(self, agent_id: int, status: Availability, now: datetime) -> AgentState: ...

    # -- tickets' teams and the queue --------------------------------------------

    def ticket_teams(self, ticket_ids: Sequence[int]) -> dict[int, str]:
        """The team of each ticket that has one."""
        ...

    def set_ticket_team(self, ticket_id: int, team: str | None, now: datetime) -> None: ...

    def enqueue(self, ticket_id: int, team: str, queued_at: datetime) -> bool:
        """Put the ticket in the team's queue at ``queued_at`` (its arrival); False if it was queued."""
        ...

    def dequeue(self, ticket_id: int) -> bool: ...

    def queue(self, team: str | None = None, *, limit: int = 100) -> list[QueueEntry]:
        """Waiting and held tickets (of one team), in arrival order."""
        ...

    def reserve_next(self, team: str, members: Sequence[Member], *, now: datetime, lease: timedelta) -> Hold | None:
        """Hold the team's first waiting, unassigned, open ticket for the member :func:`~.rules.pick_agent` picks.

        One transaction: the members' states are locked, their loads
        counted, the rule applied, the entry held until ``now + lease`` and
        the agent's ``last_assigned_at`` set. ``None`` when nothing waits or
        nobody has room.
        """
        ...

    def hold(
        self, ticket_id: int, member: Member, *, now: datetime, lease: timedelta, force: bool = False
    ) -> HoldResult:
        """Hold ``ticket_id`` for one agent (a transfer), checking their state and room unless ``force``."""
        ...

    def release(self, hold: Hold) -> None:
        """End a hold: the ticket's entry leaves the queue (the desk wrote the assignment, or it need not)."""
        ...

    def prune(self, now: datetime) -> int:
        """Drop entries whose ticket is gone, closed or resolved, or assigned with no live hold; how many."""
        ...


def team_store(store: object) -> TeamStore:
    """The store's :class:`TeamStore` (``ExtensionUnavailable`` for a store the capability does not support).

    The implementations are registered by importing :mod:`supportchat.teams`.
    """
    return extension(store, TeamStore)  # type: ignore[type-abstract]
