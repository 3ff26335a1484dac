"""The newer rule parts on a real desk, over memory, SQLite and PostgreSQL: the auto-acknowledgement in and out
of business hours in the contact's language, tags, notes, transfers (availability honoured unless forced),
notifications, the channel and business-hours conditions, and SLA warnings and breaches as triggers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from supportchat import Actor, SupportDesk
from supportchat.automation.engine import Limits, Rule
from supportchat.automation.rule_runner import RuleRunner
from supportchat.automation.service import Automation
from supportchat.errors import ValidationError
from supportchat.extensions import extension
from supportchat.jobs import JobRunner
from supportchat.mail import MailStore
from supportchat.mail.base import NewMailRecord, Outcome
from supportchat.notify import Delivery, Notification
from supportchat.people import agent_store, contact_store, parse_agent, parse_contact
from supportchat.sla import CalendarIn, PolicyIn, SlaClock, SlaStore
from supportchat.store import Store
from supportchat.teams import team_desk
from supportchat.teams.base import team_store

from ..conftest import FakeClock
from ..stores import BACKEND_MARKS, BACKENDS

AGENT = 950
ADMIN = Actor.admin(1)
MADRID = ZoneInfo("Europe/Madrid")
#: A Monday at 10:00 in Madrid (working), and the Saturday after (not).
MONDAY_10 = datetime(2027, 1, 11, 10, 0, tzinfo=MADRID).astimezone(UTC)
SATURDAY_10 = MONDAY_10 + timedelta(days=5)
OFFICE = {d: [("09:00", "18:00")] for d in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture(
    params=[pytest.param(name, marks=BACKEND_MARKS.get(name, [])) for name in ("memory", "sqlite-file", "postgres")]
)
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    with BACKENDS[request.param](request) as make:  # type: ignore[attr-defined]
        made = make()
        yield made
        made.close()


class Inbox:
    """A notifier that keeps what it is handed."""

    name = "inbox"

    def __init__(self) -> None:
        self.delivered: list[Mapping[str, Any]] = []

    def prepare(self, event: Notification) -> Mapping[str, Any] | None:
        return None

    def deliver(self, delivery: Delivery) -> None:
        self.delivered.append(delivery.payload)


class Desk:
    def __init__(self, store: Store, *, limits: Limits | None = None) -> None:
        self.clock = FakeClock(MONDAY_10)
        self.desk = SupportDesk(store, clock=self.clock)
        self.automation = Automation(self.desk)
        self.inbox = Inbox()
        self.runner = RuleRunner(self.desk, agent_id=AGENT, limits=limits, clock=self.clock, notifiers=[self.inbox])
        self.jobs = JobRunner(store, self.runner.kinds(), poll_interval=0.05)
        self.jobs.start_cursors()
        self.sla: SlaStore = extension(store, SlaStore)  # type: ignore[type-abstract]
        self.sla.put_calendar(CalendarIn(name="office", time_zone="Europe/Madrid", hours=OFFICE))

    def canned(self, code: str, text: str) -> int:
        return self.automation.add_canned(ADMIN, {"short_code": code, "title": code, "content": text}).id

    def rule(self, **fields: object) -> int:
        return self.automation.add_rule(ADMIN, {"name": "rule", **fields}).id

    def drain(self) -> None:
        for _ in range(50):
            if self.jobs.run_once() == 0:
                return

    def automated(self, ticket_id: int) -> list[str]:
        return [m.message for m in self.desk.store.list_messages(ticket_id) if m.automated]


def _acknowledgement(d: Desk) -> dict[str, object]:
    ids = {
        (hours, language): d.canned(f"ack-{hours}-{language}", text)
        for (hours, language), text in {
            ("in", "es"): "Recibido {{ticket.number}}, le respondemos enseguida",
            ("in", "en"): "Got {{ticket.number}}, we answer shortly",
            ("out", "es"): "Recibido {{ticket.number}}; abrimos el lunes a las 9",
            ("out", "en"): "Got {{ticket.number}}; we open on Monday at 9",
        }.items()
    }
    return {
        "calendar": "office",
        "inside": {"es": ids["in", "es"], "en": ids["in", "en"]},
        "outside": {"es": ids["out", "es"], "en": ids["out", "en"]},
    }


def test_new_tickets_are_acknowledged_by_the_hours_in_the_contacts_language_and_within_the_cap(
    store: Store,
) -> None:
    d = Desk(store, limits=Limits(messages_per_hour=1))
    contacts = contact_store(store)
    contacts.put_contact(parse_contact(user_id=21, display_name="Ann", locale="en-GB"))
    contacts.put_contact(parse_contact(user_id=22, display_name="Luis", locale="es"))
    view = d.automation.set_acknowledgement(ADMIN, {"enabled": True, **_acknowledgement(d)})
    assert view.enabled and view.calendar == "office" and view.rule_version == 1
    # Another rule wants to reply too: the acknowledgement already used the ticket's one automatic message.
    replying = d.rule(trigger={"kind": "event", "events": ["ticket_created"]}, actions=[{"kind": "reply", "value": 1}])

    english = d.desk.create_ticket(Actor.user(21), subject="Login", description="I cannot log in")
    d.drain()
    d.clock.now = SATURDAY_10
    spanish = d.desk.create_ticket(Actor.user(22), subject="Pago", description="No puedo pagar")
    unknown = d.desk.create_ticket(Actor.user(23), subject="Hola", description="Una duda")
    d.drain()

    assert d.automated(english.id) == [f"Got {english.ticket_number}, we answer shortly"]
    assert d.automated(spanish.id) == [f"Recibido {spanish.ticket_number}; abrimos el lunes a las 9"]
    assert d.automated(unknown.id) == [f"Recibido {unknown.ticket_number}; abrimos el lunes a las 9"]
    (ack,) = [m for m in d.desk.store.list_messages(english.id) if m.automated]
    assert ack.sender_id == AGENT
    firings = d.runner.automation.list_firings(ticket_id=english.id)
    recorded = {(f.rule_id, f.rule_version, len(f.actions), len(f.dropped)) for f in firings}
    assert recorded == {(view.rule_id, 1, 1, 0), (replying, 1, 0, 1)}, "the second reply was dropped"

    # Off: new tickets get nothing; the settings stay for turning it back on (a new version of its rule).
    off = d.automation.set_acknowledgement(ADMIN, {"enabled": False})
    assert not off.enabled and off.rule_version == 2 and off.inside == view.inside
    quiet = d.desk.create_ticket(Actor.user(24), subject="Otra", description="Otra duda")
    d.drain()
    assert d.automated(quiet.id) == [f"Recibido {quiet.ticket_number}, le respondemos enseguida"], "only the reply rule"


def test_the_acknowledgement_refuses_unknown_calendars_and_responses(store: Store) -> None:
    d = Desk(store)
    settings = _acknowledgement(d)
    with pytest.raises(ValidationError, match="calendar"):
        d.automation.set_acknowledgement(ADMIN, {**settings, "calendar": "nowhere"})
    with pytest.raises(ValidationError, match="canned response 999"):
        d.automation.set_acknowledgement(ADMIN, {**settings, "inside": {"es": 999}})
    with pytest.raises(ValidationError):
        d.automation.set_acknowledgement(ADMIN, {"enabled": True})  # nothing to acknowledge with yet
    assert not d.automation.acknowledgement(ADMIN).enabled


def test_tags_notes_transfers_and_notifications_each_recorded_with_the_rule(store: Store) -> None:
    d = Desk(store)
    agents = agent_store(store)
    agents.put_agent(parse_agent(id=2, name="Ana", available=False))
    agents.put_agent(parse_agent(id=3, name="Bea"))
    team_desk(d.desk).put_team(ADMIN, "billing")
    polite = d.rule(
        trigger={"kind": "event", "events": ["ticket_created"]},
        conditions=[{"field": "message", "op": "contains", "value": "factura"}],
        actions=[
            {"kind": "add_tags", "value": ["Facturación", "vip"]},
            {"kind": "add_note", "value": "Factura: revisar {{ticket.number}}"},
            {"kind": "transfer", "value": {"agent": 2}},
            {"kind": "notify", "value": {"text": "Factura en {{ticket.number}}", "agents": [3]}},
        ],
    )
    forced = d.rule(
        trigger={"kind": "event", "events": ["message_created"]},
        conditions=[{"field": "message", "op": "contains", "value": "urgente"}],
        actions=[{"kind": "transfer", "value": {"agent": 2, "force": True}}, {"kind": "remove_tags", "value": ["vip"]}],
    )
    # Fires on the forced transfer's change, reading the tags the first rule wrote.
    teamed = d.rule(
        trigger={"kind": "event", "events": ["ticket_updated"]},
        conditions=[
            {"field": "tags", "op": "has", "value": "facturacion"},
            {"field": "assigned_to", "op": "is", "value": 2},
        ],
        actions=[{"kind": "transfer", "value": {"team": "billing"}}, {"kind": "set_priority", "value": "high"}],
    )
    ticket = d.desk.create_ticket(Actor.user(21), subject="Factura", description="Mi factura está mal")
    d.drain()
    staff = d.desk.get_ticket(ADMIN, ticket.id, mark_read=False, limit=1)
    assert staff.tags == ("facturacion", "vip")
    (note,) = d.desk.list_notes(ADMIN, ticket.id)
    assert note.note == f"Factura: revisar {ticket.ticket_number}" and note.author_id == AGENT
    assert staff.assigned_to is None, "Ana is unavailable: the rule honours it"
    (notice,) = d.inbox.delivered
    assert notice["text"] == f"Factura en {ticket.ticket_number}" and notice["rule_id"] == polite
    assert notice["notify"] == [3]

    d.desk.post_message(Actor.user(21), ticket.id, "Es urgente")
    d.drain()
    after = d.desk.get_ticket(ADMIN, ticket.id, mark_read=False, limit=1)
    assert after.tags == ("facturacion",)
    assert after.assigned_to is None and after.priority.value == "high", "forced to Ana, then to the billing team"
    assert team_store(store).ticket_teams([ticket.id]) == {ticket.id: "billing"}
    changes = [c for c in d.desk.history(ADMIN, ticket.id) if c.field == "transfer_reason"]
    assert [c.new_value for c in changes] == [
        f"automation rule {forced} (version 1)",
        f"automation rule {teamed} (version 1)",
    ]
    log = d.runner.automation.list_firings(ticket_id=ticket.id)
    assert [(f.rule_id, f.chain) for f in log] == [(polite, [polite]), (forced, [forced]), (teamed, [forced, teamed])]


def test_rules_refuse_unknown_teams_and_bad_note_variables(store: Store) -> None:
    d = Desk(store)
    trigger = {"kind": "event", "events": ["ticket_created"]}
    with pytest.raises(ValidationError, match="team"):
        d.rule(trigger=trigger, actions=[{"kind": "transfer", "value": {"team": "nobody"}}])
    with pytest.raises(ValidationError, match=r"user\.nmae"):
        d.rule(trigger=trigger, actions=[{"kind": "add_note", "value": "Hola {{user.nmae}}"}])
    with pytest.raises(ValidationError, match="calendar"):
        d.rule(
            trigger=trigger,
            conditions=[{"field": "business_hours", "op": "is", "value": True, "calendar": "mars"}],
            actions=[{"kind": "set_priority", "value": "high"}],
        )


def test_channel_and_business_hours_conditions_on_the_live_desk(store: Store) -> None:
    d = Desk(store)
    d.rule(
        trigger={"kind": "event", "events": ["ticket_created"]},
        conditions=[
            {"field": "channel", "op": "is", "value": "email"},
            {"field": "business_hours", "op": "is", "value": False, "calendar": "office"},
        ],
        actions=[{"kind": "add_tags", "value": ["mail-after-hours"]}],
    )
    by_app = d.desk.create_ticket(Actor.user(21), subject="App", description="Desde la app")
    d.drain()
    d.clock.now = SATURDAY_10
    by_mail = d.desk.create_ticket(Actor.user(21), subject="Mail", description="Por correo")
    extension(store, MailStore).claim(  # type: ignore[type-abstract]
        NewMailRecord(
            message_key="<m1@example.com>",
            direction="in",
            outcome=Outcome.NEW_TICKET,
            ticket_id=by_mail.id,
            ticket_number=by_mail.ticket_number,
            done=True,
        ),
        now=SATURDAY_10.timestamp(),
    )
    d.drain()
    tags = store.ticket_tags([by_app.id, by_mail.id])
    assert tags.get(by_mail.id) == ("mail-after-hours",) and by_app.id not in tags


def test_an_sla_breach_fires_its_rules_once_from_the_event_log(store: Store) -> None:
    d = Desk(store)
    d.sla.put_policy(PolicyIn(name="std", calendar="office", first_response_minutes=30, warning_minutes=10))
    d.rule(
        trigger={"kind": "event", "events": ["sla_warning"]},
        actions=[{"kind": "add_note", "value": "Quedan 10 minutos"}],
    )
    late = d.rule(
        trigger={"kind": "event", "events": ["sla_breached"]},
        conditions=[{"field": "business_hours", "op": "is", "value": True, "calendar": "office"}],
        actions=[{"kind": "add_tags", "value": ["late"]}, {"kind": "set_priority", "value": "urgent"}],
    )
    clock = SlaClock(d.desk)
    ticket = d.desk.create_ticket(Actor.user(21), subject="Caído", description="No va")
    clock.apply(ticket)
    d.drain()
    clock.scan(now=(MONDAY_10 + timedelta(minutes=21)).timestamp())
    clock.scan(now=(MONDAY_10 + timedelta(minutes=31)).timestamp())
    clock.scan(now=(MONDAY_10 + timedelta(minutes=32)).timestamp())  # nothing new fires
    logged = [str(e.type) for e in store.events_after(0, limit=1000) if str(e.type).startswith("sla_")]
    assert logged == ["sla_warning", "sla_breached"]
    d.drain()
    assert [n.note for n in d.desk.list_notes(ADMIN, ticket.id)] == ["Quedan 10 minutos"]
    staff = d.desk.get_ticket(ADMIN, ticket.id, mark_read=False, limit=1)
    assert staff.tags == ("late",) and staff.priority.value == "urgent"
    breach = [f for f in d.runner.automation.list_firings(ticket_id=ticket.id) if f.rule_id == late]
    assert len(breach) == 1 and breach[0].at == MONDAY_10 + timedelta(minutes=31), "at the breach's instant"


def test_a_rule_body_with_a_bad_new_action_is_refused_naming_it() -> None:
    with pytest.raises(Exception, match="transfer"):
        Rule.model_validate(
            {"id": 1, "name": "x", "trigger": {"kind": "event", "events": ["ticket_created"]},
             "actions": [{"kind": "transfer", "value": {}}]}
        )  # fmt: skip
