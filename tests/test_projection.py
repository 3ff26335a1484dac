"""The customer projection as a property: no user-facing output carries admin-only data.

Random tickets get random admin-only data: agents (names, emails, teams)
in the directory and assigned, change records, idempotency ids of admin
messages, another user's tickets and messages, and, for what the desk does
not produce yet, admin-side models enriched with stand-ins (internal notes,
agent names and emails on the ticket, a change history) the way spec §12
will enrich them. Every secret is a marker drawn from an alphabet no
legitimate value uses, so "the output contains none of it" is a substring
check. The outputs checked: the projection's own JSON, the bodies of every
user route on both adapters, and the frames of the user's live stream.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from supportchat import Actor, InMemoryStore, SupportDesk
from supportchat.errors import TicketNotFound
from supportchat.models import EventRecord, EventType, Message, Ticket, TicketChange, TicketThread
from supportchat.people import Agent, attach
from supportchat.projection import (
    CustomerTicketThread,
    customer_event,
    customer_message,
    customer_messages,
    customer_view,
)
from supportchat.realtime import LiveEvents

from .api.clients import ADAPTERS
from .api.conftest import make_api

OWNER = Actor.user(10)
OTHER = Actor.user(11)
ADMIN = Actor.admin(1)

#: Secrets are "QX" and then hex-ish upper-case letters: nothing legitimate (lower-case text,
#: digits, enumerations, ISO timestamps) contains a capital Q followed by X.
secret = st.text(alphabet="GHJKLMNPRSTVWY", min_size=6, max_size=12).map(lambda s: f"QX{s}")
#: What users write and see: lower-case words.
public_text = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ", min_size=1, max_size=30).filter(str.strip)


class Note(BaseModel):
    """A stand-in for spec §12's internal note."""

    id: int
    note: str
    author_email: str


class AdminMessage(Message):
    """A message as the admin side may one day carry it (an internal flag, the author's name)."""

    author_name: str = ""


class AdminTicket(TicketThread):
    """A ticket as the admin side may one day carry it (spec §12: notes; §11: agent details)."""

    notes: list[Note] = Field(default_factory=list)
    history: list[TicketChange] = Field(default_factory=list)
    assignee_name: str = ""
    assignee_email: str = ""


@dataclass
class Secrets:
    values: list[str] = field(default_factory=list)

    def add(self, value: str) -> str:
        self.values.append(value)
        return value

    def assert_absent(self, output: str | bytes, where: str) -> None:
        text = output.decode() if isinstance(output, bytes) else output
        leaked = [value for value in self.values if value in text]
        assert not leaked, f"{where} leaks {leaked}: {text[:500]}"


_NOW = datetime(2026, 12, 1, tzinfo=UTC)


@st.composite
def enriched_tickets(draw: st.DrawFn) -> tuple[AdminTicket, Message, Secrets]:
    """An owner's ticket carrying random admin-only data, and a message of someone else's ticket."""
    secrets = Secrets()
    ticket_id = draw(st.integers(1, 10_000))
    ids = itertools.count(1)
    messages = [
        AdminMessage(
            id=next(ids),
            ticket_id=ticket_id,
            sender_id=draw(st.integers(1, 99)),
            sender_type=draw(st.sampled_from(["user", "admin"])),
            message=draw(public_text),
            message_type="text",
            file_url=None,
            is_read=draw(st.booleans()),
            created_at=_NOW,
            uid=secrets.add(draw(secret)),
            author_name=secrets.add(draw(secret)),
        )
        for _ in range(draw(st.integers(0, 4)))
    ]
    stray = Message(
        id=next(ids),
        ticket_id=ticket_id + 1,
        sender_id=11,
        sender_type="user",
        message=secrets.add(draw(secret)),
        message_type="text",
        file_url=None,
        is_read=False,
        created_at=_NOW,
    )
    ticket = AdminTicket(
        id=ticket_id,
        ticket_number="TKT-20261201-ABCD",
        user_id=OWNER.id,
        subject=draw(public_text),
        description=draw(public_text),
        priority=draw(st.sampled_from(["low", "medium", "high", "urgent"])),
        status=draw(st.sampled_from(["open", "in_progress", "resolved", "closed"])),
        category="general",
        assigned_to=draw(st.none() | st.integers(1, 99)),
        created_at=_NOW,
        updated_at=_NOW,
        resolved_at=None,
        message_count=len(messages),
        unread_from_user=draw(st.integers(0, 5)),
        unread_from_admin=draw(st.integers(0, 5)),
        version=draw(st.integers(0, 50)),
        messages=messages + draw(st.sampled_from([[], [stray]])),
        notes=[
            Note(id=i, note=secrets.add(draw(secret)), author_email=secrets.add(draw(secret)) + "@desk.example")
            for i in range(draw(st.integers(1, 3)))
        ],
        history=[
            TicketChange(
                id=1,
                ticket_id=ticket_id,
                field="status",
                old_value=secrets.add(draw(secret)),
                new_value=secrets.add(draw(secret)),
                changed_by_kind="admin",
                changed_by=1,
                changed_at=_NOW,
            )
        ],
        assignee_name=secrets.add(draw(secret)),
        assignee_email=secrets.add(draw(secret)),
    )
    return ticket, stray, secrets


@given(enriched_tickets())
def test_the_projection_of_an_enriched_ticket_carries_none_of_its_admin_data(
    case: tuple[AdminTicket, Message, Secrets],
) -> None:
    ticket, stray, secrets = case
    view = customer_view(ticket, OWNER)
    secrets.assert_absent(view.model_dump_json(), "customer_view")
    assert json.loads(view.model_dump_json())["unread_count"] == ticket.unread_from_admin
    assert all(m.ticket_id == ticket.id for m in view.messages)  # type: ignore[union-attr]
    secrets.assert_absent(
        json.dumps([m.model_dump(mode="json") for m in customer_messages([*ticket.messages, stray], ticket, OWNER)]),
        "customer_messages",
    )
    with pytest.raises(TicketNotFound):
        customer_message(stray, ticket, OWNER)
    with pytest.raises(TicketNotFound):
        customer_view(ticket, OTHER)
    record = EventRecord(
        id=1, type=EventType.TICKET_UPDATED, ticket_id=ticket.id, user_id=10, message_id=None, created_at=_NOW
    )
    event = customer_event(record, ticket, ticket.messages[0] if ticket.messages else None, OWNER)
    assert event is not None
    secrets.assert_absent(event.model_dump_json(), "customer_event")
    assert customer_event(record.model_copy(update={"user_id": 11}), ticket, None, OTHER) is None
    assert customer_event(record, ticket, None, OTHER) is None


class EnrichingDesk(SupportDesk):
    """A desk whose answers carry admin-only stand-ins, as later features will add them."""

    secrets: Secrets

    def _enrich(self, ticket: Ticket) -> AdminTicket:
        messages = getattr(ticket, "messages", [])
        fields = {name: value for name, value in dict(ticket).items() if name != "notes"}  # the stand-in's own
        return AdminTicket(
            **{**fields, "messages": messages},
            notes=[Note(id=1, note=self.secrets.values[0], author_email="x@desk.example")],
            history=self.store.list_changes(ticket.id),
            assignee_name=self.secrets.values[1],
        )

    def get_ticket(self, actor: Actor, ref: object, **options: Any) -> TicketThread:
        return self._enrich(super().get_ticket(actor, ref, **options))

    def create_ticket(self, actor: Actor, **fields: Any) -> Ticket:
        return self._enrich(super().create_ticket(actor, **fields))


@dataclass
class Scenario:
    owner_subjects: list[str]
    other_subjects: list[str]
    admin_replies: list[tuple[int, str]]
    agents: list[tuple[str, str, str]]
    assign: list[bool]
    note: str
    assignee_name: str


scenarios = st.builds(
    Scenario,
    owner_subjects=st.lists(public_text, min_size=1, max_size=3),
    other_subjects=st.lists(secret, min_size=1, max_size=2),
    admin_replies=st.lists(st.tuples(st.integers(0, 2), secret), max_size=3),
    agents=st.lists(st.tuples(secret, secret, secret), min_size=1, max_size=2),
    assign=st.lists(st.booleans(), min_size=3, max_size=3),
    note=secret,
    assignee_name=secret,
)


def _collect(scenario: Scenario, adapter: str) -> tuple[Secrets, list[tuple[str, bytes]]]:
    """Build the scenario on a fresh desk and gather every user-facing output for the owner."""
    secrets = Secrets([scenario.note, scenario.assignee_name])
    store = InMemoryStore()
    desk = EnrichingDesk(store)
    desk.secrets = secrets
    agents = []
    for number, (name, email, team) in enumerate(scenario.agents, start=1):
        secrets.add(name)
        secrets.add(email)
        agents.append(Agent(id=number, name=name, email=f"{email.lower()}@desk.example", teams=(team.lower()[:32],)))
    attach(desk, agents=lambda: agents)
    for subject in scenario.other_subjects:
        secrets.add(subject)
        theirs = desk.create_ticket(OTHER, subject=subject, description=subject)
        desk.post_message(OTHER, theirs.id, subject)
    api = make_api(adapter, desk, store)
    outputs: list[tuple[str, bytes]] = []
    owner = api.user(10)
    ticket_ids = []
    for subject in scenario.owner_subjects:
        reply = api.call("POST", "/create-ticket", headers=owner, json={"subject": subject, "description": subject})
        assert reply.status == 200, reply.body
        outputs.append(("create_ticket", reply.body))
        ticket_ids.append(reply.json()["data"]["id"])
    for index, ticket_id in enumerate(ticket_ids):
        if scenario.assign[index % 3]:
            desk.change_status(ADMIN, ticket_id, "in_progress", assigned_to=1 + index % len(agents))
    for index, client_id in scenario.admin_replies:
        secrets.add(client_id)
        desk.post_message(ADMIN, ticket_ids[index % len(ticket_ids)], "we are on it", client_message_id=client_id)
    for ticket_id in ticket_ids:
        reply = api.call(
            "POST", f"/tickets/{ticket_id}/user-message", headers=owner, json={"message": "thanks", "user_id": 10}
        )
        outputs.append(("post_user_message", reply.body))
        outputs.append(("get_user_ticket", api.call("GET", f"/user/10/tickets/{ticket_id}", headers=owner).body))
        path = f"/user/10/tickets/{ticket_id}/messages"
        outputs.append(("user_messages_after", api.call("GET", path, headers=owner).body))
    outputs.append(("list_user_tickets", api.call("GET", "/user/10/tickets", headers=owner).body))
    # The owner asking for someone else's ticket learns nothing either.
    outputs.append(("get_user_ticket(other)", api.call("GET", "/user/10/tickets/1", headers=owner).body))
    # The admin sees the agents (the check that the secrets are real output somewhere).
    assert scenario.agents[0][0] in api.call("GET", "/agents", headers=api.admin).body.decode()

    live = LiveEvents(desk, heartbeat=60.0, poll_interval=None, listen=False)
    try:
        expected = len(store.events_after(0, user_id=10, limit=10_000))
        frames = live.stream(OWNER, 0).frames()
        opening = next(frames)
        assert not opening.is_event
        for _ in range(expected):
            frame = next(frames)
            assert frame.data is not None
            outputs.append(("user stream", frame.encode()))
        frames.close()
    finally:
        live.close()
    return secrets, outputs


@pytest.mark.parametrize("adapter", list(ADAPTERS))
@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios)
def test_no_user_route_or_user_stream_frame_carries_admin_only_data(adapter: str, scenario: Scenario) -> None:
    secrets, outputs = _collect(scenario, adapter)
    assert any(name == "user stream" for name, _ in outputs)
    for where, body in outputs:
        secrets.assert_absent(body, f"{adapter} {where}")
        if where.startswith(("get_user_ticket", "create_ticket", "list_user_tickets")) and b'"success":true' in body:
            data = json.loads(body)["data"]
            for item in data if isinstance(data, list) else [data]:
                assert set(item) <= set(CustomerTicketThread.model_fields)


def test_the_check_can_fail_an_admin_route_does_show_the_secrets() -> None:
    """The markers are real output on the admin side: the property is not vacuous."""
    scenario = Scenario(
        ["hello"],
        ["QXSECRETSUBJ"],
        [(0, "QXCLIENTID")],
        [("QXNAME", "QXMAIL", "QXTEAM")],
        [True] * 3,
        "QXNOTE",
        "QXASSIGNEE",
    )
    secrets = Secrets([scenario.note, scenario.assignee_name])
    desk = EnrichingDesk(InMemoryStore())
    desk.secrets = secrets
    ticket = desk.create_ticket(OWNER, subject="hello", description="hello")
    desk.post_message(ADMIN, ticket.id, "on it", client_message_id="QXCLIENTID")
    admin_view = desk.get_ticket(ADMIN, ticket.id)
    assert "QXNOTE" in admin_view.model_dump_json() and "QXCLIENTID" in admin_view.model_dump_json()
    assert "QXNOTE" not in customer_view(desk.get_ticket(OWNER, ticket.id), OWNER).model_dump_json()


def test_handing_an_admin_model_where_the_customer_type_is_due_is_a_type_error(tmp_path: Path) -> None:
    """A user route that forgot the projection fails ``mypy --strict`` before it can leak."""
    snippet = tmp_path / "forgotten.py"
    snippet.write_text(
        "from supportchat.models import Message, Ticket\n"
        "from supportchat.projection import CustomerMessage, CustomerTicket\n"
        "def ticket_route(ticket: Ticket) -> CustomerTicket:\n"
        "    return ticket\n"
        "def message_route(message: Message) -> CustomerMessage:\n"
        "    return message\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(snippet)],
        capture_output=True,
        text=True,
        env={**os.environ, "MYPYPATH": str(Path(__file__).parents[1] / "src")},
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stdout
    assert result.stdout.count("Incompatible return value type") == 2, result.stdout


# -- push (spec §15): a user push is built from the projection only -------------------------------


@settings(max_examples=30, deadline=None)
@given(
    owners=st.lists(st.integers(1, 4), min_size=1, max_size=6),
    replies=st.lists(st.tuples(st.integers(0, 5), st.booleans()), max_size=10),
    viewer=st.integers(1, 4),
)
def test_push_content_for_a_user_is_only_about_their_own_tickets(
    owners: list[int], replies: list[tuple[int, bool]], viewer: int
) -> None:
    from supportchat.push import OwnerKind, PushEvent
    from supportchat.push.audience import audiences, content_for

    store = InMemoryStore()
    desk = SupportDesk(store)
    tickets = [desk.create_ticket(Actor.user(owner), subject=f"asunto de {owner}", description="d") for owner in owners]
    for index, by_admin in replies:
        ticket = tickets[index % len(tickets)]
        actor = Actor.admin(99) if by_admin else Actor.user(ticket.user_id)
        desk.post_message(actor, ticket.id, f"texto para {ticket.user_id} en {ticket.id}")
    for record in store.events_after(0, limit=1000):
        ticket = store.get_ticket(record.ticket_id)
        assert ticket is not None
        for audience in audiences(store, record):
            if audience.kind is OwnerKind.USER:
                assert audience.ids == (ticket.user_id,)
        for event in (PushEvent.ADMIN_REPLY, PushEvent.RESOLVED):
            content = content_for(
                store, event=event, event_id=record.id, recipient_kind=OwnerKind.USER, recipient_id=viewer
            )
            if viewer != ticket.user_id:
                assert content is None
            elif content is not None:
                assert content.data["ticket_id"] == str(ticket.id)
                assert f"de {viewer}" in content.subject and (not content.text or f"para {viewer} " in content.text)


# -- mail to the user (the email channel) --------------------------------------


@given(enriched_tickets(), st.sampled_from(["email ticket", "app ticket, opted in"]))
@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_mail_to_the_user_is_built_from_the_projection_only(
    case: tuple[AdminTicket, Message, Secrets], kind: str
) -> None:
    from supportchat.extensions import extension
    from supportchat.mail import MailSettings, MailStore, NewMailRecord, Outcome, SMTPSettings
    from supportchat.mail.outbound import MailNotifier
    from supportchat.notify import Notification
    from supportchat.people import Contact

    ticket, stray, secrets = case
    desk = SupportDesk(InMemoryStore())
    attach(desk, contacts=lambda user_id: Contact(user_id=user_id, email="owner@example.org", locale="es"))
    settings_ = MailSettings(address="support@example.com", secret="s", smtp=SMTPSettings())
    notifier = MailNotifier(desk, settings_)
    records = extension(desk.store, MailStore)
    if kind == "email ticket":
        first = NewMailRecord(
            "first@example.org", "in", Outcome.NEW_TICKET, ticket_number=ticket.ticket_number, done=True
        )
        records.claim(first, now=0.0)
    else:
        records.set_notify_replies(ticket.user_id, True)
    reply = AdminMessage(
        id=99,
        ticket_id=ticket.id,
        sender_id=1,
        sender_type="admin",
        message="Pruebe de nuevo <b>ahora</b>",
        message_type="text",
        file_url=None,
        is_read=False,
        created_at=_NOW,
        uid=secrets.add("QXUIDOFREPLY"),
        author_name=secrets.add("QXAGENTNAME"),
    )
    record = EventRecord(
        id=5, type=EventType.MESSAGE_CREATED, ticket_id=ticket.id, user_id=10, message_id=99, created_at=_NOW
    )
    payload = notifier.prepare(Notification(record, ticket, reply))
    assert payload is not None and payload["to"] == "owner@example.org"
    rendered = json.dumps(dict(payload), ensure_ascii=False)
    secrets.assert_absent(rendered, f"mail to the user ({kind})")
    assert "Pruebe de nuevo &lt;b&gt;ahora&lt;/b&gt;" in payload["html"]  # the check can fail: the text is there
    # Another ticket's message is never mailed.
    assert notifier.prepare(Notification(record, ticket, stray.model_copy(update={"sender_type": "admin"}))) is None
