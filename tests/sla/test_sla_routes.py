"""The SLA over HTTP on both adapters: calendars and policies for admins, ``sla`` on the admin ticket JSON, sort=due.

A user's routes never carry ``sla`` (the customer projection is a whitelist).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from supportchat import SupportDesk
from supportchat.models import Actor
from supportchat.sla import SlaClock
from supportchat.sla.feature import feature
from supportchat.stores import InMemoryStore, SQLiteStore

from ..api.conftest import make_api

CALENDAR = {
    "time_zone": "UTC",
    "hours": {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
}


def data(reply: Any) -> Any:
    assert reply.status == 200, reply.body
    return json.loads(reply.body)["data"]


@pytest.mark.parametrize("backend", ["sqlite", "memory"])
@pytest.mark.parametrize("adapter", ["flask", "fastapi"])
def test_admins_manage_policies_and_see_sla_on_tickets_sorted_by_due(adapter: str, backend: str, tmp_path: Any) -> None:
    store = SQLiteStore(tmp_path / "desk.db") if backend == "sqlite" else InMemoryStore()
    desk = SupportDesk(store)
    api = make_api(adapter, desk, store, features=[feature()])
    admin = {"headers": api.admin}
    assert api.call("PUT", "/sla/calendars/always", json=CALENDAR, headers=api.user(3)).status == 403
    assert data(api.call("PUT", "/sla/calendars/always", json=CALENDAR, **admin))["name"] == "always"
    bad = api.call("PUT", "/sla/calendars/x", json={**CALENDAR, "time_zone": "Mars/Olympus"}, **admin)
    assert bad.status == 422, bad.body
    urgent = {"calendar": "always", "position": 0, "conditions": {"priority": ["urgent"]}, "first_response_minutes": 10}
    normal = {"calendar": "always", "position": 1, "first_response_minutes": 240, "resolution_minutes": 2880}
    assert data(api.call("PUT", "/sla/policies/urgent", json=urgent, **admin))["conditions"]["priority"] == ["urgent"]
    data(api.call("PUT", "/sla/policies/normal", json=normal, **admin))
    assert [p["name"] for p in data(api.call("GET", "/sla/policies", **admin))] == ["urgent", "normal"]
    assert api.call("DELETE", "/sla/calendars/always", **admin).status == 409  # in use

    clock = SlaClock(desk)
    slow = desk.create_ticket(Actor.user(3), subject="Slow", description="one")
    fast = desk.create_ticket(Actor.user(3), subject="Fast", description="two", priority="urgent")
    bare = desk.create_ticket(Actor.user(3), subject="Category", description="three", category="billing")
    for ticket in (slow, fast):
        clock.apply(ticket)
    one = data(api.call("GET", f"/tickets/{fast.ticket_number}", **admin))
    assert one["sla"]["policy"] == "urgent" and one["sla"]["breached"] == [] and one["sla"]["paused"] is False
    due = datetime.fromisoformat(one["sla"]["first_response_due"].replace("Z", "+00:00"))
    assert abs(due - (fast.created_at + timedelta(minutes=10))) < timedelta(seconds=1)
    listed = data(api.call("GET", "/tickets", **admin))
    assert {t["id"]: (t["sla"] or {}).get("policy") for t in listed} == {
        bare.id: None,
        fast.id: "urgent",
        slow.id: "normal",
    }
    by_due = json.loads(api.call("GET", "/tickets?sort=due", **admin).body)
    assert [t["id"] for t in by_due["data"]] == [fast.id, slow.id] and by_due["meta"]["total"] == 2
    assert [t["id"] for t in data(api.call("GET", "/tickets?sort=due&priority=medium", **admin))] == [slow.id]
    assert api.call("GET", "/tickets?sort=oldest", **admin).status == 422
    assert api.call("GET", "/tickets?sort=due&q=x", **admin).status == 422
    assert data(api.call("GET", f"/tickets/{slow.id}/sla", **admin))["policy"] == "normal"
    changed = data(api.call("PUT", f"/tickets/{slow.id}/status", json={"status": "in_progress"}, **admin))
    assert changed["sla"]["policy"] == "normal"
    # The explicit change: re-applied, the running deadlines start again from now.
    before = data(api.call("GET", f"/tickets/{slow.id}/sla", **admin))
    reapplied = data(api.call("POST", f"/tickets/{slow.ticket_number}/sla/reapply", **admin))
    assert reapplied["policy"] == "normal" and reapplied["first_response_due"] > before["first_response_due"]
    assert data(api.call("GET", "/sla/events", **admin)) == []
    assert len(clock.scan(due.timestamp() + 1)) == 1
    [event] = data(api.call("GET", f"/sla/events?ticket_id={fast.ticket_number}", **admin))
    assert (event["type"], event["target"], event["ticket_id"]) == ("sla_breached", "first_response", fast.id)
    assert api.call("GET", "/sla/events", headers=api.user(3)).status == 403
    # The user's view of the same ticket carries no SLA.
    mine = data(api.call("GET", f"/user/3/tickets/{fast.id}", headers=api.user(3)))
    assert "sla" not in mine
    document = json.loads(api.call("GET", "/openapi.json").body)
    assert "/admin/api/support/sla/policies/{name}" in document["paths"]
    assert any(p["name"] == "sort" for p in document["paths"]["/admin/api/support/tickets"]["get"]["parameters"])


def test_a_ticket_under_no_policy_answers_sla_null() -> None:
    store = InMemoryStore()
    desk = SupportDesk(store)
    api = make_api("flask", desk, store, features=[feature()])
    ticket = desk.create_ticket(Actor.user(3), subject="Hi", description="there")
    assert data(api.call("GET", f"/tickets/{ticket.id}", headers=api.admin))["sla"] is None
    assert data(api.call("GET", "/tickets", headers=api.admin))[0]["sla"] is None
