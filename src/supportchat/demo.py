"""Realistic demo data: tickets and conversations in Spanish and English.

:func:`fill_demo` writes through a :class:`~supportchat.desk.SupportDesk`, so
the demo obeys every rule (numbers, lifecycle, read state, change records)
and the statistics, reports and panel have something true to show. Time is
spread over the past weeks with the desk's injectable clock; a seed makes the
data reproducible.

The history is what reports need to mean something: automated
acknowledgements (which never count as a response), transfers between agents,
ratings of resolutions, reopenings by users writing again, and, on a store
that keeps an SLA, a demo policy whose deadlines some tickets meet and some
breach (:func:`play_sla`, through the SLA's public clock).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .desk import SupportDesk
from .errors import ExtensionUnavailable
from .extensions import extension
from .models import Actor, Category, EventRecord, Priority, Ticket, TicketStatus
from .store import Store

__all__ = ["DEMO_AGENTS", "DemoScript", "fill_demo", "play_sla", "scripts"]

#: The agents a demo's tickets are handled by when the desk has no admins of its own yet.
DEMO_AGENTS = (1, 2, 3)
#: Shares of the history's turns: an automated acknowledgement, a transfer, a rating, a reopening.
_ACKNOWLEDGED, _TRANSFERRED, _RATED, _REOPENED = 0.5, 0.2, 0.6, 0.15
_ACKNOWLEDGEMENT = "Hemos recibido su mensaje; un agente le responderá pronto. / We got your message."
_SCORES = {5: 45, 4: 25, 3: 12, 2: 8, 1: 10}


@dataclass(frozen=True, slots=True)
class DemoScript:
    """One plausible support conversation: what the user asks and how it goes on."""

    language: str
    category: Category
    subject: str
    description: str
    admin_replies: tuple[str, ...]
    user_replies: tuple[str, ...]


_SCRIPTS: tuple[DemoScript, ...] = (
    DemoScript(
        "es",
        Category.FLIGHT,
        "No puedo cambiar la fecha de mi vuelo",
        "Hola, intento cambiar la fecha de mi vuelo Madrid–Bogotá del día 14 y la app me da un error "
        "al confirmar. ¿Pueden ayudarme?",
        (
            "Hola, gracias por escribirnos. ¿Nos indica el localizador de la reserva?",
            "Ya hemos cambiado la fecha al día 16; le llegará la confirmación por correo.",
        ),
        ("El localizador es QX7TZ2.", "¡Recibido, muchas gracias!"),
    ),
    DemoScript(
        "es",
        Category.BILLING,
        "Cobro duplicado en mi tarjeta",
        "Me han cobrado dos veces la suscripción de este mes (2 × 9,99 €). Adjunto captura del extracto.",
        (
            "Lamentamos las molestias. Hemos verificado el doble cargo y hemos emitido el reembolso.",
            "El reembolso puede tardar de 3 a 5 días hábiles en aparecer.",
        ),
        ("Perfecto, quedo atento.",),
    ),
    DemoScript(
        "es",
        Category.ORDER,
        "Mi pedido no ha llegado",
        "Hice el pedido #48213 hace diez días y el seguimiento sigue en «preparando envío».",
        ("Hemos contactado con el almacén: el paquete sale hoy y recibirá el número de seguimiento.",),
        ("Gracias, ya me ha llegado el número.", "Pedido recibido, todo correcto."),
    ),
    DemoScript(
        "es",
        Category.TECHNICAL,
        "La app se cierra al abrir el chat",
        "Desde la última actualización la aplicación se cierra sola cuando entro en el chat. Uso un Android 13.",
        (
            "¿Podría decirnos qué versión de la app tiene instalada (Ajustes → Acerca de)?",
            "Publicamos una corrección en la versión 2.4.1; por favor, actualice y nos cuenta.",
        ),
        ("Tengo la 2.4.0.", "Con la 2.4.1 ya funciona bien."),
    ),
    DemoScript(
        "es",
        Category.GENERAL,
        "¿Cómo elimino mi cuenta?",
        "Quiero darme de baja y borrar todos mis datos. ¿Cuál es el procedimiento?",
        ("Puede hacerlo desde Perfil → Privacidad → Eliminar cuenta. Si prefiere, lo hacemos nosotros.",),
        ("Prefiero que lo hagan ustedes, gracias.",),
    ),
    DemoScript(
        "en",
        Category.FLIGHT,
        "Baggage allowance for my booking",
        "Hi, I booked a flight to Lisbon for next week. Does my fare include a checked bag of 23 kg?",
        ("Your fare includes one 23 kg checked bag and one cabin bag of up to 10 kg.",),
        ("Great, thanks for the quick answer!",),
    ),
    DemoScript(
        "en",
        Category.BILLING,
        "Invoice shows the wrong VAT number",
        "The invoice for order 77102 has our old VAT number. Could you reissue it with the new one?",
        (
            "Of course. Please reply with the correct VAT number and company address.",
            "We have reissued the invoice; you can download it from your account.",
        ),
        ("VAT number is ES-B12345678, address unchanged.",),
    ),
    DemoScript(
        "en",
        Category.ORDER,
        "Received the wrong size",
        "I ordered a pair of running shoes in size 42 but the box contains size 40. How do I exchange them?",
        ("Sorry about that! We have emailed you a prepaid return label; the right size ships once it is scanned.",),
        ("Label received, I'll drop the parcel off tomorrow.",),
    ),
    DemoScript(
        "en",
        Category.TECHNICAL,
        "Password reset email never arrives",
        "I requested a password reset three times and got no email, not even in the spam folder.",
        (
            "Thanks for reporting it. Our mail provider had a delay; could you try once more now?",
            "Glad it worked. We're closing this ticket, but feel free to reply if anything else comes up.",
        ),
        ("It arrived this time, I'm back in.",),
    ),
    DemoScript(
        "en",
        Category.GENERAL,
        "Feature request: dark mode",
        "Love the app! Any plans for a dark mode? Reading at night is hard on the eyes.",
        ("Thanks for the suggestion! Dark mode is on our roadmap for the next quarter.",),
        (),
    ),
)


def scripts() -> Sequence[DemoScript]:
    """Every conversation the demo draws from."""
    return _SCRIPTS


class _DemoClock:
    """A clock the demo moves forward by hand, so tickets spread over past weeks; never past ``end``."""

    def __init__(self, start: datetime, end: datetime) -> None:
        self.now = start
        self.end = end

    def __call__(self) -> datetime:
        return self.now

    def advance(self, rng: random.Random, *, max_minutes: int) -> None:
        step = timedelta(minutes=rng.randint(1, max_minutes), seconds=rng.randint(0, 59))
        self.now = min(self.now + step, self.end)


_STATUS_WEIGHTS = {
    TicketStatus.OPEN: 30,
    TicketStatus.IN_PROGRESS: 25,
    TicketStatus.RESOLVED: 25,
    TicketStatus.CLOSED: 20,
}
_PRIORITY_WEIGHTS = {Priority.LOW: 20, Priority.MEDIUM: 45, Priority.HIGH: 25, Priority.URGENT: 10}


def fill_demo(
    store: Store,
    count: int,
    *,
    admin_ids: Sequence[int] = (1,),
    seed: int | None = None,
    days: int = 30,
    now: datetime | None = None,
    on_ticket: Callable[[Ticket], None] | None = None,
) -> list[str]:
    """Write ``count`` demo tickets with conversations; returns their ticket numbers.

    Tickets are created over the last ``days`` days (oldest first), from
    users 1001-1100, handled by ``admin_ids``. ``on_ticket`` is called after
    each finished ticket (progress bars).
    """
    if count < 0:
        raise ValueError("count must not be negative")
    if not admin_ids:
        raise ValueError("the demo needs at least one admin id")
    rng = random.Random(seed)
    end = now or datetime.now(UTC)
    clock = _DemoClock(end - timedelta(days=days), end)
    desk = SupportDesk(store, clock=clock)
    # Spread creation times evenly, leaving room for each conversation's replies.
    step_minutes = max(2, int(days * 24 * 60 / max(count, 1)))
    numbers: list[str] = []
    for _ in range(count):
        script = rng.choice(_SCRIPTS)
        user = Actor.user(rng.randint(1001, 1100))
        admin = Actor.admin(rng.choice(list(admin_ids)))
        ticket = desk.create_ticket(
            user,
            subject=script.subject,
            description=script.description,
            priority=rng.choices(list(_PRIORITY_WEIGHTS), weights=list(_PRIORITY_WEIGHTS.values()))[0],
            category=script.category,
        )
        target = rng.choices(list(_STATUS_WEIGHTS), weights=list(_STATUS_WEIGHTS.values()))[0]
        saved = clock.now
        if rng.random() < _ACKNOWLEDGED:
            desk.post_message(admin, ticket.id, _ACKNOWLEDGEMENT, automated=True)  # an auto-reply
        others = [Actor.admin(i) for i in admin_ids if i != admin.id]
        _converse(desk, rng, clock, ticket, user, admin, script, target, others)
        # The next ticket arrives one step after this one, while this conversation may still be going on:
        # tickets overlap in time as they do at a real desk (each ticket's own history stays in order).
        clock.now = min(saved + timedelta(minutes=step_minutes), end)
        numbers.append(ticket.ticket_number)
        if on_ticket is not None:
            on_ticket(ticket)
    return numbers


def _converse(
    desk: SupportDesk,
    rng: random.Random,
    clock: _DemoClock,
    ticket: Ticket,
    user: Actor,
    admin: Actor,
    script: DemoScript,
    target: TicketStatus,
    others: Sequence[Actor] = (),
) -> None:
    """Play the script as far as ``target`` implies: untouched, being handled, or settled."""
    if target is TicketStatus.OPEN:
        # Some open tickets already have a follow-up nobody has read yet.
        if script.user_replies and rng.random() < 0.4:
            clock.advance(rng, max_minutes=90)
            desk.post_message(user, ticket.id, script.user_replies[0])
        return
    clock.advance(rng, max_minutes=120)
    desk.change_status(admin, ticket.id, TicketStatus.IN_PROGRESS, assigned_to=admin.id)
    desk.get_ticket(admin, ticket.id)
    replies = script.admin_replies if target is not TicketStatus.IN_PROGRESS else script.admin_replies[:1]
    for turn, reply in enumerate(replies):
        clock.advance(rng, max_minutes=180)
        if turn and others and rng.random() < _TRANSFERRED:
            admin = rng.choice(list(others))  # handed over to a colleague, who answers from now on
            desk.change_status(admin, ticket.id, TicketStatus.IN_PROGRESS, assigned_to=admin.id)
        desk.post_message(admin, ticket.id, reply)
        if turn < len(script.user_replies):
            clock.advance(rng, max_minutes=240)
            desk.get_ticket(user, ticket.id)
            desk.post_message(user, ticket.id, script.user_replies[turn])
    if target in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        clock.advance(rng, max_minutes=60)
        desk.get_ticket(admin, ticket.id)
        desk.change_status(admin, ticket.id, TicketStatus.RESOLVED)
        _rate(desk, rng, clock, ticket, user)
        if rng.random() < _REOPENED:
            # The user writes again: a new cycle, answered and resolved again.
            clock.advance(rng, max_minutes=60 * 24)
            desk.post_message(user, ticket.id, "Vuelve a fallar. / It happens again.")
            clock.advance(rng, max_minutes=240)
            desk.post_message(admin, ticket.id, script.admin_replies[-1])
            clock.advance(rng, max_minutes=120)
            desk.change_status(admin, ticket.id, TicketStatus.RESOLVED)
            _rate(desk, rng, clock, ticket, user)
    if target is TicketStatus.CLOSED:
        clock.advance(rng, max_minutes=60 * 24 * 3)
        desk.change_status(admin, ticket.id, TicketStatus.CLOSED)


def _rate(desk: SupportDesk, rng: random.Random, clock: _DemoClock, ticket: Ticket, user: Actor) -> None:
    if rng.random() < _RATED:
        clock.advance(rng, max_minutes=180)
        desk.rate(user, ticket.id, rng.choices(list(_SCORES), weights=list(_SCORES.values()))[0])


def play_sla(store: Store, *, now: datetime | None = None) -> bool:
    """Put the desk's tickets under a demo SLA policy and replay their history through the SLA's clock.

    A 24/7 calendar, first response in 2 hours, resolution in 2 days; each
    ticket's events are followed in order with a breach scan before each, so
    late answers breach and timely ones are met, as a live worker would have
    recorded. Whether the store keeps an SLA (nothing is done otherwise).
    """
    from .sla import CalendarIn, PolicyIn, SlaClock, SlaStore

    try:
        sla = extension(store, SlaStore)  # type: ignore[type-abstract]
    except ExtensionUnavailable:
        return False
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    sla.put_calendar(CalendarIn(name="demo", time_zone="UTC", hours={d: [("00:00", "24:00")] for d in days}))
    sla.put_policy(PolicyIn(name="demo", calendar="demo", first_response_minutes=120, resolution_minutes=2 * 24 * 60))
    clock = SlaClock(SupportDesk(store))
    by_ticket: dict[int, list[EventRecord]] = {}
    after = 0
    while batch := store.events_after(after, limit=1000):
        for record in batch:
            by_ticket.setdefault(record.ticket_id, []).append(record)
        after = batch[-1].id
    for records in by_ticket.values():
        for record in records:
            clock.scan(record.created_at.timestamp())
            clock.observe(record)
    clock.scan((now or datetime.now(UTC)).timestamp())
    return True
