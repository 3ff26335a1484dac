"""`q` over HTTP (spec §13): both lists, both adapters, every backend."""

from __future__ import annotations

from supportchat import Actor

from .conftest import Api


def test_the_admin_and_the_users_list_search_with_highlights(api: Api) -> None:
    mine = api.desk.create_ticket(Actor.user(5), subject="Reembolsó del vuelo", description="Pagué dos veces")
    theirs = api.desk.create_ticket(Actor.user(6), subject="Otro reembolso", description="El mismo problema")
    api.desk.post_message(Actor.user(6), theirs.id, "reembolso, por favor")

    admin = api.call("GET", "/tickets?q=REEMBOLSO", headers=api.admin).json()
    assert admin["meta"]["total"] == 2
    assert {t["id"] for t in admin["data"]} == {mine.id, theirs.id}
    assert all("\u0002" in t["highlight"] and "\u0003" in t["highlight"] for t in admin["data"])

    own = api.call("GET", "/user/5/tickets?q=reembolso", headers=api.user(5)).json()
    assert [t["id"] for t in own["data"]] == [mine.id] and own["meta"]["total"] == 1
    assert own["data"][0]["highlight"] == "\u0002Reembolsó\u0003 del vuelo Pagué dos veces"
    # Another user's ticket named by its number is neither returned nor counted.
    other = api.call("GET", f"/user/5/tickets?q={theirs.ticket_number.lower()}", headers=api.user(5)).json()
    assert other["data"] == [] and other["meta"]["total"] == 0

    plain = api.call("GET", "/tickets", headers=api.admin).json()
    assert all(t["highlight"] is None for t in plain["data"])
