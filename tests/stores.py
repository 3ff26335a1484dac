"""Every store the contract suite runs against, by name.

Each entry is a context manager factory: entering it gives a ``make`` callable
that returns a fresh, empty store each time it is called (the stateful test
calls it once per example). Add a backend here and every contract and
stateful test runs on it; write no test twice.

The SQL backends build their database once per test session (migrations are
the slow part) and make each fresh store cheaply from it: a copied file, an
in-memory backup, or emptied tables in a PostgreSQL schema of its own.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tenacity import Retrying, stop_after_attempt, wait_none

from supportchat.migrations import upgrade
from supportchat.stores import FallbackStore, InMemoryStore, Store
from supportchat.stores._breaker import CircuitBreaker
from supportchat.stores.sql import SQLStore, create_engine

from .faults import FaultyStore, flapping

StoreMaker = Callable[[], Store]

#: Where the test PostgreSQL server is (trust auth); override with SUPPORTCHAT_TEST_PG_URL.
POSTGRES_URL = os.environ.get("SUPPORTCHAT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_SQL_TABLES = (
    "support_push_attempts",
    "support_push_deliveries",
    "support_ticket_changes",
    "support_events",
    "support_ticket_notes",
    "support_messages",
    "support_tickets",
    "support_admins",
    "support_jobs",
    "support_attachments",
    "support_mail_messages",
    "support_sla_events",
    "support_sla_deadlines",
    "support_sla_policies",
    "support_sla_calendars",
    "support_report_facts",
    "support_report_segments",
)
#: Tables without an id sequence, emptied too.
_SQL_KEYED_TABLES = (
    "support_agents",
    "support_contacts",
    "support_job_cursors",
    "support_teams",
    "support_agent_states",
    "support_ticket_teams",
    "support_assignment_queue",
    "support_ratings",
    "support_push_devices",
    "support_mail_checkpoints",
    "support_mail_participants",
    "support_mail_preferences",
    "support_sla_clocks",
    "support_report_state",
)


_RESOURCES = pytest.StashKey[dict[str, Any]]()


def _once(request: pytest.FixtureRequest, key: str, build: Callable[[], tuple[Any, Callable[[], None]]]) -> Any:
    """A resource built on first use in this test session and cleaned up at its end."""
    cache = request.config.stash.setdefault(_RESOURCES, {})
    if key not in cache:
        value, cleanup = build()
        cache[key] = value
        request.config.add_cleanup(cleanup)
    return cache[key]


@contextmanager
def memory_backend(request: pytest.FixtureRequest) -> Iterator[StoreMaker]:
    yield InMemoryStore


def _sqlite_template() -> tuple[Path, Callable[[], None]]:
    folder = Path(tempfile.mkdtemp(prefix="supportchat-sqlite-"))
    template = folder / "template.db"
    engine = create_engine(f"sqlite:///{template}")
    upgrade(engine)
    engine.dispose()  # the last connection checkpoints the WAL into the file
    return template, lambda: shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def sqlite_file_backend(request: pytest.FixtureRequest) -> Iterator[StoreMaker]:
    template: Path = _once(request, "sqlite-file", _sqlite_template)

    def make() -> Store:
        path = template.with_name(f"{uuid.uuid4().hex}.db")
        shutil.copyfile(template, path)
        return SQLStore.from_url(f"sqlite:///{path}", migrate=False)

    yield make


def _memory_template() -> tuple[sqlite3.Connection, Callable[[], None]]:
    engine = create_engine("sqlite://")
    upgrade(engine)
    raw = engine.raw_connection().driver_connection
    assert isinstance(raw, sqlite3.Connection)
    return raw, engine.dispose


@contextmanager
def sqlite_memory_backend(request: pytest.FixtureRequest) -> Iterator[StoreMaker]:
    template: sqlite3.Connection = _once(request, "sqlite-memory", _memory_template)

    def make() -> Store:
        database = sqlite3.connect(":memory:", check_same_thread=False)
        template.backup(database)
        return SQLStore.from_url("sqlite://", creator=lambda: database, migrate=False)

    yield make


def postgres_schema(prefix: str) -> tuple[sa.Engine | Exception, Callable[[], None]]:
    """An engine on a new, empty PostgreSQL schema and the function that drops it (or why there is none)."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except sa.exc.OperationalError as error:
        admin.dispose()
        return error, lambda: None
    engine = create_engine(POSTGRES_URL, connect_args={"options": f"-c search_path={schema}"})

    def drop() -> None:
        engine.dispose()
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()

    return engine, drop


def postgres_engine(request: pytest.FixtureRequest) -> sa.Engine:
    """An engine on a PostgreSQL schema of this test session's own, migrated; dropped at the end.

    Unreachable PostgreSQL skips the test, or fails it when ``CI`` is set.
    """

    def build() -> tuple[sa.Engine | Exception, Callable[[], None]]:
        engine, drop = postgres_schema("supportchat_test")
        if not isinstance(engine, Exception):
            upgrade(engine)
        return engine, drop

    engine = _once(request, "postgres", build)
    if isinstance(engine, Exception):
        reason = f"PostgreSQL is unreachable at {POSTGRES_URL}: {engine}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return engine  # type: ignore[no-any-return]


@contextmanager
def postgres_backend(request: pytest.FixtureRequest) -> Iterator[StoreMaker]:
    engine = postgres_engine(request)

    def make() -> Store:
        # DELETE is much faster than TRUNCATE on tables this small.
        with engine.begin() as connection:
            connection.exec_driver_sql("DELETE FROM support_ticket_tags")
            for table in _SQL_TABLES:
                connection.exec_driver_sql(f"DELETE FROM {table}")
                connection.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 1, false)")
            for table in _SQL_KEYED_TABLES:
                connection.exec_driver_sql(f"DELETE FROM {table}")
            connection.exec_driver_sql("UPDATE support_stats SET count = 0")
        return SQLStore(engine)

    yield make


def _fallback_backend(mode: str) -> Callable[[pytest.FixtureRequest], object]:
    """FallbackStore over two InMemoryStores, the primary up, down or flapping.

    Down: the breaker stays open (a long cool-down), so everything is served by
    the fallback and journalled. Flapping: the primary fails 2 calls in every
    5 and the breaker probes at once, so requests fail over, replay and
    switch back all the time.
    """

    @contextmanager
    def backend(request: pytest.FixtureRequest) -> Iterator[StoreMaker]:
        folder = request.getfixturevalue("tmp_path_factory").mktemp("fallback")
        numbers = itertools.count()

        def make() -> Store:
            primary = FaultyStore(InMemoryStore(), flapping(up=3, down=2) if mode == "flapping" else None)
            primary.down = mode == "down"
            return FallbackStore(
                primary,  # type: ignore[arg-type]
                InMemoryStore(),
                journal=folder / f"journal-{next(numbers)}.sqlite",
                retry=Retrying(stop=stop_after_attempt(2), wait=wait_none(), sleep=lambda _s: None),
                breaker=CircuitBreaker(cool_down=0 if mode == "flapping" else 3600),
            )

        yield make

    return backend


@contextmanager
def supabase_backend(request: pytest.FixtureRequest) -> Iterator[StoreMaker]:
    """SupabaseStore through the real client over the PostgREST emulator (one database per session)."""
    from .postgrest_emulator.session import fresh_store

    yield lambda: fresh_store(request)


@contextmanager
def supabase_with_sqlite_backend(request: pytest.FixtureRequest) -> Iterator[StoreMaker]:
    """The product's Supabase configuration: FallbackStore(SupabaseStore over the emulator, a SQLite file).

    What ``FallbackStore.for_supabase`` builds, with the primary up: the capabilities whose rows
    live in the fallback's local database (jobs, teams, SLA, attachments, mail, push, automation)
    run on the SQLite file while the tickets are Supabase's, copied into it.
    """
    from .postgrest_emulator.session import fresh_store

    template: Path = _once(request, "sqlite-file", _sqlite_template)

    def make() -> Store:
        local = template.with_name(f"{uuid.uuid4().hex}.db")
        shutil.copyfile(template, local)
        return FallbackStore(
            fresh_store(request),
            SQLStore.from_url(f"sqlite:///{local}", migrate=False),
            journal=local.with_name(f"{local.name}.journal"),
            retry=Retrying(stop=stop_after_attempt(2), wait=wait_none(), sleep=lambda _s: None),
        )

    yield make


BACKENDS: dict[str, Callable[[pytest.FixtureRequest], object]] = {
    "memory": memory_backend,
    "sqlite-file": sqlite_file_backend,
    "sqlite-memory": sqlite_memory_backend,
    "postgres": postgres_backend,
    "supabase": supabase_backend,
    "fallback-up": _fallback_backend("up"),
    "fallback-down": _fallback_backend("down"),
    "fallback-flapping": _fallback_backend("flapping"),
    "supabase+sqlite": supabase_with_sqlite_backend,
}

#: Marks to put on a backend's parameter (for instance ``pytest.mark.postgres``).
BACKEND_MARKS: dict[str, list[pytest.MarkDecorator]] = {
    "postgres": [pytest.mark.postgres],
    "supabase": [pytest.mark.postgres],
    "supabase+sqlite": [pytest.mark.postgres],
}


def migrated_sqlite_url(path: Path) -> str:
    """The URL of a SQLite file at ``path``, created at the current migration (for tests with several processes)."""
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def shared_postgres(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    """The URL and connect arguments of this session's PostgreSQL schema, emptied, for other processes to open."""
    engine = postgres_engine(request)
    with postgres_backend(request) as make:
        make().close()  # empty tables
    with engine.connect() as connection:
        schema = connection.execute(sa.text("SELECT current_schema()")).scalar_one()
    return engine.url.render_as_string(hide_password=False), {"options": f"-c search_path={schema}"}
