"""The standalone server: the FastAPI app over the configured database, and its first start.

``supportchat serve`` runs :func:`create_server_app` on uvicorn. The factory
reads its configuration from the environment (``SUPPORTCHAT_DATABASE_URL``,
``SUPPORTCHAT_SECRET``, or Supabase's variables, the webhook's; the rate limits from
``SUPPORTCHAT_RATE_LIMITS`` and ``SUPPORTCHAT_RATE_LIMIT_STORAGE``) so that
each uvicorn worker process builds the same app; ``serve`` puts what it
resolved there first. Several workers share their rate limits only through a
shared storage such as Redis.
It also works on its own::

    uvicorn --factory supportchat.cli.server:create_server_app

but then without the bounds ``serve`` puts on slow and idle clients
(:mod:`.connections`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import SupportChatError
from ..http.auth import TokenAuthenticator, UserTokens
from ..http.ratelimit import LIMITS_VARIABLE, STORAGE_VARIABLE, RateLimiter
from .config import (
    DATABASE_URL_VARIABLE,
    SECRET_VARIABLE,
    connect,
    open_session,
    read_secret,
    resolve_database_url,
    uses_supabase,
)
from .features import installed_features
from .output import UserError
from .people import ensure_agent_for_admin
from .worker import embedded_worker_enabled, job_runner

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["DEFAULT_REQUEST_TIMEOUT", "FIRST_ADMIN_NAME", "PANEL_PATH", "Bootstrap", "bootstrap", "create_server_app"]

#: The admin created on the first start, when the database has none.
FIRST_ADMIN_NAME = "admin"
PANEL_PATH = "/admin/support"
#: Seconds a connection has to deliver one whole request to ``serve`` (see :mod:`.connections`).
DEFAULT_REQUEST_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class Bootstrap:
    """What the first start (or ``init``) set up."""

    database: str
    database_url: str | None
    secret: str
    #: The token of the admin created now, or ``None`` if admins existed.
    first_admin_token: str | None


def bootstrap(database_url: str | None) -> Bootstrap:
    """Create (or upgrade) the database, the secret and, if there is no admin yet, a first admin."""
    secret = read_secret(create=True)
    assert secret is not None
    with open_session(database_url, migrate=True) as session:
        registry = session.admin_tokens
        token = None
        if not registry.list():
            admin, token = registry.create(FIRST_ADMIN_NAME)
            with contextlib.suppress(SupportChatError):  # the agent row can be added later
                ensure_agent_for_admin(session, admin.id, admin.name)
        described = session.description
    url = None if uses_supabase(database_url) else resolve_database_url(database_url)
    return Bootstrap(database=described, database_url=url, secret=secret, first_admin_token=token)


def export_configuration(setup: Bootstrap) -> None:
    """Put what ``serve`` resolved in the environment, where every worker's factory reads it."""
    if setup.database_url is not None:
        os.environ[DATABASE_URL_VARIABLE] = setup.database_url
    os.environ[SECRET_VARIABLE] = setup.secret


def create_server_app() -> FastAPI:
    """The standalone app: the API and the admin panel over the configured database.

    Admins authenticate with tokens from ``support_admins``, users with JWTs
    signed with the secret. The store lives as long as the process. Unless
    ``SUPPORTCHAT_EMBEDDED_WORKER=0``, a job runner (notifications, scheduled
    work) runs in the serving process from startup to shutdown, beside any
    other workers on the same database.
    """
    try:
        from ..adapters.fastapi import create_app
    except ImportError as exc:
        raise UserError(f"{exc}; the server needs: pip install 'supportchat[cli]'") from None
    secret = read_secret()
    if secret is None:
        raise UserError(f"no secret: set {SECRET_VARIABLE} or run `supportchat init`")
    from ..panel import Panel

    try:
        # Before the database: a mistyped limit should not leave a store open behind the error.
        rate_limiter = RateLimiter.from_env()
    except ValueError as exc:
        raise UserError(f"{exc} (set in {LIMITS_VARIABLE} or {STORAGE_VARIABLE})") from None
    session = connect(os.environ.get(DATABASE_URL_VARIABLE), migrate=True)
    authenticator = TokenAuthenticator(session.admin_tokens, UserTokens(secret))
    panel = Panel(secret=secret, admin_tokens=session.admin_tokens)
    on_startup: list[Callable[[], object]] = []
    on_shutdown: list[Callable[[], object]] = [session.close]
    if embedded_worker_enabled():
        runner = job_runner(session)
        on_startup.append(lambda: runner.start(session.desk))
        on_shutdown.insert(0, runner.stop)
    return create_app(
        session.desk,
        authenticator=authenticator,
        panel=panel,
        features=installed_features(),
        rate_limiter=rate_limiter,
        on_startup=on_startup,
        on_shutdown=on_shutdown,
    )
