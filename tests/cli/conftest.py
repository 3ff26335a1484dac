"""Fixtures of the CLI tests: an isolated home for the embedded database, and a runner."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from supportchat import SupportDesk
from supportchat.cli.app import app
from supportchat.stores.admin_tokens import SQLAdminTokens
from supportchat.stores.sql import SQLStore

_CONFIG_VARIABLES = (
    "SUPPORTCHAT_DATABASE_URL",
    "SUPPORTCHAT_SECRET",
    "SUPPORTCHAT_ADMIN",
    "SUPPORTCHAT_DEBUG",
    "SUPPORTCHAT_RATE_LIMITS",
    "SUPPORTCHAT_RATE_LIMIT_STORAGE",
    "SUPPORTCHAT_RATE_LIMIT_NAMESPACE",
    "SUPABASE_URL",
    "SUPABASE_KEY",
    "SUPPORTCHAT_FCM_CREDENTIALS",
    "SUPPORTCHAT_FCM_ENDPOINT",
    "SUPPORTCHAT_PUSH_PRIVACY",
    "SUPPORTCHAT_PUSH_QUIET_SECONDS",
    "SUPPORTCHAT_PUSH_LANGUAGE",
    "SUPPORTCHAT_MAIL_ADDRESS",
    "SUPPORTCHAT_MAIL_SECRET",
    "SUPPORTCHAT_MAIL_INBOUND_SECRET",
    "SUPPORTCHAT_SMTP_URL",
    "SUPPORTCHAT_IMAP_URL",
)


@dataclass
class Cli:
    """Runs ``supportchat`` commands in-process against one isolated home folder."""

    home: Path
    runner: CliRunner

    @property
    def database(self) -> Path:
        return self.home / "supportchat" / "supportchat.db"

    @property
    def url(self) -> str:
        return f"sqlite:///{self.database}"

    def __call__(self, *args: str, input: str | None = None, ok: bool = True) -> Result:
        result = self.runner.invoke(app, list(args), input=input)
        if ok:
            assert result.exit_code == 0, f"exit {result.exit_code}: {result.output}{result.stderr}"
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json").stdout)

    def fails(self, *args: str, exit_code: int = 1) -> str:
        """Run a command that must fail as a user error: its message, and never a traceback."""
        result = self(*args, ok=False)
        assert result.exit_code == exit_code, f"exit {result.exit_code}: {result.output}"
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "Traceback" not in result.output
        return result.stderr

    def store(self) -> SQLStore:
        """A store on the same database, to arrange and inspect data directly."""
        self.database.parent.mkdir(parents=True, exist_ok=True)
        return SQLStore.from_url(self.url)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    """The CLI with its embedded database under a fresh folder and no configuration inherited."""
    for name in _CONFIG_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    yield Cli(tmp_path, CliRunner())


@pytest.fixture
def desk_store(cli: Cli) -> Iterator[SQLStore]:
    store = cli.store()
    yield store
    store.close()


@pytest.fixture
def desk(desk_store: SQLStore) -> SupportDesk:
    """A desk on the CLI's database, to arrange tickets."""
    return SupportDesk(desk_store)


@pytest.fixture
def admin_tokens(desk_store: SQLStore) -> SQLAdminTokens:
    return SQLAdminTokens(desk_store.engine)


POSTGRES_SERVER = os.environ.get("SUPPORTCHAT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped afterwards.

    Unreachable PostgreSQL skips the test, or fails it when ``CI`` is set.
    """
    import sqlalchemy as sa

    server = sa.make_url(POSTGRES_SERVER)
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    name = f"supportchat_cli_{secrets.token_hex(6)}"
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is unreachable at {POSTGRES_SERVER}: {exc}")
        pytest.skip(f"PostgreSQL is unreachable at {POSTGRES_SERVER}")
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
