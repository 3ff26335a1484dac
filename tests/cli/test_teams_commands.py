"""``supportchat teams …``: teams, availability, transfer, the queue and handing it out."""

from __future__ import annotations

from supportchat import Actor, SupportDesk

from .conftest import Cli


def test_teams_availability_and_the_queue_from_the_command_line(cli: Cli, desk: SupportDesk) -> None:
    cli("admin", "create", "alice")
    cli("admin", "create", "bob")
    assert "No teams yet" in cli("teams", "list").stdout
    cli("teams", "set", "billing", "--display-name", "Billing", "--category", "billing")
    cli("teams", "add-member", "billing", "alice")
    cli("teams", "add-member", "billing", "bob")
    [team] = cli.json("teams", "list")
    assert (team["auto_assign"], team["categories"], len(team["members"])) == (False, ["billing"], 2)
    cli("teams", "status", "bob", "away", "--capacity", "3")
    agents = {a["name"]: a for a in cli.json("teams", "availability")}
    assert (agents["bob"]["status"], agents["bob"]["capacity"], agents["bob"]["takes_tickets"]) == ("away", 3, False)
    assert "available, away, offline" in cli.fails("teams", "status", "bob", "napping")

    ticket = desk.create_ticket(Actor.user(5), subject="Refund", description="Twice", category="billing")
    refused = cli.fails("teams", "transfer", ticket.ticket_number, "--to", "bob")
    assert "away" in refused
    moved = cli.json("teams", "transfer", ticket.ticket_number, "--to", "bob", "--reason", "refunds", "--force")
    assert moved["assigned_to"] == agents["bob"]["id"]

    cli("teams", "set", "billing", "--auto-assign")
    other = desk.create_ticket(Actor.user(6), subject="Invoice", description="Wrong")
    out = cli("teams", "transfer", str(other.id), "--team", "billing", "--note", "for billing").stdout
    assert "transferred" in out
    assert desk.store.get_ticket(other.id).assigned_to == agents["alice"]["id"]  # type: ignore[union-attr]
    assert cli.json("teams", "queue", "billing") == []
    assert "0 tickets assigned" in cli("teams", "assign").stdout
    assert "removed" in cli("teams", "remove", "billing").stdout
