"""The scenario of spec §12 end to end in Chromium (both adapters): an admin adds a note and a tag and
merges two tickets in the panel; the owner's app (the user API) shows neither the note nor the tag and
finds the merged conversation through the merged ticket's id and number."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from supportchat import Actor

from .axe import assert_accessible
from .browser import PanelPage, new_panel_page
from .servers import Site

pytestmark = pytest.mark.timeout(180)

OWNER = 31
NOTE = "Solo interno: devolver el segundo cargo (nota-9c1e)"


@pytest.fixture
def ui(browser: Any) -> Iterator[PanelPage]:
    page = new_panel_page(browser, "es-ES")
    yield page
    try:
        page.assert_clean()
    finally:
        page.context.close()


def test_note_tag_and_merge_in_the_panel_and_what_the_owner_sees(site: Site, ui: PanelPage) -> None:
    desk, owner = site.desk, Actor.user(OWNER)
    source = desk.create_ticket(owner, subject="Cobro doble", description="Me cobraron dos veces")
    target = desk.create_ticket(owner, subject="Reembolso", description="Pedido 1234")
    first = desk.post_message(owner, source.id, "Adjunto el extracto")

    ui.sign_in(site)
    ui.open_ticket(target.id)
    ui.page.fill("#note-text", NOTE)
    ui.page.click("#note-send")
    ui.page.wait_for_selector("#messages .msg-note")
    ui.page.fill("#tag-input", "doble-cobro")
    ui.page.click("#tag-add")
    ui.page.wait_for_selector('#tag-list [data-tag="doble-cobro"]')

    ui.open_ticket(source.id)
    ui.page.fill("#merge-into", target.ticket_number)
    ui.page.click("#merge-submit")
    ui.page.wait_for_selector(f"body[data-ticket-loaded='{target.id}']")
    assert_accessible(ui.page, "the merged ticket with its note and tag")
    assert ui.page.text_content("#ticket-number") == target.ticket_number

    with httpx.Client(base_url=site.api_url, headers=site.user(OWNER), timeout=10) as app:
        for ref in (source.id, source.ticket_number):
            reply = app.get(f"/user/{OWNER}/tickets/{ref}")
            assert reply.status_code == 200, reply.text
            thread = reply.json()["data"]
            assert thread["id"] == target.id and first.id in [m["id"] for m in thread["messages"]]
        bodies = [
            app.get(f"/user/{OWNER}/tickets").text,
            app.get(f"/user/{OWNER}/tickets/{target.id}").text,
            app.get(f"/user/{OWNER}/tickets", params={"q": "doble"}).text,
            app.get(f"/user/{OWNER}/tickets", params={"q": "nota"}).text,
        ]
    for body in bodies:
        assert "nota-9c1e" not in body and "doble-cobro" not in body
        assert '"notes"' not in body and '"tags"' not in body
    assert json.loads(bodies[3])["data"] == []  # the user's own search never reads a note
