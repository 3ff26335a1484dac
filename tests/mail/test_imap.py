"""IMAP import against a real Dovecot: exactly once through SIGKILL, and through a UIDVALIDITY reset."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from supportchat import SupportDesk
from supportchat.extensions import extension
from supportchat.jobs import NewJob
from supportchat.mail import MailIntake, MailStore, Outcome
from supportchat.mail.imap import poll_mailbox
from supportchat.mail.schema import messages
from supportchat.stores.sql import SQLStore

from ..notify.receivers import wait_until
from .dovecot import dovecot
from .imap_worker import settings

ROOT = Path(__file__).resolve().parents[2]
LEASE = 3.0


def mail(n: int) -> bytes:
    return (
        f"From: Customer {n} <customer{n % 37}@example.org>\r\n"
        "To: support@example.com\r\n"
        f"Subject: Pedido {n} sin llegar\r\n"
        f"Message-ID: <order-{n}@shop.example.org>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=ISO-8859-1\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        f"Mi pedido n=BA {n} no ha llegado todav=EDa.\r\n"
    ).encode()


def start_worker(url: str, port: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.mail.imap_worker", url, str(port), str(LEASE)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.strip() == "ready", line + process.stdout.read()
    return process


def imported(store: SQLStore) -> int:
    with store.transaction() as connection:
        return int(
            connection.execute(
                sa.select(sa.func.count()).select_from(messages).where(messages.c.state == "done")
            ).scalar_one()
        )


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_workers_killed_mid_batch_import_every_mail_exactly_once(tmp_path: Path) -> None:
    total = 150
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    store = SQLStore.from_url(url)  # migrated here, before the workers open it
    with dovecot(["support"]) as server:
        server.deliver("support", *(mail(n) for n in range(total)))
        workers = [start_worker(url, server.port), start_worker(url, server.port)]
        try:
            # Kill whichever worker is importing, twice, each time part-way through a batch.
            for threshold in (30, 80):
                wait_until(lambda threshold=threshold: imported(store) >= threshold, 90, f"{threshold} mails imported")  # type: ignore[misc]
                for worker in workers:
                    worker.send_signal(signal.SIGKILL)
                    worker.wait(10)
                workers = [start_worker(url, server.port), start_worker(url, server.port)]
            wait_until(lambda: imported(store) >= total, 120, "every mail imported")
            records = extension(store, MailStore)
            wait_until(
                lambda: (c := records.checkpoint("support")) is not None and c.last_uid == total, 30, "the checkpoint"
            )
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGKILL)
                worker.wait(10)
    with store.transaction() as connection:
        rows = connection.execute(sa.select(messages.c.message_key, messages.c.state, messages.c.ticket_id)).fetchall()
    assert len(rows) == total and {state for _, state, _ in rows} == {"done"}
    assert len({ticket for _, _, ticket in rows}) == total
    assert store.statistics().total_tickets == total  # no ticket written twice (nor lost) by a killed import
    store.close()


def test_a_uidvalidity_reset_imports_nothing_twice(tmp_path: Path) -> None:
    store = SQLStore.from_url(f"sqlite:///{tmp_path / 'desk.db'}")
    desk = SupportDesk(store)
    with dovecot(["support"]) as server:
        channel = settings(server.port)
        intake = MailIntake(desk, channel)
        mailbox = channel.mailboxes[0]
        server.deliver("support", *(mail(n) for n in range(5)))
        assert poll_mailbox(intake, mailbox) == (5, False)
        before = server.uidvalidity("support")
        server.reset_uidvalidity("support")
        assert server.uidvalidity("support") != before
        server.deliver("support", mail(5))
        assert poll_mailbox(intake, mailbox) == (1, False)  # the five are seen again, as duplicates
        checkpoint = intake.records.checkpoint(mailbox.key)
        assert checkpoint is not None and checkpoint.uidvalidity != before and checkpoint.last_uid == 6
        assert checkpoint.imported == 6
    assert store.statistics().total_tickets == 6
    assert extension(store, MailStore).counts()[Outcome.NEW_TICKET.value] == 6
    store.close()


def test_a_server_that_refuses_the_login_is_recorded_not_raised(tmp_path: Path) -> None:
    store = SQLStore.from_url(f"sqlite:///{tmp_path / 'desk.db'}")
    with dovecot(["support"]) as server:
        channel = settings(server.port)
        mailbox = channel.mailboxes[0]
        wrong = type(mailbox)(**{**{f: getattr(mailbox, f) for f in mailbox.__dataclass_fields__}, "password": "no"})
        intake = MailIntake(SupportDesk(store), channel)
        assert poll_mailbox(intake, wrong) == (0, False)
    checkpoint = intake.records.checkpoint(mailbox.key)
    assert checkpoint is not None and checkpoint.last_error is not None and "connect" in checkpoint.last_error
    store.close()


def test_each_poll_removes_the_chains_jobs_done_over_an_hour_ago() -> None:
    from supportchat import InMemoryStore
    from supportchat.jobs import JobStatus, JobStore
    from supportchat.mail import ImapMailbox, MailSettings
    from supportchat.mail.imap import IMAP_KIND, KEEP_DONE_POLLS, imap_poll_kind

    store = InMemoryStore()
    jobs = extension(store, JobStore)
    # A mailbox nobody answers for (a closed port): the poll records the error and goes on.
    mailbox = ImapMailbox("127.0.0.1", "support", "x", port=9, ssl=False, timeout=2, idle=0, interval=60)
    intake = MailIntake(SupportDesk(store), MailSettings(address="support@example.com", secret="s"))
    kind = imap_poll_kind(intake, [mailbox], jobs)
    now = time.time()
    (first,) = jobs.claim("w", kinds=[IMAP_KIND], lease=30, now=now)
    assert jobs.complete(first, "w", now=now - KEEP_DONE_POLLS - 60)  # done long ago
    for generation, age in ((1, KEEP_DONE_POLLS + 30), (2, 60)):
        jobs.enqueue([NewJob(IMAP_KIND, {**first.payload, "generation": generation}, dedupe_key=f"g{generation}")])
        (job,) = [j for j in jobs.claim("w", kinds=[IMAP_KIND], lease=30, now=now + 120) if j.payload["generation"]]
        assert jobs.complete(job, "w", now=now - age)
    (polled,) = jobs.enqueue([NewJob(IMAP_KIND, {**first.payload, "generation": 3}, dedupe_key="g3")])
    running = jobs.get(polled)
    assert running is not None
    kind.handler(running)
    left = sorted(j.payload["generation"] for j in jobs.list_jobs(kind=IMAP_KIND, status=JobStatus.DONE))
    assert left == [2]  # the two done over an hour ago are gone; the recent one stays
    assert [j.payload["generation"] for j in jobs.list_jobs(kind=IMAP_KIND, status=JobStatus.PENDING)] == [3, 4]
