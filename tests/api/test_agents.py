"""``GET {prefix}/agents``: every agent with their open load, on both adapters."""

from __future__ import annotations

import pytest

from supportchat import Actor
from supportchat.errors import StorageUnavailable
from supportchat.people import Agent, agent_store, attach, parse_agent

from .conftest import Api

ADMIN = Actor.admin(1)


def _assigned(api: Api, user_id: int, agent_id: int) -> int:
    ticket = api.ticket_for(user_id)
    api.desk.change_status(ADMIN, ticket.id, "in_progress", assigned_to=agent_id)
    return ticket.id


def test_agents_from_a_host_directory_carry_the_load_the_store_counted(api: Api) -> None:
    attach(api.desk, agents=lambda: [Agent(id=5, name="Eve", teams=("tech",), capacity=3), Agent(id=6, name="Ivo")])
    _assigned(api, 10, 5)
    done = _assigned(api, 11, 5)
    api.desk.change_status(ADMIN, done, "resolved")
    _assigned(api, 12, 6)
    reply = api.call("GET", "/agents", headers=api.admin)
    assert reply.status == 200, reply.body
    assert reply.json()["data"] == [
        {"id": 5, "name": "Eve", "email": None, "teams": ["tech"], "available": True, "capacity": 3, "open_load": 1},
        {"id": 6, "name": "Ivo", "email": None, "teams": [], "available": True, "capacity": 0, "open_load": 1},
    ]


def test_standalone_agents_come_from_the_agents_table(api: Api) -> None:
    try:
        agent_store(api.store).put_agent(parse_agent(id=9, name="Ana", email="ana@desk.example", available=False))
    except StorageUnavailable:
        pytest.skip("directory writes need the primary store (tests/test_directories.py covers the outage)")
    _assigned(api, 10, 9)
    data = api.call("GET", "/agents", headers=api.admin).json()["data"]
    assert [(a["id"], a["email"], a["available"], a["open_load"]) for a in data] == [(9, "ana@desk.example", False, 1)]


def test_users_may_not_list_agents(api: Api) -> None:
    assert api.call("GET", "/agents", headers=api.user(10)).status == 403
    assert api.call("GET", "/agents").status == 401
