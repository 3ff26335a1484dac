"""Extensible event types: the registry, the one audience rule, a feature's entries on every store.

A feature appends entries of its declared types (``SupportDesk.record_event``);
staff read them with their ``data`` and a ticket's owner never does, whichever
store keeps the log. The property drives random core writes and random
feature entries (types declared by no one, declared staff-only, the real
features' types) through the customer projection and the user's stream: no
feature entry and none of its data reaches a user.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportchat import Actor, InMemoryStore, SupportDesk
from supportchat.errors import TicketNotFound
from supportchat.event_types import (
    Audience,
    check_event_type,
    declare_event_type,
    declared_event_types,
    event_type_spec,
    owner_event_types,
    owner_may_see,
)
from supportchat.extensions import extension
from supportchat.models import EventType
from supportchat.notify.base import Notification, event_document
from supportchat.notify.webhook import WebhookNotifier
from supportchat.projection import customer_event
from supportchat.realtime import LiveEvents
from supportchat.realtime.render import Renderer
from supportchat.store import EventLog

OWNER = Actor.user(7)
ADMIN = Actor.admin(1)
#: Declared staff-only by a test "feature" (the default audience).
AUDIT = declare_event_type("test_audit_noted", declared_by="tests", description="A test feature's entry.")


def test_the_core_types_keep_their_audience() -> None:
    assert owner_event_types() >= {"ticket_created", "message_created", "ticket_updated"}
    assert not owner_may_see(EventType.NOTE_CREATED) and not owner_may_see(EventType.TAGS_CHANGED)
    assert {spec.name for spec in declared_event_types() if spec.declared_by == "core"} == {e.value for e in EventType}


def test_the_products_features_declare_their_types_staff_only() -> None:
    import supportchat.cli.features  # noqa: F401  (imports every feature of the product)
    from supportchat.cli.features import installed_features

    declared = {spec.name: spec for feature in installed_features() for spec in feature.event_types}
    assert {"ticket_transferred", "sla_warning", "sla_breached", "bot_handoff"} <= set(declared)
    for name, spec in declared.items():
        assert spec.audience is Audience.STAFF and event_type_spec(name) == spec
        assert not owner_may_see(name)
    # Only the core's three public types reach owners, whatever is installed.
    assert owner_event_types() == {"ticket_created", "message_created", "ticket_updated"}


@pytest.mark.parametrize("name", ["", "Ticket", "1st", "with space", "dash-ed", "é", "x" * 49, "_lead"])
def test_a_malformed_type_name_is_refused(name: str) -> None:
    with pytest.raises(ValueError):
        check_event_type(name)
    with pytest.raises(ValueError):
        declare_event_type(name, declared_by="tests")


def test_a_type_is_declared_once() -> None:
    assert declare_event_type("test_audit_noted", declared_by="tests") == AUDIT  # importing again: a no-op
    with pytest.raises(ValueError, match="declared already"):
        declare_event_type("test_audit_noted", declared_by="someone_else")
    with pytest.raises(ValueError, match="declared already"):
        declare_event_type("ticket_created", declared_by="tests")
    with pytest.raises(ValueError, match="declared already"):
        declare_event_type("test_audit_noted", declared_by="tests", audience=Audience.OWNER)


# -- on every store ---------------------------------------------------------------


def test_a_features_entry_is_logged_for_staff_with_its_data_and_never_for_the_owner(desk: SupportDesk) -> None:
    ticket = desk.create_ticket(OWNER, subject="Pago", description="No puedo pagar")
    heard: list[Any] = []
    desk.subscribe(heard.append)
    desk.record_event(ADMIN, ticket.id, AUDIT.name, data={"secret": "interno-123", "n": 2})
    desk.post_message(OWNER, ticket.id, "¿Hola?")

    everything = desk.store.events_after(0, limit=100)
    assert [str(e.type) for e in everything] == ["ticket_created", AUDIT.name, "message_created"]
    logged = everything[1]
    assert logged.data == {"secret": "interno-123", "n": 2} and logged.user_id == 7 and logged.ticket_id == ticket.id
    assert everything[0].type is EventType.TICKET_CREATED  # core types still read as the enum
    assert [str(e.type) for e in desk.store.events_after(0, user_id=7)] == ["ticket_created", "message_created"]
    assert [str(e.type) for e in desk.store.events_after(logged.id - 1, user_id=7, limit=1)] == ["message_created"]
    assert heard[0].type == AUDIT.name and heard[0].data == {"secret": "interno-123", "n": 2}

    # Staff's channels carry it, data included; the owner's projection and user-facing webhooks never.
    document = event_document(Notification(logged, ticket))
    assert document["type"] == AUDIT.name and document["data"]["secret"] == "interno-123"
    assert customer_event(logged, ticket, None, OWNER) is None
    user_facing = WebhookNotifier("https://example.test/hook", "s", user_facing=True)
    assert user_facing.prepare(Notification(logged, ticket)) is None
    staff_frames = Renderer(desk.store).frames(everything, ADMIN)
    assert json.loads(staff_frames[1].data or "")["data"]["secret"] == "interno-123"
    assert [f.event for f in Renderer(desk.store).frames(everything, OWNER)] == ["ticket_created", "message_created"]


def test_the_desk_logs_only_declared_feature_types_about_existing_tickets(desk: SupportDesk) -> None:
    ticket = desk.create_ticket(OWNER, subject="Pago", description="No puedo pagar")
    for name in ("never_declared", "ticket_updated", "Bad-Name"):
        with pytest.raises(ValueError):
            desk.record_event(ADMIN, ticket.id, name)
    with pytest.raises(TicketNotFound):
        desk.record_event(ADMIN, 999_999, AUDIT.name)
    assert [str(e.type) for e in desk.store.events_after(0)] == ["ticket_created"]


def test_the_stores_log_takes_any_well_formed_type_it_is_given(desk: SupportDesk) -> None:
    """No table rebuild per feature: the log's check is a format, not a list."""
    ticket = desk.create_ticket(OWNER, subject="Pago", description="No puedo pagar")
    log = extension(desk.store, EventLog)  # type: ignore[type-abstract]
    name = f"x_{uuid.uuid4().hex[:20]}"
    log.append_event(ticket.id, name, at=ticket.created_at, data=None)
    found = desk.store.events_after(0)[-1]
    assert found.type == name and found.data is None
    assert desk.store.events_after(0, user_id=7)[-1].type is EventType.TICKET_CREATED


# -- the property: nothing of a feature's entries reaches a user ------------------------------------

FEATURE_TYPES = st.one_of(
    st.sampled_from([AUDIT.name, "ticket_transferred", "sla_warning", "sla_breached", "bot_handoff"]),
    st.from_regex(r"\A[a-z][a-z0-9_]{0,20}\Z").filter(lambda name: name not in {e.value for e in EventType}),
)
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("message"), st.integers(0, 2)),
        st.tuples(st.just("priority"), st.integers(0, 2), st.sampled_from(["low", "high", "urgent"])),
        st.tuples(st.just("feature"), st.integers(0, 2), FEATURE_TYPES),
    ),
    min_size=1,
    max_size=12,
)


def _declared(name: str) -> str:
    if event_type_spec(name) is None:
        declare_event_type(name, declared_by="tests")  # staff-only by default
    return name


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS)
def test_feature_entries_never_reach_a_user_through_the_projection_or_the_stream(steps: list[tuple[Any, ...]]) -> None:
    desk = SupportDesk(InMemoryStore())
    users = [Actor.user(10), Actor.user(20), Actor.user(30)]
    tickets = [desk.create_ticket(u, subject="Asunto", description="Detalles") for u in users]
    marker = f"MARK{uuid.uuid4().hex[:12]}"
    for step in steps:
        ticket = tickets[step[1]]
        if step[0] == "message":
            desk.post_message(users[step[1]], ticket.id, "hola")
        elif step[0] == "priority":
            desk.set_priority(ADMIN, ticket.id, step[2])
        else:
            desk.record_event(ADMIN, ticket.id, _declared(step[2]), data={"note": marker, "agent": "Ana <ana@x>"})
    live = LiveEvents(desk, heartbeat=0.05, listen=False)
    try:
        for user, ticket in zip(users, tickets, strict=True):
            own = desk.store.events_after(0, user_id=user.id, limit=1000)
            assert all(owner_may_see(e.type) for e in own)
            frames = live.stream(user, 0).frames()
            assert not next(frames).is_event
            seen = [next(frames) for _ in own]
            frames.close()
            for frame in seen:
                assert frame.event in owner_event_types() and marker.encode() not in frame.wire
            for record in desk.store.events_after(0, limit=1000):
                view = customer_event(record, desk.store.get_ticket(record.ticket_id), None, user)
                if not owner_may_see(record.type):
                    assert view is None
                if view is not None:
                    assert marker not in view.model_dump_json() and record.ticket_id == ticket.id
        staff = [str(e.type) for e in desk.store.events_after(0, limit=1000)]
        assert staff.count("ticket_created") == 3
        assert len([s for s in steps if s[0] == "feature"]) == len([t for t in staff if not owner_may_see(t)])
    finally:
        live.close()
