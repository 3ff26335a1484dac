"""The features' event types in the log: a transfer, an SLA warning and breach, the bot's handoff.

Each is an entry of the desk's event log (every backend the feature runs
on), with its ``data`` for staff, never one of the owner's. Also the gap of
issue 16: the seed's ``PUT …/status`` with ``assigned_to`` answers the
transfer's 409s when the teams feature is installed (both adapters).
"""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest

from supportchat import Actor, InMemoryStore, SupportDesk
from supportchat.automation import AutomationStore, KnowledgeArticleInput
from supportchat.automation.bot import Bot
from supportchat.errors import AgentAtCapacity, AgentUnavailable, ExtensionUnavailable
from supportchat.extensions import extension
from supportchat.models import EventRecord
from supportchat.people import agent_store, parse_agent
from supportchat.sla import BREACHED, WARNING
from supportchat.stores import open_store
from supportchat.teams import TeamStore, team_desk
from supportchat.teams.feature import feature as teams_feature

from .api.conftest import make_api
from .sla.test_clock import MONDAY, Scenario, at, sla_store
from .stores import StoreMaker

ADMIN = Actor.admin(1)
OWNER = Actor.user(7)


def feature_entries(store: Any, user_id: int | None = None) -> list[EventRecord]:
    core = {"ticket_created", "message_created", "ticket_updated", "note_created", "tags_changed"}
    return [e for e in store.events_after(0, user_id=user_id, limit=1000) if str(e.type) not in core]


def agents(store: Any, *capacities: int) -> None:
    for agent_id, capacity in enumerate(capacities, start=1):
        agent_store(store).put_agent(parse_agent(id=agent_id, name=f"agent {agent_id}", capacity=capacity))


def test_a_transfer_is_logged_with_from_to_team_and_reason(make_store: StoreMaker) -> None:
    store = make_store()
    try:
        extension(store, TeamStore)  # type: ignore[type-abstract]
    except ExtensionUnavailable:
        pytest.skip("the teams are kept by the SQL and in-memory stores only (docs/teams.md)")
    agents(store, 0, 0)
    desk = SupportDesk(store)
    teams = team_desk(desk)
    ticket = desk.create_ticket(OWNER, subject="Vuelo", description="Cambio de fecha")
    teams.transfer(ADMIN, ticket.id, to=1)
    teams.transfer(ADMIN, ticket.id, to=2, reason="habla alemán", note="cliente vip")
    teams.transfer(ADMIN, ticket.id, to=2)  # theirs already: nothing happens, nothing is logged
    teams.put_team(ADMIN, "night")
    teams.transfer(ADMIN, ticket.id, team="night", reason="turno de noche")
    logged = feature_entries(store)
    assert [str(e.type) for e in logged] == ["ticket_transferred"] * 3
    assert [e.data for e in logged] == [
        {"from_agent": None, "to_agent": 1, "from_team": None, "team": None, "reason": None, "forced": False, "by": 1},
        {
            "from_agent": 1,
            "to_agent": 2,
            "from_team": None,
            "team": None,
            "reason": "habla alemán",
            "forced": False,
            "by": 1,
        },
        {
            "from_agent": 2,
            "to_agent": None,
            "from_team": None,
            "team": "night",
            "reason": "turno de noche",
            "forced": False,
            "by": 1,
        },
    ]
    assert all(e.ticket_id == ticket.id and e.user_id == 7 for e in logged)
    assert feature_entries(store, user_id=7) == []


def test_sla_warnings_and_breaches_are_logged_once_with_the_firing(make_store: StoreMaker) -> None:
    s = Scenario(*sla_store(make_store))
    ticket = s.desk.create_ticket(OWNER, subject="Order", description="Where is it?")
    s.follow()
    heard: list[Any] = []
    s.desk.subscribe(heard.append)
    assert s.scan_at(at(MONDAY, "09:10")) == [(WARNING, "first_response")]
    assert s.scan_at(at(MONDAY, "09:20")) == [(BREACHED, "first_response")]
    assert s.scan_at(at(MONDAY, "12:00")) == []  # once
    logged = feature_entries(s.store)
    assert [(str(e.type), e.ticket_id) for e in logged] == [(WARNING, ticket.id), (BREACHED, ticket.id)]
    due = at(MONDAY, "09:20").astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    fired = [e.id for e in s.sla.events(ticket_id=ticket.id)]
    assert [e.data for e in logged] == [
        {"target": "first_response", "due_at": due, "sla_event_id": fired[0]},
        {"target": "first_response", "due_at": due, "sla_event_id": fired[1]},
    ]
    assert [e.created_at for e in logged] == [at(MONDAY, "09:10"), at(MONDAY, "09:20")]
    assert [str(e.type) for e in heard] == [WARNING, BREACHED]  # this process's streams are woken
    assert feature_entries(s.store, user_id=7) == []


def test_the_bot_logs_its_handoff(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'desk.db'}")
    try:
        extension(store, AutomationStore).add_article(  # type: ignore[type-abstract]
            KnowledgeArticleInput(
                title="Cancelar una reserva", body="Ve a Mis reservas y pulsa Cancelar.", language="es"
            )
        )
        desk = SupportDesk(store)
        bot = Bot(desk, agent_id=900)
        ticket = desk.create_ticket(OWNER, subject="Mi perro come calcetines", description="¿Qué hago con el perro?")
        bot.on_new_ticket(ticket)
        bot.on_new_ticket(ticket)  # a job run again: the session stops it
        (handoff,) = feature_entries(store)
        assert str(handoff.type) == "bot_handoff" and handoff.ticket_id == ticket.id
        assert handoff.data == {"reason": "not_confident", "turns": 0, "language": "es"}
        assert feature_entries(store, user_id=7) == []
    finally:
        store.close()


# -- issue 16: the seed's assignment route under the transfer's rule ---------------------------


@pytest.fixture(params=["flask", "fastapi"])
def api(request: pytest.FixtureRequest) -> Any:
    store = InMemoryStore()
    agents(store, 1, 0)
    return make_api(request.param, SupportDesk(store), store, features=[teams_feature()])


def _put_status(api: Any, ticket_id: int, body: dict[str, Any]) -> Any:
    return api.call("PUT", f"/tickets/{ticket_id}/status", headers=api.admin, json=body)


def _error(reply: Any) -> str:
    assert reply.status == 409, reply.body
    code: str = json.loads(reply.body)["error"]["code"]
    return code


def test_put_status_with_assigned_to_is_refused_as_a_transfer_would_be(api: Any) -> None:
    first, second = api.ticket_for(5), api.ticket_for(6)
    assert _put_status(api, first.id, {"status": "in_progress", "assigned_to": 1}).status == 200
    assert _error(_put_status(api, second.id, {"status": "in_progress", "assigned_to": 1})) == "agent_at_capacity"
    assert api.store.get_ticket(second.id).assigned_to is None  # nothing written
    forced = _put_status(api, second.id, {"status": "in_progress", "assigned_to": 1, "force": True})
    assert forced.status == 200 and json.loads(forced.body)["data"]["assigned_to"] == 1
    team_desk(api.desk).set_availability(ADMIN, 2, "away")
    assert _error(_put_status(api, first.id, {"status": "open", "assigned_to": 2})) == "agent_unavailable"
    # Keeping the assignee, unassigning, or an id outside the agents directory: as the seed did.
    assert _put_status(api, first.id, {"status": "open", "assigned_to": 1}).status == 200
    assert _put_status(api, second.id, {"status": "open", "assigned_to": None}).status == 200
    assert _put_status(api, second.id, {"status": "in_progress", "assigned_to": 77}).status == 200
    assert _put_status(api, first.id, {"status": "in_progress"}).status == 200
    refused = _put_status(api, first.id, {"status": "in_progress", "assigned_to": 2, "force": "yes"})
    assert refused.status == 422 and json.loads(refused.body)["error"]["details"]["field"] == "force"


def test_without_the_teams_feature_the_seed_route_assigns_as_before() -> None:
    store = InMemoryStore()
    agents(store, 1)
    api = make_api("flask", SupportDesk(store), store)
    first, second = api.ticket_for(5), api.ticket_for(6)
    assert _put_status(api, first.id, {"status": "in_progress", "assigned_to": 1}).status == 200
    assert _put_status(api, second.id, {"status": "in_progress", "assigned_to": 1}).status == 200


def test_the_rule_is_the_transfers_own() -> None:
    """Both paths go through ``TeamDesk.holding``: the errors are the same classes, with the same details."""
    store = InMemoryStore()
    agents(store, 1)
    desk = SupportDesk(store)
    teams = team_desk(desk)
    first = desk.create_ticket(OWNER, subject="a", description="b")
    second = desk.create_ticket(OWNER, subject="a", description="b")
    teams.transfer(ADMIN, first.id, to=1)
    with pytest.raises(AgentAtCapacity) as by_transfer:
        teams.transfer(ADMIN, second.id, to=1)
    agent = teams.agent_for_assignment(1)
    assert agent is not None
    with pytest.raises(AgentAtCapacity) as by_hold, teams.holding(second.id, agent, force=False):
        pass
    assert by_hold.value.details == by_transfer.value.details
    teams.set_availability(ADMIN, 1, "offline")
    with pytest.raises(AgentUnavailable), teams.holding(second.id, agent, force=False):
        pass
    with teams.holding(second.id, agent, force=True):
        desk.assign(ADMIN, second.id, 1)
