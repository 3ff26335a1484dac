"""Webhooks against a real receiver on 127.0.0.1 that fails, hangs, then recovers."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from supportchat import Actor, SupportDesk
from supportchat.notify import DeliveryStatus, NotificationWorker, WebhookNotifier, sign, verify_signature
from supportchat.stores.sql import SQLiteStore

from ..api.conftest import make_api
from .receivers import WebhookReceiver, wait_until, webhook_receiver

SECRET = "whsec-test-0123456789"
ALICE = Actor.user(10)
ADMIN = Actor.admin(1)


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[SupportDesk]:
    store = SQLiteStore(tmp_path / "desk.db")
    yield SupportDesk(store)
    store.close()


@pytest.fixture
def receiver() -> Iterator[tuple[WebhookReceiver, str]]:
    with webhook_receiver(SECRET) as pair:
        yield pair


def timed_posts(api, ticket_id: int, count: int, label: str) -> list[float]:  # type: ignore[no-untyped-def]
    latencies = []
    for n in range(count):
        started = time.perf_counter()
        reply = api.call("POST", f"/tickets/{ticket_id}/messages", headers=api.admin, json={"message": f"{label} {n}"})
        latencies.append(time.perf_counter() - started)
        assert reply.status == 200
    return latencies


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def test_receiver_down_then_up_gets_every_event_once_signed_and_the_api_never_waits(
    desk: SupportDesk, receiver: tuple[WebhookReceiver, str], tmp_path: Path
) -> None:
    hook, url = receiver
    api = make_api("flask", desk, desk.store)
    ticket = desk.create_ticket(ALICE, subject="Pago", description="No pasa").id
    baseline = timed_posts(api, ticket, 30, "antes")

    notifier = WebhookNotifier(url, SECRET, timeout=0.25, quick_attempts=2, quick_wait=0.05)
    worker = NotificationWorker(
        desk,
        [notifier],
        poll_interval=0.2,
        first_retry=0.1,
        max_retry=0.5,
        max_attempts=1000,
    ).start()
    try:
        first_event = desk.store.events_after(0, limit=10_000)[-1].id
        hook.mode = "fail"
        while_failing = timed_posts(api, ticket, 30, "caído")
        wait_until(lambda: len(hook.requests) >= 5, 10, "failed attempts")
        hook.mode = "hang"
        while_hanging = timed_posts(api, ticket, 30, "colgado")
        time.sleep(1.0)
        hook.mode = "ok"
        expected = {str(e.id) for e in desk.store.events_after(first_event, limit=10_000)}
        assert len(expected) == 60
        wait_until(lambda: set(hook.processed) == expected, 60, "every event to be processed")
        wait_until(lambda: worker.counts()["delivered"] == 60, 30, "the jobs to record it")
    finally:
        worker.stop()

    # Exactly once as the receiver sees it, and it really was down: more requests than events.
    assert set(hook.processed) == expected
    assert len(hook.requests) > len(expected)
    assert all(r.genuine for r in hook.requests), "every request carries a valid signature"
    for event_id, received in hook.processed.items():
        document = json.loads(received.body)
        assert document["id"] == event_id and document["type"] == "message_created"
        assert document["message"]["message"].startswith(("caído", "colgado"))
    assert worker.counts() == {"pending": 0, "sending": 0, "delivered": 60, "failed": 0}

    # The API did not wait for the receiver: an attempt on the hanging receiver takes 0.25 s at least
    # (its timeout), so a request that waited for one would show it.
    down = while_failing + while_hanging
    print(
        f"\nPOST latency, receiver up p50={statistics.median(baseline) * 1e3:.2f}ms p95={p95(baseline) * 1e3:.2f}ms;"
        f" receiver down p50={statistics.median(down) * 1e3:.2f}ms p95={p95(down) * 1e3:.2f}ms"
        f" max={max(down) * 1e3:.2f}ms"
    )
    assert p95(while_hanging) < 0.125
    assert p95(down) < p95(baseline) + 0.05


def test_a_delivery_is_given_up_after_the_bound_and_recorded(
    desk: SupportDesk, receiver: tuple[WebhookReceiver, str], tmp_path: Path
) -> None:
    hook, url = receiver
    hook.mode = "fail"
    notifier = WebhookNotifier(url, SECRET, timeout=1.0, quick_attempts=1)
    worker = NotificationWorker(
        desk,
        [notifier],
        poll_interval=0.1,
        first_retry=0.05,
        max_retry=0.1,
        max_attempts=3,
    ).start()
    try:
        desk.create_ticket(ALICE, subject="Uno", description="x")
        desk.create_ticket(ALICE, subject="Dos", description="x")
        wait_until(lambda: worker.counts()["failed"] == 2, 20, "both deliveries to be given up")
    finally:
        worker.stop()
    failed = worker.deliveries("webhook", DeliveryStatus.FAILED)
    assert [d.attempts for d in failed] == [3, 3]
    assert all("500" in (d.last_error or "") for d in failed)
    assert len(hook.requests) == 6  # three attempts each, then nothing more
    time.sleep(0.3)
    assert len(hook.requests) == 6


def test_a_receiver_that_is_gone_is_given_up_at_once(
    desk: SupportDesk, receiver: tuple[WebhookReceiver, str], tmp_path: Path
) -> None:
    hook, url = receiver
    hook.mode = "gone"
    worker = NotificationWorker(desk, [WebhookNotifier(url, SECRET)], poll_interval=0.1)
    worker.start()
    try:
        desk.create_ticket(ALICE, subject="Uno", description="x")
        wait_until(lambda: worker.counts()["failed"] == 1, 10, "the delivery to be given up")
    finally:
        worker.stop()
    (failed,) = worker.deliveries("webhook")
    assert failed.attempts == 1 and "410" in (failed.last_error or "")
    assert len(hook.requests) == 1


def test_events_written_while_no_worker_runs_are_delivered_after_a_restart(
    desk: SupportDesk, receiver: tuple[WebhookReceiver, str], tmp_path: Path
) -> None:
    hook, url = receiver

    def run_worker() -> NotificationWorker:
        notifier = WebhookNotifier(url, SECRET)
        return NotificationWorker(desk, [notifier], poll_interval=0.1).start()

    desk.create_ticket(ALICE, subject="Antes de todo", description="x")  # history: never announced
    worker = run_worker()
    first = desk.create_ticket(ALICE, subject="Primero", description="x")
    wait_until(lambda: len(hook.processed) == 1, 10, "the first event")
    worker.stop()

    while_stopped = [desk.post_message(ADMIN, first.id, f"Sin worker {n}") for n in range(3)]
    restarted = run_worker()
    try:
        wait_until(lambda: len(hook.processed) == 4, 10, "the missed events")
    finally:
        restarted.stop()
    texts = sorted(
        json.loads(r.body)["message"]["message"] for r in hook.processed.values() if b'"message":{' in r.body
    )
    assert texts == sorted(m.message for m in while_stopped)
    assert len(hook.requests) == 4  # nothing delivered twice across the restart
    assert not any(b"Antes de todo" in r.body for r in hook.requests)


def test_signatures_verify_only_for_the_same_secret_body_and_a_fresh_timestamp() -> None:
    body = b'{"id":"7","type":"ticket_created"}'
    now = 1_800_000_000
    header = sign(SECRET, str(now), body)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert verify_signature(SECRET, body, str(now), header, now=now + 10)
    assert not verify_signature("another-secret", body, str(now), header, now=now)
    assert not verify_signature(SECRET, body + b" ", str(now), header, now=now)
    assert not verify_signature(SECRET, body, str(now + 1), header, now=now)
    assert not verify_signature(SECRET, body, str(now), header, now=now + 301)  # a replay, too late
    assert not verify_signature(SECRET, body, None, header, now=now)
    assert not verify_signature(SECRET, body, "12a", header, now=now)


def test_two_workers_on_one_database_deliver_each_event_once(
    desk: SupportDesk, receiver: tuple[WebhookReceiver, str], tmp_path: Path
) -> None:
    """As two server processes would: one database, the same notifier, each worker its own threads and leases."""
    hook, url = receiver
    other_store = SQLiteStore(tmp_path / "desk.db")  # a second connection pool on the same file
    workers = [
        NotificationWorker(on, [WebhookNotifier(url, SECRET)], poll_interval=0.05).start()
        for on in (desk, SupportDesk(other_store))
    ]
    try:
        ticket = desk.create_ticket(ALICE, subject="Compartido", description="x").id
        for n in range(30):
            desk.post_message(ADMIN, ticket, f"Mensaje {n}")
        wait_until(lambda: len(hook.processed) == 31, 20, "every event")
        time.sleep(0.3)
    finally:
        for worker in workers:
            worker.stop()
        other_store.close()
    assert len(hook.requests) == 31  # no event was sent twice, whichever worker took it
    assert workers[0].counts() == workers[1].counts() == {"pending": 0, "sending": 0, "delivered": 31, "failed": 0}
