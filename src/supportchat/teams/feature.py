"""The teams capability as a :class:`~supportchat.features.Feature`: its routes, job kinds and CLI group.

Routes (under the API prefix, admins only): teams and their members, the
queue, agents' availability, and ``POST /tickets/<ticket_id>/transfer``
(spec §17). Job kinds, run by any worker on the desk's database:

- ``teams.route``: each new ticket (``ticket_created``) is routed to the
  team taking its category and, if that team auto-assigns, queued and
  handed out;
- ``teams.drain``: each ``ticket_updated`` may have freed capacity (a
  ticket resolved, closed or reassigned), so the queues are drained;
- ``teams.sweep``: every ``sweep_interval`` seconds, stale entries are
  pruned and the queues drained (capacity freed by a host's own writes, or
  holds whose decider died);
- ``teams.transfer_notice``: a transfer's notice, handed to each notifier
  (``teams.notify.<name>``, retried on its own) so both agents are told.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel

from ..desk import UNSET, SupportDesk
from ..errors import ValidationError
from ..extensions import extension
from ..features import Feature
from ..http.envelope import DataRenderer
from ..http.routes import Audience, Param, Params, Route, Write, id_schema
from ..jobs import Job, JobKind, JobStore, NewJob
from ..models import Actor, Category, EventRecord, EventType, Ticket
from ..notify import Notifier
from ..notify.base import Delivery, DeliveryStatus
from ..people import Agent
from ..rules import Limits
from ..store import Store
from .base import QueueEntry
from .rules import REASON_LENGTH, Availability
from .service import NOTICE_KIND, TICKET_TRANSFERRED, AgentAvailability, TeamDesk, TeamView, team_desk

__all__ = ["ROUTES", "Removed", "amend", "feature", "team_kinds"]

ROUTE_KIND = "teams.route"
DRAIN_KIND = "teams.drain"
SWEEP_KIND = "teams.sweep"
NOTIFY_PREFIX = "teams.notify."


class Removed(BaseModel):
    """Whether something was there to remove."""

    removed: bool


def _fields(body: Any) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ValidationError("body", "must be a JSON object")
    return body


def _teams(desk: SupportDesk) -> TeamDesk:
    return team_desk(desk)


def list_teams(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> list[TeamView]:
    return _teams(desk).list_teams(actor)


def put_team(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> TeamView:
    fields = _fields(body)
    return _teams(desk).put_team(
        actor,
        path["team"],
        display_name=fields.get("display_name"),
        auto_assign=fields.get("auto_assign"),
        categories=fields.get("categories"),
    )


def remove_team(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> Removed:
    return Removed(removed=_teams(desk).remove_team(actor, path["team"]))


def add_member(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> Agent:
    return _teams(desk).add_member(actor, path["team"], path["agent_id"])


def remove_member(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> Agent:
    return _teams(desk).remove_member(actor, path["team"], path["agent_id"])


def team_queue(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> list[QueueEntry]:
    return _teams(desk).waiting(actor, path["team"])


def list_availability(
    desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any
) -> list[AgentAvailability]:
    return _teams(desk).availability(actor)


def set_availability(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> AgentAvailability:
    fields = _fields(body)
    requeue = fields.get("requeue", False)
    if not isinstance(requeue, bool):
        raise ValidationError("requeue", "must be true or false")
    return _teams(desk).set_availability(
        actor, path["agent_id"], fields.get("status"), capacity=fields.get("capacity", UNSET), requeue=requeue
    )


def transfer(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> Ticket:
    fields = _fields(body)
    done = _teams(desk).transfer(
        actor,
        path["ticket_id"],
        to=fields.get("to"),
        team=fields.get("team"),
        reason=fields.get("reason"),
        note=fields.get("note"),
        force=fields.get("force", False),
    )
    return done.ticket


def _object(properties: dict[str, Any], required: Sequence[str] = ()) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": True}


_BOOL = {"type": "boolean"}
_TEAM_NAME = {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,31}$"}
_TEAM = Param("team", "path", _TEAM_NAME, "The team's name (1-32 characters of a-z 0-9 - _).", True)
_AGENT = Param("agent_id", "path", id_schema(), "The agent's id (what `assigned_to` holds).", True)
_TICKET = Param(
    "ticket_id", "path", {"type": "string", "minLength": 1, "maxLength": 64}, "The ticket's id or its number.", True
)
_REASON = {"type": "string", "maxLength": REASON_LENGTH}


def team_body(limits: object) -> dict[str, Any]:
    """Create or change a team: absent fields stay as they are (a new team: its name, off, no categories)."""
    return _object(
        {
            "display_name": {"type": "string", "maxLength": 100},
            "auto_assign": {**_BOOL, "description": "Hand waiting tickets to members automatically (default off)."},
            "categories": {
                "type": "array",
                "items": {"type": "string", "enum": [c.value for c in Category]},
                "description": "New tickets of these categories are routed to the team.",
            },
        }
    )


def availability_body(limits: object) -> dict[str, Any]:
    """An agent's availability, capacity (the standalone directory's) and whether to give back their tickets."""
    return _object(
        {
            "status": {"type": "string", "enum": [a.value for a in Availability]},
            "capacity": {"type": "integer", "minimum": 0, "maximum": 10_000, "description": "0: no limit."},
            "requeue": {**_BOOL, "description": "Return the agent's open team tickets to their teams' queues."},
        }
    )


def transfer_body(limits: object) -> dict[str, Any]:
    """Give the ticket to an agent (``to``) or a team (``team``), with a reason and a note."""
    return _object(
        {
            "to": {**id_schema(), "description": "The agent who takes the ticket."},
            "team": {**_TEAM_NAME, "description": "The team that takes the ticket (unassigned, or queued)."},
            "reason": {**_REASON, "description": "Why (kept in the ticket's record of changes)."},
            "note": {**_REASON, "description": "A note for the agents."},
            "force": {**_BOOL, "description": "Transfer even to an unavailable agent or one at capacity."},
        }
    )


_VIEW = DataRenderer(TeamView)
_AGENT_JSON = DataRenderer(Agent)
_AVAILABILITY = DataRenderer(AgentAvailability)

ROUTES: tuple[Route, ...] = (
    Route("list_teams", "GET", "/teams", Audience.ADMIN, list_teams, DataRenderer(list[TeamView]), "Every team"),
    Route(
        "put_team",
        "PUT",
        "/teams/{team}",
        Audience.ADMIN,
        put_team,
        _VIEW,
        "Create a team or change it",
        params=(_TEAM,),
        body=team_body,
        write=Write.CHANGE,
    ),
    Route(
        "remove_team",
        "DELETE",
        "/teams/{team}",
        Audience.ADMIN,
        remove_team,
        DataRenderer(Removed),
        "Remove a team and its queue",
        params=(_TEAM,),
        write=Write.CHANGE,
    ),
    Route(
        "add_team_member",
        "PUT",
        "/teams/{team}/members/{agent_id}",
        Audience.ADMIN,
        add_member,
        _AGENT_JSON,
        "Put an agent in a team (standalone agents directory)",
        params=(_TEAM, _AGENT),
        errors=(409,),
        write=Write.CHANGE,
    ),
    Route(
        "remove_team_member",
        "DELETE",
        "/teams/{team}/members/{agent_id}",
        Audience.ADMIN,
        remove_member,
        _AGENT_JSON,
        "Take an agent out of a team (standalone agents directory)",
        params=(_TEAM, _AGENT),
        errors=(409,),
        write=Write.CHANGE,
    ),
    Route(
        "team_queue",
        "GET",
        "/teams/{team}/queue",
        Audience.ADMIN,
        team_queue,
        DataRenderer(list[QueueEntry]),
        "The team's tickets waiting for an agent, in arrival order",
        params=(_TEAM,),
    ),
    Route(
        "list_availability",
        "GET",
        "/availability",
        Audience.ADMIN,
        list_availability,
        DataRenderer(list[AgentAvailability]),
        "Every agent with their availability, capacity, open load and last assignment",
    ),
    Route(
        "set_availability",
        "PUT",
        "/agents/{agent_id}/availability",
        Audience.ADMIN,
        set_availability,
        _AVAILABILITY,
        "Set an agent's availability (and capacity); optionally return their tickets to the queue",
        params=(_AGENT,),
        body=availability_body,
        errors=(409,),
        write=Write.CHANGE,
    ),
    Route(
        "transfer_ticket",
        "POST",
        "/tickets/{ticket_id}/transfer",
        Audience.ADMIN,
        transfer,
        DataRenderer(Ticket),
        "Transfer a ticket to an agent or a team (409 for an unavailable agent or one at capacity, unless forced)",
        params=(_TICKET,),
        body=transfer_body,
        errors=(404, 409),
        write=Write.CHANGE,
        ticket_at="/data",
    ),
)


# -- job kinds --------------------------------------------------------------------


def _on(event_type: EventType) -> Any:
    def react(record: EventRecord) -> dict[str, Any] | None:
        return {"ticket_id": record.ticket_id} if record.type is event_type else None

    return react


def team_kinds(desk: SupportDesk, notifiers: Sequence[Notifier] = (), *, sweep_interval: float = 30.0) -> list[JobKind]:
    """The teams' job kinds over ``desk`` (route, drain, sweep, transfer notices to ``notifiers``)."""
    teams = team_desk(desk)
    jobs: JobStore = extension(desk.store, JobStore)  # type: ignore[type-abstract]
    by_name = {notifier.name: notifier for notifier in notifiers}

    def route(job: Job) -> None:
        ticket = desk.store.get_ticket(int(job.payload["ticket_id"]))
        if ticket is not None:
            teams.route(ticket)

    def drain(job: Job) -> None:
        teams.drain()

    def sweep(job: Job) -> None:
        teams.sweep()
        _schedule_sweep(jobs, sweep_interval, ahead=1)

    def fan_out(job: Job) -> None:
        jobs.enqueue(
            [
                NewJob(
                    NOTIFY_PREFIX + name, {"notice": dict(job.payload)}, dedupe_key=f"{NOTIFY_PREFIX}{name}:{job.id}"
                )
                for name in by_name
            ]
        )

    def deliverer(notifier: Notifier) -> Any:
        def deliver(job: Job) -> None:
            running = DeliveryStatus.SENDING
            notice = job.payload["notice"]
            notifier.deliver(Delivery(job.id, notifier.name, job.id, notice, running, job.attempts - 1, None))

        return deliver

    _schedule_sweep(jobs, sweep_interval, ahead=0)
    return [
        JobKind(ROUTE_KIND, route, reaction=_on(EventType.TICKET_CREATED)),
        JobKind(DRAIN_KIND, drain, reaction=_on(EventType.TICKET_UPDATED)),
        JobKind(SWEEP_KIND, sweep),
        JobKind(NOTICE_KIND, fan_out),
        *(JobKind(NOTIFY_PREFIX + name, deliverer(n), pause_on_failure=True) for name, n in by_name.items()),
    ]


def _schedule_sweep(jobs: JobStore, interval: float, *, ahead: int) -> None:
    """Schedule the sweep of the interval ``ahead`` of the current one.

    The dedupe key names the interval, so however many workers (and their
    sweeps) schedule it, each interval has one sweep and one chain goes on.
    """
    bucket = int(time.time() // interval) + ahead
    jobs.enqueue([NewJob(SWEEP_KIND, due_at=bucket * interval, dedupe_key=f"{SWEEP_KIND}:{interval:g}:{bucket}")])


def feature(
    notifiers: Sequence[Notifier] | Callable[[], Sequence[Notifier]] = (),
    *,
    commands: Any = None,
    sweep_interval: float = 30.0,
) -> Feature:
    """The teams feature: its routes, job kinds and ``commands`` (a Typer group).

    The job kinds run over a desk of the worker's store with the standalone
    agents directory; a host whose agents come through its hook builds them
    with :func:`team_kinds` over its own desk. ``notifiers`` may be a
    function, asked when a worker builds the kinds (the CLI reads its
    environment then).
    """

    def kinds(store: Store) -> list[JobKind]:
        chosen = notifiers() if callable(notifiers) else notifiers
        return team_kinds(SupportDesk(store), chosen, sweep_interval=sweep_interval)

    return Feature(
        "teams", routes=ROUTES, job_kinds=kinds, commands=commands, amend=amend, event_types=(TICKET_TRANSFERRED,)
    )


# -- the seed's assignment route under the same rule as a transfer (issue 16) ------------------


def amend(route: Route) -> Route:
    """``PUT …/tickets/{id}/status`` with ``assigned_to``: refused (409) as a transfer to that agent would be.

    The seed's route assigns as it always did, but inside :meth:`TeamDesk.holding`, the
    transfer's own check (availability, capacity, counted under the team store's lock),
    so assigning through it cannot put an agent over capacity or give a ticket to
    someone away; an admin passes ``force: true`` to override, as with a transfer. An
    id that is not in the agents directory has no availability or capacity to check and
    is assigned as before; unassigning and keeping the assignee are not checked.
    """
    if route.name != "change_status":
        return route
    inner, described = route.handler, route.body

    def handler(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> Any:
        fields = body if isinstance(body, dict) else {}
        if fields.get("assigned_to") is None:
            return inner(desk, actor, path, query, body)
        force = fields.get("force", False)
        if not isinstance(force, bool):
            raise ValidationError("force", "must be true or false")
        teams = _teams(desk)
        ticket = desk.get_ticket(actor, path["ticket_id"], mark_read=False, limit=1)
        agent = teams.agent_for_assignment(fields["assigned_to"])
        if agent is None or ticket.assigned_to == agent.id:
            return inner(desk, actor, path, query, body)
        with teams.holding(ticket.id, agent, force=force):
            return inner(desk, actor, path, query, body)

    def body_schema(limits: Limits) -> dict[str, Any]:
        schema: dict[str, Any] = described(limits) if described is not None else {"type": "object", "properties": {}}
        force = {"type": "boolean", "description": "Assign even if the agent is away or at capacity (teams)."}
        return {**schema, "properties": {**schema.get("properties", {}), "force": force}}

    return dataclasses.replace(route, handler=handler, body=body_schema)
