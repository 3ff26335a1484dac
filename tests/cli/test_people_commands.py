"""``agents list/add/set`` and ``contacts list/set``; ``admin create`` makes the admin's agent row."""

from __future__ import annotations

from supportchat import Actor, SupportDesk

from .conftest import Cli


def test_admin_create_makes_an_agent_and_agents_list_shows_the_open_load(cli: Cli, desk: SupportDesk) -> None:
    cli("admin", "create", "alice")
    [agent] = cli.json("agents", "list")
    assert agent == {
        "id": agent["id"],
        "name": "alice",
        "email": None,
        "teams": [],
        "available": True,
        "capacity": 0,
        "open_load": 0,
    }
    ticket = desk.create_ticket(Actor.user(5), subject="Help", description="Broken")
    desk.change_status(Actor.admin(agent["id"]), ticket.id, "in_progress", assigned_to=agent["id"])
    assert cli.json("agents", "list")[0]["open_load"] == 1
    assert "alice" in cli("agents", "list").stdout


def test_agents_set_changes_only_what_is_given(cli: Cli) -> None:
    cli("admin", "create", "alice")
    cli("agents", "set", "alice", "--email", "Alice@Desk.example", "--team", "billing", "--team", "vip")
    cli("agents", "set", "alice", "--capacity", "4", "--unavailable")
    [agent] = cli.json("agents", "list")
    assert (agent["email"], agent["teams"], agent["capacity"], agent["available"]) == (
        "alice@desk.example",
        ["billing", "vip"],
        4,
        False,
    )
    cli("agents", "set", "alice", "--no-teams", "--available")
    assert cli.json("agents", "list")[0]["teams"] == []
    assert "team names" in cli.fails("agents", "set", "alice", "--team", "Not A Team")


def test_agents_add_needs_an_admin_or_a_name(cli: Cli) -> None:
    assert "no admin" in cli.fails("agents", "add", "nobody")
    assert "--name" in cli.fails("agents", "add", "77")
    cli("agents", "add", "77", "--name", "Host agent", "--capacity", "2")
    assert [a["id"] for a in cli.json("agents", "list")] == [77]
    assert "no agent" in cli.fails("agents", "set", "78")


def test_contacts_set_and_list(cli: Cli) -> None:
    cli("contacts", "set", "12", "--name", "Rosa", "--email", "rosa@example.org", "--locale", "es")
    cli("contacts", "set", "12", "--time-zone", "America/Mexico_City")
    cli("contacts", "set", "3", "--email", "tres@example.org")
    listed = cli.json("contacts", "list")
    assert listed == [
        {"user_id": 3, "display_name": None, "email": "tres@example.org", "locale": None, "time_zone": None},
        {
            "user_id": 12,
            "display_name": "Rosa",
            "email": "rosa@example.org",
            "locale": "es",
            "time_zone": "America/Mexico_City",
        },
    ]
    assert [c["user_id"] for c in cli.json("contacts", "list", "--after", "3")] == [12]
    assert "another contact" in cli.fails("contacts", "set", "4", "--email", "ROSA@example.org")
    assert "locale" in cli.fails("contacts", "set", "4", "--locale", "??")


def test_the_first_admin_init_creates_is_an_agent(cli: Cli) -> None:
    cli("init")
    assert [agent["name"] for agent in cli.json("agents", "list")] == ["admin"]
