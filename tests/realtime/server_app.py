"""Server processes for the cross-process tests and the benchmark.

FastAPI: ``uvicorn --factory tests.realtime.server_app:build``; Flask (Werkzeug's
threaded server): ``python -m tests.realtime.server_app PORT``. Both rate-limit
writes as the standalone server does (``RateLimiter.from_env``). The database is
``SUPPORTCHAT_TEST_DB_URL`` if set (a SQLite file, say), else the PostgreSQL
``SUPPORTCHAT_TEST_PG_URL`` on schema ``SUPPORTCHAT_TEST_PG_SCHEMA``.
``Authorization: Bearer admin`` is an admin; users send JWTs signed with
``SUPPORTCHAT_SECRET``.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from supportchat import Actor, SupportDesk
from supportchat.adapters.fastapi import create_app
from supportchat.http import RequestView, UserTokens
from supportchat.http.auth import bearer_token
from supportchat.http.ratelimit import RateLimiter
from supportchat.realtime import LiveEvents
from supportchat.stores.sql import SQLStore, create_engine

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "/admin/api/support"


class TestAuthenticator:
    """``Bearer admin`` is admin 1; a JWT signed with the secret is its user."""

    def __init__(self, users: UserTokens) -> None:
        self.users = users

    def identify(self, request: RequestView) -> Actor | None:
        token = bearer_token(request.headers)
        if token == "admin":
            return Actor.admin(1)
        user_id = self.users.verify(token) if token else None
        return None if user_id is None else Actor.user(user_id)


def _desk_and_live() -> tuple[SupportDesk, LiveEvents]:
    if url := os.environ.get("SUPPORTCHAT_TEST_DB_URL"):
        store = SQLStore.from_url(url, migrate=True)
    else:
        schema = os.environ["SUPPORTCHAT_TEST_PG_SCHEMA"]
        options = {"options": f"-c search_path={schema}"}
        store = SQLStore(create_engine(os.environ["SUPPORTCHAT_TEST_PG_URL"], connect_args=options))
    desk = SupportDesk(store)
    live = LiveEvents(desk, heartbeat=float(os.environ.get("SUPPORTCHAT_TEST_HEARTBEAT", "5"))).start()
    assert live.listener is None or live.listener.wait_listening(10)
    return desk, live


def _authenticator() -> TestAuthenticator:
    return TestAuthenticator(UserTokens(os.environ["SUPPORTCHAT_SECRET"]))


def build() -> object:
    """The FastAPI app."""
    desk, live = _desk_and_live()
    return create_app(desk, live=live, authenticator=_authenticator(), rate_limiter=RateLimiter.from_env())


def serve_flask(port: int) -> None:
    """The Flask app under Werkzeug's threaded server, until the process is stopped."""
    import flask
    from werkzeug.serving import make_server

    from supportchat.adapters.flask import SupportChat

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    desk, live = _desk_and_live()
    app = flask.Flask("supportchat_server")
    SupportChat(desk, live=live, authenticator=_authenticator(), rate_limiter=RateLimiter.from_env()).init_app(app)
    make_server("127.0.0.1", port, app, threaded=True).serve_forever()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server_processes(
    database: Mapping[str, str],
    secret: str,
    count: int = 2,
    heartbeat: float = 5.0,
    adapter: str = "fastapi",
    environment: Mapping[str, str] | None = None,
    pids: list[int] | None = None,
) -> Iterator[list[str]]:
    """``count`` server processes on one database; yields their base URLs, stops them after.

    ``database`` holds the ``SUPPORTCHAT_TEST_*`` variables naming it; ``environment``
    adds others (the rate limits' ``SUPPORTCHAT_RATE_LIMIT*``, read by every process).
    The processes' ids are appended to ``pids`` when given (a benchmark reads their memory).
    """
    env = {
        **os.environ,
        **database,
        **(environment or {}),
        "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
        "SUPPORTCHAT_SECRET": secret,
        "SUPPORTCHAT_TEST_HEARTBEAT": str(heartbeat),
    }
    ports = [free_port() for _ in range(count)]

    def command(port: int) -> list[str]:
        if adapter == "flask":
            return [sys.executable, "-m", "tests.realtime.server_app", str(port)]
        application = ["uvicorn", "--factory", "tests.realtime.server_app:build"]
        return [
            sys.executable,
            "-m",
            *application,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            # As `supportchat serve`: live streams written to their connections directly.
            "--http",
            "supportchat.adapters.uvicorn:DirectWriteH11Protocol",
        ]

    processes = [subprocess.Popen(command(port), cwd=ROOT, env=env) for port in ports]
    if pids is not None:
        pids.extend(process.pid for process in processes)
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + 90  # a loaded shared machine starts a process slowly
        for base, process in zip(bases, processes, strict=True):
            while True:
                assert process.poll() is None, "a server process died"
                assert time.monotonic() < deadline, "a server process did not start"
                try:
                    if httpx.get(base + PREFIX + "/statistics", headers={"Authorization": "Bearer admin"}).is_success:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
        yield bases
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


if __name__ == "__main__":
    serve_flask(int(sys.argv[1]))
