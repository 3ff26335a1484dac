"""The API's behaviour, identical through both adapters."""

from __future__ import annotations

import json
import re
from typing import Any

from supportchat import Actor, InMemoryStore, StorageUnavailable, SupportDesk
from supportchat.models import SenderType

from .conftest import PREFIX, Api, make_api

TICKET_NUMBER = re.compile(r"^TKT-[0-9A-HJKMNP-TV-Z]{8}$")
TIMESTAMP_KEYS = {"created_at", "updated_at", "resolved_at"}


def timestamps(value: Any) -> list[str]:
    """Every timestamp anywhere in a JSON document."""
    if isinstance(value, dict):
        found = [v for k, v in value.items() if k in TIMESTAMP_KEYS and v is not None]
        return found + [t for v in value.values() for t in timestamps(v)]
    if isinstance(value, list):
        return [t for v in value for t in timestamps(v)]
    return []


def assert_utc_z(document: Any) -> None:
    stamps = timestamps(document)
    assert stamps, "the document holds no timestamp to check"
    for stamp in stamps:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", stamp), stamp


def test_seed_create_ticket_request(api: Api) -> None:
    # The Dart example, byte for byte as jsonEncode writes it, plus the user's credentials.
    body = json.dumps(
        {
            "user_id": 42,
            "subject": "Problema con pago",
            "description": "No puedo completar mi reserva",
            "priority": "high",
            "category": "billing",
        },
        separators=(",", ":"),
    ).encode()
    headers = {"Content-Type": "application/json", **api.user(42)}
    reply = api.client.request("POST", "/admin/api/support/create-ticket", headers=headers, content=body)

    assert reply.status == 200
    assert reply.content_type.startswith("application/json")
    document = reply.json()
    assert document["success"] is True
    number = document["data"]["ticket_number"]
    assert TICKET_NUMBER.match(number)
    stored = api.desk.get_ticket(Actor.admin(1), number, mark_read=False)
    assert (stored.user_id, stored.subject, stored.priority, stored.category) == (
        42,
        "Problema con pago",
        "high",
        "billing",
    )
    assert document["data"]["id"] == stored.id
    assert_utc_z(document)


def test_seed_send_message_request(api: Api) -> None:
    ticket = api.ticket_for(42)
    body = json.dumps({"user_id": 42, "message": "¿Hay novedades?", "message_type": "text"}, separators=(",", ":"))
    headers = {"Content-Type": "application/json", **api.user(42)}
    reply = api.client.request(
        "POST", f"/admin/api/support/tickets/{ticket.id}/user-message", headers=headers, content=body.encode()
    )

    assert reply.status == 200
    data = reply.json()["data"]
    stored = api.store.list_messages(ticket.id)
    assert [(m.id, m.message, m.sender_type, m.sender_id) for m in stored] == [
        (data["id"], "¿Hay novedades?", SenderType.USER, 42)
    ]
    assert_utc_z(data)


def test_ticket_number_works_as_ticket_id(api: Api) -> None:
    ticket = api.ticket_for(5)
    for ref in (ticket.ticket_number, ticket.ticket_number.lower()):
        admin = api.call("GET", f"/tickets/{ref}", headers=api.admin)
        user = api.call("GET", f"/user/5/tickets/{ref}", headers=api.user(5))
        assert admin.status == user.status == 200
        assert admin.json()["data"]["id"] == user.json()["data"]["id"] == ticket.id


def test_list_envelope_carries_meta(api: Api) -> None:
    for n in range(3):
        api.ticket_for(9, subject=f"ticket {n}")
    api.ticket_for(10)

    admin = api.call("GET", "/tickets", headers=api.admin, query={"page": 2, "per_page": 3})
    assert admin.status == 200
    document = admin.json()
    assert set(document) == {"success", "data", "meta"}
    assert document["meta"] == {"page": 2, "per_page": 3, "total": 4}
    assert len(document["data"]) == 1

    own = api.call("GET", "/user/9/tickets", headers=api.user(9)).json()
    assert own["meta"] == {"page": 1, "per_page": 20, "total": 3}
    assert [t["subject"] for t in own["data"]] == ["ticket 2", "ticket 1", "ticket 0"]
    assert_utc_z(own)


def test_admin_filters_reach_the_desk(api: Api) -> None:
    first = api.ticket_for(1, subject="pago rechazado")
    api.ticket_for(2, subject="otra cosa")
    api.desk.change_status(Actor.admin(1), first.id, "in_progress", assigned_to=3)

    def numbers(**query: Any) -> list[str]:
        reply = api.call("GET", "/tickets", headers=api.admin, query=query)
        assert reply.status == 200, reply.body
        return [t["ticket_number"] for t in reply.json()["data"]]

    assert numbers(status="in_progress") == [first.ticket_number]
    assert numbers(assigned_to=3) == [first.ticket_number]
    assert numbers(q="rechazado") == [first.ticket_number]
    assert len(numbers(assigned_to="none")) == 1
    assert numbers(priority="urgent") == []


def test_conversation_between_admin_and_user(api: Api) -> None:
    ticket = api.ticket_for(7)
    user_says = api.call("POST", f"/tickets/{ticket.id}/user-message", headers=api.user(7), json={"message": "hola"})
    assert user_says.status == 200

    # The admin opens the ticket: the user's message counts as unread until then.
    listed = api.call("GET", "/tickets", headers=api.admin).json()["data"][0]
    assert listed["unread_count"] == 1 and listed["message_count"] == 1
    thread = api.call("GET", f"/tickets/{ticket.id}", headers=api.admin).json()["data"]
    assert [m["message"] for m in thread["messages"]] == ["hola"]
    assert api.store.list_messages(ticket.id)[0].is_read

    reply = api.call(
        "POST",
        f"/tickets/{ticket.id}/messages",
        headers=api.admin,
        json={"message": "<img src=x onerror=alert(1)>Hola 5 > 3 & 2"},
    )
    assert reply.status == 200
    assert reply.json()["data"]["message"] == "< img src=x onerror=alert(1)>Hola 5 > 3 & 2"
    assert reply.json()["data"]["sender_type"] == "admin"

    listed_for_user = api.call("GET", "/user/7/tickets", headers=api.user(7)).json()["data"][0]
    assert listed_for_user["unread_count"] == 1
    seen_by_user = api.call("GET", f"/user/7/tickets/{ticket.id}", headers=api.user(7)).json()["data"]
    assert seen_by_user["unread_count"] == 0
    assert [m["sender_type"] for m in seen_by_user["messages"]] == ["user", "admin"]


def test_polling_returns_only_newer_messages(api: Api) -> None:
    ticket = api.ticket_for(7)
    ids = [api.desk.post_message(Actor.user(7), ticket.id, f"m{n}").id for n in range(3)]
    admin = api.call("GET", f"/tickets/{ticket.id}/messages", headers=api.admin, query={"after_id": ids[0]})
    user = api.call(
        "GET", f"/user/7/tickets/{ticket.ticket_number}/messages", headers=api.user(7), query={"after_id": ids[1]}
    )
    everything = api.call("GET", f"/tickets/{ticket.id}/messages", headers=api.admin)
    assert [m["message"] for m in admin.json()["data"]] == ["m1", "m2"]
    assert [m["message"] for m in user.json()["data"]] == ["m2"]
    assert [m["id"] for m in everything.json()["data"]] == ids


def test_change_status_and_assignment(api: Api) -> None:
    ticket = api.ticket_for(7)
    path = f"/tickets/{ticket.ticket_number}/status"
    resolved = api.call("PUT", path, headers=api.admin, json={"status": "resolved", "assigned_to": 4})
    assert resolved.status == 200
    data = resolved.json()["data"]
    assert (data["status"], data["assigned_to"]) == ("resolved", 4)
    assert data["resolved_at"] is not None
    assert_utc_z(data)

    reopened = api.call("PUT", path, headers=api.admin, json={"status": "open"}).json()["data"]
    assert (reopened["status"], reopened["assigned_to"], reopened["resolved_at"]) == ("open", 4, None)
    unassigned = api.call("PUT", path, headers=api.admin, json={"status": "open", "assigned_to": None})
    assert unassigned.json()["data"]["assigned_to"] is None


def test_statistics(api: Api) -> None:
    ticket = api.ticket_for(7)
    api.desk.post_message(Actor.user(7), ticket.id, "hola")
    reply = api.call("GET", "/statistics", headers=api.admin)
    assert reply.status == 200
    data = reply.json()["data"]
    assert data["total_tickets"] == 1
    assert data["by_status"] == {"open": 1, "in_progress": 0, "resolved": 0, "closed": 0}
    assert data["by_category"]["general"] == 1 and data["by_priority"]["medium"] == 1
    assert data["unread_messages"] == 1


def test_message_on_a_closed_ticket_is_a_conflict(api: Api) -> None:
    ticket = api.ticket_for(7)
    api.desk.change_status(Actor.admin(1), ticket.id, "closed")
    before = api.written()
    for method, path, headers in (
        ("POST", f"/tickets/{ticket.id}/user-message", api.user(7)),
        ("POST", f"/tickets/{ticket.id}/messages", api.admin),
    ):
        reply = api.call(method, path, headers=headers, json={"message": "hola"})
        assert reply.status == 409
        assert reply.json()["error"]["code"] == "ticket_closed"
    reopen = api.call("PUT", f"/tickets/{ticket.id}/status", headers=api.admin, json={"status": "open"})
    assert (reopen.status, reopen.json()["error"]["code"]) == (409, "ticket_closed")
    assert api.written() == before


def test_unknown_ticket_is_404(api: Api) -> None:
    for method, path, headers in (
        ("GET", "/tickets/999", api.admin),
        ("GET", "/tickets/TKT-00000000", api.admin),
        ("GET", "/tickets/999/messages", api.admin),
        ("GET", "/user/7/tickets/999", api.user(7)),
    ):
        reply = api.call(method, path, headers=headers)
        assert reply.status == 404, path
        assert reply.json() == {
            "success": False,
            "error": {
                "code": "ticket_not_found",
                "message": "no such ticket",
                "details": reply.json()["error"]["details"],
            },
        }


class ExplodingStore(InMemoryStore):
    """A store whose reads fail: with a bug, or with an outage."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def list_tickets(self, query):  # type: ignore[no-untyped-def]
        raise self.error

    def insert_ticket(self, ticket):  # type: ignore[no-untyped-def]
        raise self.error


def test_unexpected_errors_are_500_without_a_stack_trace(adapter: str, caplog: Any) -> None:
    store = ExplodingStore(RuntimeError("secret connection string postgres://u:p@db"))
    api = make_api(adapter, SupportDesk(store), store)
    reply = api.call("GET", "/tickets", headers=api.admin)
    assert reply.status == 500
    assert reply.json() == {
        "success": False,
        "error": {"code": "internal_error", "message": "internal server error", "details": None},
    }
    assert b"Traceback" not in reply.body and b"secret" not in reply.body
    assert any("secret connection string" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def test_storage_unavailable_is_503_and_nothing_is_written(adapter: str) -> None:
    store = ExplodingStore(StorageUnavailable("database unreachable"))
    api = make_api(adapter, SupportDesk(store), store)
    for reply in (
        api.call("GET", "/tickets", headers=api.admin),
        api.call("POST", "/create-ticket", headers=api.user(3), json={"subject": "s", "description": "d"}),
    ):
        assert reply.status == 503
        assert reply.json()["error"]["code"] == "storage_unavailable"
    assert api.written() == [] and api.store.statistics().total_tickets == 0


def test_prefix_is_configurable(adapter: str) -> None:
    store = InMemoryStore()
    api = make_api(adapter, SupportDesk(store), store, prefix="/support/v1/")
    assert api.client.request("GET", "/support/v1/statistics", headers=api.admin).status == 200
    assert api.client.request("GET", PREFIX + "/statistics", headers=api.admin).status == 404
