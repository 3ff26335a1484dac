"""Real HTTP servers on 127.0.0.1 for the panel tests: uvicorn (FastAPI) and threaded werkzeug (Flask)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from supportchat import SupportDesk
from supportchat.http import AdminTokens, InMemoryAdminTokens, TokenAuthenticator, UserTokens
from supportchat.http.ratelimit import RateLimiter, RateLimits
from supportchat.panel import Panel
from supportchat.stores import InMemoryStore, Store

SECRET = "panel-test-secret-0123456789-abcdefghij"


@dataclass
class Site:
    """A desk and its panel served over real HTTP, with an admin's and any user's credentials."""

    url: str
    adapter: str
    desk: SupportDesk
    store: Store
    tokens: AdminTokens
    users: UserTokens
    admin_token: str
    admin_id: int
    panel: Panel

    @property
    def panel_url(self) -> str:
        return self.url + "/admin/support"

    @property
    def api_url(self) -> str:
        return self.url + "/admin/api/support"

    def user(self, user_id: int) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.users.mint(user_id)}"}

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}


def _fastapi_app(
    desk: SupportDesk, authenticator: TokenAuthenticator, panel: Panel, limiter: RateLimiter, features: Any = ()
) -> Any:
    from supportchat.adapters.fastapi import create_app

    return create_app(desk, authenticator=authenticator, panel=panel, rate_limiter=limiter, features=features)


def _flask_app(
    desk: SupportDesk, authenticator: TokenAuthenticator, panel: Panel, limiter: RateLimiter, features: Any = ()
) -> Any:
    import flask

    from supportchat.adapters.flask import SupportChat

    app = flask.Flask("supportchat_panel_test")
    SupportChat(desk, authenticator=authenticator, panel=panel, rate_limiter=limiter, features=features).init_app(app)
    return app


@contextmanager
def _uvicorn(app: Any) -> Iterator[str]:
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def _werkzeug(app: Any) -> Iterator[str]:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


_ADAPTERS: dict[str, tuple[Callable[..., Any], Callable[[Any], Any]]] = {
    "fastapi": (_fastapi_app, _uvicorn),
    "flask": (_flask_app, _werkzeug),
}
ADAPTER_NAMES = tuple(_ADAPTERS)
#: Adapter name → a context manager serving a WSGI/ASGI app on 127.0.0.1, yielding its base URL.
RUNNERS = {name: run for name, (_, run) in _ADAPTERS.items()}


@contextmanager
def serve(
    adapter: str,
    store: Store | None = None,
    desk_options: dict[str, Any] | None = None,
    tokens: AdminTokens | None = None,
    rate_limits: RateLimits | None = None,
    features: Any = (),
    **panel_options: Any,
) -> Iterator[Site]:
    """The desk over ``store`` (a fresh in-memory one by default) with its panel, served by ``adapter``.

    ``desk_options`` go to :class:`SupportDesk` (a clock, a number generator); ``tokens`` is the admin
    registry (a fresh in-memory one by default, where "ana" and "luis" are created); the rest go to
    :class:`Panel`. Writes are not rate-limited unless ``rate_limits`` are given: panel tests load many
    tickets through the API. ``features`` are mounted beside the core's routes.
    """
    store = store or InMemoryStore()
    desk = SupportDesk(store, **(desk_options or {}))
    tokens = tokens or InMemoryAdminTokens()
    admin, admin_token = tokens.create("ana")
    tokens.create("luis")
    users = UserTokens(SECRET)
    panel = Panel(secret=SECRET, admin_tokens=tokens, **panel_options)
    build, run = _ADAPTERS[adapter]
    limiter = RateLimiter(rate_limits or RateLimits.unlimited())
    with run(build(desk, TokenAuthenticator(tokens, users), panel, limiter, features)) as url:
        yield Site(url, adapter, desk, store, tokens, users, admin_token, admin.id, panel)
