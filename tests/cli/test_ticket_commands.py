"""``tickets list/show/reply/status/assign`` against the CLI's database."""

from __future__ import annotations

import pytest
from rich.console import Console

import supportchat.cli.tickets as tickets_module
from supportchat import Actor, SupportDesk

from ..helpers import open_ticket
from .conftest import Cli

ANA = Actor.user(7)
LUIS = Actor.user(8)


@pytest.fixture
def alice(cli: Cli) -> int:
    """The only admin, so commands act as her without --as."""
    return int(cli.json("admin", "create", "alice")["id"])


def test_list_filters_as_the_api_does(cli: Cli, desk: SupportDesk, alice: int) -> None:
    billing = open_ticket(desk, ANA, category="billing", priority="high")
    flight = open_ticket(desk, LUIS, subject="Vuelo cancelado", category="flight")
    desk.assign(Actor.admin(alice), flight.id, alice)

    everything = cli.json("tickets", "list")
    assert [t["id"] for t in everything["data"]] == [flight.id, billing.id]
    assert everything["meta"] == {"page": 1, "per_page": 20, "total": 2}

    def ids(*filters: str) -> list[int]:
        return [t["id"] for t in cli.json("tickets", "list", *filters)["data"]]

    assert ids("--category", "billing") == [billing.id]
    assert ids("--priority", "high") == [billing.id]
    assert ids("--assigned-to", str(alice)) == [flight.id]
    assert ids("--assigned-to", "none") == [billing.id]
    assert ids("--user-id", "8") == [flight.id]
    assert ids("-q", "cancelado") == [flight.id]
    assert ids("--status", "resolved") == []
    assert ids("--per-page", "1", "--page", "2") == [billing.id]

    table = cli("tickets", "list").stdout
    assert billing.ticket_number in table and "Vuelo cancelado" in table and "2 of 2" in table


def test_list_rejects_values_outside_the_enumerations(cli: Cli) -> None:
    result = cli("tickets", "list", "--status", "pending", ok=False)
    assert result.exit_code == 2 and "open" in result.output


def test_show_prints_the_thread_by_side_and_marks_nothing_read(cli: Cli, desk: SupportDesk, alice: int) -> None:
    ticket = open_ticket(desk, ANA, subject="Pedido <b>perdido</b> <script>x</script>")
    desk.post_message(ANA, ticket.id, "¿Alguna novedad?")
    desk.post_message(Actor.admin(alice), ticket.id, "Lo estamos revisando")

    text = cli("tickets", "show", ticket.ticket_number.lower()).stdout
    assert "Pedido <b>perdido</b> < script>x</script>" in text  # stored text, as sanitised
    assert text.index("¿Alguna novedad?") < text.index("Lo estamos revisando")
    assert "user 7" in text and f"admin {alice}" in text

    shown = cli.json("tickets", "show", str(ticket.id))
    assert [m["sender_type"] for m in shown["messages"]] == ["user", "admin"]
    assert [m["is_read"] for m in shown["messages"]] == [False, False]  # the CLI only looks
    assert shown["history"] == []


def test_show_colours_each_side_differently(desk: SupportDesk, alice: int, monkeypatch: pytest.MonkeyPatch) -> None:
    ticket = open_ticket(desk, ANA)
    desk.post_message(ANA, ticket.id, "user says")
    desk.post_message(Actor.admin(alice), ticket.id, "admin says")
    console = Console(record=True, force_terminal=True, color_system="standard", width=100)
    monkeypatch.setattr(tickets_module, "out", lambda: console)
    tickets_module.print_thread(desk.get_ticket(Actor.system(), ticket.id))
    lines = console.export_text(styles=True).splitlines()
    cyan, green = "\x1b[36m", "\x1b[32m"
    user_line = next(line for line in lines if "user says" in line)
    admin_line = next(line for line in lines if "admin says" in line)
    assert cyan in user_line and green not in user_line
    assert green in admin_line and cyan not in admin_line


def test_show_unknown_ticket_is_a_user_error(cli: Cli) -> None:
    assert "no such ticket" in cli.fails("tickets", "show", "TKT-00000000")


def test_reply_posts_as_the_acting_admin(cli: Cli, desk: SupportDesk, alice: int) -> None:
    ticket = open_ticket(desk, ANA)
    stored = cli.json("tickets", "reply", ticket.ticket_number, "Ya está <i>resuelto</i>")
    assert stored["sender_type"] == "admin" and stored["sender_id"] == alice
    assert stored["message"] == "Ya está <i>resuelto</i>"
    cli("tickets", "reply", str(ticket.id), "-", input="Desde stdin\n")
    messages = desk.get_ticket(Actor.system(), ticket.id).messages
    assert [m.message for m in messages] == ["Ya está <i>resuelto</i>", "Desde stdin"]


def test_writes_need_to_know_which_admin_acts(cli: Cli, desk: SupportDesk) -> None:
    ticket = open_ticket(desk, ANA)
    assert "admin create" in cli.fails("tickets", "reply", str(ticket.id), "hola")
    cli("admin", "create", "alice")
    bruno = cli.json("admin", "create", "bruno")["id"]
    assert "--as" in cli.fails("tickets", "reply", str(ticket.id), "hola")
    assert cli.json("tickets", "reply", str(ticket.id), "hola", "--as", "bruno")["sender_id"] == bruno
    assert "no admin" in cli.fails("tickets", "reply", str(ticket.id), "hola", "--as", "carla")


def test_status_moves_the_lifecycle_and_assigns(cli: Cli, desk: SupportDesk, alice: int) -> None:
    ticket = open_ticket(desk, ANA)
    updated = cli.json("tickets", "status", str(ticket.id), "in_progress", "--assign", "alice")
    assert updated["status"] == "in_progress" and updated["assigned_to"] == alice
    assert "resolved" in cli("tickets", "status", ticket.ticket_number, "resolved").stdout
    assert desk.get_ticket(Actor.system(), ticket.id).resolved_at is not None
    history = cli.json("tickets", "show", str(ticket.id))["history"]
    assert [(h["field"], h["new_value"], h["changed_by"]) for h in history] == [
        ("status", "in_progress", alice),
        ("assigned_to", str(alice), alice),
        ("status", "resolved", alice),
    ]


def test_a_closed_ticket_is_final(cli: Cli, desk: SupportDesk, alice: int) -> None:
    ticket = open_ticket(desk, ANA)
    cli("tickets", "status", str(ticket.id), "closed")
    assert "closed" in cli.fails("tickets", "status", str(ticket.id), "open")
    assert "closed" in cli.fails("tickets", "reply", str(ticket.id), "¿sigue ahí?")


def test_assign_and_unassign(cli: Cli, desk: SupportDesk, alice: int) -> None:
    ticket = open_ticket(desk, ANA)
    assert cli.json("tickets", "assign", str(ticket.id), "55")["assigned_to"] == 55
    assert cli.json("tickets", "assign", str(ticket.id), "alice")["assigned_to"] == alice
    assert "assigned to nobody" in cli("tickets", "assign", str(ticket.id), "none").stdout
    assert desk.get_ticket(Actor.system(), ticket.id).assigned_to is None
    assert "no admin" in cli.fails("tickets", "assign", str(ticket.id), "zoe")
