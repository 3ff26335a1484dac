"""The two example host apps: their own login, the desk mounted through the identity hook."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from supportchat import Actor, InMemoryStore, SupportDesk

from .clients import FastAPIClient, FlaskClient

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def flask_login(client: Any, username: str) -> dict[str, str]:
    reply = client.request("POST", "/login", json={"username": username, "password": f"{username}-pw"})
    assert reply.status == 200
    return {}  # the session cookie rides along in the test client


def fastapi_login(client: Any, username: str) -> dict[str, str]:
    reply = client.request("POST", "/login", json={"username": username, "password": f"{username}-pw"})
    assert reply.status == 200
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


@pytest.mark.parametrize("example", ["flask_app", "fastapi_app"])
def test_example_app_serves_the_desk_with_its_own_login(example: str) -> None:
    module = load(example)
    desk = SupportDesk(InMemoryStore())
    if example == "flask_app":
        alice, bruno, carmen = (FlaskClient(module.create_app(desk)) for _ in range(3))
        login = flask_login
    else:
        client = FastAPIClient(module.create_app(desk))
        alice = bruno = carmen = client
        login = fastapi_login

    anonymous = alice.request("POST", "/admin/api/support/create-ticket", json={"subject": "x", "description": "y"})
    assert anonymous.status == 401

    as_alice = login(alice, "alice")
    created = alice.request(
        "POST",
        "/admin/api/support/create-ticket",
        headers={"Content-Type": "application/json", **as_alice},
        json={"user_id": 1, "subject": "Problema con pago", "description": "No puedo completar mi reserva"},
    )
    assert created.status == 200, created.body
    number = created.json()["data"]["ticket_number"]

    as_bruno = login(bruno, "bruno")
    assert bruno.request("GET", f"/admin/api/support/user/2/tickets/{number}", headers=as_bruno).status == 404
    assert bruno.request("GET", "/admin/api/support/tickets", headers=as_bruno).status == 403

    as_carmen = login(carmen, "carmen")
    listed = carmen.request("GET", "/admin/api/support/tickets", headers=as_carmen)
    assert listed.status == 200
    assert [t["ticket_number"] for t in listed.json()["data"]] == [number]
    # The app served the desk it was given.
    assert desk.get_ticket(Actor.system(), number).user_id == 1
