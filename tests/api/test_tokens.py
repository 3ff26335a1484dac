"""The standalone credentials: admin tokens stored hashed, user JWTs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from supportchat.http import InMemoryAdminTokens, TokenAuthenticator, UserTokens
from supportchat.http.auth import hash_token
from supportchat.models import Actor

from .conftest import SECRET


class Headers:
    def __init__(self, authorization: str | None) -> None:
        self.headers = {"authorization": authorization} if authorization else {}
        self.cookies: dict[str, str] = {}


def test_admin_tokens_keep_only_hashes() -> None:
    tokens = InMemoryAdminTokens()
    admin, token = tokens.create("ana")
    assert token.startswith("sca_") and len(token) > 40
    assert token not in repr(vars(tokens))
    assert hash_token(token) in repr(vars(tokens))
    verified = tokens.verify(token)
    assert verified is not None and (verified.id, verified.name) == (admin.id, "ana")
    assert verified.last_used_at is None  # verifying never writes
    assert tokens.verify(token + "x") is None


def test_revoked_tokens_stop_working_and_names_are_unique() -> None:
    tokens = InMemoryAdminTokens()
    _, ana = tokens.create("ana")
    _, bea = tokens.create("bea")
    with pytest.raises(ValueError):
        tokens.create("ana")
    assert tokens.revoke("ana") is True
    assert tokens.revoke("ana") is False
    assert tokens.revoke("nobody") is False
    assert tokens.verify(ana) is None
    assert tokens.verify(bea) is not None
    listed = tokens.list()
    assert [(a.name, a.revoked_at is not None) for a in listed] == [("ana", True), ("bea", False)]


def test_user_tokens_round_trip_and_expire() -> None:
    users = UserTokens(SECRET)
    assert users.verify(users.mint(17)) == 17
    old = users.mint(17, now=datetime.now(UTC) - timedelta(hours=3))
    assert users.verify(old) is None
    assert users.verify(jwt.encode({"sub": "abc", "exp": 4102444800}, SECRET, algorithm="HS256")) is None
    assert users.verify(jwt.encode({"sub": "0", "exp": 4102444800}, SECRET, algorithm="HS256")) is None
    assert users.verify("not-a-jwt") is None


def test_user_tokens_need_a_secret() -> None:
    with pytest.raises(RuntimeError, match="SUPPORTCHAT_SECRET"):
        UserTokens.from_env({})
    with pytest.raises(ValueError):
        UserTokens("short")
    assert UserTokens.from_env({"SUPPORTCHAT_SECRET": SECRET}).verify(UserTokens(SECRET).mint(3)) == 3


def test_authenticator_tells_admins_from_users() -> None:
    tokens = InMemoryAdminTokens()
    admin, token = tokens.create("ana")
    users = UserTokens(SECRET)
    auth = TokenAuthenticator(tokens, users)
    assert auth.identify(Headers(f"Bearer {token}")) == Actor.admin(admin.id)
    assert auth.identify(Headers(f"bearer {users.mint(9)}")) == Actor.user(9)
    assert auth.identify(Headers(None)) is None
    assert auth.identify(Headers("Bearer ")) is None
    assert auth.identify(Headers(f"Token {token}")) is None
    # Without a user-token verifier, JWTs identify nobody.
    assert TokenAuthenticator(tokens).identify(Headers(f"Bearer {users.mint(9)}")) is None


def test_a_remembered_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    users = UserTokens(SECRET, leeway=timedelta(0))
    token = users.mint(5, expires_in=timedelta(seconds=60))
    assert users.verify(token) == 5
    assert users.verify(token) == 5  # from the cache
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 61)
    assert users.verify(token) is None
    # Another secret's verifier does not share the cache.
    assert UserTokens(SECRET + "-other").verify(UserTokens(SECRET).mint(5)) is None


def test_the_authenticator_tells_when_a_jwt_stops_being_accepted() -> None:
    users = UserTokens(SECRET, leeway=timedelta(seconds=30))
    admins = InMemoryAdminTokens()
    _, admin_token = admins.create("ana")
    auth = TokenAuthenticator(admins, users)
    issued = datetime.now(UTC).replace(microsecond=0)
    token = users.mint(5, expires_in=timedelta(minutes=10), now=issued)
    assert auth.expires_at(Headers(f"Bearer {token}")) == issued + timedelta(minutes=10, seconds=30)
    assert auth.expires_at(Headers(f"Bearer {admin_token}")) is None  # lasts until revoked
    assert auth.expires_at(Headers("Bearer not-a-jwt")) is None
    assert auth.expires_at(Headers(None)) is None
