"""The shipped migrations build exactly the schema the store is written against."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from supportchat.attachments import schema as attachment_schema
from supportchat.automation import schema as automation_schema
from supportchat.jobs import schema as job_schema
from supportchat.mail import schema as mail_schema
from supportchat.migrations import current_revision, head_revision, status, upgrade
from supportchat.push import schema as push_schema
from supportchat.reports import schema as report_schema
from supportchat.sla import schema as sla_schema
from supportchat.sqlschema.directories import metadata as directory_metadata
from supportchat.sqlschema.search import SEARCH_TABLE_PREFIX, SOURCES
from supportchat.sqlschema.tables import metadata
from supportchat.stores import InMemoryStore, open_store
from supportchat.stores.sql import SQLiteStore, SQLStore, create_engine
from supportchat.teams import schema as team_schema

from .stores import postgres_engine
from .test_sql_adoption import seed_database


def schema_drift(engine: sa.Engine) -> list[Any]:
    """What autogenerate would change to reach the package's table definitions (core, jobs, mail, teams, SLA).

    The orphaned messages an adoption keeps aside and the search index are outside the
    schema; the directories' tables are a store extension's, on metadata of their own.
    """
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        drift = compare_metadata(
            context,
            [
                metadata,
                directory_metadata,
                job_schema.metadata,
                automation_schema.metadata,
                mail_schema.metadata,
                push_schema.metadata,
                team_schema.metadata,
                sla_schema.metadata,
                attachment_schema.metadata,
                report_schema.metadata,
            ],
        )  # type: ignore[arg-type]
    return [d for d in drift if not (d[0] in ("remove_table", "remove_index") and _outside_metadata(d[1].name))]


def _outside_metadata(name: str) -> bool:
    """The orphaned messages, and the search index (FTS5 tables, GIN expression indexes: not SQLAlchemy's)."""
    searching = name.startswith(SEARCH_TABLE_PREFIX) or name in {s.postgres_index for s in SOURCES}
    return name == "support_messages_orphaned" or searching


def test_a_new_sqlite_database_is_at_head_with_no_drift() -> None:
    engine = create_engine("sqlite://")
    assert current_revision(engine) is None
    assert not status(engine).up_to_date
    assert upgrade(engine).up_to_date
    assert current_revision(engine) == head_revision()
    assert schema_drift(engine) == []


def test_an_adopted_database_has_no_drift(tmp_path: Path) -> None:
    seed_database(tmp_path / "legacy.db")
    engine = create_engine(f"sqlite:///{tmp_path / 'legacy.db'}")
    assert schema_drift(engine) != []  # the seed's tables lack the new columns
    upgrade(engine)
    assert schema_drift(engine) == []
    engine.dispose()


@pytest.mark.postgres
def test_postgres_schema_is_at_head_with_no_drift(request: pytest.FixtureRequest) -> None:
    engine = postgres_engine(request)
    assert status(engine).up_to_date
    assert schema_drift(engine) == []


def test_processes_opening_a_new_file_at_once_migrate_it_once(tmp_path: Path) -> None:
    path = tmp_path / "new.db"

    def open_and_count(_: int) -> int:
        store = SQLiteStore(path)
        try:
            return store.statistics().total_tickets
        finally:
            store.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(open_and_count, range(4))) == [0, 0, 0, 0]
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar_one() == 1
        assert connection.exec_driver_sql("SELECT count(*) FROM support_stats").scalar_one() == 14
    engine.dispose()


def test_default_location_follows_xdg_data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SUPPORTCHAT_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    SQLiteStore().close()
    assert (tmp_path / "supportchat" / "supportchat.db").is_file()


def test_sqlite_store_reads_no_database_url_of_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Choosing the database from SUPPORTCHAT_DATABASE_URL is the CLI's configuration, not the store's.
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("SUPPORTCHAT_DATABASE_URL", f"sqlite:///{tmp_path / 'chosen.db'}")
    SQLiteStore().close()
    assert not (tmp_path / "chosen.db").exists()
    assert (tmp_path / "xdg" / "supportchat" / "supportchat.db").is_file()


def test_open_store_migrates_each_kind_of_url(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    memory = open_store("memory://")
    assert isinstance(memory, InMemoryStore)
    for url in (f"sqlite:///{tmp_path / 'a.db'}", "sqlite://"):
        store = open_store(url)
        assert isinstance(store, SQLStore) and status(store.engine).up_to_date
        assert store.statistics().total_tickets == 0
        store.close()
    unmigrated = open_store(f"sqlite:///{tmp_path / 'b.db'}", migrate=False)
    assert isinstance(unmigrated, SQLStore) and current_revision(unmigrated.engine) is None
    unmigrated.close()


@pytest.mark.postgres
def test_open_store_migrates_postgres(request: pytest.FixtureRequest) -> None:
    engine = postgres_engine(request)  # a schema of this session's own, at head
    with engine.connect() as connection:
        search_path = connection.exec_driver_sql("SHOW search_path").scalar_one()
    store = open_store(str(engine.url), connect_args={"options": f"-c search_path={search_path}"})
    assert isinstance(store, SQLStore) and status(store.engine).up_to_date
    store.close()


@pytest.mark.parametrize("url", ["no scheme", "mysql://somewhere/db", "memory:"])
def test_open_store_refuses_urls_of_no_supported_kind(url: str) -> None:
    with pytest.raises(ValueError):
        open_store(url)
