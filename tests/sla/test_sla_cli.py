"""``supportchat sla …``: calendars and policies from JSON, a ticket's SLA, the due list, a scan by hand."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from supportchat import SupportDesk
from supportchat.models import Actor
from supportchat.sla import SlaClock

from ..cli.conftest import Cli, cli  # noqa: F401  (the CLI fixture)

ALWAYS = {
    "time_zone": "UTC",
    "hours": {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
}


def test_calendars_policies_show_due_and_scan(cli: Cli) -> None:  # noqa: F811
    store = cli.store()
    (cli.home / "always.json").write_text(json.dumps(ALWAYS))
    (cli.home / "fast.json").write_text(json.dumps({"calendar": "always", "first_response_minutes": 30}))
    cli("sla", "calendar-set", "always", str(cli.home / "always.json"))
    cli("sla", "policy-set", "fast", "-", input=json.dumps({"calendar": "always", "first_response_minutes": 30}))
    assert [p["name"] for p in cli.json("sla", "policies")] == ["fast"]
    assert cli.json("sla", "calendars")[0]["time_zone"] == "UTC"
    (cli.home / "bad.json").write_text(json.dumps({"calendar": "nowhere", "first_response_minutes": 0}))
    assert "first_response_minutes" in cli.fails("sla", "policy-set", "bad", str(cli.home / "bad.json"))

    late = SupportDesk(store, clock=lambda: datetime.now(UTC) - timedelta(hours=1))
    ticket = late.create_ticket(Actor.user(5), subject="Help", description="Now")
    SlaClock(late).apply(ticket)
    assert cli.json("sla", "show", ticket.ticket_number)["policy"] == "fast"
    assert "15m" not in cli("sla", "due").stdout and ticket.ticket_number in cli("sla", "due").stdout
    assert "1 event(s) fired" in cli("sla", "scan").stdout
    assert cli.json("sla", "show", ticket.ticket_number)["breached"] == ["first_response"]
    assert "0 event(s) fired" in cli("sla", "scan").stdout
    assert "policy fast" in cli("sla", "reapply", str(ticket.id)).stdout
    cli("sla", "remove", "policy", "fast")
    assert "no policy" in cli.fails("sla", "remove", "policy", "fast")
