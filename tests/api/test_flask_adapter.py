"""What only the Flask adapter has: the extension object and the host's own body limit."""

from __future__ import annotations

import flask

from supportchat import InMemoryStore, SupportDesk
from supportchat.adapters.flask import EXTENSION_KEY, SupportChat
from supportchat.http import TokenAuthenticator

from .clients import FlaskClient
from .conftest import PREFIX, make_api


def test_extension_registers_itself() -> None:
    app = flask.Flask("host")
    support = SupportChat(SupportDesk(InMemoryStore()), app=app, authenticator=TokenAuthenticator())
    assert app.extensions[EXTENSION_KEY] is support
    assert any(rule.rule == PREFIX + "/create-ticket" for rule in app.url_map.iter_rules())


def test_the_host_apps_lower_body_limit_answers_413_in_the_envelope() -> None:
    store = InMemoryStore()
    desk = SupportDesk(store)
    api = make_api("flask", desk, store)
    app = flask.Flask("host")
    app.config["MAX_CONTENT_LENGTH"] = 1000
    SupportChat(desk, authenticator=TokenAuthenticator(api.tokens, api.users)).init_app(app)

    reply = FlaskClient(app).request(
        "POST", PREFIX + "/create-ticket", headers=api.user(1), json={"subject": "s", "description": "d" * 2000}
    )
    assert reply.status == 413
    assert reply.json()["error"] == {
        "code": "payload_too_large",
        "message": "the request body exceeds 1000 bytes",
        "details": {"limit": 1000},
    }
    assert store.statistics().total_tickets == 0
