"""The panel's automation view in real Chromium, on both adapters: the auto-acknowledgement set and turned off,
axe-core clean."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from supportchat import Actor
from supportchat.automation.feature import feature
from supportchat.automation.service import Automation
from supportchat.extensions import extension
from supportchat.sla import CalendarIn, SlaStore
from supportchat.sla.feature import feature as sla_feature

from .axe import assert_accessible
from .browser import PanelPage
from .servers import ADAPTER_NAMES, Site, serve

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(params=ADAPTER_NAMES)
def site(request: pytest.FixtureRequest) -> Iterator[Site]:
    with serve(request.param, features=[feature(), sla_feature()]) as running:
        yield running


def test_the_acknowledgement_is_set_and_turned_off_from_the_panel(site: Site, ui: PanelPage) -> None:
    sla: SlaStore = extension(site.store, SlaStore)  # type: ignore[type-abstract]
    sla.put_calendar(CalendarIn(name="oficina", time_zone="Europe/Madrid", hours={"mon": [("09:00", "18:00")]}))
    automation = Automation(site.desk)
    admin = Actor.admin(site.admin_id)
    ids = {
        code: automation.add_canned(admin, {"short_code": code, "title": code, "content": f"{code} <b>"}).id
        for code in ("dentro", "inside", "fuera")
    }
    ui.sign_in(site)
    page = ui.page
    page.wait_for_selector("#nav-automation:not([hidden])")
    page.click("#nav-automation")
    page.wait_for_selector("#automation-view:not([hidden])")
    assert page.text_content("#ack-state") == "Aún no está configurado."
    assert_accessible(page, "automation")

    page.select_option("#ack-calendar", "oficina")
    page.select_option("#ack-inside-es", str(ids["dentro"]))
    page.select_option("#ack-inside-en", str(ids["inside"]))
    page.select_option("#ack-outside-es", str(ids["fuera"]))
    page.click("#ack-save")
    page.wait_for_selector("#ack-state:has-text('versión 1')")  # shown from the PUT's answer
    saved = automation.acknowledgement(admin)
    assert saved.enabled
    assert saved.calendar == "oficina" and saved.inside == {"es": ids["dentro"], "en": ids["inside"]}
    assert saved.outside == {"es": ids["fuera"]}

    page.select_option("#ack-enabled", "off")
    page.click("#ack-save")
    page.wait_for_selector("#ack-state:has-text('versión 2')")
    assert not automation.acknowledgement(admin).enabled
    assert_accessible(page, "automation, saved")
