"""Notes and tags over HTTP (spec §12): both adapters, every backend, and the OpenAPI document."""

from __future__ import annotations

from supportchat import Actor
from supportchat.http.openapi import document

from .conftest import Api


def test_an_admin_writes_notes_and_tags_and_the_owner_sees_neither(api: Api) -> None:
    ticket = api.ticket_for(5)
    note = api.call(
        "POST", f"/tickets/{ticket.ticket_number}/notes", headers=api.admin, json={"note": " Llamar <b>hoy</b> "}
    )
    assert note.status == 200, note.body
    assert note.json()["data"]["note"] == "Llamar <b>hoy</b>" and note.json()["data"]["author_id"] == 1
    assert "uid" not in note.json()["data"]
    listed = api.call("GET", f"/tickets/{ticket.id}/notes", headers=api.admin).json()["data"]
    assert [n["id"] for n in listed] == [note.json()["data"]["id"]]

    tagged = api.call("PUT", f"/tickets/{ticket.id}/tags", headers=api.admin, json={"tags": ["VIP", "Reembolsó"]})
    assert tagged.status == 200 and tagged.json()["data"]["tags"] == ["reembolso", "vip"]
    added = api.call("POST", f"/tickets/{ticket.id}/tags", headers=api.admin, json={"tags": ["bug_42"]}).json()
    assert added["data"]["tags"] == ["bug_42", "reembolso", "vip"]
    # In a path the tag is written as stored (the document's pattern); bodies take any spelling.
    assert api.call("DELETE", f"/tickets/{ticket.id}/tags/VIP", headers=api.admin).status == 422
    removed = api.call("DELETE", f"/tickets/{ticket.id}/tags/vip", headers=api.admin).json()
    assert removed["data"]["tags"] == ["bug_42", "reembolso"]

    thread = api.call("GET", f"/tickets/{ticket.id}", headers=api.admin).json()["data"]
    assert [n["note"] for n in thread["notes"]] == ["Llamar <b>hoy</b>"] and thread["tags"] == ["bug_42", "reembolso"]
    assert api.call("GET", "/tickets?tag=Reembolsó", headers=api.admin).status == 422  # a filter names the stored tag
    listing = api.call("GET", "/tickets?tag=reembolso", headers=api.admin).json()
    assert [t["id"] for t in listing["data"]] == [ticket.id] and listing["meta"]["total"] == 1
    assert listing["data"][0]["tags"] == ["bug_42", "reembolso"]
    assert api.call("GET", "/statistics", headers=api.admin).json()["data"]["by_tag"] == {"bug_42": 1, "reembolso": 1}
    fields = [c["field"] for c in api.call("GET", f"/tickets/{ticket.id}/history", headers=api.admin).json()["data"]]
    assert fields == ["note", "tags", "tags", "tags"]

    owner = api.user(5)
    for path in (f"/user/5/tickets/{ticket.id}", "/user/5/tickets", f"/user/5/tickets/{ticket.id}/messages"):
        body = api.call("GET", path, headers=owner).body
        assert b"Llamar" not in body and b"reembolso" not in body and b'"tags"' not in body and b'"notes"' not in body


def test_the_owner_and_strangers_cannot_touch_notes_or_tags(api: Api) -> None:
    ticket = api.ticket_for(5)
    owner = api.user(5)
    for method, path, body in (
        ("POST", f"/tickets/{ticket.id}/notes", {"note": "mine"}),
        ("GET", f"/tickets/{ticket.id}/notes", None),
        ("PUT", f"/tickets/{ticket.id}/tags", {"tags": ["x"]}),
        ("DELETE", f"/tickets/{ticket.id}/tags/x", None),
    ):
        assert api.call(method, path, headers=owner, json=body).status in (401, 403)
        assert api.call(method, path, json=body).status == 401
    assert api.call("POST", "/tickets/999999/notes", headers=api.admin, json={"note": "x"}).status == 404
    assert api.call("PUT", "/tickets/TKT-ZZZZZZZZ/tags", headers=api.admin, json={"tags": []}).status == 404
    bad = api.call("PUT", f"/tickets/{ticket.id}/tags", headers=api.admin, json={"tags": ["no/slash"]})
    assert bad.status == 422 and bad.json()["error"]["details"]["field"] == "tags"
    blank = api.call("POST", f"/tickets/{ticket.id}/notes", headers=api.admin, json={"note": " \u200b "})
    assert blank.status == 422 and blank.json()["error"]["details"]["field"] == "note"
    assert api.call("GET", "/tickets?tag=a%2Fb", headers=api.admin).status == 422
    assert api.store.list_notes(ticket.id) == [] and api.store.ticket_tags([ticket.id]) == {}
    assert api.desk.get_ticket(Actor.admin(1), ticket.id).notes == []


def test_the_openapi_document_lists_the_notes_and_tags_routes() -> None:
    openapi = document()
    paths = openapi["paths"]
    assert {"post", "get"} <= set(paths["/admin/api/support/tickets/{ticket_id}/notes"])
    assert {"put", "post"} <= set(paths["/admin/api/support/tickets/{ticket_id}/tags"])
    assert "delete" in paths["/admin/api/support/tickets/{ticket_id}/tags/{tag}"]
    listing = paths["/admin/api/support/tickets"]["get"]
    assert "tag" in {p["name"] for p in listing["parameters"]}
