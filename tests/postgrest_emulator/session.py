"""One emulated project per test session (per xdist worker), for fixtures and backends.

``shared_project(request)`` creates the database on first use and drops it when
the session ends; ``fresh_store(request)`` empties it and hands out a
service-role :class:`SupabaseStore` over the emulator. An unreachable
PostgreSQL skips the test, or fails it when ``CI=true``.
"""

from __future__ import annotations

import os

import httpx
import psycopg
import pytest

from supportchat.stores.supabase import SupabaseStore

from .database import SERVER_DSN
from .project import EmulatedProject

_projects: dict[str, EmulatedProject] = {}


def require_postgres(dsn: str = SERVER_DSN) -> None:
    """Skip (fail under ``CI=true``) when the test PostgreSQL server cannot be reached."""
    try:
        psycopg.connect(dsn, connect_timeout=3).close()
    except psycopg.OperationalError as error:
        reason = f"PostgreSQL at {dsn} is unreachable: {error}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(reason)
        pytest.skip(reason)


def shared_project(request: pytest.FixtureRequest, dsn: str = SERVER_DSN) -> EmulatedProject:
    """The session's emulated project on ``dsn``, created on first use and dropped at the end."""
    project = _projects.get(dsn)
    if project is None:
        require_postgres(dsn)
        project = _projects[dsn] = EmulatedProject.create(dsn)

        def drop() -> None:
            _projects.pop(dsn, None)
            project.close()

        request.config.add_cleanup(drop)
    return project


def fresh_store(
    request: pytest.FixtureRequest,
    *,
    token: str | None = None,
    transport: httpx.BaseTransport | None = None,
) -> SupabaseStore:
    """A :class:`SupabaseStore` on the session's project with every table emptied.

    ``transport`` replaces the emulator on the wire (wrap ``project.transport``
    to inject faults); ``token`` acts as that user instead of the service role.
    """
    project = shared_project(request)
    project.reset()
    return project.store(token=token, transport=transport)
