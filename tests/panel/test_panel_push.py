"""The ticket view shows the ticket's push deliveries with every attempt, and stays axe-clean."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from supportchat import Actor
from supportchat.jobs import JobRunner
from supportchat.push import FcmClient, NewDevice, OwnerKind, Platform, PushService, PushSettings
from supportchat.push.feature import feature

from ..push_emulator import FcmEmulator
from .axe import assert_accessible
from .browser import PanelPage
from .servers import ADAPTER_NAMES, Site, serve

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(params=ADAPTER_NAMES)
def push_site(request: pytest.FixtureRequest) -> Iterator[Site]:
    with serve(str(request.param), features=[feature()]) as served:
        yield served


def test_the_ticket_view_lists_push_deliveries_and_their_attempts(push_site: Site, ui: PanelPage) -> None:
    desk = push_site.desk
    with FcmEmulator() as emulator:
        client = FcmClient.from_service_account(emulator.account, endpoint=emulator.url, timeout=2)
        service = PushService(push_site.store, client, PushSettings(quiet_window=0.0))
        service.devices.register(NewDevice("phone-of-21:APA91b", OwnerKind.USER, 21, Platform.ANDROID, "es"))
        runner = JobRunner(push_site.store, service.kinds(), poll_interval=0.05, first_retry=0.1, max_retry=0.5)
        emulator.script(["503"])
        runner.start(desk)
        try:
            ticket = desk.create_ticket(Actor.user(21), subject="No puedo pagar", description="Error 402")
            desk.post_message(Actor.admin(push_site.admin_id), ticket.id, "¿Qué tarjeta usa?")
            deadline = time.monotonic() + 20
            while service.devices.counts()["delivered"] < 1:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        finally:
            runner.stop()
            client.close()
    ui.sign_in(push_site)
    ui.open_ticket(ticket.id)
    ui.page.wait_for_selector("#push:not([hidden]) #push-list li[data-delivery-status='delivered']", state="attached")
    ui.page.click("#push summary")
    text = ui.page.inner_text("#push-list")
    assert "Respuesta a usuario #21" in text and "entregada" in text
    assert "intento 1: UNAVAILABLE (HTTP 503) — pendiente" in text and "intento 2: entregada" in text
    assert "phone-of-21" not in text  # a hint of the token only
    assert_accessible(ui.page, "ticket with push deliveries")


def test_without_the_push_feature_the_section_stays_hidden(site: Site, ui: PanelPage) -> None:
    ticket = site.desk.create_ticket(Actor.user(21), subject="Hola", description="d")
    ui.sign_in(site)
    ui.open_ticket(ticket.id)
    ui.page.wait_for_timeout(300)
    assert ui.page.is_hidden("#push")
