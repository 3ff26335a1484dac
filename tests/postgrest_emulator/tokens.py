"""JWTs signed like a Supabase project's, with a secret known only to the tests."""

from __future__ import annotations

import time
from typing import Any

import jwt

#: The emulated project's JWT secret (HS256, as Supabase's legacy JWT secret).
JWT_SECRET = "supportchat-postgrest-emulator-jwt-secret-0123456789"

#: The roles PostgREST may switch to; any other ``role`` claim is refused.
API_ROLES = frozenset({"anon", "authenticated", "service_role"})


def mint(claims: dict[str, Any], *, secret: str = JWT_SECRET, ttl: int = 3600) -> str:
    """A signed JWT with ``claims`` plus issuer, issue and expiry times."""
    now = int(time.time())
    return jwt.encode({"iss": "supabase-emulator", "iat": now, "exp": now + ttl, **claims}, secret, algorithm="HS256")


def anon_key() -> str:
    """The project's public ``anon`` API key."""
    return mint({"role": "anon"}, ttl=10 * 365 * 86400)


def service_role_key() -> str:
    """The project's ``service_role`` API key: full access, bypasses row-level security."""
    return mint({"role": "service_role"}, ttl=10 * 365 * 86400)


def user_token(user_id: int, *, admin: bool = False) -> str:
    """An access token for app user ``user_id``; ``admin`` puts ``support_admin`` in app_metadata."""
    claims: dict[str, Any] = {"sub": str(user_id), "role": "authenticated"}
    if admin:
        claims["app_metadata"] = {"role": "support_admin"}
    return mint(claims)


def verify(token: str, *, secret: str = JWT_SECRET) -> dict[str, Any]:
    """The claims of a valid token; raises :class:`jwt.InvalidTokenError` otherwise."""
    claims: dict[str, Any] = jwt.decode(token, secret, algorithms=["HS256"], options={"verify_aud": False})
    return claims
