"""The automation routes (spec §18) on both adapters: canned responses, the knowledge base, the bot's sessions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from supportchat import Actor, SupportDesk
from supportchat.automation.feature import feature
from supportchat.people import Contact, attach
from supportchat.stores import InMemoryStore

from .conftest import Api, make_api


@pytest.fixture(params=["flask", "fastapi"])
def api(request: pytest.FixtureRequest) -> Api:
    store = InMemoryStore()
    desk = SupportDesk(store)
    attach(desk, contacts=lambda user_id: Contact(user_id=user_id, display_name="Lucía") if user_id == 21 else None)
    return make_api(str(request.param), desk, store, features=[feature()])


def data(reply: Any) -> Any:
    assert 200 <= reply.status < 300, reply.body
    return json.loads(reply.body)["data"]


def test_canned_responses_are_saved_listed_expanded_for_a_ticket_and_deleted(api: Api) -> None:
    made = data(
        api.call(
            "POST",
            "/canned-responses",
            headers=api.admin,
            json={
                "short_code": "/saludo",
                "title": "Saludo",
                "content": "Hola {{user.name}}, su ticket {{ticket.number}}",
            },
        )
    )
    assert made["short_code"] == "saludo" and made["owner_id"] is None
    assert [c["id"] for c in data(api.call("GET", "/canned-responses", headers=api.admin))] == [made["id"]]
    ticket = api.ticket_for(21)
    expanded = data(api.call("GET", f"/tickets/{ticket.id}/canned-responses/{made['id']}", headers=api.admin))
    assert expanded["content"] == f"Hola Lucía, su ticket {ticket.ticket_number}"
    # A contact with no name on file: a clear error, not a blank in the customer's message.
    other = api.ticket_for(22)
    refused = api.call("GET", f"/tickets/{other.id}/canned-responses/{made['id']}", headers=api.admin)
    assert refused.status == 422 and "user.name" in refused.body.decode()
    assert data(api.call("DELETE", f"/canned-responses/{made['id']}", headers=api.admin)) == {"deleted": True}
    assert api.call("DELETE", f"/canned-responses/{made['id']}", headers=api.admin).status == 404


def test_a_template_with_an_unknown_variable_or_a_taken_code_is_refused(api: Api) -> None:
    bad = api.call(
        "POST",
        "/canned-responses",
        headers=api.admin,
        json={"short_code": "x", "title": "X", "content": "{{user.nmae}}"},
    )
    assert bad.status == 422 and "user.nmae" in bad.body.decode()
    body = {"short_code": "x", "title": "X", "content": "Listo"}
    assert api.call("POST", "/canned-responses", headers=api.admin, json=body).status == 200
    taken = api.call("POST", "/canned-responses", headers=api.admin, json=body)
    assert taken.status == 409 and json.loads(taken.body)["error"]["code"] == "short_code_taken"
    missing = api.call("POST", "/canned-responses", headers=api.admin, json={"short_code": "y"})
    assert missing.status == 422


def test_articles_are_managed_by_admins_and_the_routes_are_staff_only(api: Api) -> None:
    body = {"title": "Reembolsos", "body": "Tardan de 5 a 10 días hábiles.", "language": "es", "tags": ["dinero"]}
    made = data(api.call("POST", "/knowledge-base/articles", headers=api.admin, json=body))
    assert made["tags"] == ["dinero"]
    assert [a["id"] for a in data(api.call("GET", "/knowledge-base/articles?language=es", headers=api.admin))] == [
        made["id"]
    ]
    assert data(api.call("GET", "/knowledge-base/articles?language=en", headers=api.admin)) == []
    replaced = data(
        api.call("PUT", f"/knowledge-base/articles/{made['id']}", headers=api.admin, json={**body, "body": "5 días"})
    )
    assert replaced["body"] == "5 días"
    assert (
        api.call("POST", "/knowledge-base/articles", headers=api.admin, json={**body, "language": "fr"}).status == 422
    )
    for method, path in (("GET", "/canned-responses"), ("GET", "/knowledge-base/articles"), ("GET", "/bot/sessions")):
        assert api.call(method, path, headers=api.user(21)).status == 403
        assert api.call(method, path).status == 401
    assert data(api.call("GET", "/bot/sessions?status=handed_off", headers=api.admin)) == []


def test_a_personal_response_is_its_owners_only(api: Api) -> None:
    desk = api.desk
    from supportchat.automation.service import Automation

    other = Automation(desk).add_canned(
        Actor.admin(999), {"short_code": "mio", "title": "Mío", "content": "Hola"}, personal=True
    )
    assert all(c["id"] != other.id for c in data(api.call("GET", "/canned-responses", headers=api.admin)))
    assert api.call("DELETE", f"/canned-responses/{other.id}", headers=api.admin).status == 404


def test_the_openapi_document_lists_the_automation_routes(api: Api) -> None:
    paths = json.loads(api.call("GET", "/openapi.json").body)["paths"]
    assert {"/admin/api/support/canned-responses", "/admin/api/support/knowledge-base/articles"} <= set(paths)
    assert paths["/admin/api/support/canned-responses"]["post"]["operationId"] == "add_canned_response"


def test_rules_are_validated_versioned_dry_run_and_logged(api: Api) -> None:
    rule = {
        "name": "Urgent to Ana",
        "trigger": {"kind": "event", "events": ["ticket_created"]},
        "conditions": [{"field": "priority", "op": "is", "value": "urgent"}],
        "actions": [{"kind": "assign", "value": 5}],
    }
    made = data(api.call("POST", "/automation/rules", headers=api.admin, json=rule))
    assert made["version"] == 1 and made["definition"]["name"] == "Urgent to Ana"
    again = data(api.call("PUT", f"/automation/rules/{made['id']}", headers=api.admin, json={**rule, "name": "Urgent"}))
    assert again["version"] == 2
    misspelt = api.call(
        "POST",
        "/automation/rules",
        headers=api.admin,
        json={**rule, "actions": [{"kind": "add_note", "value": "Hola {{user.nmae}}"}]},
    )
    assert misspelt.status == 422 and "user.nmae" in misspelt.body.decode()
    broken = api.call("POST", "/automation/rules", headers=api.admin, json={**rule, "trigger": {"kind": "never"}})
    assert broken.status == 422
    ticket = api.desk.create_ticket(Actor.user(21), subject="Caído", description="Nada va", priority="urgent")
    api.desk.create_ticket(Actor.user(21), subject="Duda", description="Pregunta", priority="low")
    window = {"from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}
    dry = data(api.call("POST", "/automation/rules/dry-run", headers=api.admin, json=window))
    assert [(f["rule_id"], f["ticket_id"], f["actions"]) for f in dry] == [
        (made["id"], ticket.id, [{"kind": "assign", "value": 5}])
    ]
    assert api.desk.store.get_ticket(ticket.id).assigned_to is None  # type: ignore[union-attr]  # wrote nothing
    assert data(api.call("GET", "/automation/log", headers=api.admin)) == []
    assert api.call("POST", "/automation/rules/dry-run", headers=api.admin, json={"from": "x", "to": "y"}).status == 422
    assert data(api.call("DELETE", f"/automation/rules/{made['id']}", headers=api.admin)) == {"deleted": True}
    assert api.call("GET", "/automation/rules", headers=api.user(21)).status == 403


def test_the_acknowledgement_is_set_read_and_turned_off_and_new_conditions_are_checked(api: Api) -> None:
    from supportchat.extensions import extension
    from supportchat.sla import CalendarIn, SlaStore

    sla: SlaStore = extension(api.store, SlaStore)  # type: ignore[type-abstract]
    sla.put_calendar(CalendarIn(name="office", time_zone="Europe/Madrid", hours={"mon": [("09:00", "18:00")]}))
    ids = [
        data(
            api.call(
                "POST",
                "/canned-responses",
                headers=api.admin,
                json={"short_code": code, "title": code, "content": f"{code} {{{{ticket.number}}}}"},
            )
        )["id"]
        for code in ("dentro", "inside", "fuera", "outside")
    ]
    assert data(api.call("GET", "/automation/acknowledgement", headers=api.admin))["enabled"] is False
    body = {
        "enabled": True,
        "calendar": "office",
        "inside": {"es": ids[0], "en": ids[1]},
        "outside": {"es": ids[2], "en": ids[3]},
    }
    made = data(api.call("PUT", "/automation/acknowledgement", headers=api.admin, json=body))
    assert made["enabled"] and made["calendar"] == "office" and made["outside"] == {"es": ids[2], "en": ids[3]}
    rules = data(api.call("GET", "/automation/rules", headers=api.admin))
    assert [r["id"] for r in rules] == [made["rule_id"]], "a rule like any other: versioned, logged, capped"
    off = data(api.call("PUT", "/automation/acknowledgement", headers=api.admin, json={"enabled": False}))
    assert off["enabled"] is False and off["rule_version"] == 2 and off["inside"] == made["inside"]
    nowhere = api.call("PUT", "/automation/acknowledgement", headers=api.admin, json={**body, "calendar": "mars"})
    assert nowhere.status == 422 and "mars" in nowhere.body.decode()
    assert api.call("PUT", "/automation/acknowledgement", headers=api.user(21), json=body).status == 403
    condition = {"field": "business_hours", "op": "is", "value": True}
    rule = {"name": "Out of hours", "trigger": {"kind": "event", "events": ["sla_breached"]}}
    no_calendar = api.call(
        "POST",
        "/automation/rules",
        headers=api.admin,
        json={**rule, "conditions": [condition], "actions": [{"kind": "add_tags", "value": ["late"]}]},
    )
    assert no_calendar.status == 422 and "calendar" in no_calendar.body.decode()
    saved = data(
        api.call(
            "POST",
            "/automation/rules",
            headers=api.admin,
            json={
                **rule,
                "conditions": [{**condition, "calendar": "office"}, {"field": "channel", "op": "is", "value": "email"}],
                "actions": [{"kind": "add_tags", "value": ["Tarde"]}, {"kind": "notify", "value": {"text": "Tarde"}}],
            },
        )
    )
    assert saved["definition"]["actions"][0] == {"kind": "add_tags", "value": ["tarde"]}
