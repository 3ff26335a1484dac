"""The teams' operations over a :class:`~supportchat.SupportDesk`: :class:`TeamDesk`.

Every change to a ticket is the desk's own (``SupportDesk.assign``, with its
optimistic re-read, its change records and its events); this module decides
*whom* and keeps the teams' rows. Assigning has two steps: the team store
*holds* the ticket for an agent (deciding on loads it counts under a lock,
holds included), then the desk writes the assignment only if the ticket is
still assigned as it was when decided (``expected_assignee``), and the hold
ends. So under any number of processes a ticket is assigned once and no
agent exceeds their capacity; a decider that dies leaves a hold that
expires after ``lease`` and the ticket waits again.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..desk import UNSET, SupportDesk
from ..errors import (
    AgentAtCapacity,
    AgentUnavailable,
    AssigneeChanged,
    Conflict,
    ExtensionUnavailable,
    TicketClosed,
    TicketNotFound,
    ValidationError,
)
from ..event_types import declare_event_type
from ..extensions import extension
from ..models import Actor, Ticket, TicketStatus
from ..people import (
    Agent,
    AgentLoad,
    AgentStore,
    StoredAgents,
    agent_store,
    directories_of,
    parse_agent,
    parse_team_name,
)
from ..permissions import Action, authorize
from ..rules import clean_text, parse_positive_int
from .base import Hold, HoldResult, Member, QueueEntry, Team, TeamStore, team_store
from .rules import DISPLAY_NAME_LENGTH, Availability, has_room, parse_availability, parse_categories, parse_reason

__all__ = ["NOTICE_KIND", "TICKET_TRANSFERRED", "AgentAvailability", "TeamDesk", "TeamView", "Transfer", "team_desk"]

#: The job kind a transfer enqueues: tells both agents (see :mod:`.feature`).
NOTICE_KIND = "teams.transfer_notice"
#: The event-log entry of a transfer, on the admin stream and to staff's notifiers (never the owner's).
TICKET_TRANSFERRED = declare_event_type(
    "ticket_transferred",
    declared_by="teams",
    description="A ticket was transferred; data: from_agent, to_agent, from_team, team, reason, forced, by.",
)
_OPEN = (TicketStatus.OPEN, TicketStatus.IN_PROGRESS)
#: Further change records written with an assignment: (field, old, new).
Records = list[tuple[str, str | None, str | None]]


class AgentAvailability(AgentLoad):
    """An agent with their load and the teams capability's state."""

    status: Availability = Availability.AVAILABLE
    status_since: datetime | None = None
    #: When they were last given a ticket (the assignment rule's "idle since").
    last_assigned_at: datetime | None = None
    #: Whether auto-assignment and transfers may give them a ticket now.
    takes_tickets: bool = True


class TeamView(Team):
    """A team with its members (from the agents directory) and how many tickets wait in its queue."""

    members: tuple[int, ...] = ()
    waiting: int = 0


@dataclass(frozen=True, slots=True)
class Transfer:
    """What a transfer changed, as the notice to both agents tells it."""

    ticket: Ticket
    from_agent: int | None
    to_agent: int | None
    team: str | None
    reason: str | None
    note: str | None
    forced: bool


def _utcnow() -> datetime:
    return datetime.now(UTC)


class TeamDesk:
    """Teams, availability, transfer and auto-assignment over ``desk``.

    ``lease`` bounds how long a hold outlives a decider that died before
    writing the assignment; ``clock`` is injectable for tests.
    """

    def __init__(
        self, desk: SupportDesk, *, lease: timedelta = timedelta(seconds=60), clock: Callable[[], datetime] = _utcnow
    ) -> None:
        self.desk = desk
        self.store: TeamStore = team_store(desk.store)
        self.lease = lease
        self._clock = clock

    # -- teams ---------------------------------------------------------------

    def list_teams(self, actor: Actor) -> list[TeamView]:
        authorize(actor, Action.OVERSEE)
        agents = directories_of(self.desk).agents.list_agents()
        return [self._view(team, agents) for team in self.store.list_teams()]

    def get_team(self, actor: Actor, name: object) -> TeamView:
        authorize(actor, Action.OVERSEE)
        return self._view(self._team(name), directories_of(self.desk).agents.list_agents())

    def put_team(
        self,
        actor: Actor,
        name: object,
        *,
        display_name: object = None,
        auto_assign: object = None,
        categories: object = None,
    ) -> TeamView:
        """Create the team, or change the fields given of an existing one."""
        authorize(actor, Action.MANAGE)
        key = parse_team_name(name, "name")
        existing = self.store.get_team(key)
        if auto_assign is not None and not isinstance(auto_assign, bool):
            raise ValidationError("auto_assign", "must be true or false")
        team = Team(
            name=key,
            display_name=(
                clean_text("display_name", display_name, DISPLAY_NAME_LENGTH)
                if display_name not in (None, "")
                else (existing.display_name if existing else key)
            ),
            auto_assign=auto_assign if auto_assign is not None else bool(existing and existing.auto_assign),
            categories=(
                parse_categories(categories) if categories is not None else (existing.categories if existing else ())
            ),
        )
        self.store.put_team(team)
        if team.auto_assign:
            self.drain(team.name)
        return self.get_team(actor, key)

    def waiting(self, actor: Actor, team: object) -> list[QueueEntry]:
        """The team's queue in arrival order (held entries included)."""
        authorize(actor, Action.OVERSEE)
        return self.store.queue(self._team(team).name, limit=10_000)

    def remove_team(self, actor: Actor, name: object) -> bool:
        authorize(actor, Action.MANAGE)
        return self.store.remove_team(parse_team_name(name))

    def add_member(self, actor: Actor, team: object, agent_id: object) -> Agent:
        """Put a standalone agent in a team (a host's directory keeps membership itself)."""
        return self._membership(actor, team, agent_id, add=True)

    def remove_member(self, actor: Actor, team: object, agent_id: object) -> Agent:
        return self._membership(actor, team, agent_id, add=False)

    def _membership(self, actor: Actor, team: object, agent_id: object, *, add: bool) -> Agent:
        authorize(actor, Action.MANAGE)
        name = self._team(team).name
        agent = self._agent(agent_id, field="agent_id")
        teams = set(agent.teams) | {name} if add else set(agent.teams) - {name}
        changed = self._stored_agents("team membership").put_agent(
            parse_agent(**{**agent.model_dump(), "teams": sorted(teams)})
        )
        if add:
            self.drain(name)
        return changed

    # -- availability ----------------------------------------------------------

    def availability(self, actor: Actor) -> list[AgentAvailability]:
        """Every agent with their load, availability and last assignment."""
        authorize(actor, Action.OVERSEE)
        agents = directories_of(self.desk).agents_with_load()
        states = self.store.agent_states([agent.id for agent in agents])
        return [self._availability(agent, states[agent.id]) for agent in agents]

    def set_availability(
        self, actor: Actor, agent_id: object, status: object = None, *, capacity: object = UNSET, requeue: bool = False
    ) -> AgentAvailability:
        """Set an agent's availability (and, standalone, capacity).

        With ``requeue``, an agent who stops being available gives their open
        tickets of teams back to those teams' queues. An agent who becomes
        available (or gets more room) takes waiting tickets at once.
        """
        authorize(actor, Action.MANAGE)
        agent = self._agent(agent_id, field="agent_id")
        if capacity is not UNSET:
            fields = {**agent.model_dump(), "capacity": capacity}
            agent = self._stored_agents("capacity").put_agent(parse_agent(**fields))
        if status is not None:
            self.store.set_status(agent.id, parse_availability(status), self._now())
        state = self.store.agent_states([agent.id])[agent.id]
        if requeue and state.status is not Availability.AVAILABLE:
            self.requeue(actor, agent.id)
        if state.status is Availability.AVAILABLE:
            for team in agent.teams:
                self.drain(team)
        return next(a for a in self.availability(actor) if a.id == agent.id)

    def requeue(self, actor: Actor, agent_id: object) -> int:
        """Return the agent's open tickets that belong to a team to that team (its queue if it auto-assigns).

        Each is unassigned only if still theirs (a checked write); tickets of
        no team stay with the agent. Returns how many went back.
        """
        authorize(actor, Action.MANAGE)
        agent = parse_positive_int("agent_id", agent_id)
        returned = 0
        seen: set[int] = set()
        for status in _OPEN:
            while True:
                page = self.desk.list_tickets(
                    actor, assigned_to=agent, status=status.value, per_page=self.desk.limits.per_page_max
                )
                fresh = [ticket for ticket in page.items if ticket.id not in seen]
                if not fresh:
                    break
                seen.update(ticket.id for ticket in fresh)
                teams = self.store.ticket_teams([ticket.id for ticket in fresh])
                for ticket in fresh:
                    if ticket.id in teams and self._give_back(actor, ticket, agent, teams[ticket.id]):
                        returned += 1
        for team in {*self.store.ticket_teams(list(seen)).values()}:
            self.drain(team)
        return returned

    def _give_back(self, actor: Actor, ticket: Ticket, agent: int, team: str) -> bool:
        try:
            back: Records = [("transfer_reason", None, "agent unavailable")]
            self.desk.assign(actor, ticket.id, None, expected_assignee=agent, records=back)
        except AssigneeChanged:
            return False
        found = self.store.get_team(team)
        if found is not None and found.auto_assign:
            self.store.enqueue(ticket.id, team, ticket.created_at)
        return True

    # -- transfer ---------------------------------------------------------------

    def transfer(
        self,
        actor: Actor,
        ref: object,
        *,
        to: object = None,
        team: object = None,
        reason: object = None,
        note: object = None,
        force: object = False,
    ) -> Transfer:
        """Give a ticket to an agent (``to``) or a team (``team``), recording who, to whom and why.

        A transfer to an agent who is unavailable, or at capacity, is
        refused (409 ``agent_unavailable`` / ``agent_at_capacity``) unless
        ``force``. A transfer to a team unassigns the ticket into the team
        (its queue, if it auto-assigns). Both agents are told (a job of kind
        :data:`NOTICE_KIND`).
        """
        authorize(actor, Action.MANAGE)
        if (to is None) == (team is None):
            raise ValidationError("to", "give exactly one of to (an agent id) or team (a team name)")
        if not isinstance(force, bool):
            raise ValidationError("force", "must be true or false")
        why, text = parse_reason("reason", reason), parse_reason("note", note)
        ticket = self._ticket(actor, ref)
        if ticket.status is TicketStatus.CLOSED:
            raise TicketClosed("a closed ticket cannot be transferred", details={"status": "closed"})
        old_team = self.store.ticket_teams([ticket.id]).get(ticket.id)
        records: Records = []
        if why is not None:
            records.append(("transfer_reason", None, why))
        if text is not None:
            records.append(("transfer_note", None, text))
        if force:
            records.append(("transfer_forced", None, "true"))
        if to is not None:
            done = self._to_agent(actor, ticket, self._agent(to, field="to"), records, force=force)
            new_team = old_team
        else:
            new_team = self._team(team).name
            done = self._to_team(actor, ticket, new_team, old_team, records)
        result = Transfer(done, ticket.assigned_to, done.assigned_to, new_team, why, text, force)
        if done.version != ticket.version:
            self._notify(actor, result)
            self.desk.record_event(
                actor,
                done.id,
                TICKET_TRANSFERRED.name,
                data={
                    "from_agent": result.from_agent,
                    "to_agent": result.to_agent,
                    "from_team": old_team,
                    "team": result.team,
                    "reason": result.reason,
                    "forced": result.forced,
                    "by": actor.id,
                },
            )
        return result

    def _to_agent(self, actor: Actor, ticket: Ticket, agent: Agent, records: Records, *, force: bool) -> Ticket:
        if ticket.assigned_to == agent.id:
            return ticket  # theirs already: nothing to hold, write or tell
        with self.holding(ticket.id, agent, force=force):
            return self.desk.assign(actor, ticket.id, agent.id, expected_assignee=ticket.assigned_to, records=records)

    @contextlib.contextmanager
    def holding(self, ticket_id: int, agent: Agent, *, force: bool) -> Iterator[None]:
        """Hold ``ticket_id`` for ``agent`` while the block assigns it: the one rule of giving an agent a ticket.

        Refused with :class:`~supportchat.errors.AgentUnavailable` (409
        ``agent_unavailable``: off in the directory, or away/offline here) or
        :class:`~supportchat.errors.AgentAtCapacity` (409 ``agent_at_capacity``)
        unless ``force``. The load is counted under the team store's lock, holds
        included, so concurrent assignments never exceed the capacity. A transfer
        and the seed's ``PUT …/status`` with ``assigned_to`` (:mod:`.feature`'s
        ``amend``) both assign inside it; the hold ends with the block.
        """
        if not agent.available and not force:
            raise AgentUnavailable(f"{agent.name} does not take tickets now", details={"agent_id": agent.id})
        outcome = self.store.hold(
            ticket_id, Member(agent.id, agent.capacity), now=self._now(), lease=self.lease, force=force
        )
        if outcome is HoldResult.UNAVAILABLE:
            state = self.store.agent_states([agent.id])[agent.id]
            raise AgentUnavailable(
                f"{agent.name} is {state.status.value}", details={"agent_id": agent.id, "status": state.status.value}
            )
        if outcome is HoldResult.FULL:
            raise AgentAtCapacity(
                f"{agent.name} already has {agent.capacity} open tickets, their capacity",
                details={"agent_id": agent.id, "capacity": agent.capacity},
            )
        try:
            yield
        finally:
            self.store.release(Hold(ticket_id, agent.id))

    def agent_for_assignment(self, agent_id: object) -> Agent | None:
        """The directory's agent an ``assigned_to`` names, ``None`` if it names none (422 if it is no id)."""
        return directories_of(self.desk).agents.get_agent(parse_positive_int("assigned_to", agent_id))

    def _to_team(self, actor: Actor, ticket: Ticket, team: str, old_team: str | None, records: Records) -> Ticket:
        done = self.desk.assign(
            actor, ticket.id, None, expected_assignee=ticket.assigned_to, records=[("team", old_team, team), *records]
        )
        self.store.dequeue(ticket.id)
        self.store.set_ticket_team(ticket.id, team, self._now())
        if self._team(team).auto_assign:
            self.store.enqueue(ticket.id, team, self._now())
            if (hold := self.assign_next(team)) is not None and hold.ticket_id == ticket.id:
                return self.desk.store.get_ticket(ticket.id) or done
        return done

    def _notify(self, actor: Actor, transfer: Transfer) -> None:
        from ..jobs import JobStore, NewJob

        try:
            jobs = extension(self.desk.store, JobStore)  # type: ignore[type-abstract]
        except ExtensionUnavailable:
            return
        ticket = transfer.ticket
        document: dict[str, Any] = {
            "type": "ticket_transferred",
            "ticket_id": ticket.id,
            "ticket_number": ticket.ticket_number,
            "from_agent": transfer.from_agent,
            "to_agent": transfer.to_agent,
            "team": transfer.team,
            "reason": transfer.reason,
            "note": transfer.note,
            "forced": transfer.forced,
            "by": actor.id,
            "at": ticket.model_dump(mode="json")["updated_at"],
            "notify": sorted({a for a in (transfer.from_agent, transfer.to_agent) if a is not None}),
        }
        jobs.enqueue([NewJob(NOTICE_KIND, document)])

    # -- routing and the queue -----------------------------------------------------

    def route(self, ticket: Ticket) -> str | None:
        """Give a new ticket the first team (by name) taking its category; queue it if that team auto-assigns."""
        if ticket.assigned_to is not None or ticket.id in self.store.ticket_teams([ticket.id]):
            return None
        team = next((t for t in self.store.list_teams() if ticket.category in t.categories), None)
        if team is None:
            return None
        self.store.set_ticket_team(ticket.id, team.name, self._now())
        if team.auto_assign:
            self.store.enqueue(ticket.id, team.name, ticket.created_at)
            self.drain(team.name)
        return team.name

    def assign_next(self, team: str) -> Hold | None:
        """Give the team's first waiting ticket to the member the rule picks; the hold, or ``None``."""
        found = self.store.get_team(team)
        if found is None or not found.auto_assign:
            return None
        hold = self.store.reserve_next(team, self._members(team), now=self._now(), lease=self.lease)
        if hold is None:
            return None
        # Assigned by someone else meanwhile, or gone: it waits no more either way.
        with contextlib.suppress(AssigneeChanged, TicketNotFound):
            self.desk.assign(Actor.system(), hold.ticket_id, hold.agent_id, expected_assignee=None)
        # Any other failure leaves the hold to expire, and the ticket waits again.
        self.store.release(hold)
        return hold

    def drain(self, team: str | None = None, *, limit: int = 10_000) -> int:
        """Hand out waiting tickets (of one team, else of every auto-assigning team) while members have room."""
        names = [team] if team is not None else [t.name for t in self.store.list_teams() if t.auto_assign]
        given = 0
        for name in names:
            while given < limit and self.assign_next(name) is not None:
                given += 1
        return given

    def sweep(self) -> int:
        """Drop stale queue entries, then drain every auto-assigning team (the periodic job); how many were given."""
        self.store.prune(self._now())
        return self.drain()

    # -- internals -------------------------------------------------------------------

    def _now(self) -> datetime:
        return self._clock().astimezone(UTC)

    def _ticket(self, actor: Actor, ref: object) -> Ticket:
        # The desk's lookup (id or any form of the number) and its permission check.
        return self.desk.get_ticket(actor, ref, mark_read=False, limit=1)

    def _team(self, name: object) -> Team:
        team = self.store.get_team(parse_team_name(name))
        if team is None:
            raise ValidationError("team", f"no team {str(name)[:32]!r}")
        return team

    def _agent(self, agent_id: object, *, field: str) -> Agent:
        agent = directories_of(self.desk).agents.get_agent(parse_positive_int(field, agent_id))
        if agent is None:
            raise ValidationError(field, "no such agent")
        return agent

    def _stored_agents(self, what: str) -> AgentStore:
        if not isinstance(directories_of(self.desk).agents, StoredAgents):
            raise Conflict(f"the host app's agents directory keeps {what}; change it there")
        return agent_store(self.desk.store)

    def _members(self, team: str) -> list[Member]:
        return [
            Member(agent.id, agent.capacity)
            for agent in directories_of(self.desk).agents.list_agents()
            if team in agent.teams and agent.available
        ]

    def _view(self, team: Team, agents: Sequence[Agent]) -> TeamView:
        members = tuple(agent.id for agent in agents if team.name in agent.teams)
        waiting = len(self.store.queue(team.name, limit=100_000))
        return TeamView(**dict(team), members=members, waiting=waiting)

    @staticmethod
    def _availability(agent: AgentLoad, state: Any) -> AgentAvailability:
        takes = agent.available and state.status is Availability.AVAILABLE and has_room(agent.open_load, agent.capacity)
        return AgentAvailability(
            **dict(agent),
            status=state.status,
            status_since=state.status_since,
            last_assigned_at=state.last_assigned_at,
            takes_tickets=takes,
        )


_desks: weakref.WeakKeyDictionary[SupportDesk, TeamDesk] = weakref.WeakKeyDictionary()
_desks_lock = threading.Lock()


def team_desk(desk: SupportDesk) -> TeamDesk:
    """The :class:`TeamDesk` of ``desk``, made on first use (what the routes and the job kinds use)."""
    with _desks_lock:
        found = _desks.get(desk)
        if found is None:
            found = _desks[desk] = TeamDesk(desk)
        return found
