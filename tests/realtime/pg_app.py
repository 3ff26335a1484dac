"""A FastAPI server process on the test PostgreSQL schema, for the cross-process tests and the benchmark.

Run as ``uvicorn --factory tests.realtime.pg_app:build``; it reads ``SUPPORTCHAT_TEST_PG_URL`` and
``SUPPORTCHAT_TEST_PG_SCHEMA``. ``Authorization: Bearer admin`` is an admin; users send JWTs signed
with ``SUPPORTCHAT_SECRET``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from supportchat import Actor, SupportDesk
from supportchat.adapters.fastapi import create_app
from supportchat.http import RequestView, UserTokens
from supportchat.http.auth import bearer_token
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


def build() -> object:
    schema = os.environ["SUPPORTCHAT_TEST_PG_SCHEMA"]
    engine = create_engine(os.environ["SUPPORTCHAT_TEST_PG_URL"], connect_args={"options": f"-c search_path={schema}"})
    desk = SupportDesk(SQLStore(engine))
    live = LiveEvents(desk, heartbeat=float(os.environ.get("SUPPORTCHAT_TEST_HEARTBEAT", "5"))).start()
    assert live.listener is not None and live.listener.wait_listening(10)
    return create_app(desk, live=live, authenticator=TestAuthenticator(UserTokens(os.environ["SUPPORTCHAT_SECRET"])))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server_processes(url: str, schema: str, secret: str, count: int = 2, heartbeat: float = 5.0) -> Iterator[list[str]]:
    """``count`` uvicorn processes serving this app on ``schema``; yields their base URLs, stops them after."""
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
        "SUPPORTCHAT_TEST_PG_URL": url,
        "SUPPORTCHAT_TEST_PG_SCHEMA": schema,
        "SUPPORTCHAT_SECRET": secret,
        "SUPPORTCHAT_TEST_HEARTBEAT": str(heartbeat),
    }
    ports = [free_port() for _ in range(count)]
    command = [sys.executable, "-m", "uvicorn", "--factory", "tests.realtime.pg_app:build", "--host", "127.0.0.1"]
    processes = [
        subprocess.Popen([*command, "--port", str(port), "--log-level", "warning"], cwd=ROOT, env=env) for port in ports
    ]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + 30
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
