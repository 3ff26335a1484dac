"""Panel sessions: a signed cookie naming an admin, and the CSRF token bound to it.

The cookie is ``v2.<admin id>.<expiry>.<nonce>.<binding>.<mac>``, the MAC an
HMAC-SHA256 under a key derived from ``SUPPORTCHAT_SECRET``. ``binding`` is a
digest of what the admin's sessions are bound to in the token registry
(:meth:`~supportchat.http.auth.AdminTokens.session_binding`: the token's hash
and a per-admin session generation), so a session ends when its token is
revoked or re-issued, and when the admin signs out (the generation moves on,
in every server process, and a replayed cookie is refused). The CSRF token is
another HMAC of the session's nonce (synchronizer pattern without server
state): the page fetches it with the cookie and sends it back in the
``X-CSRF-Token`` header of every write; a cross-site page can make the
browser send the cookie but can never read the token.

Bearer-token requests need no CSRF token (a browser never adds an
``Authorization`` header on its own), which is why :class:`SessionAuthenticator`
is chained *after* the bearer authenticator.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..errors import Forbidden
from ..http.auth import AdminTokens, RequestView
from ..models import Actor

__all__ = [
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "CsrfRejected",
    "Session",
    "SessionAuthenticator",
    "SessionCodec",
]

SESSION_COOKIE = "supportchat_session"
CSRF_HEADER = "X-CSRF-Token"
_VERSION = "v2"
#: Methods that change nothing and therefore need no CSRF token.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfRejected(Forbidden):
    """A write made with the session cookie lacked a valid CSRF token."""

    code = "csrf_failed"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Session:
    """A verified session: who, until when, the nonce its CSRF token derives from, and what it is bound to."""

    admin_id: int
    expires_at: datetime
    nonce: str
    #: The digest of the registry's session binding at sign-in (see :meth:`SessionCodec.bound_to`).
    binding: str = ""


class SessionCodec:
    """Signs and verifies session cookies and derives their CSRF tokens.

    ``secret`` is ``SUPPORTCHAT_SECRET``; separate keys are derived from it
    for the cookie and the CSRF token, so neither can stand in for the other
    (nor for a user JWT signed with the secret itself).
    """

    def __init__(
        self,
        secret: str,
        *,
        lifetime: timedelta = timedelta(hours=8),
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if len(secret) < 16:
            raise ValueError("SUPPORTCHAT_SECRET must be at least 16 characters")
        master = secret.encode("utf-8")
        self._cookie_key = hmac.new(master, b"supportchat panel session v1", hashlib.sha256).digest()
        self._csrf_key = hmac.new(master, b"supportchat panel csrf v1", hashlib.sha256).digest()
        self.lifetime = lifetime
        self._clock = clock

    def issue(self, admin_id: int, binding: str = "") -> tuple[str, Session]:
        """A new session for ``admin_id`` bound to ``binding``: the cookie value and what it says."""
        expires = self._clock() + self.lifetime
        nonce = secrets.token_urlsafe(16)
        session = Session(admin_id, expires.replace(microsecond=0), nonce, self._binding_digest(binding))
        expiry = int(session.expires_at.timestamp())
        payload = f"{_VERSION}.{admin_id}.{expiry}.{session.nonce}.{session.binding}"
        return f"{payload}.{self._mac(payload)}", session

    def read(self, value: str | None) -> Session | None:
        """The session in a cookie value, if it is authentic and unexpired."""
        if not value or len(value) > 512:
            return None
        payload, _, mac = value.rpartition(".")
        if not hmac.compare_digest(mac, self._mac(payload)):
            return None
        parts = payload.split(".")
        if len(parts) != 5:
            return None
        version, admin, expiry, nonce, binding = parts
        if version != _VERSION or not admin.isdecimal() or not expiry.isdecimal() or not nonce:
            return None
        expires_at = datetime.fromtimestamp(int(expiry), UTC)
        if expires_at <= self._clock():
            return None
        return Session(int(admin), expires_at, nonce, binding)

    def bound_to(self, session: Session, binding: str) -> bool:
        """Whether ``session`` was issued under the registry's current ``binding`` for its admin."""
        return hmac.compare_digest(session.binding, self._binding_digest(binding))

    def csrf_token(self, session: Session) -> str:
        """The token the page must send with every write made under ``session``."""
        return _b64(hmac.new(self._csrf_key, session.nonce.encode("ascii"), hashlib.sha256).digest())

    def check_csrf(self, session: Session, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(presented.encode(), self.csrf_token(session).encode())

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._cookie_key, payload.encode("utf-8"), hashlib.sha256).digest())

    def _binding_digest(self, binding: str) -> str:
        # Keyed, so the cookie (which the admin's browser holds) does not reveal the token's hash.
        return _b64(hmac.new(self._cookie_key, b"binding " + binding.encode("utf-8"), hashlib.sha256).digest()[:16])


class SessionAuthenticator:
    """An :class:`~supportchat.http.auth.Authenticator` for the panel's session cookie.

    A valid cookie names an admin. Writes (any method but GET, HEAD and
    OPTIONS) must also carry the session's CSRF token in ``X-CSRF-Token``,
    else :class:`CsrfRejected` (403) is raised. With ``admin_tokens`` the
    session must still be bound to the admin's live credential, so revoking
    or re-issuing an admin's token ends their sessions, and so does
    :meth:`end` (signing out).
    """

    def __init__(self, codec: SessionCodec, admin_tokens: AdminTokens | None = None) -> None:
        self.codec = codec
        self.admin_tokens = admin_tokens

    def session(self, request: RequestView) -> Session | None:
        """The request's verified session, without the CSRF check (for pages and reads)."""
        session = self.codec.read(request.cookies.get(SESSION_COOKIE))
        if session is None:
            return None
        binding = self.binding(session.admin_id)
        if binding is None or not self.codec.bound_to(session, binding):
            return None
        return session

    def binding(self, admin_id: int) -> str | None:
        """What a session of ``admin_id`` issued now is bound to; ``None`` if the admin may not sign in."""
        return "" if self.admin_tokens is None else self.admin_tokens.session_binding(admin_id)

    def issue(self, admin_id: int) -> str | None:
        """A cookie value for a new session of ``admin_id``; ``None`` if the admin has no live token."""
        binding = self.binding(admin_id)
        return None if binding is None else self.codec.issue(admin_id, binding)[0]

    def end(self, session: Session) -> None:
        """Sign out: every session of the admin ends, here and in every other process."""
        if self.admin_tokens is not None:
            self.admin_tokens.end_sessions(session.admin_id)

    def expires_at(self, request: RequestView) -> datetime | None:
        """When the request's session ends (``None`` without a valid one)."""
        session = self.session(request)
        return None if session is None else session.expires_at

    def identify(self, request: RequestView) -> Actor | None:
        session = self.session(request)
        if session is None:
            return None
        # Adapters' requests all have a method; a view without one is treated as a write, the safe side.
        method = str(getattr(request, "method", "POST")).upper()
        if method not in SAFE_METHODS and not self.codec.check_csrf(session, request.headers.get(CSRF_HEADER)):
            raise CsrfRejected(f"writes made with the panel session need the {CSRF_HEADER} header")
        return Actor.admin(session.admin_id)
