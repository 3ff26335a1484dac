"""The FastAPI app closes what it was given to close, after its own live events."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from supportchat import SupportDesk
from supportchat.adapters.fastapi import create_app
from supportchat.http.auth import InMemoryAdminTokens, TokenAuthenticator, UserTokens
from supportchat.stores import InMemoryStore


def test_on_shutdown_callbacks_run_when_the_app_stops() -> None:
    calls: list[str] = []
    authenticator = TokenAuthenticator(InMemoryAdminTokens(), UserTokens("s" * 32))
    app = create_app(
        SupportDesk(InMemoryStore()),
        authenticator=authenticator,
        on_shutdown=[lambda: calls.append("store"), lambda: calls.append("registry")],
    )
    with TestClient(app) as client:
        assert client.get("/admin/api/support/statistics").status_code == 401
        assert calls == []
    assert calls == ["store", "registry"]


def test_a_failing_shutdown_callback_is_not_hidden() -> None:
    def broken() -> None:
        raise RuntimeError("close failed")

    authenticator = TokenAuthenticator(InMemoryAdminTokens(), UserTokens("s" * 32))
    app = create_app(SupportDesk(InMemoryStore()), authenticator=authenticator, on_shutdown=[broken])
    with pytest.raises(RuntimeError, match="close failed"), TestClient(app):
        pass
