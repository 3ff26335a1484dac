"""``supportchat automation canned|kb|bot``: the same rules as the API, on the embedded database."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import Cli

CORPUS = Path(__file__).parents[1] / "corpora" / "bot" / "articles.json"


def test_canned_responses_shared_and_personal(cli: Cli) -> None:
    cli("automation", "canned", "add", "saludo", "Saludo", "Hola {{user.name|cliente}}, ticket {{ticket.number}}")
    cli("automation", "canned", "add", "mio", "Mío", "Soy {{agent.name}}", "--agent", "7")
    assert [c["short_code"] for c in cli.json("automation", "canned", "list")] == ["saludo"]
    assert [c["short_code"] for c in cli.json("automation", "canned", "list", "--agent", "7")] == ["mio", "saludo"]
    error = cli.fails("automation", "canned", "add", "x", "X", "Hola {{user.nmae}}")
    assert "user.nmae" in error
    assert "taken" in cli.fails("automation", "canned", "add", "saludo", "Otro", "Hola")
    table = cli("automation", "canned", "list").stdout
    assert "/saludo" in table and "shared" in table


def test_the_knowledge_base_is_imported_from_a_file_listed_and_pruned(cli: Cli, tmp_path: Path) -> None:
    cli("automation", "kb", "import", str(CORPUS))
    articles = cli.json("automation", "kb", "list")
    assert len(articles) == 20 and {a["language"] for a in articles} == {"es", "en"}
    assert len(cli.json("automation", "kb", "list", "--language", "en")) == 10
    cli("automation", "kb", "remove", str(articles[0]["id"]))
    assert len(cli.json("automation", "kb", "list")) == 19
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps([{"title": "T", "body": "B", "language": "fr"}]), encoding="utf-8")
    assert "article 1" in cli.fails("automation", "kb", "import", str(broken))
    assert len(cli.json("automation", "kb", "list")) == 19  # a file with a bad article adds none
    assert cli("automation", "bot").stdout.strip() == "The bot has seen no ticket."


def test_rules_are_added_from_a_file_listed_and_dry_run(cli: Cli, tmp_path: Path) -> None:
    from supportchat import Actor, SupportDesk

    rule = tmp_path / "urgent.json"
    rule.write_text(
        json.dumps(
            {
                "name": "Urgent to Ana",
                "trigger": {"kind": "event", "events": ["ticket_created"]},
                "conditions": [{"field": "priority", "op": "is", "value": "urgent"}],
                "actions": [{"kind": "set_status", "value": "in_progress"}],
            }
        ),
        encoding="utf-8",
    )
    cli("automation", "rules", "add", str(rule))
    [stored] = cli.json("automation", "rules", "list")
    assert stored["version"] == 1 and stored["definition"]["name"] == "Urgent to Ana"
    store = cli.store()
    ticket = SupportDesk(store).create_ticket(Actor.user(3), subject="Caído", description="Nada", priority="urgent")
    store.close()
    dry = cli.json("automation", "rules", "dry-run", "--from", "2000-01-01T00:00:00Z", "--to", "2100-01-01T00:00:00Z")
    assert [(f["rule_id"], f["ticket_id"]) for f in dry] == [(stored["id"], ticket.id)]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "x", "trigger": {"kind": "event", "events": ["ticket_created"]}, "actions": []}))
    assert "actions" in cli.fails("automation", "rules", "add", str(bad))
    cli("automation", "rules", "remove", str(stored["id"]))
    assert cli("automation", "rules", "list").stdout.strip() == "No rules."


def test_the_acknowledgement_is_set_shown_and_turned_off(cli: Cli) -> None:
    from supportchat.extensions import extension
    from supportchat.sla import CalendarIn, SlaStore

    store = cli.store()
    sla: SlaStore = extension(store, SlaStore)  # type: ignore[type-abstract]
    sla.put_calendar(CalendarIn(name="office", time_zone="Europe/Madrid", hours={"mon": [("09:00", "18:00")]}))
    store.close()
    for code in ("dentro", "fuera"):
        cli("automation", "canned", "add", code, code, f"{code} {{{{ticket.number}}}}")
    ids = {c["short_code"]: c["id"] for c in cli.json("automation", "canned", "list")}
    assert "not set up" in cli("automation", "ack", "show").stdout
    assert "calendar" in cli.fails("automation", "ack", "set", "--on")
    assert "nowhere" in cli.fails(
        "automation", "ack", "set", "--calendar", "nowhere", "--inside-es", "1", "--outside-es", "2"
    )
    made = cli.json(
        "automation", "ack", "set", "--calendar", "office",
        "--inside-es", str(ids["dentro"]), "--outside-es", str(ids["fuera"]),
    )  # fmt: skip
    assert made["enabled"] and made["inside"] == {"es": ids["dentro"]} and made["rule_version"] == 1
    cli("automation", "ack", "set", "--off")
    shown = cli("automation", "ack", "show").stdout
    assert "is off" in shown and f"es #{ids['fuera']}" in shown and "version 2" in shown
