"""The admin panel's own routes, framework-free: page, assets, session, login, logout.

An adapter turns its framework's request into a :class:`PanelRequest`, calls
:meth:`Panel.handle` and sends the :class:`PanelResponse` back unchanged. The
panel's data comes from the ordinary admin API (the route table), which
accepts the panel's session cookie through :meth:`Panel.api_authenticator`.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from ..errors import BadRequest, Forbidden, NotAuthenticated, RateLimited
from ..http.auth import (
    ADMIN_TOKEN_PREFIX,
    SECRET_VARIABLE,
    AdminAccount,
    AdminTokens,
    Authenticator,
    ChainAuthenticator,
    LastUseRecorder,
)
from ..http.dispatch import parse_body
from ..http.envelope import error_headers, render_error
from ..http.routes import DEFAULT_PREFIX
from ..models import Actor, Category, Priority, TicketStatus
from ..rules import allowed_transitions
from .assets import asset, render_page
from .headers import SECURITY_HEADERS, clear_cookie, session_cookie
from .session import CSRF_HEADER, SESSION_COOKIE, SessionAuthenticator, SessionCodec
from .throttle import LoginThrottle

__all__ = ["DEFAULT_PANEL_PATH", "PANEL_ROUTES", "Panel", "PanelRequest", "PanelResponse"]

DEFAULT_PANEL_PATH = "/admin/support"
#: The panel's routes relative to its path, as (method, path, name); adapters mount exactly these.
PANEL_ROUTES: tuple[tuple[str, str, str], ...] = (
    ("GET", "", "page"),
    ("GET", "/static/{name}", "static"),
    ("GET", "/session", "session"),
    ("POST", "/login", "login"),
    ("POST", "/logout", "logout"),
)
_JSON = "application/json"
_HTML = "text/html; charset=utf-8"
_LOGIN_BODY_LIMIT = 4096
_IMMUTABLE = "public, max-age=31536000, immutable"

Identify = Callable[[], Actor | None]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class PanelRequest:
    """What the panel reads of a request."""

    method: str
    #: The route's name from :data:`PANEL_ROUTES`.
    route: str
    headers: Mapping[str, str]
    cookies: Mapping[str, str]
    query: Mapping[str, str] = field(default_factory=dict)
    path_params: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    #: Whether the client reached us over https (decides the cookie's ``Secure``).
    secure: bool = False
    #: The client's address, for the login throttle.
    client: str = ""


@dataclass(slots=True)
class PanelResponse:
    """Status, body and headers to send as they are."""

    status: int
    body: bytes
    content_type: str
    headers: list[tuple[str, str]] = field(default_factory=list)


class _AdminView(BaseModel):
    id: int | None
    name: str | None


class _SessionInfo(BaseModel):
    """What the page needs to know at start: who, the CSRF token, the vocabulary and the lifecycle."""

    admin: _AdminView
    csrf_token: str | None
    csrf_header: str
    can_logout: bool
    admins: list[_AdminView]
    statuses: list[str]
    priorities: list[str]
    categories: list[str]
    #: Status → the statuses the lifecycle lets it move to (spec §3, ``rules.allowed_transitions``).
    transitions: dict[str, list[str]]
    api: str
    events: str


class _SignedIn(BaseModel):
    admin: _AdminView | None = None


def _ok(data: BaseModel) -> bytes:
    return b'{"success":true,"data":' + data.model_dump_json().encode() + b"}"


class Panel:
    """The admin panel at ``path`` (default ``/admin/support``).

    Standalone, admins sign in with their bearer token (``secret`` signs the
    session cookie, ``admin_tokens`` checks the token). Behind a host app's
    login, pass no secret: the adapter's ``identify`` hook names the admin,
    and ``login_url`` is where an anonymous visitor is sent.
    """

    def __init__(
        self,
        *,
        secret: str | None = None,
        admin_tokens: AdminTokens | None = None,
        path: str = DEFAULT_PANEL_PATH,
        api_prefix: str = DEFAULT_PREFIX,
        login_url: str | None = None,
        session_lifetime: timedelta = timedelta(hours=8),
        secure_cookie: bool | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.path = "/" + path.strip("/")
        self.api_prefix = "/" + api_prefix.strip("/")
        self.login_url = login_url
        self.admin_tokens = admin_tokens
        self._last_use = LastUseRecorder(admin_tokens) if admin_tokens is not None else None
        self.secure_cookie = secure_cookie
        self.sessions: SessionAuthenticator | None = None
        if secret is not None:
            self.sessions = SessionAuthenticator(
                SessionCodec(secret, lifetime=session_lifetime, clock=clock), admin_tokens
            )
        self.throttle = LoginThrottle(clock)
        # The cookie must reach both the page and the API.
        self.cookie_path = posixpath.commonpath([self.path, self.api_prefix]) or "/"

    @classmethod
    def from_env(
        cls, admin_tokens: AdminTokens | None, environ: Mapping[str, str] = os.environ, **options: Any
    ) -> Panel:
        """A standalone panel whose sessions are signed with ``SUPPORTCHAT_SECRET`` (required)."""
        secret = environ.get(SECRET_VARIABLE)
        if not secret:
            raise RuntimeError(f"{SECRET_VARIABLE} is not set; `supportchat init` generates one")
        return cls(secret=secret, admin_tokens=admin_tokens, **options)

    @property
    def can_login(self) -> bool:
        """Whether the standalone login form works (a secret and a token registry)."""
        return self.sessions is not None and self.admin_tokens is not None

    def api_authenticator(self, base: Authenticator) -> Authenticator:
        """``base`` (bearer tokens) first, then the session cookie with its CSRF check."""
        if self.sessions is None:
            return base
        return ChainAuthenticator((base, self.sessions))

    #: The largest body a panel route reads (the login form's token).
    body_limit = _LOGIN_BODY_LIMIT

    def error(self, exc: Exception) -> PanelResponse:
        """The response for a request the adapter could not even read (an oversized body)."""
        status, body = render_error(exc)
        headers = [("Cache-Control", "no-store"), *SECURITY_HEADERS, *error_headers(exc)]
        return PanelResponse(status, body, _JSON, headers)

    def full_path(self, route_path: str) -> str:
        return self.path + route_path

    # -- serving -----------------------------------------------------------

    def handle(self, request: PanelRequest, identify: Identify | None = None) -> PanelResponse:
        """Serve one panel request; ``identify`` is the host's hook (standalone: the session cookie)."""
        who = identify or (lambda: self._session_actor(request))
        try:
            handlers: dict[str, Callable[[PanelRequest, Identify], PanelResponse]] = {
                "page": self._page,
                "static": self._static,
                "session": self._session,
                "login": self._login,
                "logout": self._logout,
            }
            response = handlers[request.route](request, who)
        except Exception as exc:
            return self.error(exc)
        response.headers.extend(SECURITY_HEADERS)
        return response

    def _session_actor(self, request: PanelRequest) -> Actor | None:
        return self.sessions.identify(request) if self.sessions is not None else None

    def _page(self, request: PanelRequest, who: Identify) -> PanelResponse:
        actor = who()
        if actor is None and self.login_url and not self.can_login:
            return PanelResponse(302, b"", _HTML, [("Location", self.login_url), ("Cache-Control", "no-store")])
        if actor is None:
            view, status = ("login" if self.can_login else "signed-out"), 200
        elif not actor.is_staff:
            view, status = "forbidden", 403
        else:
            view, status = "app", 200
        values = {
            "view": view,
            "session_url": self.full_path("/session"),
            "login_url": self.full_path("/login"),
            "logout_url": self.full_path("/logout"),
            "host_login_url": self.login_url or "",
            "css_url": self._asset_url("panel.css"),
            "js_url": self._asset_url("panel.js"),
        }
        return PanelResponse(status, render_page(values), _HTML, [("Cache-Control", "no-store")])

    def _asset_url(self, name: str) -> str:
        found = asset(name)
        version = found.version if found is not None else "missing"
        return f"{self.path}/static/{name}?v={version}"

    def _static(self, request: PanelRequest, who: Identify) -> PanelResponse:
        found = asset(request.path_params.get("name", ""))
        if found is None:
            return PanelResponse(404, b"not found", "text/plain; charset=utf-8", [("Cache-Control", "no-store")])
        etag = f'"{found.version}"'
        caching = _IMMUTABLE if request.query.get("v") == found.version else "no-cache"
        headers = [("ETag", etag), ("Cache-Control", caching)]
        if request.headers.get("if-none-match") == etag:
            return PanelResponse(304, b"", found.content_type, headers)
        return PanelResponse(200, found.body, found.content_type, headers)

    def _session(self, request: PanelRequest, who: Identify) -> PanelResponse:
        actor = who()
        if actor is None:
            raise NotAuthenticated("sign in to use the support panel")
        if not actor.is_staff:
            raise Forbidden("only an admin may use the support panel")
        session = self.sessions.session(request) if self.sessions is not None else None
        token = self.sessions.codec.csrf_token(session) if self.sessions is not None and session else None
        admins = [_AdminView(id=a.id, name=a.name) for a in self._admins()]
        me = next((a for a in admins if a.id == actor.id), _AdminView(id=actor.id, name=None))
        info = _SessionInfo(
            admin=me,
            csrf_token=token,
            csrf_header=CSRF_HEADER,
            can_logout=session is not None,
            admins=admins,
            statuses=[s.value for s in TicketStatus],
            priorities=[p.value for p in Priority],
            categories=[c.value for c in Category],
            transitions={s.value: sorted(t.value for t in allowed_transitions(s)) for s in TicketStatus},
            api=self.api_prefix,
            events=self.api_prefix + "/events",
        )
        return PanelResponse(200, _ok(info), _JSON, [("Cache-Control", "no-store")])

    def _admins(self) -> list[AdminAccount]:
        if self.admin_tokens is None:
            return []
        return [a for a in self.admin_tokens.list() if a.revoked_at is None]

    def _login(self, request: PanelRequest, who: Identify) -> PanelResponse:
        if self.sessions is None or self.admin_tokens is None:
            raise Forbidden("sign in through the host application", details={"login_url": self.login_url})
        # Only JSON is accepted: a cross-site HTML form cannot send it, so nobody can be signed in as someone else.
        if not request.headers.get("content-type", "").lower().startswith(_JSON):
            raise BadRequest('the login body must be JSON: {"token": "…"}')
        body = parse_body(request.body, _LOGIN_BODY_LIMIT)
        token = body.get("token") if isinstance(body, dict) else None
        admin = None
        if isinstance(token, str) and token.strip().startswith(ADMIN_TOKEN_PREFIX):
            admin = self.admin_tokens.verify(token.strip())
        if admin is None:
            # Failures are throttled, the right token never is (see throttle.py for why that is safe).
            wait = self.throttle.retry_after(request.client)
            self.throttle.failed(request.client)
            if wait:
                raise RateLimited("too many failed sign-ins; try again later", details={"retry_after": wait})
            raise NotAuthenticated("that admin token is not valid")
        value = self.sessions.issue(admin.id)
        if value is None:  # revoked between the check and now
            raise NotAuthenticated("that admin token is not valid")
        if self._last_use is not None:
            self._last_use.note(admin)
        cookie = session_cookie(
            SESSION_COOKIE,
            value,
            path=self.cookie_path,
            secure=self._secure(request),
            lifetime=self.sessions.codec.lifetime,
        )
        data = _SignedIn(admin=_AdminView(id=admin.id, name=admin.name))
        return PanelResponse(200, _ok(data), _JSON, [("Set-Cookie", cookie), ("Cache-Control", "no-store")])

    def _logout(self, request: PanelRequest, who: Identify) -> PanelResponse:
        session = self.sessions.session(request) if self.sessions is not None else None
        if self.sessions is not None and session is not None:
            who()  # a valid session must present its CSRF token (CsrfRejected otherwise)
            # Server-side, so that a copy of the cookie (a replay) is refused too.
            self.sessions.end(session)
        cookie = clear_cookie(SESSION_COOKIE, path=self.cookie_path, secure=self._secure(request))
        return PanelResponse(200, _ok(_SignedIn()), _JSON, [("Set-Cookie", cookie), ("Cache-Control", "no-store")])

    def _secure(self, request: PanelRequest) -> bool:
        return request.secure if self.secure_cookie is None else self.secure_cookie
