"""The automation view's editors in real Chromium, on both adapters: canned responses, knowledge-base articles
and rules created, edited and deleted, a rule turned off and on, a dry run listed, the API's 422s shown beside
their fields; axe-core clean in every state."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from supportchat import Actor
from supportchat.automation.feature import feature
from supportchat.automation.service import Automation

from .axe import assert_accessible
from .browser import PanelPage, new_panel_page
from .servers import ADAPTER_NAMES, Site, serve

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(params=ADAPTER_NAMES)
def site(request: pytest.FixtureRequest) -> Iterator[Site]:
    with serve(request.param, features=[feature()]) as running:
        yield running


def _open_automation(site: Site, ui: PanelPage) -> None:
    ui.sign_in(site)
    ui.page.wait_for_selector("#nav-automation:not([hidden])")
    ui.page.click("#nav-automation")
    ui.page.wait_for_selector("#automation-view:not([hidden])")


def _submit(page: Any, fields: dict[str, str], button: str) -> None:
    """Fill an editor's inputs (a select by its value) and press its save button."""
    for selector, value in fields.items():
        if page.eval_on_selector(selector, "e => e.tagName") == "SELECT":
            page.select_option(selector, value)
        else:
            page.fill(selector, value)
    page.click(button)


def test_canned_responses_and_articles_are_created_edited_and_deleted(site: Site, ui: PanelPage) -> None:
    automation = Automation(site.desk)
    admin = Actor.admin(site.admin_id)
    _open_automation(site, ui)
    page = ui.page
    assert page.is_visible("#canned-empty") and page.is_visible("#articles-empty") and page.is_visible("#rules-empty")
    assert_accessible(page, "automation editors, nothing yet")

    # An unknown variable: the API's 422 beside the text, nothing saved.
    _submit(
        page,
        {"#canned-code": "saludo", "#canned-name": "Saludo", "#canned-content": "Hola {{user.nombre}}"},
        "#canned-save",
    )
    page.wait_for_selector("#canned-content-error:has-text('user.nombre')")
    assert page.get_attribute("#canned-content", "aria-invalid") == "true"
    assert automation.list_canned(admin) == []
    assert_accessible(page, "canned response refused")

    _submit(page, {"#canned-content": "Hola {{user.name}}, su ticket {{ticket.number}}"}, "#canned-save")
    page.wait_for_selector("#canned-rows tr .canned-code:has-text('/saludo')")
    assert page.text_content("#canned-content-error") == ""
    [shared] = automation.list_canned(admin)
    assert (shared.title, shared.owner_id) == ("Saludo", None)

    _submit(
        page,
        {"#canned-code": "mio", "#canned-name": "Mío", "#canned-content": "Solo para mí", "#canned-scope": "personal"},
        "#canned-save",
    )
    page.wait_for_selector("#canned-rows tr:has-text('/mio'):has-text('Solo yo (personal)')")
    assert {c.short_code: c.owner_id for c in automation.list_canned(admin)} == {"saludo": None, "mio": site.admin_id}

    page.click(f"#canned-rows tr[data-canned='{shared.id}'] button:has-text('Editar')")
    assert page.input_value("#canned-content") == shared.content
    assert page.text_content("#canned-form-title") == "Editar /saludo"
    _submit(page, {"#canned-name": "Saludo <b>cordial</b>"}, "#canned-save")
    page.wait_for_selector(f"#canned-rows tr[data-canned='{shared.id}']:has-text('Saludo <b>cordial</b>')")
    assert page.eval_on_selector_all("#canned-rows td *:not(div):not(button)", "s => s.length") == 0
    assert next(c for c in automation.list_canned(admin) if c.id == shared.id).title == "Saludo <b>cordial</b>"
    assert page.text_content("#canned-form-title") == "Respuesta predefinida nueva"
    assert_accessible(page, "canned responses listed")

    page.click(f"#canned-rows tr[data-canned='{shared.id}'] button:has-text('Borrar')")
    page.wait_for_selector(f"#canned-rows tr[data-canned='{shared.id}']", state="detached")
    assert [c.short_code for c in automation.list_canned(admin)] == ["mio"]

    # Articles: the same cycle, with language and tags.
    article_fields = {
        "#article-name": "Cómo cambiar la contraseña",
        "#article-language": "es",
        "#article-tags": "cuenta, contraseña",
        "#article-body": "Abra Ajustes y pulse «Cambiar contraseña».",
    }
    _submit(page, article_fields, "#article-save")
    page.wait_for_selector("#article-rows tr:has-text('Cómo cambiar la contraseña')")
    [article] = automation.store.list_articles(None)
    assert (article.language, article.tags) == ("es", ("cuenta", "contraseña"))
    assert_accessible(page, "knowledge base listed")

    page.click(f"#article-rows tr[data-article='{article.id}'] button:has-text('Editar')")
    assert page.input_value("#article-tags") == "cuenta, contraseña"
    _submit(page, {"#article-language": "en", "#article-name": "Changing the password"}, "#article-save")
    page.wait_for_selector(f"#article-rows tr[data-article='{article.id}']:has-text('Changing the password')")
    [edited] = automation.store.list_articles(None)
    assert (edited.id, edited.title, edited.language) == (article.id, "Changing the password", "en")

    page.click(f"#article-rows tr[data-article='{article.id}'] button:has-text('Borrar')")
    page.wait_for_selector("#articles-empty:not([hidden])")
    assert automation.store.list_articles(None) == []


RULE = {
    "name": "Etiquetar lo nuevo",
    "trigger": {"kind": "event", "events": ["ticket_created"]},
    "actions": [{"kind": "add_tags", "value": ["nuevo"]}],
}


def test_a_rule_is_created_toggled_and_dry_run(site: Site, ui: PanelPage) -> None:
    automation = Automation(site.desk)
    admin = Actor.admin(site.admin_id)
    ticket = site.desk.create_ticket(Actor.user(21), subject="Pago", description="No puedo pagar")
    _open_automation(site, ui)
    page = ui.page

    page.fill("#rule-definition", "{ not json")
    page.click("#rule-save")
    page.wait_for_selector("#rule-definition-error:has-text('No es JSON válido')")
    page.fill("#rule-definition", json.dumps({**RULE, "actions": [{"kind": "explode"}]}))
    page.click("#rule-save")
    page.wait_for_selector("#rule-definition-error:has-text('actions')")
    assert page.get_attribute("#rule-definition", "aria-invalid") == "true"
    assert automation.list_rules(admin) == []
    assert_accessible(page, "rule refused")

    page.fill("#rule-definition", json.dumps(RULE))
    page.click("#rule-save")
    page.wait_for_selector("#rule-rows tr:has-text('Etiquetar lo nuevo')")
    [rule] = automation.list_rules(admin)
    row = f"#rule-rows tr[data-rule='{rule.id}']"
    assert page.text_content(f"{row} .rule-version") == "1"
    assert page.input_value(f"{row} select") == "on"
    assert page.text_content("#rule-definition-error") == ""

    page.select_option(f"{row} select", "off")
    page.wait_for_selector(f"{row} .rule-version:text-is('2')")
    assert page.input_value(f"{row} select") == "off"
    assert not automation.list_rules(admin)[0].enabled
    page.select_option(f"{row} select", "on")
    page.wait_for_selector(f"{row} .rule-version:text-is('3')")
    assert automation.list_rules(admin)[0].enabled
    assert_accessible(page, "rules listed")

    page.click(f"{row} button:has-text('Editar')")
    assert json.loads(page.input_value("#rule-definition"))["name"] == RULE["name"]
    page.click("#rule-cancel")
    assert page.input_value("#rule-definition") == "" and page.text_content("#rule-form-title") == "Regla nueva"

    page.select_option("#dry-run-rule", str(rule.id))
    page.click("#dry-run-submit")
    page.wait_for_selector("#dry-run-table:not([hidden])")
    firings = page.eval_on_selector_all(
        "#dry-run-rows tr", "rs => rs.map(r => [r.dataset.rule, r.dataset.ticket, r.cells[4].textContent])"
    )
    tagged = json.dumps({"kind": "add_tags", "value": ["nuevo"]}, separators=(",", ":"))
    assert firings == [[str(rule.id), str(ticket.id), tagged]]
    assert site.desk.get_ticket(admin, ticket.id, mark_read=False, limit=1).tags == ()  # a dry run writes nothing
    assert_accessible(page, "dry run listed")

    page.click(f"{row} button:has-text('Borrar')")
    page.wait_for_selector("#rules-empty:not([hidden])")
    assert automation.list_rules(admin) == []


def test_the_editors_speak_english_and_list_what_the_api_holds(site: Site, browser: Any) -> None:
    automation = Automation(site.desk)
    admin = Actor.admin(site.admin_id)
    automation.add_canned(admin, {"short_code": "hello", "title": "<i>Hello</i>", "content": "Hi {{user.name}}"})
    automation.add_article(admin, {"title": "Refunds", "body": "Within 14 days.", "language": "en", "tags": ["money"]})
    automation.add_rule(admin, {**RULE, "enabled": False})
    ui = new_panel_page(browser, "en-US")
    try:
        _open_automation(site, ui)
        page = ui.page
        assert page.text_content("#canned-list-title") == "Canned responses"
        assert page.text_content("#articles-title") == "Knowledge base"
        assert page.text_content("#dry-run-title") == "Dry run"
        assert page.eval_on_selector_all("#canned-rows td", "c => c.map(x => x.textContent)")[:3] == [
            "/hello",
            "<i>Hello</i>",
            "Everyone (shared)",
        ]
        assert page.eval_on_selector_all("#article-rows td", "c => c.map(x => x.textContent)")[:3] == [
            "Refunds",
            "English",
            "money",
        ]
        assert page.input_value("#rule-rows select") == "off"
        assert page.text_content("#rule-rows td:nth-child(3)") == "On ticket_created"
        page.click("#dry-run-submit")
        page.wait_for_selector("#dry-run-empty:not([hidden])")
        assert page.text_content("#dry-run-empty") == "The rules would have done nothing in this range."
        assert_accessible(page, "automation editors in English")
        ui.assert_clean()
    finally:
        ui.context.close()
