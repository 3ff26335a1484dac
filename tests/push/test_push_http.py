"""End to end over HTTP: a user registers a device, an admin replies, FCM (the emulator) gets one v1 request."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from supportchat import Actor
from supportchat.http import InMemoryAdminTokens, TokenAuthenticator, UserTokens
from supportchat.push import PushSettings
from supportchat.push.feature import feature
from supportchat.stores import Store

from ..api.live_server import serve
from ..push_emulator import FcmEmulator
from .conftest import PushRig

SECRET = "test-secret-0123456789-abcdefghijklmnop"
PREFIX = "/admin/api/support"
TOKEN = "fGx1:APA91bH-test_token.0123456789abcdefghijklmnopqrstuvwxyz"


@pytest.mark.parametrize("adapter", ["flask", "fastapi"])
def test_a_registered_device_gets_one_v1_request_for_an_admin_reply(
    adapter: str, sqlite_store: Store, emulator: FcmEmulator, rig_factory: Callable[..., PushRig]
) -> None:
    rig = rig_factory(sqlite_store, PushSettings(quiet_window=0.3))
    tokens = InMemoryAdminTokens()
    admin, admin_token = tokens.create("ana")
    users = UserTokens(SECRET)
    options = {"authenticator": TokenAuthenticator(tokens, users), "features": [feature(lambda s: [])]}
    ticket = rig.desk.create_ticket(Actor.user(7), subject="Pago rechazado", description="No puedo pagar")
    with serve(adapter, rig.desk, **options) as base, httpx.Client(base_url=base + PREFIX, timeout=10) as http:
        user = {"Authorization": f"Bearer {users.mint(7)}"}
        staff = {"Authorization": f"Bearer {admin_token}"}
        registered = http.post(
            "/user/7/devices", json={"token": TOKEN, "platform": "android", "locale": "es-MX"}, headers=user
        )
        assert registered.status_code == 200, registered.text
        assert registered.json()["data"]["token"] == TOKEN
        assert registered.json()["data"]["last_seen_at"].endswith("Z")
        # Another user may not register for user 7.
        assert (
            http.post(
                "/user/7/devices",
                json={"token": TOKEN, "platform": "ios"},
                headers={"Authorization": f"Bearer {users.mint(8)}"},
            ).status_code
            == 403
        )

        started = time.perf_counter()
        reply = http.post(
            f"/tickets/{ticket.id}/messages", json={"message": "Ya lo revisamos: inténtalo de nuevo"}, headers=staff
        )
        assert reply.status_code == 200, reply.text
        message_id = reply.json()["data"]["id"]
        rig.wait_for(lambda: len(emulator.accepted) == 1)
        waited = time.perf_counter() - started
        time.sleep(0.5)  # nothing more arrives
        assert len(emulator.accepted) == 1
        sent = emulator.accepted[0]
        assert sent.token == TOKEN
        assert sent.message["data"] == {
            "event": "admin_reply",
            "ticket_id": str(ticket.id),
            "ticket_number": ticket.ticket_number,
            "message_id": str(message_id),
        }
        assert sent.message["notification"] == {
            "title": f"Soporte respondió en {ticket.ticket_number}",
            "body": "Ya lo revisamos: inténtalo de nuevo",
        }
        key = f"ticket-{ticket.id}"
        assert sent.message["android"]["collapse_key"] == key and sent.message["android"]["priority"] == "HIGH"
        assert sent.message["apns"]["headers"] == {
            "apns-priority": "10",
            "apns-push-type": "alert",
            "apns-collapse-id": key,
        }
        assert waited >= 0.3  # the quiet window

        # The bearer token is the one the token endpoint issued, and it is reused (cached) for the next push.
        assert emulator.grants == 1 and sent.authorization.startswith("Bearer ya29.emulator-")
        http.put(f"/tickets/{ticket.id}/status", json={"status": "resolved"}, headers=staff).raise_for_status()
        rig.wait_for(lambda: len(emulator.accepted) == 2)
        resolved = emulator.accepted[1]
        assert resolved.message["data"]["event"] == "resolved"
        assert resolved.message["notification"]["title"] == f"Ticket {ticket.ticket_number} resuelto"
        assert resolved.authorization == sent.authorization and emulator.grants == 1

        # The delivery record, for admins: every attempt.
        rig.wait_for(lambda: rig.service.devices.counts()["delivered"] == 2)
        record = http.get(f"/tickets/{ticket.ticket_number}/push", headers=staff)
        assert record.status_code == 200, record.text
        deliveries = record.json()["data"]
        assert [d["event"] for d in deliveries] == ["resolved", "admin_reply"]
        assert all(d["status"] == "delivered" and len(d["attempts"]) == 1 for d in deliveries)
        assert TOKEN not in record.text  # only a hint of the token
        assert http.get(f"/tickets/{ticket.id}/push", headers=user).status_code == 403
        status = http.get("/push/status", headers=staff).json()["data"]
        assert status["deliveries"]["delivered"] == 2 and status["auth_error"] is None

        # Removing the device: no more pushes.
        assert http.delete(f"/user/7/devices/{TOKEN}", headers=user).json()["data"] == {"removed": True}
        assert http.delete(f"/user/7/devices/{TOKEN}", headers=user).status_code == 404
    assert admin is not None


def test_a_cached_token_is_replaced_once_it_expires(
    sqlite_store: Store, emulator: FcmEmulator, rig_factory: Callable[..., PushRig]
) -> None:
    # google-auth refreshes 225 s before expiry: a 227 s token is good for 2 s.
    emulator.token_lifetime = 227
    rig = rig_factory(sqlite_store, PushSettings(quiet_window=0.0))
    rig.service.devices.register(_device(7))
    ticket = rig.desk.create_ticket(Actor.user(7), subject="s", description="d")
    rig.desk.post_message(Actor.admin(1), ticket.id, "uno")
    rig.wait_for(lambda: len(emulator.accepted) == 1)
    rig.desk.post_message(Actor.admin(1), ticket.id, "dos")
    rig.wait_for(lambda: len(emulator.accepted) == 2)
    assert emulator.grants == 1
    time.sleep(2.5)
    rig.desk.post_message(Actor.admin(1), ticket.id, "tres")
    rig.wait_for(lambda: len(emulator.accepted) == 3)
    assert emulator.grants == 2
    assert emulator.accepted[2].authorization != emulator.accepted[0].authorization


def test_replies_in_quick_succession_become_one_push(
    sqlite_store: Store, emulator: FcmEmulator, rig_factory: Callable[..., PushRig]
) -> None:
    rig = rig_factory(sqlite_store, PushSettings(quiet_window=0.6, default_language="en"))
    rig.service.devices.register(_device(7, locale=None))
    ticket = rig.desk.create_ticket(Actor.user(7), subject="s", description="d")
    for text in ("one", "two", "three"):
        rig.desk.post_message(Actor.admin(1), ticket.id, text)
        time.sleep(0.1)
    rig.wait_for(lambda: rig.service.devices.counts()["delivered"] == 1)
    time.sleep(1.0)
    assert len(emulator.accepted) == 1
    sent = emulator.accepted[0].message
    assert sent["notification"] == {"title": f"3 new replies on {ticket.ticket_number}", "body": "three"}
    statuses = sorted(d.status.value for d in rig.service.devices.deliveries(ticket_id=ticket.id))
    assert statuses == ["coalesced", "coalesced", "delivered"]


def _device(user_id: int, *, token: str = TOKEN, locale: str | None = "es") -> object:
    from supportchat.push import NewDevice, OwnerKind, Platform

    return NewDevice(token, OwnerKind.USER, user_id, Platform.ANDROID, locale)
