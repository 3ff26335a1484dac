"""``POST {prefix}/inbound/email`` on both adapters: raw RFC 822 in, authenticated by the shared secret."""

from __future__ import annotations

import base64
import json
from pathlib import Path

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


@pytest.mark.parametrize("adapter", ["flask", "fastapi"])
def test_a_posted_mails_files_reach_the_user_and_the_admin_as_attachments(adapter: str, tmp_path: Path) -> None:
    from supportchat.attachments import Attachments, LocalBlobStore, UrlSigner
    from supportchat.attachments.feature import feature as attachments_feature

    store = InMemoryStore()
    desk = SupportDesk(store)
    attachments = Attachments(LocalBlobStore(tmp_path / "blobs"), UrlSigner("a" * 32), spool=tmp_path / "spool")
    features = [feature(SETTINGS, attachments=attachments), attachments_feature(attachments)]
    api = make_api(adapter, desk, store, features=features)
    raw = (Path(__file__).resolve().parents[1] / "corpora" / "mail" / "36_apple_photo_and_pdf.eml").read_bytes()
    posted = json.loads(api.call("POST", "/inbound/email", content=raw, headers=basic(SECRET)).body)["data"]
    ticket = store.get_ticket(posted["ticket_id"])
    assert ticket is not None
    # The user's API (the customer projection): each message with its attachment and a signed URL.
    thread = api.call("GET", f"/user/{ticket.user_id}/tickets/{ticket.id}", headers=api.user(ticket.user_id))
    assert thread.status == 200, thread.body
    messages = json.loads(thread.body)["data"]["messages"]
    shown = [(m["message_type"], m["attachment"]["filename"], m["attachment"]["kind"]) for m in messages]
    assert shown == [("image", "IMG_1234.jpeg", "image"), ("file", "albaran.pdf", "file")]
    photo = messages[0]["attachment"]
    assert photo["thumbnail_url"] and messages[0]["file_url"] == photo["url"]
    served = api.client.request("GET", photo["thumbnail_url"])
    assert served.status == 200 and served.body[:2] in (b"\xff\xd8", b"\x89P")
    # The admin's view (the panel reads the same route): the same attachments.
    admin = json.loads(api.call("GET", f"/tickets/{ticket.id}", headers=api.admin).body)["data"]
    assert [m["attachment"]["id"] for m in admin["messages"]] == [m["attachment"]["id"] for m in messages]


@pytest.mark.parametrize("adapter", ["flask", "fastapi"])
def test_a_posted_mail_may_be_as_large_as_the_channel_accepts_and_no_larger(adapter: str) -> None:
    store = InMemoryStore()
    settings = MailSettings(address="support@example.com", secret="s", inbound_secret=SECRET, max_bytes=3 * 1024 * 1024)
    api = make_api(adapter, SupportDesk(store), store, features=[feature(settings)])
    body = b"x" * (2 * 1024 * 1024)  # above the adapters' 1 MiB limit for JSON bodies
    large = RAW.replace(b"No puedo entrar.", body)
    assert api.call("POST", "/inbound/email", content=large, headers=basic(SECRET)).status == 200
    too_large = RAW.replace(b"No puedo entrar.", body + body)
    reply = api.call("POST", "/inbound/email", content=too_large, headers=basic(SECRET))
    assert reply.status == 413 and json.loads(reply.body)["error"]["details"]["limit"] == 3 * 1024 * 1024
    assert store.statistics().total_tickets == 1
