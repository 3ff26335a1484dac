"""Screenshots of the panel for the README, made by driving it like an admin would."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from supportchat import Actor

from .browser import new_panel_page
from .servers import Site, serve

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

pytestmark = pytest.mark.timeout(120)


class StepClock:
    """Time that moves only when the seeding says so, so the pictures are stable."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 8, 5, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def step(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)


TICKETS = [
    (101, "No puedo pagar con tarjeta", "Al pagar el pedido sale «error 402».", "urgent", "billing"),
    (102, "Cambio de fecha de vuelo", "Necesito pasar el vuelo IB3162 al viernes.", "high", "flight"),
    (103, "La app se cierra al abrir el chat", "Android 14, versión 3.2.1.", "high", "technical"),
    (104, "Pedido incompleto", "Faltan dos artículos del pedido 8812.", "medium", "order"),
    (105, "Factura con NIF incorrecto", "¿Podéis corregir la factura de febrero?", "medium", "billing"),
    (106, "¿Cómo cambio mi correo?", "Quiero usar otra dirección.", "low", "general"),
    (107, "Reembolso pendiente", "Devolví el pedido hace 10 días.", "medium", "order"),
    (108, "No recibo el código de verificación", "El SMS no llega.", "urgent", "technical"),
    (109, "Equipaje extra", "¿Puedo añadir una maleta?", "low", "flight"),
    (110, "Descuento no aplicado", "El cupón PRIMAVERA no funciona.", "low", "billing"),
]


@pytest.fixture
def showcase() -> Iterator[tuple[Site, dict[str, Any]]]:
    clock = StepClock()
    draws = random.Random(2026)
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

    def numbers() -> str:
        return "TKT-" + "".join(draws.choice(alphabet) for _ in range(8))

    with serve("fastapi", desk_options={"clock": clock, "number_generator": numbers}) as site:
        desk, ana = site.desk, Actor.admin(site.admin_id)
        luis = next(a for a in site.tokens.list() if a.name == "luis").id
        made = {}
        for user, subject, text, priority, category in TICKETS:
            clock.step(17)
            made[user] = desk.create_ticket(
                Actor.user(user), subject=subject, description=text, priority=priority, category=category
            )
        desk.change_status(ana, made[102].id, "in_progress", assigned_to=site.admin_id)
        desk.change_status(ana, made[106].id, "resolved", assigned_to=luis)
        desk.change_status(ana, made[109].id, "closed")
        desk.change_status(ana, made[104].id, "in_progress", assigned_to=luis)
        conversation = made[101]
        for who, text in (
            (Actor.user(101), "Hola, intento pagar el pedido 8812 y me sale «error 402». ¿Qué hago?"),
            (ana, "Hola, gracias por escribir. ¿Qué tarjeta estás usando? ¿Visa o Mastercard?"),
            (Actor.user(101), "Visa. La he usado en otras tiendas sin problema."),
            (ana, "Hemos visto un bloqueo preventivo de tu banco. Ya lo hemos liberado: ¿puedes probar otra vez?"),
        ):
            clock.step(3)
            desk.post_message(who, conversation.id, text)
        desk.change_status(ana, conversation.id, "in_progress", assigned_to=site.admin_id)
        desk.get_ticket(Actor.user(101), conversation.id)  # the user read the admin's replies
        clock.step(2)
        desk.post_message(Actor.user(101), conversation.id, "¡Ahora sí ha funcionado! Muchas gracias.")
        for user in (103, 108, 110):
            desk.post_message(Actor.user(user), made[user].id, "¿Alguna novedad?")
        yield site, made


def test_screenshots_of_the_list_the_conversation_and_the_statistics(
    showcase: tuple[Site, dict[str, Any]], browser: Any
) -> None:
    site, made = showcase
    SHOTS.mkdir(parents=True, exist_ok=True)
    shots = []
    for locale, suffix in (("en-US", ""), ("es-ES", "-es")):
        ui = new_panel_page(browser, locale)
        try:
            ui.sign_in(site)
            ui.page.wait_for_selector(".badge")
            ui.page.wait_for_selector("#live-state:not([data-state='connecting'])")
            if not suffix:
                shots.append(SHOTS / "panel-tickets.png")
                ui.page.screenshot(path=str(shots[-1]))
            ui.open_ticket(made[101].id)
            # Opening marks the user's messages read: let the list drop the badge and settle.
            ui.page.wait_for_selector(f"tr[data-ticket-id='{made[101].id}'] .badge", state="detached")
            ui.page.wait_for_timeout(800)
            ui.page.click("#history summary")
            ui.page.fill("#reply-text", "¡Genial! Cierro el ticket entonces.")
            shots.append(SHOTS / f"panel-conversation{suffix}.png")
            ui.page.screenshot(path=str(shots[-1]))
            if not suffix:
                ui.page.evaluate("() => { window.location.hash = '#/stats'; }")
                ui.page.wait_for_selector("#chart-category rect")
                shots.append(SHOTS / "panel-statistics.png")
                ui.page.screenshot(path=str(shots[-1]))
            ui.assert_clean()
        finally:
            ui.context.close()
    for shot in shots:
        data = shot.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000, shot
