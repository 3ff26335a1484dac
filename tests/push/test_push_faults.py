"""FCM failing in every documented way: each push still arrives exactly once, and the record shows every attempt."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable

import pytest

from supportchat import Actor
from supportchat.jobs import JobStatus
from supportchat.push import DeliveryStatus, ErrorClass, NewDevice, OwnerKind, Platform, PushSettings
from supportchat.push.feature import push_status
from supportchat.stores import Store

from ..push_emulator import FcmEmulator
from .conftest import PushRig


def _token(user_id: int) -> str:
    return f"device-{user_id}:APA91b-token"


def _register(rig: PushRig, *users: int) -> None:
    for user in users:
        rig.service.devices.register(NewDevice(_token(user), OwnerKind.USER, user, Platform.IOS, "en"))


def test_503_then_429_then_a_hang_then_recovery_delivers_every_push_once(
    sqlite_store: Store, emulator: FcmEmulator, rig_factory: Callable[..., PushRig]
) -> None:
    rig = rig_factory(sqlite_store, PushSettings(quiet_window=0.0), timeout=1.0, start=False)
    users = [1, 2, 3, 4, 5]
    _register(rig, *users)
    emulator.unregistered.add(_token(5))
    tickets = {user: rig.desk.create_ticket(Actor.user(user), subject="s", description="d") for user in users}
    emulator.script(["503", ("429", 1), "hang"])
    rig.runner.start(rig.desk)
    for user, ticket in tickets.items():
        rig.desk.post_message(Actor.admin(9), ticket.id, f"reply to {user}")
    rig.wait_for(lambda: rig.service.devices.counts()["pending"] == 0 and len(rig.service.devices.deliveries()) == 5)

    assert Counter(r.token for r in emulator.accepted) == {_token(u): 1 for u in users[:4]}
    faults = [s.fault for s in emulator.sends() if s.fault]
    assert faults == ["503", "429", "hang"]
    deliveries = rig.service.devices.deliveries(limit=10)
    by_user = {d.recipient_id: d for d in deliveries}
    assert {u: by_user[u].status for u in users} == {
        1: DeliveryStatus.DELIVERED,
        2: DeliveryStatus.DELIVERED,
        3: DeliveryStatus.DELIVERED,
        4: DeliveryStatus.DELIVERED,
        5: DeliveryStatus.UNREGISTERED,
    }
    attempts = rig.service.devices.attempts([d.id for d in deliveries])
    classes = [a.error_class for a in attempts if a.error_class is not None]
    assert sorted(classes) == sorted(
        [ErrorClass.UNAVAILABLE, ErrorClass.QUOTA_EXCEEDED, ErrorClass.TIMEOUT, ErrorClass.UNREGISTERED]
    )
    assert len(attempts) == 4 + 3 + 1  # four deliveries, three failed tries, one unregistered
    assert all(
        a.number == i + 1 for d in deliveries for i, a in enumerate(x for x in attempts if x.delivery_id == d.id)
    )
    quota = next(a for a in attempts if a.error_class is ErrorClass.QUOTA_EXCEEDED)
    assert quota.retry_after == 1.0 and quota.http_status == 429 and quota.status is DeliveryStatus.PENDING
    after_quota = next(a for a in attempts if a.delivery_id == quota.delivery_id and a.number == quota.number + 1)
    assert after_quota.at - quota.at >= 1.0  # Retry-After respected
    # UNREGISTERED removed the device; the others are still there.
    assert rig.service.devices.device(_token(5)) is None
    assert rig.service.devices.device(_token(4)) is not None


def test_permanent_errors_are_recorded_once_and_not_retried(
    sqlite_store: Store, emulator: FcmEmulator, rig_factory: Callable[..., PushRig]
) -> None:
    rig = rig_factory(sqlite_store, PushSettings(quiet_window=0.0))
    _register(rig, 1, 2)
    emulator.malformed.add(_token(1))
    emulator.other_sender.add(_token(2))
    for user in (1, 2):
        ticket = rig.desk.create_ticket(Actor.user(user), subject="s", description="d")
        rig.desk.post_message(Actor.admin(9), ticket.id, "hola")
    rig.wait_for(lambda: rig.service.devices.counts()["failed"] == 2)
    time.sleep(0.5)
    deliveries = {d.recipient_id: d for d in rig.service.devices.deliveries()}
    assert deliveries[1].error_class is ErrorClass.INVALID_ARGUMENT
    assert deliveries[2].error_class is ErrorClass.SENDER_ID_MISMATCH
    assert all(d.attempts == 1 for d in deliveries.values())
    failed_jobs = rig.runner.jobs.list_jobs(kind="push.send", status=JobStatus.FAILED)
    assert len(failed_jobs) == 2 and all(j.attempts == 1 for j in failed_jobs)
    assert rig.service.devices.device(_token(1)) is not None  # not removed: the token may be fine for another send


def test_refused_credentials_are_one_clear_error_and_shown_in_the_status(
    sqlite_store: Store, emulator: FcmEmulator, rig_factory: Callable[..., PushRig], caplog: pytest.LogCaptureFixture
) -> None:
    emulator.refuse_grants = True
    rig = rig_factory(sqlite_store, PushSettings(quiet_window=0.0))
    _register(rig, 1)
    ticket = rig.desk.create_ticket(Actor.user(1), subject="s", description="d")
    with caplog.at_level(logging.ERROR, logger="supportchat.push"):
        rig.desk.post_message(Actor.admin(9), ticket.id, "uno")
        rig.wait_for(lambda: len(rig.service.devices.attempts([d.id for d in rig.service.devices.deliveries()])) >= 3)
    clear = [r for r in caplog.records if "FCM refused our credentials" in r.getMessage()]
    assert len(clear) == 1
    assert "invalid_grant" in clear[0].getMessage()
    status = push_status(sqlite_store, configured=True)
    assert status.auth_error is not None and "Invalid JWT Signature" in status.auth_error
    assert not emulator.accepted

    emulator.refuse_grants = False  # the operator fixed the account
    rig.wait_for(lambda: rig.service.devices.counts()["delivered"] == 1)
    assert push_status(sqlite_store, configured=True).auth_error is None
    assert len(emulator.accepted) == 1
