"""The admin panel at ``/admin/support``: a self-contained page over the admin API.

Framework-free: :class:`Panel` serves the page, its packaged assets, the
session endpoints and the security headers; the Flask and FastAPI adapters
only translate requests and responses. See ``docs/panel.md``.
"""

from .app import DEFAULT_PANEL_PATH, PANEL_ROUTES, Panel, PanelRequest, PanelResponse
from .headers import CONTENT_SECURITY_POLICY, SECURITY_HEADERS
from .session import CSRF_HEADER, SESSION_COOKIE, CsrfRejected, Session, SessionAuthenticator, SessionCodec

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "CSRF_HEADER",
    "DEFAULT_PANEL_PATH",
    "PANEL_ROUTES",
    "SECURITY_HEADERS",
    "SESSION_COOKIE",
    "CsrfRejected",
    "Panel",
    "PanelRequest",
    "PanelResponse",
    "Session",
    "SessionAuthenticator",
    "SessionCodec",
]
