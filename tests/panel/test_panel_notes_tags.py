"""Internal notes and tags in the panel, in real Chromium on both adapters: the admin adds them,
sees them apart from the replies, filters by tag; the ticket's owner (the user API) sees neither."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from supportchat import Actor

from .axe import assert_accessible
from .browser import PanelPage, new_panel_page
from .servers import Site

pytestmark = pytest.mark.timeout(180)

NOTE = "Cliente VIP: reembolso aprobado por <b>finanzas</b> (nota-7f3a)"


@pytest.fixture
def ui(browser: Any) -> Iterator[PanelPage]:
    page = new_panel_page(browser, "es-ES")
    yield page
    try:
        page.assert_clean()
    finally:
        page.context.close()


def test_an_admin_adds_a_note_and_a_tag_that_the_owner_never_sees(site: Site, ui: PanelPage) -> None:
    desk, admin = site.desk, Actor.admin(site.admin_id)
    ticket = desk.create_ticket(Actor.user(21), subject="No puedo pagar", description="Sale error 402")
    other = desk.create_ticket(Actor.user(22), subject="Cambio de vuelo", description="Otra fecha")
    desk.post_message(admin, ticket.id, "¿Qué tarjeta usa?")
    ui.sign_in(site)
    ui.open_ticket(ticket.id)

    ui.page.fill("#note-text", NOTE)
    ui.page.click("#note-send")
    note = ui.page.wait_for_selector("#messages .msg-note")
    assert note is not None and NOTE in note.inner_text()
    # Visibly not a reply: its own class, its own label, a dashed amber box centred in the thread.
    assert ui.page.eval_on_selector("#messages .msg-note", "n => n.classList.contains('msg-admin')") is False
    style = ui.page.eval_on_selector("#messages .msg-note", "n => getComputedStyle(n).borderStyle")
    assert style == "dashed"
    assert "Nota interna" in ui.page.text_content("#messages .msg-note .note-label")

    ui.page.fill("#tag-input", "Reembolsó VIP")
    ui.page.click("#tag-add")
    ui.page.wait_for_selector('#tag-list [data-tag="reembolso-vip"]')
    ui.page.wait_for_selector('#history-list li[data-field="tags"]', state="attached")
    assert_accessible(ui.page, "ticket with a note and tags")

    # The list filters by the tag and shows it as a chip on the row.
    before = ui.list_loads()
    ui.page.fill("#filter-tag", "reembolso-vip")
    ui.page.click("#filters button[type=submit]")
    ui.wait_list_after(before)
    assert ui.wait_rows([ticket.id]) == [ticket.id]
    assert "reembolso-vip" in ui.page.inner_text("#ticket-rows .row-tags")

    ui.page.click("#nav-stats")
    ui.page.wait_for_selector("#chart-tag rect")
    assert_accessible(ui.page, "statistics with tags")

    # What the desk stored is exactly what the admin typed (sanitised, not escaped) and the tag normalised.
    thread = desk.get_ticket(admin, ticket.id, mark_read=False)
    assert [n.note for n in thread.notes] == [NOTE] and thread.tags == ("reembolso-vip",)
    assert desk.get_ticket(admin, other.id, mark_read=False).tags == ()

    # The owner's app (the user API) shows neither the note nor the tag, anywhere.
    owner = site.user(21)
    with httpx.Client(base_url=site.api_url, headers=owner, timeout=10) as client:
        bodies = [
            client.get("/user/21/tickets"),
            client.get(f"/user/21/tickets/{ticket.id}"),
            client.get(f"/user/21/tickets/{ticket.ticket_number}/messages"),
            client.get("/user/21/tickets", params={"q": "finanzas"}),
            client.get("/user/21/tickets", params={"q": "reembolso"}),
        ]
    for response in bodies:
        assert response.status_code == 200, response.text
        text = response.text
        assert "nota-7f3a" not in text and "finanzas" not in text
        assert "reembolso" not in text and '"tags"' not in text and '"notes"' not in text
    assert bodies[3].json()["meta"]["total"] == 0
