"""The HTTP API as a table: method, path, audience, handler, documentation.

Both adapters mount exactly this table, so the Flask and FastAPI APIs cannot
drift apart. A handler is a plain function of the desk, the authenticated
actor, the path parameters, the query string and the parsed JSON body; it
returns a value the route's renderer turns into the response. Handlers hold
no business rule: the desk decides everything and raises
:mod:`supportchat.errors` exceptions, which become responses in
:func:`supportchat.http.envelope.render_error`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..desk import UNSET, SupportDesk
from ..errors import Forbidden, ValidationError
from ..features import Feature
from ..models import (
    Actor,
    Category,
    Message,
    MessageType,
    Page,
    Priority,
    Statistics,
    Ticket,
    TicketChange,
    TicketStatus,
    TicketThread,
)
from ..people import AgentLoad, directories_of
from ..permissions import Action, authorize
from ..projection import (
    CustomerMessage,
    CustomerTicket,
    CustomerTicketThread,
    NotCustomerData,
    customer_message,
    customer_messages,
    customer_page,
    customer_thread,
    customer_ticket,
)
from ..rules import Limits, parse_positive_int
from .envelope import DataRenderer, PageRenderer, Renderer

__all__ = [
    "DEFAULT_PREFIX",
    "ROUTES",
    "Audience",
    "Handler",
    "Param",
    "Route",
    "Write",
    "route_table",
]

#: The seed's paths, which the Flutter app already calls.
DEFAULT_PREFIX = "/admin/api/support"

#: Path parameters or query string: names to raw strings.
Params = Mapping[str, str]
Handler = Callable[[SupportDesk, Actor, Params, Params, Any], Any]


class Audience(enum.Enum):
    """Who may call a route at all (the desk then decides about each ticket)."""

    ADMIN = "admin"
    USER = "user"


class Write(enum.Enum):
    """What a write route writes, which decides the rate limits that apply to it."""

    TICKET = "ticket"
    MESSAGE = "message"
    CHANGE = "change"


@dataclass(frozen=True, slots=True)
class Param:
    """A path or query parameter, for documentation (handlers read parameters themselves)."""

    name: str
    location: str
    schema: dict[str, Any]
    description: str
    required: bool = False


@dataclass(frozen=True, slots=True)
class Route:
    """One endpoint of the API."""

    name: str
    method: str
    #: Relative to the prefix, with ``{name}`` placeholders.
    path: str
    audience: Audience
    handler: Handler
    render: Renderer
    summary: str
    params: tuple[Param, ...] = ()
    #: The JSON body's model, for documentation; ``None`` for routes without a body.
    body: type[BaseModel] | None = None
    #: Error statuses this route can answer with, beyond those every route can.
    errors: tuple[int, ...] = field(default=())
    #: What the route writes (rate-limited, 429), or ``None`` for a read.
    write: Write | None = None

    def full_path(self, prefix: str = DEFAULT_PREFIX) -> str:
        return prefix.rstrip("/") + self.path


# -- request bodies (documentation; the desk validates the raw values) --------


class _Body(BaseModel):
    model_config = ConfigDict(extra="allow")


class CreateTicketBody(_Body):
    """A user opens a ticket."""

    user_id: int | None = Field(
        default=None, ge=1, description="The caller's own user id; taken from the token when absent."
    )
    subject: str = Field(min_length=1, max_length=200, description="1–200 characters after sanitising.")
    description: str = Field(min_length=1, max_length=10_000, description="1–10,000 characters after sanitising.")
    priority: Priority | None = Field(default=None, description="Default `medium`.")
    category: Category | None = Field(default=None, description="Default `general`.")


class StatusBody(_Body):
    """An admin moves a ticket through the lifecycle, optionally (re)assigning it."""

    status: TicketStatus
    assigned_to: int | None = Field(
        default=None, ge=1, description="An admin id; `null` unassigns; absent leaves it as it is."
    )


class AdminMessageBody(_Body):
    """An admin replies in a ticket."""

    message: str = Field(min_length=1, max_length=10_000)
    message_type: MessageType | None = Field(default=None, description="Default `text`.")
    file_url: str | None = Field(default=None, description="An http(s) URL; required for `image` and `file`.")
    client_message_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9._:-]{1,64}$",
        description="Makes a retried send idempotent: the same id returns the message stored the first time.",
    )


class UserMessageBody(AdminMessageBody):
    """A user writes in their own ticket."""

    user_id: int | None = Field(default=None, ge=1, description="The caller's own user id, if given.")


# -- parameters -----------------------------------------------------------------

_TICKET_ID = Param(
    "ticket_id", "path", {"type": "string", "minLength": 1, "maxLength": 64}, "The ticket's id or its number.", True
)
_USER_ID = Param("user_id", "path", {"type": "integer", "minimum": 1}, "The caller's own user id.", True)
_PAGE = Param("page", "query", {"type": "integer", "minimum": 1, "default": 1}, "1-based page number.")
_PER_PAGE = Param("per_page", "query", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}, "Page size.")
_AFTER_ID = Param(
    "after_id", "query", {"type": "integer", "minimum": 0, "default": 0}, "Only messages with a larger id."
)

_BEFORE_ID = Param(
    "before_id",
    "query",
    {"type": "integer", "minimum": 1},
    "Only messages with a smaller id: the first message's id of the page shown, to load older ones.",
)
_THREAD_LIMIT = Param(
    "limit",
    "query",
    # The desk's default limits: a desk given other limits documents these, and enforces its own.
    {"type": "integer", "minimum": 1, "maximum": Limits().thread_messages_max, "default": Limits().thread_messages},
    "How many of the newest messages (before `before_id`) to return.",
)


def _choice(name: str, choices: type[enum.StrEnum], description: str) -> Param:
    return Param(name, "query", {"type": "string", "enum": [c.value for c in choices]}, description)


_STATUS = _choice("status", TicketStatus, "Only tickets in this status.")


# -- handlers -------------------------------------------------------------------


def _own_user_id(actor: Actor, value: object) -> None:
    """A user may only name themselves."""
    if parse_positive_int("user_id", value) != actor.id:
        raise Forbidden("a user may only act as themselves", details={"field": "user_id"})


def _fields(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, dict):
        raise ValidationError("body", "must be a JSON object")
    return body


def _message_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "message_type": body.get("message_type"),
        "file_url": body.get("file_url"),
        "client_message_id": body.get("client_message_id"),
    }


def list_tickets(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> Any:
    return desk.list_tickets(
        actor,
        status=query.get("status"),
        priority=query.get("priority"),
        category=query.get("category"),
        assigned_to=query.get("assigned_to") or None,
        q=query.get("q"),
        page=query.get("page", 1),
        per_page=query.get("per_page", 20),
    )


def get_ticket(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> Any:
    return desk.get_ticket(actor, path["ticket_id"], before_id=query.get("before_id"), limit=query.get("limit"))


def change_status(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> Any:
    fields = _fields(body)
    assigned_to = fields.get("assigned_to", UNSET)
    return desk.change_status(actor, path["ticket_id"], fields.get("status"), assigned_to=assigned_to)


def post_admin_message(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> Any:
    fields = _fields(body)
    return desk.post_message(actor, path["ticket_id"], fields.get("message"), **_message_fields(fields))


def messages_after(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> Any:
    return desk.messages_after(actor, path["ticket_id"], query.get("after_id", 0))


def ticket_history(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> Any:
    return desk.history(actor, path["ticket_id"])


def statistics(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> Any:
    return desk.statistics(actor)


def list_agents(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> list[AgentLoad]:
    authorize(actor, Action.OVERSEE)
    return directories_of(desk).agents_with_load()


# The user routes answer only through the customer projection (supportchat.projection).


def create_ticket(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> CustomerTicket:
    fields = _fields(body)
    ticket = desk.create_ticket(
        actor,
        user_id=fields.get("user_id"),
        subject=fields.get("subject"),
        description=fields.get("description"),
        priority=fields.get("priority"),
        category=fields.get("category"),
    )
    return customer_ticket(ticket, actor)


def list_user_tickets(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> Page[CustomerTicket]:
    _own_user_id(actor, path["user_id"])
    page = desk.list_user_tickets(
        actor,
        path["user_id"],
        status=query.get("status"),
        q=query.get("q"),
        page=query.get("page", 1),
        per_page=query.get("per_page", 20),
    )
    return customer_page(page, actor)


def get_user_ticket(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> CustomerTicketThread:
    _own_user_id(actor, path["user_id"])
    thread = desk.get_ticket(actor, path["ticket_id"], before_id=query.get("before_id"), limit=query.get("limit"))
    return customer_thread(thread, actor)


def user_messages_after(
    desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any
) -> list[CustomerMessage]:
    _own_user_id(actor, path["user_id"])
    messages = desk.messages_after(actor, path["ticket_id"], query.get("after_id", 0))
    return customer_messages(messages, _ticket_of(desk, messages[0]), actor) if messages else []


def post_user_message(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> CustomerMessage:
    fields = _fields(body)
    if fields.get("user_id") is not None:
        _own_user_id(actor, fields["user_id"])
    message = desk.post_message(actor, path["ticket_id"], fields.get("message"), **_message_fields(fields))
    return customer_message(message, _ticket_of(desk, message), actor)


def _ticket_of(desk: SupportDesk, message: Message) -> Ticket:
    """The ticket a message the desk just returned belongs to, for the projection's owner check."""
    ticket = desk.store.get_ticket(message.ticket_id)
    if ticket is None:
        raise NotCustomerData("no such ticket")
    return ticket


# -- the table --------------------------------------------------------------------

_TICKET = DataRenderer(Ticket)
_SEARCH = Param(
    "q",
    "query",
    {"type": "string", "maxLength": 200},
    "Full-text search of subject, description and messages (accents and case ignored, word prefixes; "
    "a ticket number puts that ticket first). Results come by relevance, each with a `highlight`.",
)
_THREAD = DataRenderer(TicketThread)
_MESSAGE = DataRenderer(Message)
_MESSAGES = DataRenderer(list[Message])
_TICKETS = PageRenderer(Ticket)
_CUSTOMER_TICKET = DataRenderer(CustomerTicket)
_CUSTOMER_THREAD = DataRenderer(CustomerTicketThread)
_CUSTOMER_MESSAGE = DataRenderer(CustomerMessage)
_CUSTOMER_MESSAGES = DataRenderer(list[CustomerMessage])
_CUSTOMER_TICKETS = PageRenderer(CustomerTicket)

ROUTES: tuple[Route, ...] = (
    Route(
        "list_tickets",
        "GET",
        "/tickets",
        Audience.ADMIN,
        list_tickets,
        _TICKETS,
        "List every ticket, newest first",
        params=(
            _STATUS,
            _choice("priority", Priority, "Only tickets with this priority."),
            _choice("category", Category, "Only tickets in this category."),
            Param(
                "assigned_to",
                "query",
                {"type": "string", "pattern": r"^([1-9][0-9]{0,17}|none)$"},
                "An admin id, or `none` for unassigned tickets.",
            ),
            _SEARCH,
            _PAGE,
            _PER_PAGE,
        ),
    ),
    Route(
        "get_ticket",
        "GET",
        "/tickets/{ticket_id}",
        Audience.ADMIN,
        get_ticket,
        _THREAD,
        "A ticket with its newest messages, older ones by `before_id` (marks the user's messages read)",
        params=(_TICKET_ID, _BEFORE_ID, _THREAD_LIMIT),
        errors=(404,),
    ),
    Route(
        "change_status",
        "PUT",
        "/tickets/{ticket_id}/status",
        Audience.ADMIN,
        change_status,
        _TICKET,
        "Change a ticket's status, optionally assigning it",
        params=(_TICKET_ID,),
        body=StatusBody,
        errors=(404, 409),
        write=Write.CHANGE,
    ),
    Route(
        "post_admin_message",
        "POST",
        "/tickets/{ticket_id}/messages",
        Audience.ADMIN,
        post_admin_message,
        _MESSAGE,
        "Reply in a ticket as an admin",
        params=(_TICKET_ID,),
        body=AdminMessageBody,
        errors=(404, 409),
        write=Write.MESSAGE,
    ),
    Route(
        "messages_after",
        "GET",
        "/tickets/{ticket_id}/messages",
        Audience.ADMIN,
        messages_after,
        _MESSAGES,
        "Messages newer than `after_id`, oldest first (polling)",
        params=(_TICKET_ID, _AFTER_ID),
        errors=(404,),
    ),
    Route(
        "ticket_history",
        "GET",
        "/tickets/{ticket_id}/history",
        Audience.ADMIN,
        ticket_history,
        DataRenderer(list[TicketChange]),
        "The ticket's recorded changes of status, assignment and priority, oldest first",
        params=(_TICKET_ID,),
        errors=(404,),
    ),
    Route("statistics", "GET", "/statistics", Audience.ADMIN, statistics, DataRenderer(Statistics), "Ticket counts"),
    Route(
        "list_agents",
        "GET",
        "/agents",
        Audience.ADMIN,
        list_agents,
        DataRenderer(list[AgentLoad]),
        "Every agent (from the host's directory, else the agents table) with their open load: "
        "open and in-progress tickets assigned to them",
    ),
    Route(
        "create_ticket",
        "POST",
        "/create-ticket",
        Audience.USER,
        create_ticket,
        _CUSTOMER_TICKET,
        "Open a ticket as a user",
        body=CreateTicketBody,
        write=Write.TICKET,
    ),
    Route(
        "list_user_tickets",
        "GET",
        "/user/{user_id}/tickets",
        Audience.USER,
        list_user_tickets,
        _CUSTOMER_TICKETS,
        "The caller's own tickets, newest first (by relevance with `q`)",
        params=(_USER_ID, _STATUS, _SEARCH, _PAGE, _PER_PAGE),
    ),
    Route(
        "get_user_ticket",
        "GET",
        "/user/{user_id}/tickets/{ticket_id}",
        Audience.USER,
        get_user_ticket,
        _CUSTOMER_THREAD,
        "One of the caller's tickets with its newest messages, older ones by `before_id` (marks the admins' read)",
        params=(_USER_ID, _TICKET_ID, _BEFORE_ID, _THREAD_LIMIT),
        errors=(404,),
    ),
    Route(
        "user_messages_after",
        "GET",
        "/user/{user_id}/tickets/{ticket_id}/messages",
        Audience.USER,
        user_messages_after,
        _CUSTOMER_MESSAGES,
        "Messages newer than `after_id` in one of the caller's tickets (polling)",
        params=(_USER_ID, _TICKET_ID, _AFTER_ID),
        errors=(404,),
    ),
    Route(
        "post_user_message",
        "POST",
        "/tickets/{ticket_id}/user-message",
        Audience.USER,
        post_user_message,
        _CUSTOMER_MESSAGE,
        "Write in one of the caller's tickets",
        params=(_TICKET_ID,),
        body=UserMessageBody,
        errors=(404, 409),
        write=Write.MESSAGE,
    ),
)


def route_table(features: Sequence[Feature] = ()) -> tuple[Route, ...]:
    """The core's routes and then each feature's: what the adapters mount and the OpenAPI document lists.

    Raises ``ValueError`` when a feature's route reuses a name or a method
    and path already in the table.
    """
    table = list(ROUTES)
    names = {route.name for route in table}
    endpoints = {(route.method, route.path) for route in table}
    for feature in features:
        for route in feature.routes:
            if route.name in names or (route.method, route.path) in endpoints:
                raise ValueError(f"feature {feature.name!r}: route {route.name} {route.method} {route.path} is taken")
            names.add(route.name)
            endpoints.add((route.method, route.path))
            table.append(route)
    return tuple(table)
