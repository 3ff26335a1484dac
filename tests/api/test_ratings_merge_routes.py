"""Ratings and merges over HTTP (spec §12): both adapters, every backend."""

from __future__ import annotations

from supportchat import Actor

from .conftest import Api

OWNER = Actor.user(5)


def test_the_owner_rates_a_resolved_ticket_once_per_resolution(api: Api) -> None:
    ticket = api.ticket_for(5)
    path = f"/user/5/tickets/{ticket.ticket_number}/rating"
    early = api.call("POST", path, json={"score": 5}, headers=api.user(5))
    assert early.status == 409
    assert early.json()["error"]["code"] == "rating_not_open"
    assert early.json()["error"]["details"]["reason"] == "not_resolved"

    api.desk.change_status(Actor.admin(100), ticket.id, "resolved", assigned_to=100)
    assert api.call("POST", path, json={"score": 9}, headers=api.user(5)).status == 422
    assert api.call("POST", "/user/6/tickets/1/rating", json={"score": 5}, headers=api.user(5)).status == 403
    assert api.call("POST", path.replace("/5/", "/6/"), json={"score": 5}, headers=api.user(6)).status == 404
    reply = api.call("POST", path, json={"score": 4, "comment": "Rápido <b>y</b> amable"}, headers=api.user(5))
    assert reply.status == 200, reply.body
    rating = reply.json()["data"]
    assert rating == {
        "ticket_id": ticket.id,
        "cycle": 1,
        "score": 4,
        "comment": "Rápido <b>y</b> amable",
        "created_at": rating["created_at"],
    }
    assert rating["created_at"].endswith("Z")
    again = api.call("POST", path, json={"score": 1}, headers=api.user(5))
    assert (again.status, again.json()["error"]["code"]) == (409, "rating_not_open")
    assert again.json()["error"]["details"]["reason"] == "already_rated"

    own = api.call("GET", f"/user/5/tickets/{ticket.id}", headers=api.user(5)).json()["data"]
    assert own["rating"] == rating  # the owner sees their rating, never the agent it counts for
    admin = api.call("GET", f"/tickets/{ticket.id}", headers=api.admin).json()["data"]
    assert admin["rating"]["agent_id"] == 100 and len(admin["ratings"]) == 1
    history = api.call("GET", f"/tickets/{ticket.id}/history", headers=api.admin).json()["data"]
    assert [c["field"] for c in history][-1] == "rating"


def test_an_admin_merges_and_the_source_leads_to_the_target(api: Api) -> None:
    source, target = api.ticket_for(5, "Pago doble"), api.ticket_for(5, "Reembolso")
    other = api.ticket_for(6, "Otro usuario")
    first = api.desk.post_message(OWNER, source.id, "Me cobraron dos veces")
    second = api.desk.post_message(Actor.admin(100), target.id, "Lo revisamos")

    refused = api.call("POST", f"/tickets/{source.id}/merge", json={"into": other.id}, headers=api.admin)
    assert (refused.status, refused.json()["error"]["code"]) == (409, "different_owners")
    itself = api.call("POST", f"/tickets/{source.id}/merge", json={"into": source.ticket_number}, headers=api.admin)
    assert (itself.status, itself.json()["error"]["code"]) == (409, "merge_into_itself")
    as_user = api.call("POST", f"/tickets/{source.id}/merge", json={"into": target.id}, headers=api.user(5))
    assert as_user.status in (401, 403)

    merged = api.call(
        "POST", f"/tickets/{source.ticket_number}/merge", json={"into": target.ticket_number}, headers=api.admin
    )
    assert merged.status == 200, merged.body
    assert merged.json()["data"]["id"] == target.id and merged.json()["data"]["message_count"] == 2
    again = api.call("POST", f"/tickets/{source.id}/merge", json={"into": target.id}, headers=api.admin)
    assert (again.status, again.json()["error"]["code"]) == (409, "already_merged")

    for ref in (source.id, source.ticket_number, source.ticket_number.lower()):
        thread = api.call("GET", f"/user/5/tickets/{ref}", headers=api.user(5)).json()["data"]
        assert thread["id"] == target.id
        assert [m["id"] for m in thread["messages"]] == [first.id, second.id]
        polled = api.call("GET", f"/user/5/tickets/{ref}/messages?after_id=0", headers=api.user(5)).json()["data"]
        assert [m["id"] for m in polled] == [first.id, second.id]
        assert api.call("GET", f"/tickets/{ref}", headers=api.admin).json()["data"]["id"] == target.id
        assert api.call("GET", f"/user/6/tickets/{ref}", headers=api.user(6)).status == 404
    posted = api.call(
        "POST", f"/tickets/{source.ticket_number}/user-message", json={"message": "Gracias"}, headers=api.user(5)
    )
    assert posted.status == 200 and posted.json()["data"]["ticket_id"] == target.id

    listed = api.call("GET", "/user/5/tickets?status=closed", headers=api.user(5)).json()["data"]
    assert [(t["id"], t["merged_into"]) for t in listed] == [(source.id, target.id)]
    source_history = api.desk.store.list_changes(source.id)
    assert [c.field for c in source_history] == ["status", "merged_into"]
    target_history = api.call("GET", f"/tickets/{target.id}/history", headers=api.admin).json()["data"]
    assert ("merged_from", str(source.id)) in [(c["field"], c["new_value"]) for c in target_history]
