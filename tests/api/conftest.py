from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from supportchat import Actor, SupportDesk
from supportchat.http import InMemoryAdminTokens, TokenAuthenticator, UserTokens
from supportchat.http.ratelimit import RateLimiter, RateLimits
from supportchat.models import EventRecord, Ticket
from supportchat.stores import Store

from .clients import ADAPTERS, ApiClient, Reply

SECRET = "test-secret-0123456789-abcdefghijklmnop"
PREFIX = "/admin/api/support"


@dataclass
class Api:
    """A desk served by one adapter, with credentials for an admin and any user."""

    client: ApiClient
    desk: SupportDesk
    store: Store
    tokens: InMemoryAdminTokens
    users: UserTokens
    admin_token: str
    adapter: str

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    def user(self, user_id: int) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.users.mint(user_id)}"}

    def call(self, method: str, path: str, **kwargs: Any) -> Reply:
        return self.client.request(method, PREFIX + path, **kwargs)

    def ticket_for(self, user_id: int, subject: str = "Problema con pago") -> Ticket:
        return self.desk.create_ticket(Actor.user(user_id), subject=subject, description="No puedo completar")

    def written(self) -> list[EventRecord]:
        """The event log: one entry per write, so an unchanged log means nothing was written."""
        return self.store.events_after(0, limit=1_000_000)


def make_api(adapter: str, desk: SupportDesk, store: Store, **options: Any) -> Api:
    tokens = InMemoryAdminTokens()
    _, admin_token = tokens.create("ana")
    users = UserTokens(SECRET)
    options.setdefault("authenticator", TokenAuthenticator(tokens, users))
    # API tests write freely; tests/api/test_rate_limits.py gives its own limiter (or None: the default).
    options.setdefault("rate_limiter", RateLimiter(RateLimits.unlimited()))
    client = ADAPTERS[adapter](desk, **options)
    return Api(client, desk, store, tokens, users, admin_token, adapter)


@pytest.fixture(params=list(ADAPTERS))
def adapter(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def api(adapter: str, store: Store) -> Iterator[Api]:
    """The API over a fresh store, through one adapter (every test runs on both)."""
    yield make_api(adapter, SupportDesk(store), store)


def expired_user_token(users: UserTokens, user_id: int) -> str:
    return users.mint(user_id, now=datetime.now(UTC) - timedelta(hours=2), expires_in=timedelta(hours=1))
