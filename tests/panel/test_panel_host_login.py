"""The panel behind the host app's own login: the adapter's identify hook names the admin."""

# No "from __future__ import annotations": FastAPI must resolve the hook's Request annotation.

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from supportchat import Actor, SupportDesk
from supportchat.models import ActorKind
from supportchat.panel import Panel
from supportchat.stores import InMemoryStore

from .servers import ADAPTER_NAMES, RUNNERS


def _actor(header: str | None) -> Actor | None:
    """The host's "session": a header ``admin:3`` or ``user:5`` stands for whatever the host really checks."""
    if not header:
        return None
    kind, _, number = header.partition(":")
    return Actor(ActorKind(kind), int(number))


def _app(adapter: str, desk: SupportDesk, panel: Panel) -> Any:
    if adapter == "fastapi":
        from fastapi import Request

        from supportchat.adapters.fastapi import create_app

        def identify(request: Request) -> Actor | None:
            return _actor(request.headers.get("x-host-session"))

        return create_app(desk, identify=identify, panel=panel)
    import flask

    from supportchat.adapters.flask import SupportChat

    app = flask.Flask("host")
    SupportChat(desk, identify=lambda: _actor(flask.request.headers.get("x-host-session")), panel=panel).init_app(app)
    return app


@pytest.fixture(params=ADAPTER_NAMES)
def host(request: pytest.FixtureRequest) -> Iterator[str]:
    panel = Panel(login_url="/accounts/login?next=/admin/support")
    with RUNNERS[str(request.param)](_app(str(request.param), SupportDesk(InMemoryStore()), panel)) as url:
        yield url


def test_anonymous_visitors_are_sent_to_the_host_login(host: str) -> None:
    reply = httpx.get(host + "/admin/support", follow_redirects=False)
    assert reply.status_code == 302
    assert reply.headers["location"] == "/accounts/login?next=/admin/support"
    assert "unsafe-inline" not in reply.headers["content-security-policy"]


def test_the_host_admin_gets_the_panel_and_users_do_not(host: str) -> None:
    admin = {"X-Host-Session": "admin:3"}
    page = httpx.get(host + "/admin/support", headers=admin)
    assert page.status_code == 200 and 'data-view="app"' in page.text
    session = httpx.get(host + "/admin/support/session", headers=admin).json()["data"]
    assert session["admin"] == {"id": 3, "name": None}
    assert session["csrf_token"] is None and session["can_logout"] is False
    user = {"X-Host-Session": "user:5"}
    forbidden = httpx.get(host + "/admin/support", headers=user)
    assert forbidden.status_code == 403 and 'data-view="forbidden"' in forbidden.text
    assert httpx.get(host + "/admin/support/session", headers=user).status_code == 403
    # The standalone login is off: the host owns sign-in.
    assert httpx.post(host + "/admin/support/login", json={"token": "sca_x"}).status_code == 403
