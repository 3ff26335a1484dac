"""Email notifications against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from supportchat import Actor, SupportDesk
from supportchat.errors import ExtensionUnavailable
from supportchat.extensions import extension
from supportchat.jobs import JobStore
from supportchat.notify import EmailNotifier, NotificationWorker, SMTPSettings
from supportchat.stores.sql import SQLStore

from .receivers import smtp_server, wait_until

ADMIN = Actor.admin(1)
ALICE = Actor.user(10)
BOB = Actor.user(20)  # the host app has no address for Bob
ADDRESSES = {10: "alice@example.com"}


def job_store(desk: SupportDesk, tmp_path: Path) -> JobStore | None:
    """The desk's own job store, or for a bare Supabase store (which has none) a local SQLite file's."""
    try:
        return extension(desk.store, JobStore)
    except ExtensionUnavailable:
        local = SQLStore.from_url(f"sqlite:///{tmp_path / 'jobs.db'}")
        return extension(local, JobStore)


@pytest.fixture
def inbox_and_worker(desk: SupportDesk, tmp_path: Path) -> Iterator[tuple[Any, NotificationWorker]]:
    with smtp_server() as (inbox, port):
        notifier = EmailNotifier(
            SMTPSettings("127.0.0.1", port, timeout=5),
            sender="support@example.com",
            admins=["ana@example.com", "luis@example.com"],
            user_email=ADDRESSES.get,
            site_name="Acme Support",
        )
        worker = NotificationWorker(desk, [notifier], poll_interval=0.1, jobs=job_store(desk, tmp_path)).start()
        try:
            yield inbox, worker
        finally:
            worker.stop()


def test_admins_hear_of_new_tickets_and_owners_of_admin_replies(
    desk: SupportDesk, inbox_and_worker: tuple[Any, NotificationWorker]
) -> None:
    inbox, worker = inbox_and_worker
    alices = desk.create_ticket(ALICE, subject="Cobro duplicado", description="Me cobraron dos veces")
    ((recipients, mail),) = inbox.wait_for(1)
    assert sorted(recipients) == ["ana@example.com", "luis@example.com"]
    assert mail["Subject"] == f"[Acme Support] New ticket {alices.ticket_number}: Cobro duplicado"
    assert "Me cobraron dos veces" in mail.get_payload()
    assert mail["From"] == "support@example.com"
    assert mail["Message-ID"].startswith("<supportchat.email.")

    bobs = desk.create_ticket(BOB, subject="Equipaje", description="Perdido")
    desk.post_message(ALICE, alices.id, "¿Alguna novedad?")  # a user's own message: nobody is mailed
    desk.post_message(ADMIN, alices.id, "Ya lo devolvimos")  # Alice has an address: she is mailed
    desk.post_message(ADMIN, bobs.id, "Lo buscamos")  # the host app has no address for Bob
    mails = inbox.wait_for(3)
    time.sleep(0.5)
    assert len(inbox.mails) == 3, [m[1]["Subject"] for m in inbox.mails]
    assert mails[1][1]["Subject"] == f"[Acme Support] New ticket {bobs.ticket_number}: Equipaje"
    recipients, reply = mails[2]
    assert recipients == ["alice@example.com"]
    assert reply["Subject"] == f"[Acme Support] New reply on your ticket {alices.ticket_number}"
    assert "Ya lo devolvimos" in reply.get_payload()
    assert worker.counts()["delivered"] == 3


def test_an_smtp_server_that_is_down_is_retried_until_it_is_back(desk: SupportDesk, tmp_path: Path) -> None:
    with smtp_server() as (inbox, port):
        pass  # the port is free again: nothing listens there now
    notifier = EmailNotifier(
        SMTPSettings("127.0.0.1", port, timeout=2), sender="s@example.com", admins=["a@example.com"]
    )
    worker = NotificationWorker(
        desk, [notifier], poll_interval=0.1, first_retry=0.1, max_retry=0.2, jobs=job_store(desk, tmp_path)
    ).start()
    try:
        desk.create_ticket(ALICE, subject="Sin servidor", description="x")
        wait_until(lambda: [d.attempts for d in worker.deliveries("email")] >= [2], 10, "failed attempts")
        assert worker.counts()["delivered"] == 0
        with smtp_server(port) as (inbox, _):
            ((recipients, mail),) = inbox.wait_for(1)
        assert recipients == ["a@example.com"] and mail["Subject"].endswith("Sin servidor")
    finally:
        worker.stop()
