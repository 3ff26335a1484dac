"""Versioned schema migrations for the SQL store, shipped inside the package.

The migrations are Alembic revisions (``versions/``) run programmatically on
an engine; no ``alembic.ini`` is needed. :func:`upgrade` is safe to call from
several processes at once: on SQLite it holds the write lock
(``BEGIN IMMEDIATE``) while it migrates, on PostgreSQL an advisory lock, and
the revision is read again under the lock.

The first revision also adopts a database created by the original system's
``CREATE TABLE`` statements (see ``docs/storage.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["MigrationStatus", "current_revision", "head_revision", "status", "upgrade"]

_HERE = Path(__file__).resolve().parent
#: Arbitrary constant key of the PostgreSQL advisory lock migrations hold.
_PG_LOCK_KEY = 0x5C_0DE5_7AB1E


@dataclass(frozen=True, slots=True)
class MigrationStatus:
    """Where a database stands: its revision and the one this package brings."""

    current: str | None
    head: str

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def _config(connection: sa.Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_HERE))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision this package ships."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "the package ships no migrations"
    return head


def _read_revision(connection: sa.Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def current_revision(engine: sa.Engine) -> str | None:
    """The database's revision, or ``None`` if it was never migrated."""
    with engine.connect() as connection:
        return _read_revision(connection)


def status(engine: sa.Engine) -> MigrationStatus:
    """The database's revision beside the package's newest one."""
    return MigrationStatus(current=current_revision(engine), head=head_revision())


def upgrade(engine: sa.Engine, revision: str = "head") -> MigrationStatus:
    """Bring the database to ``revision`` (the newest by default) and return where it stands."""
    from alembic import command

    from ..sqlschema.engine import WRITE, configure_sqlite

    head = head_revision()
    if revision == "head" and current_revision(engine) == head:
        return MigrationStatus(current=head, head=head)
    if engine.dialect.name == "sqlite":
        configure_sqlite(engine)
    with engine.execution_options(**{WRITE: True}).begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        if _read_revision(connection) != head or revision != "head":
            command.upgrade(_config(connection), revision)
        current = _read_revision(connection)
    return MigrationStatus(current=current, head=head)
