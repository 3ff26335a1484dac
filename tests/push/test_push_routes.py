"""The device routes of spec §15 and the delivery record's routes, on both adapters."""

from __future__ import annotations

import json

import pytest

from supportchat import InMemoryStore, SupportDesk
from supportchat.extensions import extension
from supportchat.push import OwnerKind, PushStore
from supportchat.push.feature import feature

from ..api.conftest import make_api

TOKEN = "cX9:APA91b_abc-DEF.123"


@pytest.fixture(params=["flask", "fastapi"])
def api(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    store = InMemoryStore()
    return make_api(str(request.param), SupportDesk(store), store, features=[feature()])


def test_a_user_registers_refreshes_moves_and_removes_a_device(api) -> None:  # type: ignore[no-untyped-def]
    devices = extension(api.store, PushStore)
    reply = api.call("POST", "/user/4/devices", json={"token": TOKEN, "platform": "web"}, headers=api.user(4))
    assert reply.status == 200, reply.body
    data = json.loads(reply.body)["data"]
    assert data["token"] == TOKEN and data["platform"] == "web" and data["locale"] is None
    again = api.call(
        "POST", "/user/4/devices", json={"token": TOKEN, "platform": "web", "locale": "en"}, headers=api.user(4)
    )
    assert json.loads(again.body)["data"]["locale"] == "en"
    # The same phone, logged in as user 5: the token is 5's now, and 4 cannot remove it.
    assert (
        api.call("POST", "/user/5/devices", json={"token": TOKEN, "platform": "android"}, headers=api.user(5)).status
        == 200
    )
    assert [d.owner_id for d in devices.devices_of(OwnerKind.USER)] == [5]
    assert api.call("DELETE", f"/user/4/devices/{TOKEN}", headers=api.user(4)).status == 404
    assert api.call("DELETE", f"/user/5/devices/{TOKEN}", headers=api.user(4)).status == 403
    assert api.call("DELETE", f"/user/5/devices/{TOKEN}", headers=api.user(5)).status == 200
    assert devices.devices_of(OwnerKind.USER) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"platform": "android"}, "token"),
        ({"token": "", "platform": "android"}, "token"),
        ({"token": "has space", "platform": "android"}, "token"),
        ({"token": "a/b", "platform": "android"}, "token"),
        ({"token": "x" * 4097, "platform": "android"}, "token"),
        ({"token": TOKEN, "platform": "symbian"}, "platform"),
        ({"token": TOKEN}, "platform"),
        ({"token": TOKEN, "platform": "ios", "locale": "español"}, "locale"),
        ({"token": TOKEN, "platform": "ios", "locale": 5}, "locale"),
        ([TOKEN], "body"),
    ],
)
def test_a_bad_registration_names_the_field_and_writes_nothing(api, body: object, field: str) -> None:  # type: ignore[no-untyped-def]
    reply = api.call("POST", "/user/4/devices", json=body, headers=api.user(4))
    assert reply.status == 422, reply.body
    assert json.loads(reply.body)["error"]["details"]["field"] == field
    assert extension(api.store, PushStore).devices_of(OwnerKind.USER) == []


def test_agents_register_their_own_devices_and_only_admins_read_the_record(api) -> None:  # type: ignore[no-untyped-def]
    reply = api.call(
        "POST", "/agents/me/devices", json={"token": TOKEN, "platform": "ios", "locale": "es"}, headers=api.admin
    )
    assert reply.status == 200, reply.body
    [device] = extension(api.store, PushStore).devices_of(OwnerKind.AGENT)
    assert device.owner_id >= 1 and device.locale == "es"
    assert (
        api.call("POST", "/agents/me/devices", json={"token": TOKEN, "platform": "ios"}, headers=api.user(4)).status
        == 403
    )
    assert api.call("DELETE", f"/agents/me/devices/{TOKEN}", headers=api.admin).status == 200
    assert api.call("GET", "/push/status", headers=api.user(4)).status == 403
    status = json.loads(api.call("GET", "/push/status", headers=api.admin).body)["data"]
    assert status["configured"] is False and status["deliveries"]["pending"] == 0
    assert api.call("GET", "/tickets/TKT-00000000/push", headers=api.admin).status == 404


def test_the_openapi_document_lists_the_push_routes(api) -> None:  # type: ignore[no-untyped-def]
    paths = json.loads(api.call("GET", "/openapi.json").body)["paths"]
    prefix = "/admin/api/support"
    assert set(paths[f"{prefix}/user/{{user_id}}/devices"]) == {"post"}
    assert set(paths[f"{prefix}/user/{{user_id}}/devices/{{token}}"]) == {"delete"}
    assert set(paths[f"{prefix}/agents/me/devices"]) == {"post"}
    assert f"{prefix}/tickets/{{ticket_id}}/push" in paths and f"{prefix}/push/status" in paths
