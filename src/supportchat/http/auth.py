"""Who is calling: the identity hook and the standalone credentials.

A host app tells supportchat who the caller is through a hook that returns an
:class:`~supportchat.models.Actor` (or ``None`` for nobody). Each adapter takes
the hook in its framework's idiom (a plain callable in Flask, a dependency in
FastAPI); the framework-free default is :class:`TokenAuthenticator`:

* admins send ``Authorization: Bearer <token>``; tokens live in an
  :class:`~supportchat.accounts.AdminTokens` registry that stores only
  their SHA-256 hashes (accounts and the token policy are the core's,
  :mod:`supportchat.accounts`; they are re-exported here);
* users send ``Authorization: Bearer <JWT>`` signed HS256 with
  ``SUPPORTCHAT_SECRET``, ``sub`` holding the user id (see :class:`UserTokens`).

Panel session cookies (and their CSRF tokens) are another
:class:`Authenticator` chained after the bearer one
(:class:`supportchat.panel.SessionAuthenticator`), reading
``RequestView.cookies``.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from ..accounts import (
    ADMIN_TOKEN_PREFIX,
    AdminAccount,
    AdminTokens,
    InMemoryAdminTokens,
    LastUseRecorder,
    hash_token,
)
from ..errors import Forbidden, NotAuthenticated
from ..models import Actor, ActorKind

__all__ = [
    "ADMIN_TOKEN_PREFIX",
    "AdminAccount",
    "AdminTokens",
    "Authenticator",
    "ChainAuthenticator",
    "InMemoryAdminTokens",
    "LastUseRecorder",
    "RequestView",
    "TokenAuthenticator",
    "UserTokens",
    "bearer_token",
    "credential_expiry",
    "hash_token",
    "require_admin",
    "require_user",
]

SECRET_VARIABLE = "SUPPORTCHAT_SECRET"


class RequestView(Protocol):
    """The little of a request an authenticator reads; Flask's and Starlette's requests both fit."""

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def cookies(self) -> Mapping[str, str]: ...


class Authenticator(Protocol):
    """Finds the caller of a request; ``None`` when there is none (or the credentials are bad).

    An authenticator whose credentials run out may also have
    ``expires_at(request) -> datetime | None``, the instant from which it
    refuses the request's credentials: live streams end then
    (:func:`credential_expiry`).
    """

    def identify(self, request: RequestView) -> Actor | None: ...


def credential_expiry(authenticator: Authenticator, request: RequestView) -> datetime | None:
    """When ``authenticator`` stops accepting the credentials of ``request``; ``None`` if never, or it cannot tell."""
    expires_at = getattr(authenticator, "expires_at", None)
    if not callable(expires_at):
        return None
    found = expires_at(request)
    return found if isinstance(found, datetime) else None


def require_admin(actor: Actor | None) -> Actor:
    """The actor, if it is an admin; 401 for nobody, 403 for a user."""
    if actor is None:
        raise NotAuthenticated("an admin token is required")
    if not actor.is_staff:
        raise Forbidden("only an admin may do this")
    return actor


def require_user(actor: Actor | None) -> Actor:
    """The actor, if it is a user; 401 for nobody, 403 for anyone else."""
    if actor is None:
        raise NotAuthenticated("a user token is required")
    if actor.kind is not ActorKind.USER:
        raise Forbidden("this route is for users acting as themselves")
    return actor


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, if there is one."""
    value = headers.get("authorization")
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _jwt() -> Any:
    try:
        import jwt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("user tokens need PyJWT: pip install 'supportchat[flask]' or 'supportchat[fastapi]'") from exc
    return jwt


class UserTokens:
    """User JWTs: HS256, ``sub`` = the user id, ``exp`` required.

    The host app mints them with its own code or :meth:`mint`; supportchat
    only verifies them.
    """

    ALGORITHM = "HS256"

    #: Verified tokens remembered (with their expiry), so that a client's
    #: repeated requests cost one signature check, not one each.
    CACHE_SIZE = 4096

    def __init__(self, secret: str, *, leeway: timedelta = timedelta(seconds=30)) -> None:
        if len(secret) < 16:
            raise ValueError(f"{SECRET_VARIABLE} must be at least 16 characters")
        self._secret = secret
        self._leeway = leeway
        self._jwt = _jwt()
        # Preparing the key once saves PyJWT doing it on every decode.
        encoded = base64.urlsafe_b64encode(secret.encode("utf-8")).rstrip(b"=").decode("ascii")
        self._key = self._jwt.PyJWK({"kty": "oct", "k": encoded}, algorithm=self.ALGORITHM)
        self._verified: dict[str, tuple[int, float]] = {}

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> UserTokens:
        """Verify with the secret in ``SUPPORTCHAT_SECRET`` (required)."""
        secret = environ.get(SECRET_VARIABLE)
        if not secret:
            raise RuntimeError(f"{SECRET_VARIABLE} is not set; `supportchat init` generates one")
        return cls(secret)

    def mint(self, user_id: int, *, expires_in: timedelta = timedelta(hours=1), now: datetime | None = None) -> str:
        """A token for ``user_id`` (for tests, the CLI and host apps without their own JWTs)."""
        issued = now or _utcnow()
        claims = {"sub": str(user_id), "iat": issued, "exp": issued + expires_in}
        token: str = self._jwt.encode(claims, self._secret, algorithm=self.ALGORITHM)
        return token

    def verify(self, token: str) -> int | None:
        """The user id in a valid, unexpired token, or ``None``."""
        checked = self._check(token)
        return None if checked is None else checked[0]

    def expires_at(self, token: str) -> datetime | None:
        """The instant a valid token starts being refused (its ``exp`` plus the leeway); ``None`` if invalid now."""
        checked = self._check(token)
        if checked is None:
            return None
        return datetime.fromtimestamp(checked[1], UTC) + self._leeway

    def _check(self, token: str) -> tuple[int, float] | None:
        """The user id and ``exp`` (a POSIX time) of a valid, unexpired token."""
        known = self._verified.get(token)
        if known is not None:
            if time.time() <= known[1] + self._leeway.total_seconds():
                return known
            self._verified.pop(token, None)
            return None
        try:
            claims = self._jwt.decode(
                token,
                self._key,
                algorithms=[self.ALGORITHM],
                leeway=self._leeway,
                options={"require": ["sub", "exp"]},
            )
        except self._jwt.PyJWTError:
            return None
        subject, expires = claims.get("sub"), claims.get("exp")
        if not (isinstance(subject, str) and subject.isdecimal() and subject.isascii() and 0 < int(subject) < 2**63):
            return None
        if len(self._verified) >= self.CACHE_SIZE:
            self._verified.clear()
        checked = self._verified[token] = (int(subject), float(expires))
        return checked


class TokenAuthenticator:
    """The standalone default: admin bearer tokens and user JWTs in ``Authorization``."""

    def __init__(
        self,
        admin_tokens: AdminTokens | None = None,
        user_tokens: UserTokens | None = None,
        *,
        last_use: LastUseRecorder | None = None,
    ) -> None:
        self.admin_tokens = admin_tokens
        self.user_tokens = user_tokens
        #: Records admins' last use off the request path (verifying never writes).
        self.last_use = last_use or (LastUseRecorder(admin_tokens) if admin_tokens is not None else None)

    @classmethod
    def from_env(cls, admin_tokens: AdminTokens | None = None) -> TokenAuthenticator:
        """Admin tokens from ``admin_tokens``; user JWTs signed with ``SUPPORTCHAT_SECRET``."""
        return cls(admin_tokens, UserTokens.from_env())

    def identify(self, request: RequestView) -> Actor | None:
        token = bearer_token(request.headers)
        if token is None:
            return None
        if token.startswith(ADMIN_TOKEN_PREFIX):
            admin = self.admin_tokens.verify(token) if self.admin_tokens is not None else None
            if admin is None:
                return None
            if self.last_use is not None:
                self.last_use.note(admin)
            return Actor.admin(admin.id)
        user_id = self.user_tokens.verify(token) if self.user_tokens is not None else None
        return Actor.user(user_id) if user_id is not None else None

    def expires_at(self, request: RequestView) -> datetime | None:
        """A user JWT's expiry; ``None`` for admin tokens, which last until revoked."""
        token = bearer_token(request.headers)
        if token is None or token.startswith(ADMIN_TOKEN_PREFIX) or self.user_tokens is None:
            return None
        return self.user_tokens.expires_at(token)


class ChainAuthenticator:
    """Asks several authenticators in turn; the first that knows the caller wins."""

    def __init__(self, authenticators: Iterable[Authenticator]) -> None:
        self._chain = tuple(authenticators)

    def identify(self, request: RequestView) -> Actor | None:
        for authenticator in self._chain:
            actor = authenticator.identify(request)
            if actor is not None:
                return actor
        return None

    def expires_at(self, request: RequestView) -> datetime | None:
        """The expiry of the credentials that identify the request (those of the first authenticator that knows it)."""
        for authenticator in self._chain:
            if authenticator.identify(request) is not None:
                return credential_expiry(authenticator, request)
        return None
