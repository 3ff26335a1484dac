"""``tickets note`` and ``tickets tag`` (and ``--tag``, ``show``, ``stats``) against the CLI's database."""

from __future__ import annotations

import pytest

from supportchat import Actor, SupportDesk

from ..helpers import open_ticket
from .conftest import Cli

ANA = Actor.user(7)


@pytest.fixture
def alice(cli: Cli) -> int:
    return int(cli.json("admin", "create", "alice")["id"])


def test_notes_and_tags_from_the_command_line(cli: Cli, desk: SupportDesk, alice: int) -> None:
    ticket = open_ticket(desk, ANA)
    other = open_ticket(desk, ANA, subject="Otro")
    note = cli.json("tickets", "note", ticket.ticket_number.lower(), "Llamar al <b>banco</b>")
    assert note["note"] == "Llamar al <b>banco</b>" and note["author_id"] == alice
    assert "Note" in cli("tickets", "note", str(ticket.id), "-", input="segunda nota\n").stdout

    assert cli.json("tickets", "tag", str(ticket.id), "VIP", "late delivery")["tags"] == ["late-delivery", "vip"]
    assert cli.json("tickets", "tag", str(ticket.id), "--remove", "vip")["tags"] == ["late-delivery"]
    assert cli.json("tickets", "tag", str(other.id), "--set", "bug_42")["tags"] == ["bug_42"]
    assert cli.json("tickets", "tag", str(other.id), "--set")["tags"] == []
    assert "tags: late-delivery." in cli("tickets", "tag", str(ticket.id), "late-delivery").stdout

    listed = cli.json("tickets", "list", "--tag", "Late Delivery")
    assert [t["id"] for t in listed["data"]] == [ticket.id] and listed["data"][0]["tags"] == ["late-delivery"]
    shown = cli.json("tickets", "show", str(ticket.id))
    assert [n["note"] for n in shown["notes"]] == ["Llamar al <b>banco</b>", "segunda nota"]
    assert [c["field"] for c in shown["history"]] == ["note", "note", "tags", "tags"]
    text = cli("tickets", "show", str(ticket.id)).stdout
    assert "internal note" in text and "Llamar al <b>banco</b>" in text and "tags: late-delivery" in text
    assert cli.json("stats")["by_tag"] == {"late-delivery": 1}
    assert "by tag" in cli("stats").stdout

    assert "choose one" in cli.fails("tickets", "tag", str(ticket.id), "--set", "--remove", "x")
    assert "at least one tag" in cli.fails("tickets", "tag", str(ticket.id))
    assert "tags" in cli.fails("tickets", "tag", str(ticket.id), "no/slash")
    assert "note" in cli.fails("tickets", "note", str(ticket.id), "   ")
