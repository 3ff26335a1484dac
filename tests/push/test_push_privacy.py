"""Privacy mode: data only; no message text or subject anywhere in the bytes sent to FCM."""

from __future__ import annotations

import json
from collections.abc import Callable

from supportchat import Actor
from supportchat.push import NewDevice, OwnerKind, Platform, PushSettings
from supportchat.stores import Store

from ..push_emulator import FcmEmulator
from .conftest import PushRig

SUBJECT = "Reembolso del vuelo Ñandú"
USER_TEXT = "Mi tarjeta termina en 4242"
ADMIN_TEXT = "Tu reembolso está aprobado, código ÁRBOL-77"


def _forms(text: str) -> list[bytes]:
    """Every way a JSON encoder could have written ``text`` (raw UTF-8, \\u escapes), and its words."""
    words = [w for w in text.split() if len(w) > 3]
    forms = [text, *words]
    return [f.encode() for f in forms] + [json.dumps(f)[1:-1].encode() for f in forms]


def test_privacy_mode_sends_no_text_of_any_message_or_subject(
    sqlite_store: Store, emulator: FcmEmulator, rig_factory: Callable[..., PushRig]
) -> None:
    rig = rig_factory(sqlite_store, PushSettings(privacy=True, quiet_window=0.0))
    rig.service.devices.register(NewDevice("user-device:1", OwnerKind.USER, 7, Platform.IOS, "es"))
    rig.service.devices.register(NewDevice("agent-device:1", OwnerKind.AGENT, 3, Platform.ANDROID, "en"))
    ticket = rig.desk.create_ticket(Actor.user(7), subject=SUBJECT, description="Descripción privada del caso")
    rig.desk.change_status(Actor.admin(3), ticket.id, "in_progress", assigned_to=3)
    rig.desk.post_message(Actor.user(7), ticket.id, USER_TEXT)
    rig.desk.post_message(Actor.admin(3), ticket.id, ADMIN_TEXT)
    rig.desk.change_status(Actor.admin(3), ticket.id, "resolved")
    # new ticket + user reply to the agent; admin reply + resolved to the user
    rig.wait_for(lambda: rig.service.devices.counts()["delivered"] == 4)
    assert len(emulator.accepted) == 4
    secrets = [*_forms(SUBJECT), *_forms(USER_TEXT), *_forms(ADMIN_TEXT), *_forms("Descripción privada del caso")]
    for sent in emulator.accepted:
        for secret in secrets:
            assert secret not in sent.body, (secret, sent.body)
        assert "notification" not in sent.message
        assert set(sent.message["data"]) == {"event", "ticket_id", "ticket_number", "message_id"}
        assert sent.message["apns"]["headers"]["apns-push-type"] == "background"
        assert sent.message["apns"]["payload"] == {"aps": {"content-available": 1}}
    events = sorted(s.message["data"]["event"] for s in emulator.accepted)
    assert events == ["admin_reply", "new_ticket", "resolved", "user_reply"]


def test_without_privacy_mode_the_same_pushes_carry_the_text(
    sqlite_store: Store, emulator: FcmEmulator, rig_factory: Callable[..., PushRig]
) -> None:
    """The check above can fail: the same conversation, privacy off, puts the texts in the bytes."""
    rig = rig_factory(sqlite_store, PushSettings(privacy=False, quiet_window=0.0))
    rig.service.devices.register(NewDevice("user-device:1", OwnerKind.USER, 7, Platform.IOS, "es"))
    ticket = rig.desk.create_ticket(Actor.user(7), subject=SUBJECT, description="d")
    rig.desk.post_message(Actor.admin(3), ticket.id, ADMIN_TEXT)
    rig.wait_for(lambda: len(emulator.accepted) == 1)
    assert ADMIN_TEXT.encode() in emulator.accepted[0].body
