"""Panel sessions: a signed cookie naming an admin, and the CSRF token bound to it.

The cookie is stateless: ``v1.<admin id>.<expiry>.<nonce>.<mac>``, the MAC an
HMAC-SHA256 under a key derived from ``SUPPORTCHAT_SECRET``. The CSRF token is
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
_VERSION = "v1"
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
    """A verified session: who, until when, and the nonce its CSRF token derives from."""

    admin_id: int
    expires_at: datetime
    nonce: str


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

    def issue(self, admin_id: int) -> tuple[str, Session]:
        """A new session for ``admin_id``: the cookie value and what it says."""
        expires = self._clock() + self.lifetime
        session = Session(admin_id, expires.replace(microsecond=0), secrets.token_urlsafe(16))
        payload = f"{_VERSION}.{admin_id}.{int(session.expires_at.timestamp())}.{session.nonce}"
        return f"{payload}.{self._mac(payload)}", session

    def read(self, value: str | None) -> Session | None:
        """The session in a cookie value, if it is authentic and unexpired."""
        if not value or len(value) > 512:
            return None
        payload, _, mac = value.rpartition(".")
        if not hmac.compare_digest(mac, self._mac(payload)):
            return None
        parts = payload.split(".")
        if len(parts) != 4:
            return None
        version, admin, expiry, nonce = parts
        if version != _VERSION or not admin.isdecimal() or not expiry.isdecimal() or not nonce:
            return None
        expires_at = datetime.fromtimestamp(int(expiry), UTC)
        if expires_at <= self._clock():
            return None
        return Session(int(admin), expires_at, nonce)

    def csrf_token(self, session: Session) -> str:
        """The token the page must send with every write made under ``session``."""
        return _b64(hmac.new(self._csrf_key, session.nonce.encode("ascii"), hashlib.sha256).digest())

    def check_csrf(self, session: Session, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(presented.encode(), self.csrf_token(session).encode())

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._cookie_key, payload.encode("utf-8"), hashlib.sha256).digest())


class SessionAuthenticator:
    """An :class:`~supportchat.http.auth.Authenticator` for the panel's session cookie.

    A valid cookie names an admin. Writes (any method but GET, HEAD and
    OPTIONS) must also carry the session's CSRF token in ``X-CSRF-Token``,
    else :class:`CsrfRejected` (403) is raised. With ``admin_tokens`` the
    admin must still be live, so revoking an admin's token ends their
    sessions too.
    """

    def __init__(self, codec: SessionCodec, admin_tokens: AdminTokens | None = None) -> None:
        self.codec = codec
        self.admin_tokens = admin_tokens

    def session(self, request: RequestView) -> Session | None:
        """The request's verified session, without the CSRF check (for pages and reads)."""
        session = self.codec.read(request.cookies.get(SESSION_COOKIE))
        if session is None or not self._live(session.admin_id):
            return None
        return session

    def identify(self, request: RequestView) -> Actor | None:
        session = self.session(request)
        if session is None:
            return None
        # Adapters' requests all have a method; a view without one is treated as a write, the safe side.
        method = str(getattr(request, "method", "POST")).upper()
        if method not in SAFE_METHODS and not self.codec.check_csrf(session, request.headers.get(CSRF_HEADER)):
            raise CsrfRejected(f"writes made with the panel session need the {CSRF_HEADER} header")
        return Actor.admin(session.admin_id)

    def _live(self, admin_id: int) -> bool:
        if self.admin_tokens is None:
            return True
        return any(a.id == admin_id and a.revoked_at is None for a in self.admin_tokens.list())
