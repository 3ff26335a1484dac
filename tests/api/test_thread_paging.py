"""Paging an opened ticket's thread over HTTP, on both adapters (issue 12 #2)."""

from __future__ import annotations

import pytest

from supportchat import Actor, SupportDesk
from supportchat.rules import Limits
from supportchat.stores import InMemoryStore

from .conftest import Api, make_api


@pytest.fixture
def paged(adapter: str) -> Api:
    store = InMemoryStore()
    return make_api(adapter, SupportDesk(store, limits=Limits(thread_messages=4, thread_messages_max=6)), store)


def _texts(reply_json: dict[str, object]) -> list[str]:
    data = reply_json["data"]
    assert isinstance(data, dict)
    return [m["message"] for m in data["messages"]]


@pytest.mark.parametrize("side", ["admin", "user"])
def test_a_ticket_opens_on_its_newest_messages_and_pages_back_with_before_id(paged: Api, side: str) -> None:
    api = paged
    ticket = api.ticket_for(5)
    for n in range(10):
        api.desk.post_message(Actor.user(5), ticket.id, f"m{n}")
    headers, path = (
        (api.admin, f"/tickets/{ticket.id}") if side == "admin" else (api.user(5), f"/user/5/tickets/{ticket.id}")
    )

    newest = api.call("GET", path, headers=headers).json()
    assert _texts(newest) == ["m6", "m7", "m8", "m9"] and newest["data"]["has_more_before"] is True
    assert newest["data"]["message_count"] == 10
    first_id = newest["data"]["messages"][0]["id"]
    older = api.call("GET", path, headers=headers, query={"before_id": first_id, "limit": 6}).json()
    assert _texts(older) == ["m0", "m1", "m2", "m3", "m4", "m5"] and older["data"]["has_more_before"] is False
    none = api.call("GET", path, headers=headers, query={"before_id": older["data"]["messages"][0]["id"]}).json()
    assert _texts(none) == [] and none["data"]["has_more_before"] is False


def test_paging_parameters_out_of_bounds_are_422_and_mark_nothing_read(paged: Api) -> None:
    api = paged
    ticket = api.ticket_for(5)
    api.desk.post_message(Actor.user(5), ticket.id, "hola")
    for query in ({"limit": 7}, {"limit": 0}, {"limit": "x"}, {"before_id": 0}, {"before_id": "-1"}):
        reply = api.call("GET", f"/tickets/{ticket.id}", headers=api.admin, query=query)
        assert reply.status == 422, query
        assert reply.json()["error"]["details"]["field"] in ("limit", "before_id")
    assert not any(m.is_read for m in api.store.list_messages(ticket.id))


def test_the_openapi_document_shows_paging_and_retry_after() -> None:
    from supportchat.adapters.fastapi import create_app
    from supportchat.http import InMemoryAdminTokens, TokenAuthenticator, UserTokens

    from .conftest import PREFIX, SECRET

    document = create_app(authenticator=TokenAuthenticator(InMemoryAdminTokens(), UserTokens(SECRET))).openapi()
    for path in (PREFIX + "/tickets/{ticket_id}", PREFIX + "/user/{user_id}/tickets/{ticket_id}"):
        operation = document["paths"][path]["get"]
        params = {p["name"]: p["schema"] for p in operation["parameters"]}
        assert params["before_id"]["minimum"] == 1
        assert (params["limit"]["default"], params["limit"]["maximum"]) == (50, 200)
        assert "429" not in operation["responses"]  # reads are never rate-limited
    assert "has_more_before" in document["components"]["schemas"]["TicketThread"]["properties"]
    writes = [(PREFIX + "/create-ticket", "post"), (PREFIX + "/tickets/{ticket_id}/status", "put")]
    for path, method in writes:
        limited = document["paths"][path][method]["responses"]["429"]
        assert limited["headers"]["Retry-After"]["schema"]["type"] == "integer"
