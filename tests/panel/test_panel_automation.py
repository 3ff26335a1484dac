"""The panel with automation: "/code" in the reply box expands a canned response; automatic answers are marked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from supportchat import Actor
from supportchat.automation.feature import feature
from supportchat.automation.service import Automation
from supportchat.people import Contact, attach

from .axe import assert_accessible
from .browser import PanelPage, new_panel_page
from .servers import Site, serve

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(params=["flask", "fastapi"])
def site(request: pytest.FixtureRequest) -> Iterator[Site]:
    with serve(str(request.param), features=[feature()]) as served:
        yield served


@pytest.fixture
def ui(browser: Any) -> Iterator[PanelPage]:
    page = new_panel_page(browser, "es-ES")
    yield page
    try:
        page.assert_clean()
    finally:
        page.context.close()


def test_typing_a_short_code_offers_it_and_choosing_it_fills_the_reply(site: Site, ui: PanelPage) -> None:
    attach(site.desk, contacts=lambda user_id: Contact(user_id=user_id, display_name="Lucía"))
    automation = Automation(site.desk)
    automation.add_canned(
        Actor.admin(site.admin_id),
        {"short_code": "saludo", "title": "Saludo", "content": "Hola {{user.name}}, su ticket {{ticket.number}}"},
    )
    automation.add_canned(Actor.admin(site.admin_id), {"short_code": "cierre", "title": "Cierre", "content": "Adiós"})
    ticket = site.desk.create_ticket(Actor.user(21), subject="Pago", description="No puedo pagar")
    site.desk.post_message(Actor.admin(900), ticket.id, "🤖 Respuesta automática: Pagos", automated=True)
    ui.sign_in(site)
    ui.open_ticket(ticket.id)
    assert ui.page.text_content(".msg-automated") == "Respuesta automática"
    ui.page.fill("#reply-text", "/sal")
    ui.page.wait_for_selector("#canned-suggestions .canned-option")
    options = ui.page.eval_on_selector_all(
        "#canned-suggestions .canned-option .canned-code", "os => os.map(o => o.textContent)"
    )
    assert options == ["/saludo"]
    assert_accessible(ui.page, "ticket with canned suggestions")
    ui.page.press("#reply-text", "Tab")
    ui.page.wait_for_function("() => document.querySelector('#reply-text').value.startsWith('Hola')")
    assert ui.page.input_value("#reply-text") == f"Hola Lucía, su ticket {ticket.ticket_number}"
    assert ui.page.is_hidden("#canned-suggestions")
