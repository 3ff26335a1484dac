"""The panel's teams view and transfer action in real Chromium, on both adapters: axe-core clean, and working."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from supportchat import Actor
from supportchat.people import agent_store, parse_agent
from supportchat.teams import team_desk
from supportchat.teams.feature import feature

from .axe import assert_accessible
from .browser import PanelPage, new_panel_page
from .servers import ADAPTER_NAMES, Site, serve

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(params=ADAPTER_NAMES)
def site(request: pytest.FixtureRequest) -> Iterator[Site]:
    with serve(request.param, features=[feature()]) as running:
        yield running


@pytest.fixture(params=["es-ES", "en-US"])
def ui(browser: Any, request: pytest.FixtureRequest) -> Iterator[PanelPage]:
    page = new_panel_page(browser, request.param)
    yield page
    try:
        page.assert_clean()
    finally:
        page.context.close()


def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the panel's change did not reach the desk"
        time.sleep(0.05)


def _seed(site: Site) -> int:
    store = site.store
    agent_store(store).put_agent(parse_agent(id=site.admin_id, name="ana", teams=["billing"], capacity=1))
    agent_store(store).put_agent(parse_agent(id=site.admin_id + 1, name="luis", teams=["billing"], capacity=5))
    teams = team_desk(site.desk)
    teams.put_team(Actor.admin(site.admin_id), "billing", display_name="Billing", categories=["billing"])
    teams.put_team(Actor.admin(site.admin_id), "night")
    busy = site.desk.create_ticket(Actor.user(30), subject="Ya asignado", description="Hola", category="billing")
    teams.transfer(Actor.admin(site.admin_id), busy.id, to=site.admin_id)
    ticket = site.desk.create_ticket(Actor.user(21), subject="Cobro doble", description="Me cobraron dos veces")
    return ticket.id


def test_the_teams_view_and_the_transfer_action_have_no_violation_and_work(site: Site, ui: PanelPage) -> None:
    ticket_id = _seed(site)
    ui.sign_in(site)
    page = ui.page
    page.wait_for_selector("#nav-teams:not([hidden])")
    page.click("#nav-teams")
    page.wait_for_selector("#availability-rows tr")
    assert_accessible(page, "teams")

    luis = site.admin_id + 1
    states = team_desk(site.desk).store
    page.select_option(f"#availability-rows tr[data-agent-id='{luis}'] select", "away")
    until(lambda: states.agent_states([luis])[luis].status.value == "away")
    page.select_option("#teams-rows tr[data-team='night'] select", "on")
    until(lambda: states.get_team("night").auto_assign)  # type: ignore[union-attr]

    ui.open_ticket(ticket_id)
    page.click("#transfer summary")
    assert_accessible(page, "ticket with the transfer form")
    # Ana is at capacity: the transfer is refused with the 409's message, and nothing changes.
    page.select_option("#transfer-to", f"agent:{site.admin_id}")
    page.fill("#transfer-reason", "habla portugués")
    page.click("#transfer-send")
    page.wait_for_selector(".toast:has-text('capacity')")
    assert site.store.get_ticket(ticket_id).assigned_to is None  # type: ignore[union-attr]
    page.check("#transfer-force")
    page.click("#transfer-send")
    page.wait_for_function("id => document.querySelector('#ticket-assignee').value === String(id)", arg=site.admin_id)
    assert site.store.get_ticket(ticket_id).assigned_to == site.admin_id  # type: ignore[union-attr]
    fields = [change.field for change in site.desk.history(Actor.admin(site.admin_id), ticket_id)]
    assert fields == ["assigned_to", "transfer_reason", "transfer_forced"]


def test_without_the_feature_the_panel_shows_no_teams(browser: Any) -> None:
    page = new_panel_page(browser)
    try:
        with serve("fastapi") as site:
            page.sign_in(site)
            assert page.page.is_hidden("#nav-teams")
            ticket = site.desk.create_ticket(Actor.user(5), subject="Hola", description="Hola")
            page.open_ticket(ticket.id)
            assert page.page.is_hidden("#transfer")
        page.assert_clean()
    finally:
        page.context.close()
