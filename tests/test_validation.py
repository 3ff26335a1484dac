"""Every bad input of spec §4 is refused with a ValidationError naming the field, and nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from supportchat import SupportDesk, ValidationError
from supportchat.stores import Store

from .helpers import ADMIN, ALICE, open_ticket, snapshot

LONG_SUBJECT = "s" * 201
LONG_BODY = "b" * 10_001
OK_TICKET = {"subject": "Payment failed", "description": "Card declined"}

Call = Callable[[SupportDesk, int], Any]


def create(**fields: Any) -> Call:
    return lambda desk, _: desk.create_ticket(ALICE, **(OK_TICKET | fields))


def admin_create(**fields: Any) -> Call:
    return lambda desk, _: desk.create_ticket(ADMIN, **(OK_TICKET | fields))


def post(message: Any = "hello", **fields: Any) -> Call:
    return lambda desk, ticket_id: desk.post_message(ALICE, ticket_id, message, **fields)


def status(value: Any, **fields: Any) -> Call:
    return lambda desk, ticket_id: desk.change_status(ADMIN, ticket_id, value, **fields)


CASES: list[tuple[str, str, Call, list[str] | None]] = [
    ("subject empty", "subject", create(subject=""), None),
    ("subject blank", "subject", create(subject="   \n\t "), None),
    ("subject only zero-width", "subject", create(subject="\u200b\u200d\u2060\ufeff"), None),
    ("subject only bidi controls", "subject", create(subject=" \u202e\u2066\u2069 "), None),
    ("subject too long", "subject", create(subject=LONG_SUBJECT), None),
    ("subject not text", "subject", create(subject=123), None),
    ("subject missing", "subject", create(subject=None), None),
    ("description empty", "description", create(description=""), None),
    ("description too long", "description", create(description=LONG_BODY), None),
    ("description not text", "description", create(description=["a"]), None),
    ("priority unknown", "priority", create(priority="critical"), ["low", "medium", "high", "urgent"]),
    ("priority not text", "priority", create(priority=3), ["low", "medium", "high", "urgent"]),
    (
        "category unknown",
        "category",
        create(category="hotel"),
        ["general", "technical", "billing", "flight", "order"],
    ),
    ("user_id zero", "user_id", admin_create(user_id=0), None),
    ("user_id negative", "user_id", admin_create(user_id=-4), None),
    ("user_id text", "user_id", admin_create(user_id="abc"), None),
    ("user_id bool", "user_id", admin_create(user_id=True), None),
    ("user_id float", "user_id", admin_create(user_id=1.5), None),
    ("user_id huge", "user_id", admin_create(user_id=2**63), None),
    ("user_id missing for admin", "user_id", admin_create(), None),
    ("message empty", "message", post(""), None),
    ("message only invisible", "message", post("\u200b \u3164\u034f"), None),
    ("message too long", "message", post(LONG_BODY), None),
    ("message not text", "message", post(None), None),
    ("message_type unknown", "message_type", post(message_type="video"), ["text", "image", "file"]),
    ("image without url", "file_url", post(message_type="image"), None),
    ("file without url", "file_url", post(message_type="file", file_url=""), None),
    ("file url javascript", "file_url", post(message_type="file", file_url="javascript:alert(1)"), ["http", "https"]),
    ("file url relative", "file_url", post(message_type="image", file_url="/x.png"), ["http", "https"]),
    ("file url ftp", "file_url", post(message_type="image", file_url="ftp://host/x.png"), ["http", "https"]),
    ("file url spaces", "file_url", post(message_type="image", file_url="https://h/a b.png"), ["http", "https"]),
    ("client id bad", "client_message_id", post(client_message_id="has spaces"), None),
    ("client id too long", "client_message_id", post(client_message_id="x" * 65), None),
    (
        "status unknown",
        "status",
        status("pending"),
        ["open", "in_progress", "resolved", "closed"],
    ),
    ("status missing", "status", status(None), ["open", "in_progress", "resolved", "closed"]),
    ("assigned_to zero", "assigned_to", status("open", assigned_to=0), None),
    ("assigned_to text", "assigned_to", status("open", assigned_to="bob"), None),
    ("assign negative", "assigned_to", lambda desk, t: desk.assign(ADMIN, t, -1), None),
    ("priority change unknown", "priority", lambda desk, t: desk.set_priority(ADMIN, t, "asap"), None),
    ("list status", "status", lambda desk, _: desk.list_tickets(ADMIN, status="new"), None),
    ("list priority", "priority", lambda desk, _: desk.list_tickets(ADMIN, priority="p1"), None),
    ("list category", "category", lambda desk, _: desk.list_tickets(ADMIN, category="x"), None),
    ("list assigned_to", "assigned_to", lambda desk, _: desk.list_tickets(ADMIN, assigned_to="-3"), None),
    ("list page zero", "page", lambda desk, _: desk.list_tickets(ADMIN, page=0), None),
    ("list per_page big", "per_page", lambda desk, _: desk.list_tickets(ADMIN, per_page=101), None),
    ("list per_page text", "per_page", lambda desk, _: desk.list_tickets(ADMIN, per_page="ten"), None),
    ("list q too long", "q", lambda desk, _: desk.list_tickets(ADMIN, q="q" * 201), None),
    ("user list id", "user_id", lambda desk, _: desk.list_user_tickets(ALICE, "me"), None),
    ("after_id negative", "after_id", lambda desk, t: desk.messages_after(ALICE, t, -1), None),
]


@pytest.mark.parametrize(("field", "call", "allowed"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused_naming_the_field_and_writes_nothing(
    desk: SupportDesk, store: Store, field: str, call: Call, allowed: list[str] | None
) -> None:
    ticket = open_ticket(desk)
    desk.post_message(ALICE, ticket.id, "existing message")
    before = snapshot(store)
    with pytest.raises(ValidationError) as caught:
        call(desk, ticket.id)
    error = caught.value
    assert error.field == field
    assert error.status == 422 and error.code == "invalid_field"
    assert error.to_dict()["details"]["field"] == field
    if allowed is not None:
        assert error.allowed == allowed
        assert all(value in error.message for value in allowed)
    assert snapshot(store) == before


def test_limits_are_configurable(store: Store) -> None:
    from supportchat import Limits

    desk = SupportDesk(store, limits=Limits(subject=10, body=20))
    with pytest.raises(ValidationError, match="subject"):
        desk.create_ticket(ALICE, subject="x" * 11, description="ok")
    with pytest.raises(ValidationError, match="description"):
        desk.create_ticket(ALICE, subject="ok", description="x" * 21)
    assert desk.create_ticket(ALICE, subject="x" * 10, description="x" * 20).subject == "x" * 10


def test_values_are_stored_sanitised(desk: SupportDesk) -> None:
    ticket = desk.create_ticket(
        ALICE,
        subject="  <b>Refund</b>\x00 for 5 > 3 & 2\u202e ",
        description="<script>alert(1)</script>Charged twice",
        priority=" HIGH ",
        category="Billing",
    )
    assert (ticket.subject, ticket.description, ticket.priority, ticket.category) == (
        "<b>Refund</b> for 5 > 3 & 2",
        "< script>alert(1)</script>Charged twice",
        "high",
        "billing",
    )
    message = desk.post_message(
        ALICE, ticket.id, "see <i>this</i>", message_type="image", file_url="https://cdn.example/a.png"
    )
    assert (message.message, message.file_url, message.message_type) == (
        "see <i>this</i>",
        "https://cdn.example/a.png",
        "image",
    )
