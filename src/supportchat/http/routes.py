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

from ..desk import UNSET, SupportDesk
from ..errors import ValidationError
from ..features import Feature
from ..models import (
    Actor,
    Category,
    Message,
    MessageType,
    Note,
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
    CustomerRating,
    CustomerTicket,
    CustomerTicketThread,
    NotCustomerData,
    customer_message,
    customer_messages,
    customer_page,
    customer_rating,
    customer_thread,
    customer_ticket,
)
from ..rules import (
    CLIENT_MESSAGE_ID_PATTERN,
    FILE_URL_PATTERN,
    MAX_ID,
    MAX_TAGS,
    TAG_PATTERN,
    UNASSIGNED,
    VISIBLE_TEXT_PATTERN,
    Limits,
    parse_path_id,
    parse_positive_int,
    parse_tag,
)
from .envelope import DataRenderer, PageRenderer, Renderer

__all__ = [
    "DEFAULT_PREFIX",
    "ROUTES",
    "Audience",
    "BodySchema",
    "Handler",
    "Param",
    "Route",
    "Write",
    "id_schema",
    "own_path_user",
    "route_table",
]

#: The seed's paths, which the Flutter app already calls.
DEFAULT_PREFIX = "/admin/api/support"

#: Path parameters or query string: names to raw strings.
Params = Mapping[str, str]
Handler = Callable[[SupportDesk, Actor, Params, Params, Any], Any]
#: A JSON Schema, or a function of the desk's limits giving one (so the document states the desk's own limits).
Schema = dict[str, Any] | Callable[[Limits], dict[str, Any]]
#: The JSON Schema of a request body, given the desk's limits.
BodySchema = Callable[[Limits], dict[str, Any]]


class Audience(enum.Enum):
    """Who may call a route at all (the desk then decides about each ticket)."""

    ADMIN = "admin"
    USER = "user"
    #: Anyone, or no one: the handler decides (it gets ``None`` for no credentials), as a signed URL needs.
    ANYONE = "anyone"


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
    schema: Schema
    description: str
    required: bool = False

    def schema_for(self, limits: Limits) -> dict[str, Any]:
        return self.schema(limits) if callable(self.schema) else self.schema


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
    #: The JSON body's schema, for documentation; ``None`` for routes without a body.
    body: BodySchema | None = None
    #: Error statuses this route can answer with, beyond those every route can.
    errors: tuple[int, ...] = field(default=())
    #: What the route writes (rate-limited, 429), or ``None`` for a read.
    write: Write | None = None
    #: A JSON pointer to the ticket the response names (``/data``, ``/data/0``), for OpenAPI links.
    ticket_at: str | None = None
    #: The handler reads the request itself (a :class:`~supportchat.http.raw.RawRequest` instead of
    #: parsed JSON: uploads stream) and may answer with a :class:`~supportchat.http.raw.RawResponse`.
    raw: bool = False
    #: The media type of the documented body (``body``'s schema describes it).
    body_media_type: str = "application/json"
    #: The media type of a body handed to the handler as raw bytes instead of parsed JSON (``message/rfc822``).
    raw_body: str | None = None
    #: For machine callers (a mail provider): the actor from the request's headers, or ``None`` for
    #: nobody (401), instead of the identity hook. The route checks its own credential (a shared secret).
    authenticate: Callable[[Mapping[str, str]], Actor | None] | None = None

    def full_path(self, prefix: str = DEFAULT_PREFIX) -> str:
        return prefix.rstrip("/") + self.path


# -- schemas (documentation; the desk validates the raw values, these say exactly what it accepts) --


def id_schema(minimum: int = 1) -> dict[str, Any]:
    """An integer from ``minimum`` to :data:`~supportchat.rules.MAX_ID`.

    The bound is stated as ``exclusiveMaximum: 2**63``, which a float holds
    exactly: FastAPI stores schema bounds as floats, and 2**63 - 1 as a
    float would read 2**63.
    """
    return {"type": "integer", "minimum": minimum, "exclusiveMaximum": MAX_ID + 1}


def _id(description: str, *, nullable: bool = False) -> dict[str, Any]:
    schema = id_schema()
    if nullable:
        schema = {"anyOf": [schema, {"type": "null"}]}
    return {**schema, "description": description}


def _text(max_length: int, description: str) -> dict[str, Any]:
    """Text the desk sanitises: at least one visible character, at most ``max_length`` once sanitised."""
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": max_length,
        "pattern": VISIBLE_TEXT_PATTERN,
        "description": description,
    }


def _choice_schema(choices: type[enum.StrEnum], description: str) -> dict[str, Any]:
    return {
        "anyOf": [{"type": "string", "enum": [c.value for c in choices]}, {"type": "null"}],
        "description": description,
    }


def _object(properties: dict[str, Any], required: tuple[str, ...], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required), **extra}


def create_ticket_body(limits: Limits) -> dict[str, Any]:
    """A user opens a ticket."""
    return _object(
        {
            "user_id": _id("The caller's own user id; taken from the token when absent.", nullable=True),
            "subject": _text(limits.subject, f"1–{limits.subject:,} characters after sanitising."),
            "description": _text(limits.body, f"1–{limits.body:,} characters after sanitising."),
            "priority": _choice_schema(Priority, "Default `medium`."),
            "category": _choice_schema(Category, "Default `general`."),
        },
        ("subject", "description"),
    )


def status_body(limits: Limits) -> dict[str, Any]:
    """An admin moves a ticket through the lifecycle, optionally (re)assigning it."""
    return _object(
        {
            "status": {"type": "string", "enum": [s.value for s in TicketStatus]},
            "assigned_to": _id("An admin id; `null` unassigns; absent leaves it as it is.", nullable=True),
        },
        ("status",),
    )


def _message_properties(limits: Limits) -> dict[str, Any]:
    return {
        "message": _text(limits.body, f"1–{limits.body:,} characters after sanitising."),
        "message_type": _choice_schema(MessageType, "Default `text`; `image` and `file` need a `file_url`."),
        "file_url": {
            "anyOf": [_file_url(limits), {"type": "null"}, {"const": ""}],
            "description": "An http(s) URL; required for `image` and `file`.",
        },
        "client_message_id": {
            "anyOf": [{"type": "string", "pattern": CLIENT_MESSAGE_ID_PATTERN}, {"type": "null"}],
            "description": "Makes a retried send idempotent: the same id returns the message stored the first time.",
        },
    }


def _file_url(limits: Limits) -> dict[str, Any]:
    return {"type": "string", "maxLength": limits.file_url, "pattern": FILE_URL_PATTERN}


#: An ``image`` or ``file`` message must carry a URL.
def _attachment_needs_url(limits: Limits) -> dict[str, Any]:
    return {
        "if": {
            "properties": {"message_type": {"enum": [MessageType.IMAGE.value, MessageType.FILE.value]}},
            "required": ["message_type"],
        },
        "then": {"properties": {"file_url": _file_url(limits)}, "required": ["file_url"]},
    }


def admin_message_body(limits: Limits) -> dict[str, Any]:
    """An admin replies in a ticket."""
    return _object(_message_properties(limits), ("message",), **_attachment_needs_url(limits))


def user_message_body(limits: Limits) -> dict[str, Any]:
    """A user writes in their own ticket."""
    properties = {"user_id": _id("The caller's own user id, if given.", nullable=True), **_message_properties(limits)}
    return _object(properties, ("message",), **_attachment_needs_url(limits))


def rating_body(limits: Limits) -> dict[str, Any]:
    """The owner rates a resolved or closed ticket (spec §12)."""
    return _object(
        {
            "score": {"type": "integer", "minimum": 1, "maximum": 5, "description": "1 (bad) to 5 (great)."},
            "comment": {
                "anyOf": [_text(limits.body, f"Up to {limits.body:,} characters after sanitising."), {"type": "null"}],
                "description": "Optional.",
            },
        },
        ("score",),
    )


def merge_body(limits: Limits) -> dict[str, Any]:
    """An admin merges the ticket of the path into another of the same user (spec §12)."""
    return _object(
        {
            "into": {
                "anyOf": [id_schema(), {"type": "string", "minLength": 1, "maxLength": 64}],
                "description": "The surviving ticket: its id or its number.",
            }
        },
        ("into",),
    )


def note_body(limits: Limits) -> dict[str, Any]:
    """An admin writes an internal note (spec §12)."""
    return _object({"note": _text(limits.body, f"1–{limits.body:,} characters after sanitising.")}, ("note",))


def _tag_schema() -> dict[str, Any]:
    # What the desk stores; it also accepts a spelling that normalises to it (`VIP`, `Reembolsó`, `late delivery`).
    return {
        "type": "string",
        "minLength": 1,
        "description": f"Stored lower case, accents dropped, spaces as `-`; then `{TAG_PATTERN}`.",
    }


def tags_body(limits: Limits) -> dict[str, Any]:
    """Tags to set or add (spec §12)."""
    return _object(
        {"tags": {"type": "array", "items": _tag_schema(), "maxItems": MAX_TAGS, "description": "Tags."}}, ("tags",)
    )


# -- parameters -----------------------------------------------------------------

_TICKET_ID = Param(
    "ticket_id", "path", {"type": "string", "minLength": 1, "maxLength": 64}, "The ticket's id or its number.", True
)
_USER_ID = Param("user_id", "path", id_schema(), "The caller's own user id.", True)
_PAGE = Param(
    "page",
    "query",
    lambda limits: {"type": "integer", "minimum": 1, "maximum": limits.page_max, "default": 1},
    "1-based page number.",
)
_PER_PAGE = Param(
    "per_page",
    "query",
    lambda limits: {"type": "integer", "minimum": 1, "maximum": limits.per_page_max, "default": 20},
    "Page size.",
)
_AFTER_ID = Param(
    "after_id",
    "query",
    {**id_schema(minimum=0), "default": 0},
    "Only messages with a larger id.",
)
_ANY = ""

_BEFORE_ID = Param(
    "before_id",
    "query",
    id_schema(),
    "Only messages with a smaller id: the first message's id of the page shown, to load older ones.",
)
_THREAD_LIMIT = Param(
    "limit",
    "query",
    lambda limits: {
        "type": "integer",
        "minimum": 1,
        "maximum": limits.thread_messages_max,
        "default": limits.thread_messages,
    },
    "How many of the newest messages (before `before_id`) to return.",
)


def _choice(name: str, choices: type[enum.StrEnum], description: str) -> Param:
    # An empty value means "any", as the desk reads it.
    return Param(name, "query", {"type": "string", "enum": [_ANY, *(c.value for c in choices)]}, description)


_STATUS = _choice("status", TicketStatus, "Only tickets in this status (empty: any).")
_TAG = Param(
    "tag",
    "query",
    {"type": "string", "pattern": "^([a-z0-9_-]{1,32})?$"},
    "Only tickets carrying this tag, written as stored (empty: any).",
)
_TAG_PATH = Param("tag", "path", {"type": "string", "pattern": TAG_PATTERN}, "The tag to remove, as stored.", True)


def _stored_tag(value: object, field: str = "tag") -> object:
    """A tag in a path or query exactly as stored: what the document promises (bodies may use any spelling)."""
    if value in (None, "") or (isinstance(value, str) and parse_tag(value, field) == value):
        return value
    raise ValidationError(field, f"write the tag as stored ({TAG_PATTERN})")


_ASSIGNED_TO = Param(
    "assigned_to",
    "query",
    {
        "anyOf": [
            id_schema(),
            {"type": "string", "enum": [_ANY, UNASSIGNED]},
        ]
    },
    f"An admin id, or `{UNASSIGNED}` for unassigned tickets (empty: any).",
)

# -- handlers -------------------------------------------------------------------


def own_path_user(actor: Actor, path: Params, action: Action) -> int:
    """The ``user_id`` of the path, which must be the caller's own (the rule is :func:`authorize`'s)."""
    user_id = parse_path_id("user_id", path["user_id"])
    authorize(actor, action, user_id=user_id)
    return user_id


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
        assigned_to=query.get("assigned_to"),
        tag=_stored_tag(query.get("tag")),
        q=query.get("q"),
        page=query.get("page", 1),
        per_page=query.get("per_page", 20),
    )


def _field_after_lookup(body: Any, name: str) -> Any:
    """``body[name]``, or the whole body when it is no object: the desk finds the ticket (404) before it
    refuses the value (422), the order the document's error statuses promise."""
    return body.get(name) if isinstance(body, dict) else body


def add_note(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> Note:
    return desk.add_note(actor, path["ticket_id"], _field_after_lookup(body, "note"))


def list_notes(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> list[Note]:
    return desk.list_notes(actor, path["ticket_id"])


def set_tags(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> Ticket:
    return desk.set_tags(actor, path["ticket_id"], _field_after_lookup(body, "tags"))


def add_tags(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> Ticket:
    return desk.add_tags(actor, path["ticket_id"], _field_after_lookup(body, "tags"))


def remove_tag(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> Ticket:
    return desk.remove_tags(actor, path["ticket_id"], [_stored_tag(path["tag"])])


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


def merge_tickets(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> Any:
    return desk.merge(actor, path["ticket_id"], _fields(body).get("into"))


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
    page = desk.list_user_tickets(
        actor,
        own_path_user(actor, path, Action.LIST_OWN),
        status=query.get("status"),
        q=query.get("q"),
        page=query.get("page", 1),
        per_page=query.get("per_page", 20),
    )
    return customer_page(page, actor)


def get_user_ticket(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> CustomerTicketThread:
    own_path_user(actor, path, Action.VIEW)
    thread = desk.get_ticket(actor, path["ticket_id"], before_id=query.get("before_id"), limit=query.get("limit"))
    return customer_thread(thread, actor)


def user_messages_after(
    desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any
) -> list[CustomerMessage]:
    own_path_user(actor, path, Action.VIEW)
    messages = desk.messages_after(actor, path["ticket_id"], query.get("after_id", 0))
    return customer_messages(messages, _ticket_of(desk, messages[0].ticket_id), actor) if messages else []


def post_user_message(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> CustomerMessage:
    fields = _fields(body)
    if fields.get("user_id") is not None:
        authorize(actor, Action.REPLY, user_id=parse_positive_int("user_id", fields["user_id"]))
    message = desk.post_message(actor, path["ticket_id"], fields.get("message"), **_message_fields(fields))
    return customer_message(message, _ticket_of(desk, message.ticket_id), actor)


def rate_ticket(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> CustomerRating:
    own_path_user(actor, path, Action.RATE)
    fields = _fields(body)
    rating = desk.rate(actor, path["ticket_id"], fields.get("score"), comment=fields.get("comment"))
    return customer_rating(rating, _ticket_of(desk, rating.ticket_id), actor)


def _ticket_of(desk: SupportDesk, ticket_id: int) -> Ticket:
    """The ticket a message or rating the desk just returned belongs to, for the projection's owner check."""
    ticket = desk.store.get_ticket(ticket_id)
    if ticket is None:
        raise NotCustomerData("no such ticket")
    return ticket


# -- the table --------------------------------------------------------------------

_TICKET = DataRenderer(Ticket)
_SEARCH = Param(
    "q",
    "query",
    lambda limits: {"type": "string", "maxLength": limits.search},
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
            _choice("priority", Priority, "Only tickets with this priority (empty: any)."),
            _choice("category", Category, "Only tickets in this category (empty: any)."),
            _ASSIGNED_TO,
            _TAG,
            _SEARCH,
            _PAGE,
            _PER_PAGE,
        ),
        ticket_at="/data/0",
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
        ticket_at="/data",
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
        body=status_body,
        errors=(404, 409),
        write=Write.CHANGE,
        ticket_at="/data",
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
        body=admin_message_body,
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
    Route(
        "merge_tickets",
        "POST",
        "/tickets/{ticket_id}/merge",
        Audience.ADMIN,
        merge_tickets,
        _TICKET,
        "Merge the ticket into another of the same user: its messages join that one in time order, "
        "it is closed with `merged_into`, and its id and number lead to the surviving ticket from then on",
        params=(_TICKET_ID,),
        body=merge_body,
        errors=(404, 409),
        write=Write.CHANGE,
        ticket_at="/data",
    ),
    Route(
        "add_note",
        "POST",
        "/tickets/{ticket_id}/notes",
        Audience.ADMIN,
        add_note,
        DataRenderer(Note),
        "Write an internal note on a ticket: staff only, never shown to the ticket's owner",
        params=(_TICKET_ID,),
        body=note_body,
        errors=(404,),
        write=Write.MESSAGE,
    ),
    Route(
        "list_notes",
        "GET",
        "/tickets/{ticket_id}/notes",
        Audience.ADMIN,
        list_notes,
        DataRenderer(list[Note]),
        "A ticket's internal notes, oldest first",
        params=(_TICKET_ID,),
        errors=(404,),
    ),
    Route(
        "set_tags",
        "PUT",
        "/tickets/{ticket_id}/tags",
        Audience.ADMIN,
        set_tags,
        _TICKET,
        "Set a ticket's tags (internal: never shown to its owner)",
        params=(_TICKET_ID,),
        body=tags_body,
        errors=(404,),
        write=Write.CHANGE,
        ticket_at="/data",
    ),
    Route(
        "add_tags",
        "POST",
        "/tickets/{ticket_id}/tags",
        Audience.ADMIN,
        add_tags,
        _TICKET,
        "Add tags to a ticket (those it has stay once)",
        params=(_TICKET_ID,),
        body=tags_body,
        errors=(404,),
        write=Write.CHANGE,
        ticket_at="/data",
    ),
    Route(
        "remove_tag",
        "DELETE",
        "/tickets/{ticket_id}/tags/{tag}",
        Audience.ADMIN,
        remove_tag,
        _TICKET,
        "Remove a tag from a ticket (a tag it lacks is no error)",
        params=(_TICKET_ID, _TAG_PATH),
        errors=(404,),
        write=Write.CHANGE,
        ticket_at="/data",
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
        body=create_ticket_body,
        write=Write.TICKET,
        ticket_at="/data",
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
        errors=(404,),
        ticket_at="/data/0",
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
        ticket_at="/data",
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
        "rate_ticket",
        "POST",
        "/user/{user_id}/tickets/{ticket_id}/rating",
        Audience.USER,
        rate_ticket,
        DataRenderer(CustomerRating),
        "Rate one of the caller's resolved or closed tickets 1–5, once per resolution (409 `rating_not_open`)",
        params=(_USER_ID, _TICKET_ID),
        body=rating_body,
        errors=(404, 409),
        write=Write.CHANGE,
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
        body=user_message_body,
        errors=(404, 409),
        write=Write.MESSAGE,
    ),
)


def route_table(features: Sequence[Feature] = ()) -> tuple[Route, ...]:
    """The core's routes and then each feature's: what the adapters mount and the OpenAPI document lists.

    Then each feature's ``amend`` sees every route, in feature order. Raises
    ``ValueError`` when a feature's route reuses a name or a method and path
    already in the table, or an amendment renames or moves a route.
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
    for feature in features:
        if feature.amend is not None:
            table = [_amended(feature, route) for route in table]
    return tuple(table)


def _amended(feature: Feature, route: Route) -> Route:
    assert feature.amend is not None
    changed = feature.amend(route)
    if (changed.name, changed.method, changed.path) != (route.name, route.method, route.path):
        raise ValueError(f"feature {feature.name!r} may amend route {route.name}, not rename or move it")
    return changed
