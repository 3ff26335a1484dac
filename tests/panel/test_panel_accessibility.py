"""Every panel view passes axe-core's WCAG 2 A and AA rules, in real Chromium, on both adapters."""

from __future__ import annotations

import pytest

from supportchat import Actor

from .axe import assert_accessible, violations
from .browser import PanelPage
from .servers import Site

pytestmark = pytest.mark.timeout(180)


def _seed(site: Site) -> int:
    """A desk showing every status and priority pill, both sides of a thread and its history."""
    desk, admin = site.desk, Actor.admin(site.admin_id)
    ticket = desk.create_ticket(
        Actor.user(21),
        subject="No puedo pagar con tarjeta",
        description="Sale error 402",
        priority="urgent",
        category="billing",
    )
    for user, (priority, status) in enumerate(
        (("low", "open"), ("medium", "in_progress"), ("high", "resolved"), ("low", "closed")), start=30
    ):
        other = desk.create_ticket(Actor.user(user), subject=f"Consulta {user}", description="Hola", priority=priority)
        if status != "open":
            desk.change_status(admin, other.id, status)
    desk.post_message(admin, ticket.id, "¿Qué tarjeta usa?")
    desk.post_message(Actor.user(21), ticket.id, "Una Visa")
    desk.change_status(admin, ticket.id, "in_progress")
    return ticket.id


def test_the_login_view_has_no_violation(site: Site, ui: PanelPage) -> None:
    ui.page.goto(site.panel_url)
    ui.page.wait_for_selector("#login-view", state="visible")
    assert_accessible(ui.page, "login")


def test_the_list_ticket_and_statistics_views_have_no_violation(site: Site, ui: PanelPage) -> None:
    ticket_id = _seed(site)
    ui.sign_in(site)
    assert_accessible(ui.page, "list")
    ui.open_ticket(ticket_id)
    assert_accessible(ui.page, "ticket")
    ui.page.click("#nav-stats")
    ui.page.wait_for_selector("#chart-category rect")
    assert_accessible(ui.page, "statistics")


def test_the_check_finds_a_violation_when_there_is_one(site: Site, ui: PanelPage) -> None:
    # The check can fail: light grey help text on the white login card is a contrast violation.
    ui.page.goto(site.panel_url)
    ui.page.wait_for_selector("#login-view", state="visible")
    ui.page.evaluate("document.querySelector('#login-view p.muted').style.color = '#d0d0d0'")
    assert "color-contrast" in [v["id"] for v in violations(ui.page)]
