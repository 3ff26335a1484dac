"""Internal notes and tags never reach the ticket's owner (spec §11, §12), whatever tickets carry them.

A property over random tickets carrying random notes and tags (each a unique
marker) and admin replies: the owner's every user route on both adapters,
searches for the notes' own words included, the owner's live stream, a
user-facing webhook (delivered for real to a receiver on 127.0.0.1) and the
mail sent to the owner (delivered for real to an SMTP server on 127.0.0.1)
carry no marker. The same markers do show on the admin side, so the property
can fail.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportchat import Actor, InMemoryStore, SupportDesk
from supportchat.event_types import owner_may_see
from supportchat.notify import EmailNotifier, SMTPSettings, WebhookNotifier
from supportchat.notify.base import Delivery, DeliveryStatus
from supportchat.notify.worker import notification_kinds
from supportchat.realtime import LiveEvents

from .api.clients import ADAPTERS
from .api.conftest import make_api
from .notify.receivers import WebhookReceiver, smtp_server, wait_until, webhook_receiver

OWNER_ID = 10
OWNER = Actor.user(OWNER_ID)
ADMIN = Actor.admin(1)
HOOK_SECRET = "hook-secret"

#: A note's marker: "QX" and capitals; nothing the owner legitimately sees holds a capital Q then X.
note_marker = st.text(alphabet="GHJKLMNPRSTVWY", min_size=6, max_size=10).map(lambda s: f"QX{s}")
#: A word inside a note the owner might search for: "qz" and letters the owner's own text never has.
note_word = st.text(alphabet="bcdfghjk", min_size=4, max_size=8).map(lambda s: f"qz{s}")
#: A tag: "zq" and letters; normalised as typed in upper case too.
tag_marker = st.text(alphabet="bcdfghjk", min_size=3, max_size=8).map(lambda s: f"zq{s}")
#: What the owner writes: lower-case words without q, x or z.
public_text = st.text(alphabet="abcdefghijklmnoprstuvwy ", min_size=1, max_size=24).filter(str.strip)


@dataclass
class Scenario:
    subjects: list[str]
    #: (ticket index, marker, searchable word, written before or after the admin's reply)
    notes: list[tuple[int, str, str, bool]]
    tags: list[tuple[int, list[str]]]
    replies: list[int]


scenarios = st.builds(
    Scenario,
    subjects=st.lists(public_text, min_size=1, max_size=3),
    notes=st.lists(st.tuples(st.integers(0, 2), note_marker, note_word, st.booleans()), min_size=1, max_size=4),
    tags=st.lists(st.tuples(st.integers(0, 2), st.lists(tag_marker, min_size=1, max_size=3)), min_size=1, max_size=3),
    replies=st.lists(st.integers(0, 2), max_size=3),
)


@dataclass
class Receivers:
    hook: WebhookReceiver
    hook_url: str
    inbox: Any
    smtp_port: int


@pytest.fixture(scope="module")
def receivers() -> Iterator[Receivers]:
    with webhook_receiver(HOOK_SECRET) as (hook, url), smtp_server() as (inbox, port):
        yield Receivers(hook, url, inbox, port)


def _build(scenario: Scenario, adapter: str) -> tuple[SupportDesk, Any, list[int], list[str]]:
    """The scenario on a fresh desk; the ticket ids and every marker written."""
    store = InMemoryStore()
    desk = SupportDesk(store)
    api = make_api(adapter, desk, store)
    owner = api.user(OWNER_ID)
    ids = []
    for subject in scenario.subjects:
        reply = api.call("POST", "/create-ticket", headers=owner, json={"subject": subject, "description": subject})
        assert reply.status == 200, reply.body
        ids.append(reply.json()["data"]["id"])
    markers: list[str] = []
    admin = api.admin
    for index, marker, word, first in scenario.notes:
        ticket = ids[index % len(ids)]
        if not first:
            api.call("POST", f"/tickets/{ticket}/messages", headers=admin, json={"message": "we are on it"})
        reply = api.call("POST", f"/tickets/{ticket}/notes", headers=admin, json={"note": f"{marker} said {word}"})
        assert reply.status == 200, reply.body
        markers += [marker, word]
    for index, tags in scenario.tags:
        reply = api.call("POST", f"/tickets/{ids[index % len(ids)]}/tags", headers=admin, json={"tags": tags})
        assert reply.status == 200, reply.body
        markers += tags
    for index in scenario.replies:
        api.call("POST", f"/tickets/{ids[index % len(ids)]}/messages", headers=admin, json={"message": "done"})
    return desk, api, ids, markers


def _user_outputs(scenario: Scenario, desk: SupportDesk, api: Any, ids: list[int]) -> list[tuple[str, bytes]]:
    owner = api.user(OWNER_ID)
    outputs = []
    for ticket in ids:
        reply = api.call("POST", f"/tickets/{ticket}/user-message", headers=owner, json={"message": "thanks"})
        outputs.append(("post_user_message", reply.body))
        outputs.append(("get_user_ticket", api.call("GET", f"/user/{OWNER_ID}/tickets/{ticket}", headers=owner).body))
        path = f"/user/{OWNER_ID}/tickets/{ticket}/messages"
        outputs.append(("user_messages_after", api.call("GET", path, headers=owner).body))
    outputs.append(("list_user_tickets", api.call("GET", f"/user/{OWNER_ID}/tickets", headers=owner).body))
    for _index, marker, word, _first in scenario.notes:
        for needle in (marker, word):
            reply = api.call("GET", f"/user/{OWNER_ID}/tickets", headers=owner, query={"q": needle})
            assert reply.status == 200 and reply.json()["meta"]["total"] == 0, reply.body
            outputs.append(("user search", reply.body))
    for _index, tags in scenario.tags:
        reply = api.call("GET", f"/user/{OWNER_ID}/tickets", headers=owner, query={"q": tags[0]})
        outputs.append(("user search by tag", reply.body))

    live = LiveEvents(desk, heartbeat=60.0, poll_interval=None, listen=False)
    try:
        expected = len(desk.store.events_after(0, user_id=OWNER_ID, limit=10_000))
        frames = live.stream(OWNER, 0).frames()
        assert not next(frames).is_event
        for _ in range(expected):
            frame = next(frames)
            assert frame.data is not None and frame.event is not None and owner_may_see(frame.event)
            outputs.append(("user stream", frame.encode()))
        frames.close()
    finally:
        live.close()
    return outputs


def _notify(desk: SupportDesk, receivers: Receivers) -> tuple[list[bytes], list[str]]:
    """Every event of the log through a user-facing webhook and the owner's mail, delivered for real."""
    hook = WebhookNotifier(receivers.hook_url, HOOK_SECRET, name="owner-hook", user_facing=True, quick_attempts=1)
    mail = EmailNotifier(
        SMTPSettings("127.0.0.1", receivers.smtp_port),
        sender="support@desk.example",
        user_email=lambda user_id: f"user{user_id}@example.com",
    )
    sent_before, mails_before = len(receivers.hook.requests), len(receivers.inbox.mails)
    deliveries = 0
    mails = 0
    for notifier, kind in zip((hook, mail), notification_kinds(desk.store, [hook, mail]), strict=True):
        assert kind.reaction is not None
        for record in desk.store.events_after(0, limit=10_000):
            job = kind.reaction(record)
            if job is None:
                continue
            delivery = Delivery(0, notifier.name, record.id, job["payload"], DeliveryStatus.SENDING, 0, None)
            notifier.deliver(delivery)
            if notifier is hook:
                deliveries += 1
            else:
                mails += 1
    wait_until(lambda: len(receivers.hook.requests) >= sent_before + deliveries, 10, "the webhook deliveries")
    received = receivers.inbox.wait_for(mails_before + mails)
    bodies = [r.body for r in receivers.hook.requests[sent_before:]]
    texts = [message.as_string() for _to, message in received[mails_before:]]
    assert deliveries and all(r.genuine for r in receivers.hook.requests[sent_before:])
    return bodies, texts


def _assert_absent(markers: list[str], output: bytes | str, where: str) -> None:
    text = output.decode() if isinstance(output, bytes) else output
    leaked = [m for m in markers if m in text or m in text.lower()]
    assert not leaked, f"{where} leaks {leaked}: {text[:400]}"


@pytest.mark.parametrize("adapter", list(ADAPTERS))
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(scenario=scenarios)
def test_nothing_of_a_note_or_a_tag_reaches_the_owner(adapter: str, receivers: Receivers, scenario: Scenario) -> None:
    desk, api, ids, markers = _build(scenario, adapter)
    for where, body in _user_outputs(scenario, desk, api, ids):
        _assert_absent(markers, body, f"{adapter} {where}")
        if where != "user stream":
            assert b'"notes"' not in body and b'"tags"' not in body, where
    hooks, mails = _notify(desk, receivers)
    for body in hooks:
        _assert_absent(markers, body, "user-facing webhook")
        assert owner_may_see(json.loads(body)["type"])
    for text in mails:
        _assert_absent(markers, text, "mail to the owner")


def test_the_markers_are_real_output_on_the_admin_side(receivers: Receivers) -> None:
    """The property is not vacuous: the admin routes, the admin's search and a staff webhook show them."""
    scenario = Scenario(["hello"], [(0, "QXNOTEMARK", "qzbcdf", True)], [(0, ["zqtag"])], [0])
    desk, api, ids, _markers = _build(scenario, "flask")
    thread = api.call("GET", f"/tickets/{ids[0]}", headers=api.admin).body.decode()
    assert "QXNOTEMARK" in thread and "zqtag" in thread
    found = api.call("GET", "/tickets", headers=api.admin, query={"q": "qzbcdf"}).json()
    assert found["meta"]["total"] == 1 and "qzbcdf" in found["data"][0]["highlight"]
    assert api.call("GET", "/tickets", headers=api.admin, query={"tag": "zqtag"}).json()["meta"]["total"] == 1
    staff_hook = WebhookNotifier(receivers.hook_url, HOOK_SECRET, name="staff-hook")
    (kind,) = notification_kinds(desk.store, [staff_hook])
    assert kind.reaction is not None
    payloads = [kind.reaction(record) for record in desk.store.events_after(0, limit=100)]
    assert any("QXNOTEMARK" in json.dumps(p) for p in payloads if p is not None)


def test_the_admin_stream_announces_notes_and_tag_changes_and_the_owners_never_does() -> None:
    desk = SupportDesk(InMemoryStore())
    ticket = desk.create_ticket(OWNER, subject="hola", description="ayuda")
    note = desk.add_note(ADMIN, ticket.id, "QXSTREAMNOTE")
    desk.set_tags(ADMIN, ticket.id, ["vip"])
    desk.post_message(ADMIN, ticket.id, "hecho")
    live = LiveEvents(desk, heartbeat=60.0, poll_interval=None, listen=False)
    try:
        admin_frames = live.stream(ADMIN, 0).frames()
        next(admin_frames)
        frames = [next(admin_frames) for _ in range(4)]
        admin_frames.close()
        assert [f.event for f in frames] == ["ticket_created", "note_created", "tags_changed", "message_created"]
        announced = json.loads(frames[1].data or "")
        assert announced["note"]["id"] == note.id and announced["note"]["note"] == "QXSTREAMNOTE"
        assert json.loads(frames[2].data or "")["ticket"]["tags"] == ["vip"]
        owner_frames = live.stream(OWNER, 0).frames()
        next(owner_frames)
        seen = [next(owner_frames) for _ in range(2)]
        owner_frames.close()
        assert [f.event for f in seen] == ["ticket_created", "message_created"]
        assert all(b"QXSTREAMNOTE" not in f.encode() and b"vip" not in f.encode() for f in seen)
    finally:
        live.close()
