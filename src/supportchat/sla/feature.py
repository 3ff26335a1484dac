"""The SLA as a :class:`~supportchat.features.Feature`: routes, job kinds, and ``sla`` on the admin ticket JSON.

- Routes (admins): calendars and policies (``GET``, ``PUT`` by name,
  ``DELETE``), a ticket's SLA and its explicit re-application, the fired
  events.
- ``amend``: the admin ticket routes (``get_ticket``, ``change_status``,
  ``list_tickets``) answer with ``sla`` on each ticket under a policy, and
  ``GET /tickets?sort=due`` lists the tickets with running deadlines, the
  soonest due first. The core's routes and models stay as they are.
- Job kinds: ``sla.track`` follows the desk's event log (policies applied to
  new tickets, replies, status changes, pauses); ``sla.scan`` runs when the
  earliest armed deadline falls due, fires what is due, escalates, and
  schedules the next scan. Both are durable jobs of the job runner, so the
  events fire on time with no traffic, and after a restart.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import pydantic
from pydantic import BaseModel, Field

from ..desk import SupportDesk
from ..errors import ExtensionUnavailable, NotFound, ValidationError
from ..extensions import extension
from ..features import Feature
from ..http.envelope import DataRenderer, PageRenderer
from ..http.routes import Audience, Param, Params, Route, Write
from ..jobs import Job, JobKind, JobStore, NewJob
from ..models import Actor, Category, EventRecord, Page, Priority, Ticket, TicketStatus, TicketThread
from ..permissions import Action, authorize
from ..rules import UNASSIGNED, parse_assignee_filter, parse_choice, parse_page, parse_positive_int
from .base import SLA_BREACHED, SLA_WARNING, DueFilter, SlaEvent, SlaStore
from .clock import FactsOf, SlaClock, SlaView, TeamAssigner
from .policy import CalendarIn, CalendarOut, PolicyIn, PolicyOut

__all__ = ["SCAN", "TRACK", "SlaTicket", "SlaTicketThread", "feature", "sla_kinds"]

logger = logging.getLogger("supportchat.sla")

TRACK = "sla.track"
SCAN = "sla.scan"


class SlaTicket(Ticket):
    """An admin's ticket with its SLA."""

    sla: SlaView | None = Field(default=None, description="Deadlines of the SLA policy the ticket is under, if any.")


class SlaTicketThread(TicketThread):
    sla: SlaView | None = Field(default=None, description="Deadlines of the SLA policy the ticket is under, if any.")


class SlaEventOut(BaseModel):
    id: int
    ticket_id: int
    type: str
    target: str
    due_at: float = Field(description="Unix seconds.")
    fired_at: float = Field(description="Unix seconds.")
    escalated_at: float | None


def _views(desk: SupportDesk, tickets: Sequence[Ticket]) -> dict[int, SlaView]:
    try:
        return SlaClock(desk).views(tickets)
    except ExtensionUnavailable:
        return {}  # a store the SLA does not support: its tickets are under no policy


def _with_sla(desk: SupportDesk, result: Any) -> Any:
    if isinstance(result, Page):
        views = _views(desk, result.items)
        items = [SlaTicket.model_construct(**dict(t), sla=views.get(t.id)) for t in result.items]
        return Page[SlaTicket](items=items, page=result.page, per_page=result.per_page, total=result.total)
    view = _views(desk, [result]).get(result.id)
    model = SlaTicketThread if isinstance(result, TicketThread) else SlaTicket
    return model.model_construct(**dict(result), sla=view)


def _due_page(desk: SupportDesk, actor: Actor, query: Params) -> Page[Ticket]:
    authorize(actor, Action.OVERSEE)
    if query.get("q"):
        raise ValidationError("sort", "sort=due lists by deadline; it does not combine with q")

    def choice(name: str, choices: Any) -> Any:
        value = query.get(name)
        return None if value in (None, "") else parse_choice(name, value, choices)

    assignee = parse_assignee_filter(query.get("assigned_to"))
    where = DueFilter(
        status=choice("status", TicketStatus),
        priority=choice("priority", Priority),
        category=choice("category", Category),
        assigned_to=assignee if isinstance(assignee, int) else None,
        unassigned=assignee == UNASSIGNED,
    )
    page = parse_page(query.get("page", 1), desk.limits)
    size = parse_positive_int("per_page", query.get("per_page", 20), maximum=desk.limits.per_page_max)
    store: SlaStore = extension(desk.store, SlaStore)  # type: ignore[type-abstract]
    ids, total = store.due_tickets(where, offset=(page - 1) * size, limit=size)
    tickets = [t.seen_by(actor) for i in ids if (t := desk.store.get_ticket(i)) is not None]
    return Page[Ticket](items=tickets, page=page, per_page=size, total=total)


_SORT = Param(
    "sort",
    "query",
    {"type": "string", "enum": ["", "due"]},
    "`due`: only tickets with running SLA deadlines, the soonest due first (paused ones last).",
)
_RENDERERS = {
    "get_ticket": DataRenderer(SlaTicketThread),
    "change_status": DataRenderer(SlaTicket),
    "list_tickets": PageRenderer(SlaTicket),
}


def amend(route: Route) -> Route:
    """The admin ticket routes with ``sla`` on each ticket (and ``sort=due`` on the list)."""
    renderer = _RENDERERS.get(route.name)
    if renderer is None or route.audience is not Audience.ADMIN:
        return route
    inner = route.handler

    def handler(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> Any:
        if route.name == "list_tickets" and query.get("sort") not in (None, ""):
            if query["sort"] != "due":
                raise ValidationError("sort", "must be due (or empty for newest first)", allowed=["due"])
            return _with_sla(desk, _due_page(desk, actor, query))
        return _with_sla(desk, inner(desk, actor, path, query, body))

    params = route.params + ((_SORT,) if route.name == "list_tickets" else ())
    return dataclasses.replace(route, handler=handler, render=renderer, params=params)


# -- the SLA's own routes ----------------------------------------------------------


def _sla(desk: SupportDesk, actor: Actor) -> SlaStore:
    authorize(actor, Action.OVERSEE)
    return extension(desk.store, SlaStore)  # type: ignore[type-abstract]


def _parsed(model: type[pydantic.BaseModel], body: Any, name: str) -> Any:
    if not isinstance(body, dict):
        raise ValidationError("body", "must be a JSON object")
    try:
        return model.model_validate({**body, "name": name})
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        raise ValidationError(field, first["msg"]) from None


_NAME = Param("name", "path", {"type": "string", "minLength": 1, "maxLength": 64}, "The name.", True)
_TICKET = Param("ticket_id", "path", {"type": "string", "minLength": 1, "maxLength": 64}, "Id or number.", True)


def _body(model: type[pydantic.BaseModel]) -> Callable[[Any], dict[str, Any]]:
    def schema(limits: Any) -> dict[str, Any]:
        found = model.model_json_schema()
        found.get("properties", {}).pop("name", None)
        if "name" in found.get("required", []):
            found["required"].remove("name")
        return found

    return schema


def _crud(
    plural: str,
    model: type[pydantic.BaseModel],
    out: Any,
    listing: Callable[[SlaStore], Any],
    put: Callable[[SlaStore, Any], Any],
    delete: Callable[[SlaStore, str], bool],
    summaries: tuple[str, str, str],
) -> tuple[Route, ...]:
    """``GET /sla/<plural>``, ``PUT`` and ``DELETE /sla/<plural>/{name}`` over one kind of SLA record."""
    noun = plural[:-1]

    def list_all(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> Any:
        return listing(_sla(desk, actor))

    def put_one(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> Any:
        store = _sla(desk, actor)
        return put(store, _parsed(model, body, path["name"]))

    def delete_one(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> bool:
        if not delete(_sla(desk, actor), path["name"]):
            raise NotFound(f"no such {noun}", details={"name": path["name"][:64]})
        return True

    where = f"/sla/{plural}/{{name}}"
    return (
        Route(f"sla_{plural}", "GET", f"/sla/{plural}", Audience.ADMIN, list_all, DataRenderer(list[out]),
              summaries[0]),
        Route(f"sla_put_{noun}", "PUT", where, Audience.ADMIN, put_one, DataRenderer(out), summaries[1],
              params=(_NAME,), body=_body(model), write=Write.CHANGE),
        Route(f"sla_delete_{noun}", "DELETE", where, Audience.ADMIN, delete_one, DataRenderer(bool), summaries[2],
              params=(_NAME,), errors=(404, 409), write=Write.CHANGE),
    )  # fmt: skip


def _ticket_sla(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> SlaView | None:
    ticket = desk.get_ticket(actor, path["ticket_id"], mark_read=False, limit=1)
    return SlaClock(desk).views([ticket]).get(ticket.id)


def _reapply(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> SlaView | None:
    ticket = desk.get_ticket(actor, path["ticket_id"], mark_read=False, limit=1)
    authorize(actor, Action.MANAGE, ticket=ticket)
    clock = SlaClock(desk, schedule=scheduler(desk.store))
    clock.apply(ticket, replace=True)
    return clock.views([ticket]).get(ticket.id)


def _events(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> list[SlaEventOut]:
    store = _sla(desk, actor)
    after = parse_positive_int("after_id", query.get("after_id", 0), minimum=0)
    ticket = query.get("ticket_id")
    ticket_id = None if ticket in (None, "") else desk.get_ticket(actor, ticket, mark_read=False, limit=1).id
    return [SlaEventOut(**_event_fields(e)) for e in store.events(ticket_id=ticket_id, after_id=after, limit=200)]


def _event_fields(event: SlaEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in SlaEventOut.model_fields}


ROUTES = (
    *_crud("calendars", CalendarIn, CalendarOut, lambda s: s.calendars(), lambda s, c: s.put_calendar(c),
           lambda s, name: s.delete_calendar(name),
           ("Business calendars", "Create or replace a business calendar", "Remove a calendar no policy uses")),
    *_crud("policies", PolicyIn, PolicyOut, lambda s: s.policies(), lambda s, p: s.put_policy(p),
           lambda s, name: s.delete_policy(name),
           ("SLA policies, in the order they are tried",
            "Create or replace an SLA policy (fixed deadlines do not move)",
            "Remove an SLA policy (tickets keep their deadlines)")),
    Route("sla_ticket", "GET", "/tickets/{ticket_id}/sla", Audience.ADMIN, _ticket_sla,
          DataRenderer(SlaView | None), "A ticket's SLA (`null`: under no policy)", params=(_TICKET,),
          errors=(404,)),
    Route("sla_reapply", "POST", "/tickets/{ticket_id}/sla/reapply", Audience.ADMIN, _reapply,
          DataRenderer(SlaView | None), "Choose the ticket's policy again and recompute its running deadlines from now",
          params=(_TICKET,), errors=(404,), write=Write.CHANGE),
    Route("sla_events", "GET", "/sla/events", Audience.ADMIN, _events, DataRenderer(list[SlaEventOut]),
          "`sla_warning` and `sla_breached` events that fired, oldest first",
          params=(Param("after_id", "query", {"type": "integer", "minimum": 0}, "Only later events."),
                  Param("ticket_id", "query", {"type": "string"}, "Only this ticket's.")),
          errors=(404,)),
)  # fmt: skip


# -- jobs ------------------------------------------------------------------------------


def scheduler(store: object) -> Callable[[float], None]:
    """Enqueue an ``sla.scan`` job due at a time (one per instant: the dedupe key is the time)."""
    jobs: JobStore = extension(store, JobStore)  # type: ignore[type-abstract]

    def schedule(when: float) -> None:
        # Never a key in the past: a scan that already ran at that instant must not swallow this one.
        at = max(when, time.time())
        jobs.enqueue([NewJob(SCAN, {}, due_at=at, dedupe_key=f"{SCAN}:{at:.3f}")])

    return schedule


def _log_event(event: SlaEvent) -> None:
    logger.info("%s: ticket %s, %s due at %s", event.type, event.ticket_id, event.target, event.due_at)


def sla_kinds(
    store: Any,
    *,
    desk: SupportDesk | None = None,
    listeners: Sequence[Callable[[SlaEvent], None]] = (),
    assign_team: TeamAssigner | None = None,
    facts: FactsOf | None = None,
) -> list[JobKind]:
    """The job kinds that follow tickets and fire SLA events over ``store`` (none if it keeps no SLA)."""
    try:
        extension(store, SlaStore)  # type: ignore[type-abstract]
    except ExtensionUnavailable:
        return []
    clock = SlaClock(
        desk or SupportDesk(store),
        listeners=[_log_event, *listeners],
        assign_team=assign_team,
        facts=facts,
        schedule=scheduler(store),
    )

    def track(job: Job) -> None:
        clock.observe(EventRecord.model_validate(job.payload))

    def scan(job: Job) -> None:
        clock.scan()
        clock.escalate()
        clock.schedule()

    return [
        JobKind(TRACK, track, reaction=lambda record: record.model_dump(mode="json")),
        JobKind(SCAN, scan),
    ]


def feature(
    commands: Any = None,
    *,
    assign_team: TeamAssigner | None = None,
    facts: FactsOf | None = None,
) -> Feature:
    """The SLA feature.

    The hooks for the capabilities beside it: ``assign_team`` carries out the
    ``assign_team`` escalation (the teams feature); ``facts`` adds a
    ticket's tags and team to what policy conditions are checked against.
    (Automation rules hear ``sla_warning`` / ``sla_breached`` from the event
    log, where each firing is written.)
    """
    return Feature(
        "sla",
        routes=ROUTES,
        job_kinds=lambda store: sla_kinds(store, assign_team=assign_team, facts=facts),
        commands=commands,
        amend=amend,
        event_types=(SLA_WARNING, SLA_BREACHED),
    )
