"""``admin create/list/revoke`` and ``token user``.

The registry's policy itself is tested on every implementation in
``tests/test_admin_tokens_contract.py``.
"""

from __future__ import annotations

import pytest

from supportchat.http.auth import UserTokens, hash_token
from supportchat.sqlschema import tables as schema
from supportchat.stores.admin_tokens import SQLAdminTokens

from .conftest import Cli


def created_token(cli: Cli, name: str) -> str:
    lines = cli("admin", "create", name).stdout.splitlines()
    tokens = [line for line in lines if line.startswith("sca_")]
    assert len(tokens) == 1
    return tokens[0]


def test_admin_create_prints_a_working_token_once_and_stores_only_its_hash(
    cli: Cli, admin_tokens: SQLAdminTokens
) -> None:
    token = created_token(cli, "alice")
    admin = admin_tokens.verify(token)
    assert admin is not None and admin.name == "alice"
    with admin_tokens._engine.connect() as connection:
        stored = connection.execute(schema.admins.select()).mappings().one()
    assert stored["token_hash"] == hash_token(token)
    assert token not in str(dict(stored))
    # Listing never shows a token.
    assert "sca_" not in cli("admin", "list").stdout
    assert "token" not in cli.json("admin", "list")[0]


def test_admin_create_refuses_a_live_name(cli: Cli) -> None:
    cli("admin", "create", "alice")
    assert "already exists" in cli.fails("admin", "create", "alice")


def test_admin_list_shows_active_and_revoked(cli: Cli) -> None:
    cli("admin", "create", "alice")
    cli("admin", "create", "bruno")
    cli("admin", "revoke", "bruno")
    listed = {row["name"]: row for row in cli.json("admin", "list")}
    assert listed["alice"]["active"] is True and listed["alice"]["revoked_at"] is None
    assert listed["bruno"]["active"] is False and listed["bruno"]["revoked_at"].endswith("Z")
    table = cli("admin", "list").stdout
    assert "alice" in table and "revoked" in table


def test_admin_revoke_stops_the_token_and_a_new_create_reissues_the_same_admin(
    cli: Cli, admin_tokens: SQLAdminTokens
) -> None:
    old = created_token(cli, "alice")
    first_id = admin_tokens.verify(old).id  # type: ignore[union-attr]
    cli("admin", "revoke", "alice")
    assert admin_tokens.verify(old) is None
    assert "no active admin" in cli.fails("admin", "revoke", "alice")

    new = created_token(cli, "alice")
    assert admin_tokens.verify(old) is None
    reissued = admin_tokens.verify(new)
    assert reissued is not None and reissued.id == first_id  # tickets assigned to alice stay hers


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "tab\there"])
def test_admin_create_rejects_bad_names(cli: Cli, name: str) -> None:
    assert "admin name" in cli.fails("admin", "create", name)


def test_token_user_mints_a_jwt_for_that_user_with_the_ttl(cli: Cli) -> None:
    cli("init")
    secret = (cli.home / "supportchat" / "secret").read_text().strip()
    token = cli("token", "user", "42", "--ttl", "2h").stdout.strip()
    assert UserTokens(secret).verify(token) == 42
    described = cli.json("token", "user", "42", "--ttl", "30m")
    assert described["expires_in_seconds"] == 1800 and UserTokens(secret).verify(described["token"]) == 42


def test_token_user_needs_a_secret_and_a_valid_ttl(cli: Cli) -> None:
    assert "supportchat init" in cli.fails("token", "user", "42")
    cli("init")
    assert "not a duration" in cli.fails("token", "user", "42", "--ttl", "soon")
    assert cli("token", "user", "0", ok=False).exit_code == 2  # a usage error, from Typer itself


@pytest.mark.postgres
def test_admin_tokens_and_ticket_commands_on_postgresql(cli: Cli, postgres_url: str) -> None:
    assert "db upgrade" in cli.fails("admin", "list", "--database-url", postgres_url)
    cli("db", "upgrade", "--database-url", postgres_url)
    created = cli.json("admin", "create", "alice", "--database-url", postgres_url)
    cli.json("demo", "-n", "3", "--seed", "1", "--database-url", postgres_url)
    ticket = cli.json("tickets", "list", "--database-url", postgres_url)["data"][0]
    stored = cli.json("tickets", "reply", ticket["ticket_number"], "hola", "--database-url", postgres_url)
    assert stored["sender_id"] == created["id"]
    assert cli.json("stats", "--database-url", postgres_url)["total_tickets"] == 3
    assert cli.json("admin", "list", "--database-url", postgres_url)[0]["name"] == "alice"
    cli("admin", "revoke", "alice", "--database-url", postgres_url)
    assert "revoked" in cli.fails(
        "tickets", "reply", ticket["ticket_number"], "x", "--as", "alice", "--database-url", postgres_url
    )
