"""What every command shares: configuration, error handling, the entry points, the storage commands."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from tenacity import Retrying, stop_after_attempt

from supportchat import Actor, SupportDesk
from supportchat.cli import storage as storage_module
from supportchat.models import Ticket
from supportchat.sql import supabase_sql
from supportchat.stores import FallbackStore, InMemoryStore
from supportchat.stores._breaker import CircuitBreaker

from ..faults import FaultyStore
from .conftest import Cli

ROOT = Path(__file__).resolve().parents[2]


def python(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "src"), **env}
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=environment, cwd=ROOT, timeout=60
    )


def test_python_dash_m_runs_the_command() -> None:
    result = python("-m", "supportchat", "--version")
    assert result.returncode == 0 and result.stdout.startswith("supportchat ")


def test_a_missing_cli_extra_says_what_to_install() -> None:
    code = "import sys; sys.modules['typer'] = None; from supportchat.cli import main; main()"
    result = python("-c", code)
    assert result.returncode == 1
    assert "pip install 'supportchat[cli]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_importing_the_cli_package_does_not_import_typer() -> None:
    result = python(
        "-c", "import supportchat.cli, sys; assert 'typer' not in sys.modules and 'rich' not in sys.modules"
    )
    assert result.returncode == 0, result.stderr


def test_the_database_url_comes_from_option_root_option_or_environment(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def url(name: str) -> str:
        return f"sqlite:///{tmp_path / name}"

    cli("demo", "-n", "1", "--database-url", url("one.db"))
    cli("demo", "-n", "2", "--database-url", url("two.db"))
    cli("demo", "-n", "3")  # the embedded default
    assert cli.json("stats")["total_tickets"] == 3
    assert cli.json("stats", "--database-url", url("one.db"))["total_tickets"] == 1
    assert cli.json("--database-url", url("two.db"), "stats")["total_tickets"] == 2
    monkeypatch.setenv("SUPPORTCHAT_DATABASE_URL", url("one.db"))
    assert cli.json("stats")["total_tickets"] == 1
    assert cli.json("--database-url", url("two.db"), "stats")["total_tickets"] == 2
    assert cli.json("--database-url", url("two.db"), "stats", "--database-url", url("one.db"))["total_tickets"] == 1


def test_a_missing_folder_is_a_user_error(cli: Cli, tmp_path: Path) -> None:
    assert "does not exist" in cli.fails("stats", "--database-url", f"sqlite:///{tmp_path}/nowhere/x.db")


def test_an_unexpected_failure_is_one_line_with_its_own_exit_code(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(SupportDesk, "statistics", broken)
    message = cli.fails("stats", exit_code=3)
    assert "Internal error" in message and "boom" in message and "SUPPORTCHAT_DEBUG" in message
    monkeypatch.setenv("SUPPORTCHAT_DEBUG", "1")
    result = cli("stats", ok=False)
    assert isinstance(result.exception, RuntimeError)


def test_a_model_refusing_data_is_a_bug_not_a_user_error(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    # pydantic's ValidationError is a ValueError; only the user's mistakes exit with 1.
    def broken(*args: Any, **kwargs: Any) -> None:
        Ticket.model_validate({"id": "not a number"})

    monkeypatch.setattr(SupportDesk, "statistics", broken)
    message = cli.fails("stats", exit_code=3)
    assert "Internal error" in message and "ValidationError" in message


def test_supabase_sql_prints_the_shipped_sql(cli: Cli) -> None:
    result = cli("supabase-sql")
    assert result.stdout == supabase_sql()
    assert "create table if not exists" in result.stdout.lower()


def test_storage_commands_explain_that_a_single_database_has_no_fallback(cli: Cli) -> None:
    assert "SUPABASE_URL" in cli.fails("storage", "status")
    assert "SUPABASE_URL" in cli.fails("storage", "replay")


@pytest.fixture
def hybrid(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[FallbackStore, FaultyStore]]:
    """A real FallbackStore whose primary can be taken down, behind the storage commands."""
    primary = FaultyStore(InMemoryStore())
    store = FallbackStore(
        primary,
        InMemoryStore(),
        journal=tmp_path / "journal.sqlite",
        retry=Retrying(stop=stop_after_attempt(1), sleep=lambda _s: None),
        breaker=CircuitBreaker(cool_down=3600),
    )

    @contextmanager
    def session(database_url: str | None) -> Iterator[SimpleNamespace]:
        yield SimpleNamespace(store=store)

    monkeypatch.setattr(storage_module, "open_session", session)
    yield store, primary
    store.journal.close()


def test_storage_status_and_replay_of_a_hybrid_store(cli: Cli, hybrid: tuple[FallbackStore, FaultyStore]) -> None:
    store, primary = hybrid
    primary.down = True
    desk = SupportDesk(store)
    for n in range(3):
        desk.create_ticket(Actor.user(n + 1), subject=f"caída {n}", description="durante la caída")
    state = cli.json("storage", "status")
    assert state["serving"] == "fallback" and state["pending_writes"] == 3 and state["breaker"] == "open"
    assert "injected fault" in cli("storage", "status").stdout

    assert "still unavailable" in cli.fails("storage", "replay")
    primary.recover()
    report = cli.json("storage", "replay")
    assert report == {"applied": 3, "already_there": 0, "conflicts": 0, "remaining": 0, "error": None}
    assert primary.inner.statistics().total_tickets == 3
    assert cli.json("storage", "status")["pending_writes"] == 0


def test_supabase_variables_make_a_hybrid_store_that_survives_an_unreachable_primary(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]  # nothing listens once the socket is closed
    monkeypatch.setenv("SUPABASE_URL", f"http://127.0.0.1:{closed_port}")
    monkeypatch.setenv("SUPABASE_KEY", "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2lnbmF0dXJl")
    cli("demo", "-n", "1", "--seed", "3")
    assert cli.json("stats")["total_tickets"] == 1  # served by the local fallback
    assert cli.json("storage", "status")["pending_writes"] > 0
    assert "still unavailable" in cli.fails("storage", "replay")
    assert cli.database.exists()  # the fallback is the embedded SQLite file


def test_admins_act_through_the_desk_as_admin_actors(cli: Cli, desk: SupportDesk) -> None:
    ticket = desk.create_ticket(Actor.user(3), subject="s", description="d")
    admin_id = cli.json("admin", "create", "alice")["id"]
    cli("tickets", "status", str(ticket.id), "in_progress")
    change = desk.history(Actor.system(), ticket.id)[0]
    assert change.changed_by_kind.value == "admin" and change.changed_by == admin_id
