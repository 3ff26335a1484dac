"""Rate limits on every write route, on both adapters (issue 12 #2).

One user used to open 400 tickets in 1.3 s. Writes are now counted per user,
per admin and per client address by the ``limits`` package, and a write over
a limit is a 429 with ``Retry-After``, with nothing written.
"""

from __future__ import annotations

import dataclasses
import logging
import socket
import time
import uuid

import pytest
from limits import parse

from supportchat import SupportDesk
from supportchat.http.ratelimit import RateLimiter, RateLimits
from supportchat.http.routes import ROUTES
from supportchat.stores import InMemoryStore

from .clients import Reply
from .conftest import Api, make_api


def limited(adapter: str, **limits: str | None) -> Api:
    """The API with only the given limits (the others lifted)."""
    chosen = dataclasses.replace(RateLimits.unlimited(), **limits)
    store = InMemoryStore()
    return make_api(adapter, SupportDesk(store), store, rate_limiter=RateLimiter(chosen))


def open_ticket(api: Api, user_id: int = 1, subject: str = "No puedo pagar") -> int:
    reply = api.call(
        "POST", "/create-ticket", headers=api.user(user_id), json={"subject": subject, "description": "Tarjeta"}
    )
    return reply.status


def test_every_write_route_says_what_it_writes() -> None:
    for route in ROUTES:
        assert (route.write is None) == (route.method == "GET"), route.name


def test_one_user_cannot_flood_tickets_and_nothing_is_written(adapter: str) -> None:
    api = limited(adapter, user_tickets="3/hour")
    assert [open_ticket(api) for _ in range(3)] == [200, 200, 200]
    before = api.written()
    refused = api.call("POST", "/create-ticket", headers=api.user(1), json={"subject": "4th", "description": "x"})
    assert refused.status == 429
    error = refused.json()["error"]
    assert error["code"] == "rate_limited" and error["details"]["scope"] == "user_tickets"
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 3600 and retry_after == error["details"]["retry_after"]
    assert api.written() == before
    # Another user, and reads of the limited one, are not affected.
    assert open_ticket(api, user_id=2) == 200
    assert api.call("GET", "/user/1/tickets", headers=api.user(1)).status == 200


def test_messages_are_limited_per_user_and_admins_have_their_own_budget(adapter: str) -> None:
    api = limited(adapter, user_messages="2/minute", admin_writes="3/minute")
    ticket = api.ticket_for(1)

    def user_says(text: str) -> int:
        path = f"/tickets/{ticket.id}/user-message"
        return api.call("POST", path, headers=api.user(1), json={"message": text}).status

    def admin_does(n: int) -> int:
        if n % 2:
            body = {"status": "in_progress" if n % 4 == 1 else "open"}
            return api.call("PUT", f"/tickets/{ticket.id}/status", headers=api.admin, json=body).status
        return api.call("POST", f"/tickets/{ticket.id}/messages", headers=api.admin, json={"message": "ok"}).status

    assert [user_says("hola"), user_says("¿hay alguien?")] == [200, 200]
    assert user_says("¡hola!") == 429
    assert [admin_does(n) for n in range(3)] == [200, 200, 200]
    refused = api.call("PUT", f"/tickets/{ticket.id}/status", headers=api.admin, json={"status": "resolved"})
    assert refused.status == 429 and refused.json()["error"]["details"]["scope"] == "admin_writes"
    assert int(refused.headers["Retry-After"]) >= 1
    # Reads are never limited.
    assert api.call("GET", f"/tickets/{ticket.id}", headers=api.admin).status == 200


def test_one_client_address_is_limited_whoever_writes(adapter: str) -> None:
    api = limited(adapter, address_tickets="2/hour", address_writes="3/minute")
    assert [open_ticket(api, user_id=1), open_ticket(api, user_id=2)] == [200, 200]
    refused = api.call("POST", "/create-ticket", headers=api.user(3), json={"subject": "s", "description": "d"})
    assert refused.status == 429 and refused.json()["error"]["details"]["scope"] == "address_tickets"
    ticket = api.ticket_for(4)

    def says(text: str) -> Reply:
        return api.call("POST", f"/tickets/{ticket.id}/user-message", headers=api.user(4), json={"message": text})

    assert says("one").status == 200  # the third write from this address (the refused ticket did not count)
    reply = says("two")
    assert reply.status == 429 and reply.json()["error"]["details"]["scope"] == "address_writes"


def test_the_default_limiter_is_on(adapter: str) -> None:
    store = InMemoryStore()
    api = make_api(adapter, SupportDesk(store), store, rate_limiter=None)  # the adapter's own default
    default = RateLimits().user_tickets
    assert default is not None
    budget = parse(default).amount
    statuses = [open_ticket(api, subject=f"ticket {n}") for n in range(budget + 1)]
    assert statuses == [200] * budget + [429]


def test_a_limiter_storage_that_fails_lets_writes_through_and_says_so_once(
    adapter: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = InMemoryStore()
    broken = RateLimiter(RateLimits(user_tickets="1/hour"), storage_uri="redis://127.0.0.1:1")
    api = make_api(adapter, SupportDesk(store), store, rate_limiter=broken)
    with caplog.at_level(logging.WARNING, logger="supportchat.http"):
        assert [open_ticket(api) for _ in range(3)] == [200, 200, 200]
    warnings = [r for r in caplog.records if "rate-limit storage" in r.getMessage()]
    assert len(warnings) == 1 and "redis://127.0.0.1:1" in warnings[0].getMessage()


def test_limits_are_configured_by_text() -> None:
    limits = RateLimits.parse("user_tickets=5/hour admin_writes=none user_messages=1/second;10/minute")
    assert (limits.user_tickets, limits.admin_writes, limits.user_messages) == ("5/hour", None, "1/second;10/minute")
    assert limits.address_writes == RateLimits().address_writes
    assert RateLimits.parse("none") == RateLimits.unlimited()
    for bad in ("user_tickets", "nobody=1/hour", "user_tickets=lots"):
        with pytest.raises(ValueError):
            RateLimits.parse(bad)


def test_two_apps_on_one_redis_share_the_count(adapter: str, redis_url: str) -> None:
    namespace = f"supportchat-test-{uuid.uuid4().hex}"
    store = InMemoryStore()
    desk = SupportDesk(store)

    def app() -> Api:
        shared = RateLimiter(RateLimits(user_tickets="4/hour"), storage_uri=redis_url, namespace=namespace)
        return make_api(adapter, desk, store, rate_limiter=shared)

    first, second = app(), app()
    statuses = [open_ticket(first if n % 2 else second, subject=f"t{n}") for n in range(5)]
    assert statuses == [200, 200, 200, 200, 429]


def test_a_bad_storage_is_refused_at_once_without_showing_its_password() -> None:
    with pytest.raises(ValueError) as refused:
        RateLimiter(storage_uri="pigeon://:hunter2@loft:6379")
    assert "pigeon://loft:6379" in str(refused.value) and "hunter2" not in str(refused.value)


def test_a_storage_that_never_answers_delays_one_write_by_half_a_second_at_most(adapter: str) -> None:
    with socket.socket() as silent:  # accepts connections (the backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        store = InMemoryStore()
        limiter = RateLimiter(RateLimits(user_tickets="1/hour"), storage_uri=f"redis://127.0.0.1:{port}")
        api = make_api(adapter, SupportDesk(store), store, rate_limiter=limiter)
        started = time.monotonic()
        assert [open_ticket(api) for _ in range(4)] == [200] * 4
        # The first write waits for the storage's timeout; the others pass without asking it again.
        assert time.monotonic() - started < 1.5
