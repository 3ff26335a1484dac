"""The PushStore extension's contract (devices, deliveries, attempts) on every backend of ``tests/stores.py``.

Supabase alone has none (as for jobs: push's rows live beside the jobs that
send them, in the fallback store's local database).
"""

from __future__ import annotations

import pytest

from supportchat.errors import ExtensionUnavailable
from supportchat.extensions import extension
from supportchat.push import (
    DeliveryStatus,
    ErrorClass,
    NewAttempt,
    NewDelivery,
    NewDevice,
    OwnerKind,
    Platform,
    PushEvent,
    PushStore,
)
from supportchat.stores import Store

NOW = 1_800_000_000.0
DAY = 86_400.0


@pytest.fixture
def push(store: Store) -> PushStore:
    try:
        return extension(store, PushStore)  # type: ignore[type-abstract]
    except ExtensionUnavailable:
        assert type(store).__name__ == "SupabaseStore", "every other backend has push"
        pytest.skip("SupabaseStore has no PushStore (its rows live in the fallback store's database)")


def _device(token: str, owner: int, kind: OwnerKind = OwnerKind.USER, locale: str | None = "es") -> NewDevice:
    return NewDevice(token, kind, owner, Platform.ANDROID, locale)


def _delivery(
    event_id: int, token: str = "t:1", *, ticket: int = 5, event: PushEvent = PushEvent.ADMIN_REPLY
) -> NewDelivery:
    return NewDelivery(event_id, event, ticket, None, token, OwnerKind.USER, 1)


def test_a_token_has_one_owner_and_moves_when_someone_else_registers_it(push: PushStore) -> None:
    first = push.register(_device("t:1", 1), now=NOW)
    assert (first.owner_id, first.created_at, first.last_seen_at) == (1, NOW, NOW)
    moved = push.register(NewDevice("t:1", OwnerKind.USER, 2, Platform.IOS, "en-GB"), now=NOW + 5)
    assert (moved.owner_id, moved.platform, moved.locale) == (2, Platform.IOS, "en-GB")
    assert (moved.created_at, moved.last_seen_at) == (NOW, NOW + 5)
    assert push.devices_of(OwnerKind.USER, [1]) == []
    assert [d.token for d in push.devices_of(OwnerKind.USER, [2])] == ["t:1"]
    push.register(_device("t:1", 9, OwnerKind.AGENT), now=NOW + 6)
    assert push.devices_of(OwnerKind.USER, [2]) == []
    assert [d.owner_id for d in push.devices_of(OwnerKind.AGENT)] == [9]


def test_unregistering_is_the_owners_only_and_pruning_removes_the_unused(push: PushStore) -> None:
    push.register(_device("t:1", 1), now=NOW - 300 * DAY)
    push.register(_device("t:2", 1), now=NOW - 10 * DAY)
    push.register(_device("t:3", 2), now=NOW)
    assert not push.unregister("t:3", OwnerKind.USER, 1)
    assert not push.unregister("t:3", OwnerKind.AGENT, 2)
    assert push.unregister("t:3", OwnerKind.USER, 2)
    assert not push.unregister("t:3")
    assert push.prune(NOW - 270 * DAY) == 1
    assert [d.token for d in push.devices_of(OwnerKind.USER)] == ["t:2"]
    assert push.devices_of(OwnerKind.USER, []) == []


def test_a_delivery_is_recorded_once_per_event_and_device_with_every_attempt(push: PushStore) -> None:
    first = push.add_deliveries([_delivery(10), _delivery(10, "t:2")], now=NOW)
    again = push.add_deliveries([_delivery(10)], now=NOW + 1)
    assert [d.id for d in again] == [first[0].id]
    assert again[0].status is DeliveryStatus.PENDING and again[0].attempts == 0
    busy = NewAttempt(NOW + 2, DeliveryStatus.PENDING, ErrorClass.QUOTA_EXCEEDED, 429, "quota", retry_after=2.0)
    after = push.record_attempt(first[0].id, busy)
    assert (after.status, after.attempts, after.error_class, after.last_error) == (
        DeliveryStatus.PENDING,
        1,
        ErrorClass.QUOTA_EXCEEDED,
        "quota",
    )
    done = push.record_attempt(
        first[0].id, NewAttempt(NOW + 5, DeliveryStatus.DELIVERED, http_status=200, fcm_name="n/1")
    )
    assert (done.status, done.attempts, done.fcm_name) == (DeliveryStatus.DELIVERED, 2, "n/1")
    assert done.error_class is ErrorClass.QUOTA_EXCEEDED  # the record keeps why it was late
    attempts = push.attempts([first[0].id, first[1].id])
    assert [(a.number, a.status, a.retry_after) for a in attempts] == [
        (1, DeliveryStatus.PENDING, 2.0),
        (2, DeliveryStatus.DELIVERED, None),
    ]
    assert push.counts() == {
        s.value: (1 if s in (DeliveryStatus.PENDING, DeliveryStatus.DELIVERED) else 0) for s in DeliveryStatus
    }
    assert push.last_attempt(error_class=ErrorClass.QUOTA_EXCEEDED) == attempts[0]
    assert push.last_delivered() == attempts[1]
    assert push.last_attempt(error_class=ErrorClass.AUTH) is None
    assert [d.id for d in push.deliveries(ticket_id=5)] == [first[1].id, first[0].id]
    assert push.deliveries(ticket_id=6) == []
    assert [d.id for d in push.deliveries(token="t:2")] == [first[1].id]


def test_coalescing_sees_later_replies_of_the_same_device_and_ticket_only(push: PushStore) -> None:
    one, two, three = push.add_deliveries([_delivery(1), _delivery(2), _delivery(3)], now=NOW)
    [other_ticket] = push.add_deliveries([_delivery(4, ticket=6)], now=NOW)
    [resolved] = push.add_deliveries([_delivery(5, event=PushEvent.RESOLVED)], now=NOW)
    assert push.newer_pending(one) and push.newer_pending(two)
    assert not push.newer_pending(three) and not push.newer_pending(other_ticket) and not push.newer_pending(resolved)
    assert push.settle(one.id, DeliveryStatus.COALESCED, now=NOW + 1).status is DeliveryStatus.COALESCED
    assert push.settle(two.id, DeliveryStatus.COALESCED, now=NOW + 1).status is DeliveryStatus.COALESCED
    assert push.coalesced_into(three) == 2
    push.record_attempt(three.id, NewAttempt(NOW + 2, DeliveryStatus.DELIVERED))
    # settle leaves a finished delivery alone
    assert push.settle(three.id, DeliveryStatus.SKIPPED).status is DeliveryStatus.DELIVERED
    [four, five] = push.add_deliveries([_delivery(6), _delivery(7)], now=NOW + 3)
    push.settle(four.id, DeliveryStatus.COALESCED)
    assert push.coalesced_into(five) == 1  # only those since the last push told
