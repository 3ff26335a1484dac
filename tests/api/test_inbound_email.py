"""``POST {prefix}/inbound/email`` on both adapters: raw RFC 822 in, authenticated by the shared secret."""

from __future__ import annotations

import base64
import json

import pytest

from supportchat import InMemoryStore, SupportDesk
from supportchat.mail import MailSettings
from supportchat.mail.feature import feature

from .clients import fastapi_app
from .conftest import make_api
from .test_features import ANYONE

SECRET = "inbound-shared-secret"
SETTINGS = MailSettings(address="support@example.com", secret="thread-secret", inbound_secret=SECRET)
RAW = (
    b"From: Ana <ana@example.org>\r\nTo: support@example.com\r\nSubject: Sin acceso\r\n"
    b"Message-ID: <http-1@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nNo puedo entrar.\r\n"
)


def basic(password: str) -> dict[str, str]:
    token = base64.b64encode(f"provider:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}", "Content-Type": "message/rfc822"}


@pytest.mark.parametrize("adapter", ["flask", "fastapi"])
def test_a_posted_mail_opens_a_ticket_once_and_only_with_the_secret(adapter: str) -> None:
    store = InMemoryStore()
    desk = SupportDesk(store)
    api = make_api(adapter, desk, store, features=[feature(SETTINGS)])
    assert api.call("POST", "/inbound/email", content=RAW, headers={"Content-Type": "message/rfc822"}).status == 401
    assert api.call("POST", "/inbound/email", content=RAW, headers=basic("wrong")).status == 401
    assert api.call("POST", "/inbound/email", content=RAW, headers=api.admin).status == 401  # an admin token is not it
    assert store.statistics().total_tickets == 0
    reply = api.call("POST", "/inbound/email", content=RAW, headers=basic(SECRET))
    assert reply.status == 200, reply.body
    data = json.loads(reply.body)["data"]
    assert data["outcome"] == "new_ticket" and not data["duplicate"] and data["ticket_id"] is not None
    again = api.call("POST", "/inbound/email", content=RAW, headers={"Authorization": f"Bearer {SECRET}"})
    assert json.loads(again.body)["data"] == {**data, "duplicate": True}
    assert store.statistics().total_tickets == 1
    ticket = store.get_ticket(data["ticket_id"])
    assert ticket is not None and ticket.description == "No puedo entrar."


@pytest.mark.parametrize("adapter", ["flask", "fastapi"])
def test_without_an_inbound_secret_the_route_refuses_everyone(adapter: str) -> None:
    store = InMemoryStore()
    settings = MailSettings(address="support@example.com", secret="thread-secret")
    api = make_api(adapter, SupportDesk(store), store, features=[feature(settings)])
    assert api.call("POST", "/inbound/email", content=RAW, headers=basic("")).status == 401


def test_the_openapi_document_describes_the_raw_body_and_the_shared_secret() -> None:
    from fastapi.testclient import TestClient

    app = fastapi_app(SupportDesk(InMemoryStore()), authenticator=ANYONE, features=[feature(SETTINGS)])
    document = TestClient(app).get("/openapi.json").json()
    operation = document["paths"]["/admin/api/support/inbound/email"]["post"]
    assert list(operation["requestBody"]["content"]) == ["message/rfc822"]
    assert operation["security"] == [{"SharedSecret": []}]
    assert document["components"]["securitySchemes"]["SharedSecret"]["scheme"] == "basic"


@pytest.mark.parametrize("adapter", ["flask", "fastapi"])
def test_a_user_opts_in_to_replies_by_mail_for_themselves_only(adapter: str) -> None:
    store = InMemoryStore()
    api = make_api(adapter, SupportDesk(store), store, features=[feature(SETTINGS)])
    path = "/user/7/mail-preferences"
    assert json.loads(api.call("GET", path, headers=api.user(7)).body)["data"] == {"notify_replies": False}
    put = api.call("PUT", path, json={"notify_replies": True}, headers=api.user(7))
    assert put.status == 200 and json.loads(put.body)["data"] == {"notify_replies": True}
    assert json.loads(api.call("GET", path, headers=api.user(7)).body)["data"] == {"notify_replies": True}
    assert api.call("PUT", path, json={"notify_replies": True}, headers=api.user(8)).status in (403, 404)
    assert api.call("PUT", path, json={"notify_replies": "yes"}, headers=api.user(7)).status == 422
