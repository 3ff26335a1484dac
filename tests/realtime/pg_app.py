"""A FastAPI server process on the test PostgreSQL schema, for the cross-process tests and the benchmark.

Run as ``uvicorn --factory tests.realtime.pg_app:build``; it reads ``SUPPORTCHAT_TEST_PG_URL`` and
``SUPPORTCHAT_TEST_PG_SCHEMA``. ``Authorization: Bearer admin`` is an admin; users send JWTs signed
with ``SUPPORTCHAT_SECRET``.
"""

from __future__ import annotations

import os

from supportchat import Actor, SupportDesk
from supportchat.adapters.fastapi import create_app
from supportchat.http import RequestView, UserTokens
from supportchat.http.auth import bearer_token
from supportchat.realtime import LiveEvents
from supportchat.stores.sql import SQLStore, create_engine


class TestAuthenticator:
    """``Bearer admin`` is admin 1; a JWT signed with the secret is its user."""

    def __init__(self, users: UserTokens) -> None:
        self.users = users

    def identify(self, request: RequestView) -> Actor | None:
        token = bearer_token(request.headers)
        if token == "admin":
            return Actor.admin(1)
        user_id = self.users.verify(token) if token else None
        return None if user_id is None else Actor.user(user_id)


def build() -> object:
    schema = os.environ["SUPPORTCHAT_TEST_PG_SCHEMA"]
    engine = create_engine(os.environ["SUPPORTCHAT_TEST_PG_URL"], connect_args={"options": f"-c search_path={schema}"})
    desk = SupportDesk(SQLStore(engine))
    live = LiveEvents(desk, heartbeat=float(os.environ.get("SUPPORTCHAT_TEST_HEARTBEAT", "5")))
    assert live.listener is not None and live.listener.wait_listening(10)
    return create_app(desk, live=live, authenticator=TestAuthenticator(UserTokens(os.environ["SUPPORTCHAT_SECRET"])))
