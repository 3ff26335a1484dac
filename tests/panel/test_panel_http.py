"""The panel over HTTP on both adapters: page, assets, login, session cookie, CSRF, CSP, history."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import httpx
import pytest

from supportchat import Actor
from supportchat.models import TicketStatus
from supportchat.rules import allowed_transitions
from supportchat.stores.admin_tokens import SQLAdminTokens
from supportchat.stores.sql import SQLStore

from .servers import ADAPTER_NAMES, Site, serve

CSRF = "X-CSRF-Token"


def client(site: Site) -> httpx.Client:
    return httpx.Client(base_url=site.url, timeout=10)


def login(http: httpx.Client, site: Site) -> dict[str, Any]:
    reply = http.post("/admin/support/login", json={"token": site.admin_token})
    assert reply.status_code == 200, reply.text
    session = http.get("/admin/support/session")
    assert session.status_code == 200, session.text
    data: dict[str, Any] = session.json()["data"]
    return data


def csp(reply: httpx.Response) -> dict[str, str]:
    policy = reply.headers["content-security-policy"]
    return dict(([*d.strip().split(" ", 1), ""])[:2] for d in policy.split(";") if d.strip())  # type: ignore[misc]


def assert_secure_headers(reply: httpx.Response) -> None:
    policy = csp(reply)
    assert policy["script-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in reply.headers["content-security-policy"]
    assert reply.headers["x-content-type-options"] == "nosniff"


def test_anonymous_visitor_gets_the_login_view_with_a_strict_policy(site: Site) -> None:
    with client(site) as http:
        page = http.get("/admin/support")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert 'data-view="login"' in page.text
    assert_secure_headers(page)
    # No inline script, no inline style, no third-party origin anywhere in the page.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text)
    assert " style=" not in page.text and "<style" not in page.text
    assert not re.search(r"(src|href)=\"(https?:)?//", page.text)


def test_assets_come_from_the_package_with_types_and_caching(site: Site) -> None:
    with client(site) as http:
        page = http.get("/admin/support").text
        for name, content_type in (("panel.js", "text/javascript"), ("panel.css", "text/css")):
            url = re.search(rf'"(/admin/support/static/{re.escape(name)}\?v=(\w+))"', page)
            assert url, name
            reply = http.get(url.group(1))
            assert reply.status_code == 200
            assert reply.headers["content-type"].startswith(content_type)
            assert reply.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert reply.content == (resources.files("supportchat.panel") / "static" / name).read_bytes()
            assert_secure_headers(reply)
            again = http.get(url.group(1), headers={"If-None-Match": reply.headers["etag"]})
            assert again.status_code == 304 and again.content == b""
            assert http.get(f"/admin/support/static/{name}").headers["cache-control"] == "no-cache"
        for name in ("panel.html", "nothing.js", "..%2Fapp.py", ".hidden.js"):
            assert http.get(f"/admin/support/static/{name}").status_code == 404, name


def test_login_sets_an_httponly_samesite_cookie_that_opens_the_panel(site: Site) -> None:
    with client(site) as http:
        reply = http.post("/admin/support/login", json={"token": site.admin_token})
        assert reply.status_code == 200
        assert reply.json()["data"]["admin"] == {"id": site.admin_id, "name": "ana"}
        cookie = reply.headers["set-cookie"]
        attributes = set(cookie.split("; "))
        assert {"HttpOnly", "SameSite=Strict", "Path=/admin"} <= attributes
        assert "Secure" not in attributes  # plain http on 127.0.0.1; https gets Secure
        page = http.get("/admin/support")
        assert 'data-view="app"' in page.text
        session = http.get("/admin/support/session").json()["data"]
    assert session["admin"] == {"id": site.admin_id, "name": "ana"}
    assert session["csrf_token"] and session["csrf_header"] == CSRF
    assert [a["name"] for a in session["admins"]] == ["ana", "luis"]
    assert session["transitions"] == {s.value: sorted(t.value for t in allowed_transitions(s)) for s in TicketStatus}
    assert session["transitions"]["closed"] == []
    assert session["api"] == "/admin/api/support"


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ({"token": "sca_not-a-real-token"}, "application/json", 401),
        ({"token": ""}, "application/json", 401),
        ({}, "application/json", 401),
        (None, "application/x-www-form-urlencoded", 400),
    ],
)
def test_login_refuses_bad_tokens_and_non_json(site: Site, body: Any, content_type: str, status: int) -> None:
    with client(site) as http:
        if body is None:
            reply = http.post(
                "/admin/support/login", content=f"token={site.admin_token}", headers={"Content-Type": content_type}
            )
        else:
            reply = http.post("/admin/support/login", json=body)
        assert reply.status_code == status, reply.text
        assert reply.json()["success"] is False
        assert "set-cookie" not in reply.headers
        assert http.get("/admin/support/session").status_code == 401


def test_a_user_jwt_is_not_an_admin_login(site: Site) -> None:
    with client(site) as http:
        reply = http.post("/admin/support/login", json={"token": site.users.mint(5)})
    assert reply.status_code == 401


def test_cookie_writes_without_the_csrf_token_are_refused(site: Site) -> None:
    ticket = site.desk.create_ticket(Actor.user(4), subject="Pago", description="No funciona")
    with client(site) as http:
        session = login(http, site)
        before = len(site.store.events_after(0, limit=10_000))
        writes = [
            ("POST", f"/admin/api/support/tickets/{ticket.id}/messages", {"message": "hola"}),
            ("PUT", f"/admin/api/support/tickets/{ticket.id}/status", {"status": "in_progress"}),
        ]
        for method, path, body in writes:
            for headers in ({}, {CSRF: "forged"}, {CSRF: ""}):
                reply = http.request(method, path, json=body, headers=headers)
                assert reply.status_code == 403, (method, headers, reply.text)
                assert reply.json()["error"]["code"] == "csrf_failed"
        assert len(site.store.events_after(0, limit=10_000)) == before  # nothing was written
        # Reads need no token; writes with it go through.
        assert http.get(f"/admin/api/support/tickets/{ticket.id}").status_code == 200
        for method, path, body in writes:
            reply = http.request(method, path, json=body, headers={CSRF: session["csrf_token"]})
            assert reply.status_code == 200, reply.text
    assert site.desk.get_ticket(Actor.system(), ticket.id).status is TicketStatus.IN_PROGRESS


def test_bearer_writes_need_no_csrf_token(site: Site) -> None:
    ticket = site.desk.create_ticket(Actor.user(4), subject="Pago", description="No funciona")
    with client(site) as http:
        login(http, site)  # a cookie is present too; the bearer token decides
        reply = http.post(
            f"/admin/api/support/tickets/{ticket.id}/messages", json={"message": "hola"}, headers=site.admin
        )
        assert reply.status_code == 200, reply.text
        user = http.post(
            f"/admin/api/support/tickets/{ticket.id}/user-message", json={"message": "gracias"}, headers=site.user(4)
        )
        assert user.status_code == 200, user.text


def test_a_forged_cookie_is_nobody(site: Site) -> None:
    with client(site) as http:
        login(http, site)
        value = http.cookies["supportchat_session"]
    forged = value.replace(f"v2.{site.admin_id}.", "v2.2.", 1)
    assert forged != value
    with httpx.Client(base_url=site.url, cookies={"supportchat_session": forged}) as other:
        assert other.get("/admin/api/support/tickets").status_code == 401
        assert 'data-view="login"' in other.get("/admin/support").text
    with httpx.Client(base_url=site.url, cookies={"supportchat_session": value}) as same:
        assert same.get("/admin/api/support/tickets").status_code == 200


def test_logout_needs_the_token_and_clears_the_cookie(site: Site) -> None:
    with client(site) as http:
        session = login(http, site)
        refused = http.post("/admin/support/logout", json={})
        assert refused.status_code == 403
        reply = http.post("/admin/support/logout", json={}, headers={CSRF: session["csrf_token"]})
        assert reply.status_code == 200
        assert "Max-Age=0" in reply.headers["set-cookie"]
        assert http.get("/admin/support/session").status_code == 401


def test_revoking_the_token_ends_its_sessions(site: Site) -> None:
    with client(site) as http:
        login(http, site)
        assert site.tokens.revoke("ana")
        assert http.get("/admin/api/support/tickets").status_code == 401
        assert http.get("/admin/support/session").status_code == 401


def test_history_route_lists_changes(site: Site) -> None:
    ticket = site.desk.create_ticket(Actor.user(4), subject="Pago", description="No funciona")
    with client(site) as http:
        assert http.get(f"/admin/api/support/tickets/{ticket.id}/history", headers=site.admin).json()["data"] == []
        http.put(
            f"/admin/api/support/tickets/{ticket.ticket_number}/status",
            json={"status": "resolved", "assigned_to": site.admin_id},
            headers=site.admin,
        ).raise_for_status()
        changes = http.get(f"/admin/api/support/tickets/{ticket.id}/history", headers=site.admin).json()["data"]
        user = http.get(f"/admin/api/support/tickets/{ticket.id}/history", headers=site.user(4))
    assert [(c["field"], c["old_value"], c["new_value"]) for c in changes] == [
        ("status", "open", "resolved"),
        ("assigned_to", None, str(site.admin_id)),
    ]
    assert all(c["changed_by_kind"] == "admin" and c["changed_at"].endswith("Z") for c in changes)
    assert user.status_code == 403


@pytest.fixture(params=ADAPTER_NAMES)
def expiring_site(request: pytest.FixtureRequest) -> Iterator[tuple[Site, list[datetime]]]:
    now = [datetime.now(UTC)]
    with serve(str(request.param), session_lifetime=timedelta(minutes=30), clock=lambda: now[0]) as served:
        yield served, now


def test_sessions_expire(expiring_site: tuple[Site, list[datetime]]) -> None:
    site, now = expiring_site
    with client(site) as http:
        login(http, site)
        now[0] += timedelta(minutes=29)
        assert http.get("/admin/api/support/statistics").status_code == 200
        now[0] += timedelta(minutes=2)
        assert http.get("/admin/api/support/statistics").status_code == 401


def test_repeated_failed_logins_are_slowed_down_but_the_right_token_still_signs_in(
    expiring_site: tuple[Site, list[datetime]],
) -> None:
    site, now = expiring_site
    with client(site) as http:
        for _ in range(10):
            assert http.post("/admin/support/login", json={"token": "sca_guess"}).status_code == 401
        refused = http.post("/admin/support/login", json={"token": "sca_guess"})
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 301
        assert "set-cookie" not in refused.headers
        # A guesser behind the same address does not lock the real admin out.
        signed_in = http.post("/admin/support/login", json={"token": site.admin_token})
        assert signed_in.status_code == 200, signed_in.text
        assert "set-cookie" in signed_in.headers
        # ... and that sign-in does not give the guesser a fresh allowance.
        assert http.post("/admin/support/login", json={"token": "sca_guess"}).status_code == 429
        now[0] += timedelta(minutes=5, seconds=1)
        assert http.post("/admin/support/login", json={"token": "sca_guess"}).status_code == 401


def test_logout_ends_the_session_on_the_server_so_a_replayed_cookie_is_refused(site: Site) -> None:
    with client(site) as http:
        session = login(http, site)
        value = http.cookies["supportchat_session"]
        assert http.post("/admin/support/logout", json={}, headers={CSRF: session["csrf_token"]}).status_code == 200
    with httpx.Client(base_url=site.url, cookies={"supportchat_session": value}, timeout=10) as replay:
        assert replay.get("/admin/api/support/tickets").status_code == 401
        assert replay.get("/admin/support/session").status_code == 401
        assert 'data-view="login"' in replay.get("/admin/support").text
    # The admin's bearer token is untouched, and signing in again works.
    with client(site) as http:
        assert http.get("/admin/api/support/tickets", headers=site.admin).status_code == 200
        login(http, site)
        assert http.get("/admin/api/support/tickets").status_code == 200


@pytest.mark.parametrize("adapter", ADAPTER_NAMES)
def test_a_session_does_not_come_back_when_a_revoked_admin_is_created_again(adapter: str, tmp_path: Any) -> None:
    store = SQLStore.from_url(f"sqlite:///{tmp_path / 'panel.db'}")
    tokens = SQLAdminTokens(store.engine)
    try:
        with serve(adapter, store, tokens=tokens) as site:
            with client(site) as http:
                login(http, site)
                old = http.cookies["supportchat_session"]
                assert tokens.revoke("ana")
                assert http.get("/admin/api/support/tickets").status_code == 401
                reissued, _ = tokens.create("ana")  # the same admin id, a new token
                assert reissued.id == site.admin_id
            with httpx.Client(base_url=site.url, cookies={"supportchat_session": old}, timeout=10) as replay:
                assert replay.get("/admin/api/support/tickets").status_code == 401
                assert replay.get("/admin/support/session").status_code == 401
    finally:
        store.close()
