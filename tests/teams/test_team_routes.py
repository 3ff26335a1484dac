"""The teams' routes on both adapters: teams, availability, the queue and the transfer, with its 409s."""

from __future__ import annotations

import json
from typing import Any

import pytest

from supportchat import Actor, InMemoryStore, SupportDesk
from supportchat.extensions import extension
from supportchat.jobs import JobStore
from supportchat.people import agent_store, parse_agent
from supportchat.teams.feature import NOTICE_KIND, feature

from ..api.clients import fastapi_app
from ..api.conftest import make_api

ADMIN = Actor.admin(1)


def data(reply: Any) -> Any:
    assert reply.status == 200, reply.body
    return json.loads(reply.body)["data"]


def error(reply: Any, status: int) -> dict[str, Any]:
    assert reply.status == status, reply.body
    found: dict[str, Any] = json.loads(reply.body)["error"]
    return found


@pytest.fixture(params=["flask", "fastapi"])
def api(request: pytest.FixtureRequest) -> Any:
    store = InMemoryStore()
    for agent_id, capacity in ((1, 1), (2, 0)):
        agent_store(store).put_agent(parse_agent(id=agent_id, name=f"agent {agent_id}", capacity=capacity))
    return make_api(request.param, SupportDesk(store), store, features=[feature()])


def test_teams_are_made_changed_listed_and_removed(api: Any) -> None:
    made = data(api.call("PUT", "/teams/billing", headers=api.admin, json={"categories": ["billing"]}))
    assert made == {
        "name": "billing",
        "display_name": "billing",
        "auto_assign": False,
        "categories": ["billing"],
        "members": [],
        "waiting": 0,
    }
    data(api.call("PUT", "/teams/billing/members/1", headers=api.admin))
    changed = data(api.call("PUT", "/teams/billing", headers=api.admin, json={"auto_assign": True}))
    assert changed["auto_assign"] and changed["categories"] == ["billing"] and changed["members"] == [1]
    assert [t["name"] for t in data(api.call("GET", "/teams", headers=api.admin))] == ["billing"]
    assert (
        error(api.call("PUT", "/teams/Not%20a%20name", headers=api.admin, json={}), 422)["details"]["field"] == "name"
    )
    assert error(api.call("PUT", "/teams/x", headers=api.admin, json={"categories": ["pets"]}), 422)["details"][
        "allowed"
    ]
    assert data(api.call("DELETE", "/teams/billing", headers=api.admin)) == {"removed": True}
    assert data(api.call("DELETE", "/teams/billing", headers=api.admin)) == {"removed": False}
    assert api.call("GET", "/teams", headers=api.user(5)).status == 403
    assert api.call("GET", "/teams").status == 401


def test_availability_is_set_and_listed(api: Any) -> None:
    away = data(api.call("PUT", "/agents/2/availability", headers=api.admin, json={"status": "away", "capacity": 3}))
    assert away["status"] == "away" and away["capacity"] == 3 and away["takes_tickets"] is False
    listed = {a["id"]: a for a in data(api.call("GET", "/availability", headers=api.admin))}
    assert listed[1]["status"] == "available" and listed[1]["takes_tickets"] is True
    assert listed[2]["status"] == "away"
    refused = error(api.call("PUT", "/agents/2/availability", headers=api.admin, json={"status": "napping"}), 422)
    assert refused["details"]["allowed"] == ["available", "away", "offline"]
    assert error(api.call("PUT", "/agents/99/availability", headers=api.admin, json={"status": "away"}), 422)


def test_transfer_answers_the_ticket_and_409_for_unavailable_or_full_agents(api: Any) -> None:
    first = api.ticket_for(5)
    second = api.ticket_for(6)
    moved = data(
        api.call("POST", f"/tickets/{first.ticket_number}/transfer", headers=api.admin, json={"to": 1, "note": "vip"})
    )
    assert moved["assigned_to"] == 1 and moved["ticket_number"] == first.ticket_number
    full = error(api.call("POST", f"/tickets/{second.id}/transfer", headers=api.admin, json={"to": 1}), 409)
    assert full["code"] == "agent_at_capacity" and full["details"] == {"agent_id": 1, "capacity": 1}
    data(api.call("PUT", "/agents/2/availability", headers=api.admin, json={"status": "offline"}))
    away = error(api.call("POST", f"/tickets/{second.id}/transfer", headers=api.admin, json={"to": 2}), 409)
    assert away["code"] == "agent_unavailable"
    forced = data(
        api.call(
            "POST",
            f"/tickets/{second.id}/transfer",
            headers=api.admin,
            json={"to": 2, "reason": "only she knows", "force": True},
        )
    )
    assert forced["assigned_to"] == 2
    history = data(api.call("GET", f"/tickets/{second.id}/history", headers=api.admin))
    assert [(h["field"], h["new_value"], h["changed_by"]) for h in history] == [
        ("assigned_to", "2", 1),
        ("transfer_reason", "only she knows", 1),
        ("transfer_forced", "true", 1),
    ]
    notices = extension(api.store, JobStore).list_jobs(kind=NOTICE_KIND)
    assert [(n.payload["to_agent"], n.payload["notify"]) for n in notices] == [(1, [1]), (2, [2])]
    assert api.call("POST", f"/tickets/{second.id}/transfer", headers=api.user(6), json={"to": 1}).status == 403
    # The reason and the note are the agents': the owner's view of the ticket carries neither.
    seen = api.call("GET", f"/user/6/tickets/{second.id}", headers=api.user(6))
    assert seen.status == 200 and b"only she knows" not in seen.body and b"transfer" not in seen.body
    assert api.call("GET", f"/tickets/{second.id}/history", headers=api.user(6)).status == 403
    assert error(api.call("POST", "/tickets/TKT-00000000/transfer", headers=api.admin, json={"to": 1}), 404)


def test_a_transfer_to_a_team_waits_in_its_queue(api: Any) -> None:
    data(api.call("PUT", "/teams/night", headers=api.admin, json={"auto_assign": True}))
    ticket = api.ticket_for(5)
    moved = data(api.call("POST", f"/tickets/{ticket.id}/transfer", headers=api.admin, json={"team": "night"}))
    assert moved["assigned_to"] is None
    queue = data(api.call("GET", "/teams/night/queue", headers=api.admin))
    assert [entry["ticket_id"] for entry in queue] == [ticket.id]
    data(api.call("PUT", "/teams/night/members/2", headers=api.admin))
    assert data(api.call("GET", "/teams/night/queue", headers=api.admin)) == []
    assert api.desk.store.get_ticket(ticket.id).assigned_to == 2


def test_the_openapi_document_lists_the_teams_routes() -> None:
    from fastapi.testclient import TestClient

    from ..api.test_features import ANYONE

    app = fastapi_app(SupportDesk(InMemoryStore()), authenticator=ANYONE, features=[feature()])
    paths = TestClient(app).get("/openapi.json").json()["paths"]
    assert paths["/admin/api/support/tickets/{ticket_id}/transfer"]["post"]["operationId"] == "transfer_ticket"
    assert "409" in paths["/admin/api/support/tickets/{ticket_id}/transfer"]["post"]["responses"]
    assert {"/admin/api/support/teams", "/admin/api/support/availability"} <= set(paths)
