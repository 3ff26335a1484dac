"""How the standalone product's features serve each other (``cli/features.py``): the SLA escalates to a team."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from supportchat import Actor, SupportDesk
from supportchat.cli.features import escalate_to_team, installed_features, sla_facts_with_team
from supportchat.extensions import extension
from supportchat.sla import CalendarIn, PolicyIn, SlaClock, SlaStore
from supportchat.stores import open_store
from supportchat.teams.base import team_store
from supportchat.teams.service import TeamDesk

from .conftest import FakeClock

EVERY_DAY = {d: [("00:00", "24:00")] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def test_every_installed_feature_is_named_once() -> None:
    names = [feature.name for feature in installed_features()]
    assert len(names) == len(set(names))
    assert {"automation", "mail", "push", "teams", "report", "sla"} <= set(names)


def test_a_breach_escalates_to_a_team_and_a_policy_is_chosen_by_team(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'desk.db'}")
    now = FakeClock(datetime(2027, 1, 4, 10, 0, tzinfo=UTC))
    desk = SupportDesk(store, clock=now)
    TeamDesk(desk).put_team(Actor.system(), "vip", display_name="VIP")
    sla = extension(store, SlaStore)  # type: ignore[type-abstract]
    sla.put_calendar(CalendarIn(name="always", time_zone="UTC", hours=EVERY_DAY))
    sla.put_policy(
        PolicyIn(
            name="standard",
            calendar="always",
            first_response_minutes=30,
            escalation=[{"action": "assign_team", "team": "vip"}],  # type: ignore[list-item]
        )
    )
    clock = SlaClock(desk, assign_team=escalate_to_team, facts=sla_facts_with_team)
    ticket = desk.create_ticket(Actor.user(7), subject="Order", description="Where is it?")
    for record in store.events_after(0, limit=100):
        clock.observe(record)
    breach = datetime(2027, 1, 4, 10, 30, tzinfo=UTC)
    assert [e.type for e in clock.scan(breach.timestamp())][-1] == "sla_breached"
    now.now = breach + timedelta(minutes=1)
    assert clock.escalate() == 1
    assert team_store(store).ticket_teams([ticket.id]) == {ticket.id: "vip"}
    # The ticket's team is now a fact its policy may be chosen by.
    assert sla_facts_with_team(desk, store.get_ticket(ticket.id)).team == "vip"  # type: ignore[arg-type]
    store.close()
