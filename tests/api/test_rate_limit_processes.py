"""Rate limits across server processes: Redis makes them one count (issue 12 #2).

Two real server processes (uvicorn for FastAPI, Werkzeug for Flask) on one
SQLite file, on 127.0.0.1. With ``SUPPORTCHAT_RATE_LIMIT_STORAGE`` on Redis a
user's ticket budget is shared; with the default (each process's memory) it is
not, which is what the docs say about several workers.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from supportchat.http import UserTokens

from ..realtime.server_app import PREFIX, server_processes

SECRET = "rate-limit-processes-secret-0123456789abcdef"
BUDGET = 4


def _open_tickets(bases: list[str], count: int) -> list[int]:
    """``count`` tickets by user 1, alternating between the processes; the statuses."""
    headers = {"Authorization": f"Bearer {UserTokens(SECRET).mint(1)}"}
    statuses = []
    with httpx.Client(timeout=10) as client:
        for n in range(count):
            reply = client.post(
                bases[n % len(bases)] + PREFIX + "/create-ticket",
                headers=headers,
                json={"subject": f"ticket {n}", "description": "x"},
            )
            statuses.append(reply.status_code)
            if reply.status_code == 429:
                assert int(reply.headers["Retry-After"]) >= 1
    return statuses


def _environment(storage: str | None) -> dict[str, str]:
    env = {
        "SUPPORTCHAT_RATE_LIMITS": f"user_tickets={BUDGET}/hour",
        "SUPPORTCHAT_RATE_LIMIT_NAMESPACE": f"supportchat-test-{uuid.uuid4().hex}",
    }
    if storage is not None:
        env["SUPPORTCHAT_RATE_LIMIT_STORAGE"] = storage
    return env


@pytest.mark.timeout(120)
@pytest.mark.parametrize("adapter", ["fastapi", "flask"])
def test_two_processes_on_one_redis_share_a_users_budget(adapter: str, redis_url: str, tmp_path: Path) -> None:
    database = {"SUPPORTCHAT_TEST_DB_URL": f"sqlite:///{tmp_path / 'desk.db'}"}
    with server_processes(database, SECRET, adapter=adapter, environment=_environment(redis_url)) as bases:
        assert _open_tickets(bases, BUDGET + 2) == [200] * BUDGET + [429, 429]


@pytest.mark.timeout(120)
def test_without_a_shared_storage_each_process_counts_its_own(tmp_path: Path) -> None:
    database = {"SUPPORTCHAT_TEST_DB_URL": f"sqlite:///{tmp_path / 'desk.db'}"}
    with server_processes(database, SECRET, adapter="fastapi", environment=_environment(None)) as bases:
        assert _open_tickets(bases, 2 * BUDGET + 2) == [200] * (2 * BUDGET) + [429, 429]
