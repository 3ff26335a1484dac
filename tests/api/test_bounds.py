"""Every id and page number is bounded (issue 12 #5): out of range is a 404 in a path, a 422 elsewhere.

These run on both adapters over every store backend (SQLite and PostgreSQL
included), where an unbounded number used to overflow the database's
integer and answer 500 with a stack trace.
"""

from __future__ import annotations

import pytest

from supportchat import Actor, SupportDesk, TicketNotFound, ValidationError
from supportchat.rules import MAX_ID, MAX_ROW_OFFSET, Limits
from supportchat.stores import Store

from .conftest import Api

HUGE = "99999999999999999999999"
ADMIN = Actor.admin(1)


@pytest.mark.parametrize("ref", [HUGE, str(MAX_ID + 1), str(MAX_ID), pytest.param("9" * 5000, id="5000-digits")])
def test_an_id_beyond_every_id_in_a_path_is_not_found(api: Api, ref: str) -> None:
    ticket = api.ticket_for(3)
    paths = [
        (f"/tickets/{ref}", api.admin),
        (f"/tickets/{ref}/history", api.admin),
        (f"/tickets/{ref}/messages", api.admin),
        (f"/user/3/tickets/{ref}", api.user(3)),
    ]
    if ref != str(MAX_ID):  # the largest id is an id: a user naming it is someone else (403)
        paths += [(f"/user/{ref}/tickets", api.user(3)), (f"/user/{ref}/tickets/{ticket.id}", api.user(3))]
    for path, headers in paths:
        reply = api.call("GET", path, headers=headers)
        assert reply.status == 404, (path, reply.body)
        assert reply.json()["error"]["code"] in ("ticket_not_found", "not_found"), path


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"page": str(2**63 - 1)}, "page"),
        ({"page": HUGE}, "page"),
        ({"page": str(Limits().page_max + 1)}, "page"),
        ({"per_page": HUGE}, "per_page"),
        ({"assigned_to": HUGE}, "assigned_to"),
        ({"assigned_to": str(MAX_ID + 1)}, "assigned_to"),
    ],
)
def test_an_out_of_range_number_in_a_query_is_invalid(api: Api, query: dict[str, str], field: str) -> None:
    for path, headers in (("/tickets", api.admin), ("/user/1/tickets", api.user(1))):
        if field == "assigned_to" and path.startswith("/user"):
            continue
        reply = api.call("GET", path, headers=headers, query=query)
        assert reply.status == 422, (path, reply.body)
        assert reply.json()["error"]["details"]["field"] == field


def test_the_last_page_and_the_largest_ids_are_answered(api: Api) -> None:
    api.ticket_for(1)
    last = api.call("GET", "/tickets", headers=api.admin, query={"page": Limits().page_max, "per_page": 100})
    assert last.status == 200, last.body
    assert last.json()["data"] == [] and last.json()["meta"]["total"] == 1
    assert api.call("GET", "/tickets", headers=api.admin, query={"assigned_to": MAX_ID}).json()["data"] == []
    ticket = api.ticket_for(2)
    polled = api.call("GET", f"/tickets/{ticket.id}/messages", headers=api.admin, query={"after_id": MAX_ID})
    assert polled.status == 200 and polled.json()["data"] == []
    too_far = api.call("GET", f"/tickets/{ticket.id}/messages", headers=api.admin, query={"after_id": HUGE})
    assert too_far.status == 422


def test_out_of_range_numbers_in_a_body_are_invalid(api: Api) -> None:
    ticket = api.ticket_for(4)
    status = api.call(
        "PUT", f"/tickets/{ticket.id}/status", headers=api.admin, json={"status": "open", "assigned_to": 2**64}
    )
    assert status.status == 422 and status.json()["error"]["details"]["field"] == "assigned_to"
    created = api.call("POST", "/create-ticket", headers=api.user(4), json={"user_id": 2**70, "subject": "a"})
    assert created.status == 422 and created.json()["error"]["details"]["field"] == "user_id"


def test_an_integral_json_number_is_an_integer(api: Api) -> None:
    # JSON Schema's "integer" includes 46260279965778.0; the document says integer, so it is accepted.
    ticket = api.ticket_for(5)
    reply = api.call(
        "PUT",
        f"/tickets/{ticket.id}/status",
        headers=api.admin,
        json={"status": "open", "assigned_to": 46260279965778.0},
    )
    assert reply.status == 200, reply.body
    assert reply.json()["data"]["assigned_to"] == 46260279965778
    fractional = api.call(
        "PUT", f"/tickets/{ticket.id}/status", headers=api.admin, json={"status": "open", "assigned_to": 2.5}
    )
    assert fractional.status == 422


def test_the_desk_bounds_ids_and_pages_on_every_backend(store: Store) -> None:
    desk = SupportDesk(store)
    ticket = desk.create_ticket(Actor.user(1), subject="Pago", description="No puedo pagar")
    for ref in (HUGE, MAX_ID + 1, str(MAX_ID), MAX_ID, -1, 0, 1e30):
        with pytest.raises(TicketNotFound):
            desk.get_ticket(ADMIN, ref)
    assert desk.get_ticket(ADMIN, float(ticket.id)).id == ticket.id
    assert desk.list_tickets(ADMIN, page=desk.limits.page_max, per_page=desk.limits.per_page_max).items == []
    assert (desk.limits.page_max - 1) * desk.limits.per_page_max <= MAX_ROW_OFFSET
    with pytest.raises(ValidationError):
        desk.list_tickets(ADMIN, page=desk.limits.page_max + 1)
    assert desk.messages_after(ADMIN, ticket.id, MAX_ID) == []
    with pytest.raises(ValidationError):
        desk.messages_after(ADMIN, ticket.id, MAX_ID + 1)
    assert desk.change_status(ADMIN, ticket.id, "in_progress", assigned_to=MAX_ID).assigned_to == MAX_ID
    assert [t.id for t in desk.list_tickets(ADMIN, assigned_to=MAX_ID).items] == [ticket.id]
    with pytest.raises(ValidationError):
        desk.assign(ADMIN, ticket.id, MAX_ID + 1)
