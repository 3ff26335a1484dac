"""``tickets merge`` and the ratings ``tickets show`` prints (spec §12)."""

from __future__ import annotations

import pytest

from supportchat import Actor, SupportDesk

from ..helpers import open_ticket
from .conftest import Cli

ANA = Actor.user(7)


@pytest.fixture
def alice(cli: Cli) -> int:
    return int(cli.json("admin", "create", "alice")["id"])


def test_merge_joins_the_conversations_and_the_source_leads_there(cli: Cli, desk: SupportDesk, alice: int) -> None:
    source, target = open_ticket(desk, ANA, subject="Pago doble"), open_ticket(desk, ANA, subject="Reembolso")
    desk.post_message(ANA, source.id, "Me cobraron dos veces")
    desk.post_message(Actor.admin(alice), target.id, "Lo revisamos")

    said = cli("tickets", "merge", source.ticket_number.lower(), str(target.id)).stdout
    assert f"merged into {target.ticket_number}" in said and "2 messages" in said
    shown = cli.json("tickets", "show", source.ticket_number)
    assert shown["id"] == target.id
    assert [m["message"] for m in shown["messages"]] == ["Me cobraron dos veces", "Lo revisamos"]
    assert ("merged_from", str(source.id)) in [(c["field"], c["new_value"]) for c in shown["history"]]
    listed = cli.json("tickets", "list", "--status", "closed")["data"]
    assert [(t["id"], t["merged_into"]) for t in listed] == [(source.id, target.id)]

    again = cli.fails("tickets", "merge", source.ticket_number, str(target.id))
    assert "merged into another already" in again
    other = open_ticket(desk, Actor.user(8))
    assert "same user" in cli.fails("tickets", "merge", str(other.id), str(target.id))


def test_show_prints_each_resolutions_rating(cli: Cli, desk: SupportDesk, alice: int) -> None:
    ticket = open_ticket(desk, ANA)
    desk.change_status(Actor.admin(alice), ticket.id, "resolved", assigned_to=alice)
    desk.rate(ANA, ticket.id, 4, comment="Rápido <b>y</b> amable")
    text = cli("tickets", "show", ticket.ticket_number).stdout
    assert "rated 4/5" in text and f"admin {alice}" in text and "Rápido <b>y</b> amable" in text
    shown = cli.json("tickets", "show", str(ticket.id))
    assert shown["rating"]["score"] == 4 and [r["cycle"] for r in shown["ratings"]] == [1]
