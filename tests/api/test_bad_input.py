"""Bad input on every route and field of spec §4: the right status and code, and nothing written."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from supportchat import Actor

from .conftest import Api

PRIORITIES = ["low", "medium", "high", "urgent"]
CATEGORIES = ["general", "technical", "billing", "flight", "order"]
STATUSES = ["open", "in_progress", "resolved", "closed"]
MESSAGE_TYPES = ["text", "image", "file"]

TICKET = {"user_id": 1, "subject": "Problema", "description": "No puedo pagar"}
MESSAGE = {"message": "hola", "message_type": "text"}


@dataclass(frozen=True)
class Case:
    who: str  # "admin" or "user" (user 1, who owns the ticket)
    method: str
    path: str  # "{t}" is the ticket's id
    field: str
    body: Any = None
    query: dict[str, Any] = field(default_factory=dict)
    allowed: list[str] | None = None
    status: int = 422
    code: str = "invalid_field"


def with_(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**base, **changes}


def without(base: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in base.items() if k != key}


CREATE = ("user", "POST", "/create-ticket")
USER_MESSAGE = ("user", "POST", "/tickets/{t}/user-message")
ADMIN_MESSAGE = ("admin", "POST", "/tickets/{t}/messages")
STATUS = ("admin", "PUT", "/tickets/{t}/status")

CASES: dict[str, Case] = {
    # create-ticket: every field of the ticket.
    "subject missing": Case(*CREATE, "subject", without(TICKET, "subject")),
    "subject empty": Case(*CREATE, "subject", with_(TICKET, subject="   ")),
    "subject only zero-width": Case(*CREATE, "subject", with_(TICKET, subject="\u200b\u200c\u2060")),
    "subject only bidi controls": Case(*CREATE, "subject", with_(TICKET, subject="\u202e\u2067\u2069")),
    "subject too long": Case(*CREATE, "subject", with_(TICKET, subject="x" * 201)),
    "subject not a string": Case(*CREATE, "subject", with_(TICKET, subject=12)),
    "description missing": Case(*CREATE, "description", without(TICKET, "description")),
    "description too long": Case(*CREATE, "description", with_(TICKET, description="y" * 10_001)),
    "description null": Case(*CREATE, "description", with_(TICKET, description=None)),
    "priority unknown": Case(*CREATE, "priority", with_(TICKET, priority="critical"), allowed=PRIORITIES),
    "priority number": Case(*CREATE, "priority", with_(TICKET, priority=3), allowed=PRIORITIES),
    "category unknown": Case(*CREATE, "category", with_(TICKET, category="hotel"), allowed=CATEGORIES),
    "user_id zero": Case(*CREATE, "user_id", with_(TICKET, user_id=0)),
    "user_id negative": Case(*CREATE, "user_id", with_(TICKET, user_id=-1)),
    "user_id text": Case(*CREATE, "user_id", with_(TICKET, user_id="uno")),
    "user_id boolean": Case(*CREATE, "user_id", with_(TICKET, user_id=True)),
    "user_id fraction": Case(*CREATE, "user_id", with_(TICKET, user_id=1.5)),
    "create body not an object": Case(*CREATE, "body", [TICKET]),
    # user-message and admin messages: message, message_type, file_url, user_id.
    "user message missing": Case(*USER_MESSAGE, "message", without(MESSAGE, "message")),
    "user message empty": Case(*USER_MESSAGE, "message", with_(MESSAGE, message="\x00\x01 ")),
    "user message too long": Case(*USER_MESSAGE, "message", with_(MESSAGE, message="z" * 10_001)),
    "user message_type unknown": Case(
        *USER_MESSAGE, "message_type", with_(MESSAGE, message_type="video"), allowed=MESSAGE_TYPES
    ),
    "user image without url": Case(*USER_MESSAGE, "file_url", with_(MESSAGE, message_type="image")),
    "user file with ftp url": Case(
        *USER_MESSAGE, "file_url", with_(MESSAGE, message_type="file", file_url="ftp://x/y"), allowed=["http", "https"]
    ),
    "user message user_id text": Case(*USER_MESSAGE, "user_id", with_(MESSAGE, user_id="me")),
    "user message user_id zero": Case(*USER_MESSAGE, "user_id", with_(MESSAGE, user_id=0)),
    "user message body a string": Case(*USER_MESSAGE, "body", "hola"),
    "admin message missing": Case(*ADMIN_MESSAGE, "message", {}),
    "admin message too long": Case(*ADMIN_MESSAGE, "message", with_(MESSAGE, message="z" * 10_001)),
    "admin message_type unknown": Case(
        *ADMIN_MESSAGE, "message_type", with_(MESSAGE, message_type="gif"), allowed=MESSAGE_TYPES
    ),
    "admin image with javascript url": Case(
        *ADMIN_MESSAGE,
        "file_url",
        with_(MESSAGE, message_type="image", file_url="javascript:alert(1)"),
        allowed=["http", "https"],
    ),
    "admin client_message_id bad": Case(*ADMIN_MESSAGE, "client_message_id", with_(MESSAGE, client_message_id="a b")),
    # status changes.
    "status missing": Case(*STATUS, "status", {"assigned_to": 2}, allowed=STATUSES),
    "status unknown": Case(*STATUS, "status", {"status": "done"}, allowed=STATUSES),
    "assigned_to zero": Case(*STATUS, "assigned_to", {"status": "open", "assigned_to": 0}),
    "assigned_to text": Case(*STATUS, "assigned_to", {"status": "open", "assigned_to": "ana"}),
    # query strings.
    "list status": Case("admin", "GET", "/tickets", "status", query={"status": "new"}, allowed=STATUSES),
    "list priority": Case("admin", "GET", "/tickets", "priority", query={"priority": "p1"}, allowed=PRIORITIES),
    "list category": Case("admin", "GET", "/tickets", "category", query={"category": "x"}, allowed=CATEGORIES),
    "list assigned_to": Case("admin", "GET", "/tickets", "assigned_to", query={"assigned_to": "-3"}),
    "list page zero": Case("admin", "GET", "/tickets", "page", query={"page": 0}),
    "list per_page huge": Case("admin", "GET", "/tickets", "per_page", query={"per_page": 101}),
    "list per_page text": Case("admin", "GET", "/tickets", "per_page", query={"per_page": "all"}),
    "list q too long": Case("admin", "GET", "/tickets", "q", query={"q": "q" * 201}),
    "user list status": Case("user", "GET", "/user/1/tickets", "status", query={"status": "x"}, allowed=STATUSES),
    "user list page": Case("user", "GET", "/user/1/tickets", "page", query={"page": "-1"}),
    "user path user_id": Case("user", "GET", "/user/abc/tickets", "user_id"),
    "user thread path user_id": Case("user", "GET", "/user/0/tickets/{t}", "user_id"),
    "admin after_id": Case("admin", "GET", "/tickets/{t}/messages", "after_id", query={"after_id": "-1"}),
    "user after_id": Case("user", "GET", "/user/1/tickets/{t}/messages", "after_id", query={"after_id": "x"}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_refused_and_nothing_is_written(api: Api, name: str) -> None:
    case = CASES[name]
    ticket = api.ticket_for(1)
    api.desk.post_message(Actor.user(1), ticket.id, "primer mensaje")
    before = (api.written(), api.store.statistics(), api.store.list_messages(ticket.id))

    headers = api.admin if case.who == "admin" else api.user(1)
    reply = api.call(
        case.method, case.path.replace("{t}", str(ticket.id)), headers=headers, json=case.body, query=case.query
    )

    assert reply.status == case.status, reply.body
    error = reply.json()["error"]
    assert reply.json()["success"] is False
    assert error["code"] == case.code
    assert error["details"]["field"] == case.field
    assert case.field in error["message"]
    if case.allowed is not None:
        assert error["details"]["allowed"] == case.allowed
    assert (api.written(), api.store.statistics(), api.store.list_messages(ticket.id)) == before


BODY_ROUTES = [
    ("user", "POST", "/create-ticket"),
    ("user", "POST", "/tickets/{t}/user-message"),
    ("admin", "POST", "/tickets/{t}/messages"),
    ("admin", "PUT", "/tickets/{t}/status"),
]


@pytest.mark.parametrize("who,method,path", BODY_ROUTES, ids=[p for _, _, p in BODY_ROUTES])
@pytest.mark.parametrize(
    "content,status,code",
    [
        (b'{"subject": "x",', 400, "malformed_request"),
        (b"{'single': 'quotes'}", 400, "malformed_request"),
        (b'{"priority": NaN}', 400, "malformed_request"),
        (b"", 400, "malformed_request"),
        (b'{"message": "' + b"a" * (1024 * 1024) + b'"}', 413, "payload_too_large"),
    ],
    ids=["truncated", "single-quotes", "nan", "empty", "over-1MiB"],
)
def test_unreadable_bodies(api: Api, who: str, method: str, path: str, content: bytes, status: int, code: str) -> None:
    ticket = api.ticket_for(1)
    before = api.written()
    headers = {"Content-Type": "application/json", **(api.admin if who == "admin" else api.user(1))}
    reply = api.call(method, path.replace("{t}", str(ticket.id)), headers=headers, content=content)
    assert reply.status == status
    assert reply.json()["error"]["code"] == code
    assert api.written() == before


def test_a_body_of_exactly_the_limit_is_read(api: Api) -> None:
    ticket = api.ticket_for(1)
    head, tail = b'{"message": "hola", "padding": "', b'"}'
    content = head + b"p" * (1024 * 1024 - len(head) - len(tail)) + tail
    assert len(content) == 1024 * 1024
    reply = api.call("POST", f"/tickets/{ticket.id}/user-message", headers=api.user(1), content=content)
    assert reply.status == 200


TICKET_ROUTES = [
    ("admin", "GET", "/tickets/{t}", None),
    ("admin", "PUT", "/tickets/{t}/status", {"status": "open"}),
    ("admin", "POST", "/tickets/{t}/messages", MESSAGE),
    ("admin", "GET", "/tickets/{t}/messages", None),
    ("user", "GET", "/user/1/tickets/{t}", None),
    ("user", "GET", "/user/1/tickets/{t}/messages", None),
    ("user", "POST", "/tickets/{t}/user-message", MESSAGE),
]


@pytest.mark.parametrize("ref", ["0", "1.5", "TKT-0000000U", "x" * 100])
@pytest.mark.parametrize("who,method,path,body", TICKET_ROUTES, ids=[f"{m} {p}" for _, m, p, _ in TICKET_ROUTES])
def test_garbage_ticket_ids_are_404(api: Api, ref: str, who: str, method: str, path: str, body: Any) -> None:
    api.ticket_for(1)
    before = api.written()
    headers = api.admin if who == "admin" else api.user(1)
    reply = api.call(method, path.replace("{t}", ref), headers=headers, json=body)
    assert reply.status == 404
    assert reply.json()["error"]["code"] == "ticket_not_found"
    assert api.written() == before
