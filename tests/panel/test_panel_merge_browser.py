"""Merging tickets and showing ratings in the panel, in real Chromium (spec §12), on both adapters."""

from __future__ import annotations

import httpx
import pytest

from supportchat import Actor

from .axe import assert_accessible
from .browser import PanelPage
from .servers import Site

pytestmark = pytest.mark.timeout(180)

OWNER = 41


def test_an_admin_merges_in_the_panel_and_the_user_finds_the_conversation(site: Site, ui: PanelPage) -> None:
    desk, admin, owner = site.desk, Actor.admin(site.admin_id), Actor.user(OWNER)
    source = desk.create_ticket(owner, subject="Cobro doble", description="Me cobraron dos veces")
    target = desk.create_ticket(owner, subject="Reembolso", description="Pedido 1234")
    first = desk.post_message(owner, source.id, "Adjunto el extracto")
    second = desk.post_message(admin, target.id, "Revisamos el reembolso")
    desk.change_status(admin, target.id, "resolved", assigned_to=site.admin_id)
    desk.rate(owner, target.id, 4, comment="Rápidos <b>y</b> amables")
    desk.post_message(owner, target.id, "Falta el segundo cargo")  # reopens the target

    ui.sign_in(site)
    ui.open_ticket(target.id)
    rating = ui.page.text_content("#ticket-rating") or ""
    assert "4/5" in rating and "Rápidos <b>y</b> amables" in rating  # as text, never markup
    assert_accessible(ui.page, "ticket with its rating and the merge form")

    ui.open_ticket(source.id)
    ui.page.fill("#merge-into", target.ticket_number.lower())
    ui.page.click("#merge-submit")
    ui.page.wait_for_selector(f"body[data-ticket-loaded='{target.id}']")
    ui.page.wait_for_selector(".toast")
    assert ui.page.text_content("#ticket-number") == target.ticket_number
    shown = ui.page.eval_on_selector_all("#messages .msg", "nodes => nodes.map(n => Number(n.dataset.messageId))")
    assert shown[:2] == [first.id, second.id]
    note = ui.page.wait_for_selector(f"#ticket-rows tr[data-ticket-id='{source.id}'] .merged-note")
    assert note is not None and f"#{target.id}" in (note.text_content() or "")
    ui.page.click("#history summary")
    fields = ui.page.eval_on_selector_all("#history-list li", "nodes => nodes.map(n => n.dataset.field)")
    assert "merged_from" in fields and "rating" in fields
    assert_accessible(ui.page, "list and ticket after a merge, with its record of changes open")

    # The user's app (the user API) reaches the merged conversation through the source's id and number.
    for ref in (source.id, source.ticket_number, source.ticket_number.lower()):
        reply = httpx.get(f"{site.api_url}/user/{OWNER}/tickets/{ref}", headers=site.user(OWNER), timeout=5)
        assert reply.status_code == 200, reply.text
        thread = reply.json()["data"]
        assert thread["id"] == target.id
        assert [m["id"] for m in thread["messages"]][:2] == [first.id, second.id]
        assert thread["rating"]["score"] == 4 and "agent_id" not in thread["rating"]
    listed = httpx.get(f"{site.api_url}/user/{OWNER}/tickets", headers=site.user(OWNER), timeout=5).json()["data"]
    assert {t["id"]: t["merged_into"] for t in listed} == {source.id: target.id, target.id: None}
    other = httpx.get(f"{site.api_url}/user/42/tickets/{source.id}", headers=site.user(42), timeout=5)
    assert other.status_code == 404


def test_a_refused_merge_says_why(site: Site, ui: PanelPage) -> None:
    desk = site.desk
    mine = desk.create_ticket(Actor.user(OWNER), subject="Mío", description="Hola")
    theirs = desk.create_ticket(Actor.user(42), subject="Suyo", description="Hola")
    ui.sign_in(site)
    ui.open_ticket(mine.id)
    ui.page.fill("#merge-into", str(theirs.id))
    ui.page.click("#merge-submit")
    toast = ui.page.wait_for_selector(".toast")
    assert toast is not None and "same user" in (toast.text_content() or "")  # the desk's own message
    assert desk.store.get_ticket(mine.id).merged_into is None  # type: ignore[union-attr]
    assert ui.page.text_content("#ticket-number") == mine.ticket_number
