"""``init``, ``db upgrade``, ``db status`` and ``serve`` (in-process; the real process is in test_serve_process)."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from supportchat.cli.server import FIRST_ADMIN_NAME
from supportchat.http.auth import UserTokens
from supportchat.migrations import head_revision
from supportchat.stores.admin_tokens import SQLAdminTokens

from .conftest import Cli

STATISTICS = "/admin/api/support/statistics"


def token_in(output: str) -> str:
    lines = [line for line in output.splitlines() if line.startswith("Admin token: ")]
    assert len(lines) == 1, output
    return lines[0].removeprefix("Admin token: ").strip()


def test_init_creates_database_secret_and_first_admin_once(cli: Cli) -> None:
    first = cli("init")
    token = token_in(first.stdout)
    secret_file = cli.home / "supportchat" / "secret"
    assert cli.database.exists()
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert len(secret_file.read_text().strip()) >= 32

    store = cli.store()
    try:
        admin = SQLAdminTokens(store.engine).verify(token)
        assert admin is not None and admin.name == FIRST_ADMIN_NAME
    finally:
        store.close()

    again = cli.json("init")
    assert again["admin_token"] is None  # admins exist: no second token
    assert secret_file.read_text().strip() == cli.home.joinpath("supportchat", "secret").read_text().strip()


def test_init_keeps_a_secret_from_the_environment(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPPORTCHAT_SECRET", "from-the-environment-0123456789")
    cli("init")
    token = cli("token", "user", "7").stdout.strip()
    assert UserTokens("from-the-environment-0123456789").verify(token) == 7


def test_db_status_and_upgrade_on_an_empty_database(cli: Cli, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    sqlite3.connect(tmp_path / "fresh.db").close()
    before = cli("db", "status", "--database-url", url, ok=False)
    assert before.exit_code == 1
    assert "supportchat db upgrade" in before.stdout

    upgraded = cli.json("db", "upgrade", "--database-url", url)
    assert upgraded == {"before": None, "current": head_revision(), "head": head_revision()}
    assert cli.json("db", "status", "--database-url", url)["up_to_date"] is True
    assert "Already at the newest revision" in cli("db", "upgrade", "--database-url", url).stdout


def test_db_upgrade_adopts_a_database_made_by_the_original_system(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "seed.db"
    with sqlite3.connect(path) as connection:
        connection.executescript(
            """
            CREATE TABLE support_tickets (
                id INTEGER PRIMARY KEY AUTOINCREMENT, ticket_number TEXT UNIQUE NOT NULL, user_id INTEGER NOT NULL,
                subject TEXT NOT NULL, description TEXT NOT NULL, priority TEXT DEFAULT 'medium',
                status TEXT DEFAULT 'open', category TEXT DEFAULT 'general', assigned_to INTEGER,
                created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
                resolved_at TIMESTAMP);
            CREATE TABLE support_messages (
                id INTEGER PRIMARY KEY AUTOINCREMENT, ticket_id INTEGER NOT NULL, sender_id INTEGER NOT NULL,
                sender_type TEXT NOT NULL, message TEXT NOT NULL, message_type TEXT DEFAULT 'text', file_url TEXT,
                is_read BOOLEAN DEFAULT 0, created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
                FOREIGN KEY (ticket_id) REFERENCES support_tickets (id));
            INSERT INTO support_tickets (ticket_number, user_id, subject, description)
                VALUES ('TKT-20240101-0001', 5, 'Old ticket', 'Kept across the upgrade');
            INSERT INTO support_messages (ticket_id, sender_id, sender_type, message) VALUES (1, 5, 'user', 'Hola');
            """
        )
    url = f"sqlite:///{path}"
    cli("db", "upgrade", "--database-url", url)
    shown = cli.json("tickets", "show", "TKT-20240101-0001", "--database-url", url)
    assert shown["subject"] == "Old ticket"
    assert [m["message"] for m in shown["messages"]] == ["Hola"]


def test_db_reindex_rebuilds_the_search_index(cli: Cli, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    cli("db", "upgrade", "--database-url", url)
    with sqlite3.connect(tmp_path / "desk.db") as connection:
        connection.execute(
            "INSERT INTO support_tickets (ticket_number, user_id, subject, description, created_at, updated_at) "
            "VALUES ('TKT-00000001', 5, 'Reembolsó', 'del vuelo', '2026-01-01 00:00:00.000000', "
            "'2026-01-01 00:00:00.000000')"
        )
        # An index damaged behind supportchat's back: emptied.
        connection.execute("INSERT INTO support_search_index(support_search_index) VALUES ('delete-all')")
        connection.execute("DELETE FROM support_search_pending")
    connection.close()
    assert cli.json("tickets", "list", "--search", "reembolso", "--database-url", url)["meta"]["total"] == 0
    assert cli.json("db", "reindex", "--database-url", url) == {
        # Internal notes are a source of the staff's search too (spec §12).
        "indexed": {"support_tickets": 1, "support_messages": 0, "support_ticket_notes": 0}
    }
    found = cli.json("tickets", "list", "--search", "reembolso", "--database-url", url)["data"]
    assert [t["ticket_number"] for t in found] == ["TKT-00000001"]
    assert "1 rows of support_tickets" in cli("db", "reindex", "--database-url", url).stdout


def test_commands_refuse_a_server_database_that_was_never_upgraded(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    # An unreachable PostgreSQL is reported in one line, with exit code 1.
    message = cli.fails("stats", "--database-url", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert "cannot use the database" in message
    assert "Traceback" not in message


def test_a_malformed_database_url_is_a_user_error(cli: Cli) -> None:
    assert "not a database URL" in cli.fails("stats", "--database-url", "no scheme here")


def test_serve_prints_the_login_and_serves_the_api(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    served: dict[str, Any] = {}

    def fake_run(app: Any, **options: Any) -> None:
        served.update(options, app=app)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    result = cli("serve", "--port", "8123")
    token = token_in(result.stdout)
    assert "http://127.0.0.1:8123" in result.stdout
    assert served["host"] == "127.0.0.1" and served["port"] == 8123

    with TestClient(served["app"]) as client:
        assert client.get(STATISTICS).status_code == 401
        reply = client.get(STATISTICS, headers={"Authorization": f"Bearer {token}"})
        assert reply.status_code == 200
        assert reply.json()["data"]["total_tickets"] == 0

    # The second start creates no admin and prints no token.
    assert "Admin token:" not in cli("serve", "--port", "8123").stdout


def test_serve_with_workers_hands_uvicorn_the_factory(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    served: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.update(options, app=app))
    cli("serve", "--workers", "3", "--host", "127.0.0.1")
    assert served["app"] == "supportchat.cli.server:create_server_app"
    assert served["factory"] is True and served["workers"] == 3
