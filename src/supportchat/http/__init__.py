"""The framework-free HTTP layer shared by the Flask and FastAPI adapters.

:data:`~supportchat.http.routes.ROUTES` is the API;
:func:`~supportchat.http.dispatch.dispatch` serves one request of it;
:mod:`~supportchat.http.auth` says who is calling;
:mod:`~supportchat.http.envelope` renders every response.
"""

from .auth import (
    AdminAccount,
    AdminTokens,
    Authenticator,
    ChainAuthenticator,
    InMemoryAdminTokens,
    RequestView,
    TokenAuthenticator,
    UserTokens,
)
from .dispatch import dispatch
from .envelope import DataEnvelope, ErrorEnvelope, ListEnvelope, PageMeta, render_error
from .routes import DEFAULT_PREFIX, ROUTES, Audience, Route

__all__ = [
    "DEFAULT_PREFIX",
    "ROUTES",
    "AdminAccount",
    "AdminTokens",
    "Audience",
    "Authenticator",
    "ChainAuthenticator",
    "DataEnvelope",
    "ErrorEnvelope",
    "InMemoryAdminTokens",
    "ListEnvelope",
    "PageMeta",
    "RequestView",
    "Route",
    "TokenAuthenticator",
    "UserTokens",
    "dispatch",
    "render_error",
]
