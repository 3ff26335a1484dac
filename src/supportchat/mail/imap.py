"""Import from IMAP mailboxes (``imapclient``) as jobs of the job runner, with a checkpoint per mailbox.

One job of kind ``mail.imap`` at a time polls each mailbox: it selects the
folder read-only, compares the server's UIDVALIDITY with the checkpoint's (a
new one starts the mailbox over: the Message-ID keys keep the mail already
imported from being imported twice), fetches the messages after the last
UID in batches, imports each (:class:`~.intake.MailIntake`) and advances the
checkpoint after each one. Where the server offers IDLE it then waits up to
``mailbox.idle`` seconds for new mail and imports that too; either way it
enqueues the mailbox's next poll, ``mailbox.interval`` seconds on (after an
IDLE wait that saw mail: at once), before it ends. The chain of poll jobs
is keyed per mailbox and generation, so a worker that dies mid-poll leaves
its job to the next worker once the lease ends and the chain goes on once.
Each poll removes the chain's jobs done more than :data:`KEEP_DONE_POLLS`
seconds ago, so the job table holds about an hour of polls per mailbox
rather than every poll ever made (an hour is far longer than a lease: a poll
retried after its worker died still finds its successor's dedupe key).

A failure of the server (refused login, a dropped connection) is recorded
in the checkpoint's ``last_error`` and the next poll comes as usual; a
failure of the desk's database fails the job, which the runner retries.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import Sequence

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from ..jobs import Job, JobKind, JobStatus, JobStore, NewJob
from .intake import MailIntake
from .settings import ImapMailbox

__all__ = ["IMAP_KIND", "KEEP_DONE_POLLS", "ensure_polling", "imap_poll_kind", "poll_mailbox"]

logger = logging.getLogger("supportchat.mail")

IMAP_KIND = "mail.imap"
#: Seconds a finished poll job stays in the job table.
KEEP_DONE_POLLS = 3600.0
_SERVER_ERRORS = (IMAPClientError, OSError, socket.timeout)


def _connect(mailbox: ImapMailbox) -> IMAPClient:
    client = IMAPClient(mailbox.host, port=mailbox.port, ssl=mailbox.ssl, timeout=mailbox.timeout)
    client.login(mailbox.username, mailbox.password)
    return client


def _import_new(intake: MailIntake, client: IMAPClient, mailbox: ImapMailbox, uidvalidity: int) -> int:
    """Import every message after the checkpoint's UID, advancing it per message; how many were new."""
    key = mailbox.key
    checkpoint = intake.records.checkpoint(key)
    last = 0 if checkpoint is None else checkpoint.last_uid
    # "n:*" always matches the newest message, even below n: keep only the UIDs after the checkpoint.
    uids = sorted(uid for uid in client.search(["UID", f"{last + 1}:*"]) if uid > last)
    imported = 0
    for start in range(0, len(uids), mailbox.batch):
        chunk = uids[start : start + mailbox.batch]
        fetched = client.fetch(chunk, ["BODY.PEEK[]"])
        for uid in chunk:
            data = fetched.get(uid, {}).get(b"BODY[]")
            if data is not None:
                result = intake.import_mail(bytes(data), mailbox=key)
                new = 0 if result.duplicate else 1
            else:
                new = 0  # expunged between the search and the fetch
            intake.records.advance(key, uidvalidity, uid, imported=new, now=time.time())
            imported += new
    return imported


def poll_mailbox(intake: MailIntake, mailbox: ImapMailbox, *, idle: float | None = None) -> tuple[int, bool]:
    """Import the new mail of ``mailbox``, then wait in IDLE up to ``idle`` seconds for more.

    Returns how many mails were imported and whether the IDLE wait saw new
    mail (the next poll should come at once). Server failures are recorded
    in the checkpoint, not raised.
    """
    key = mailbox.key
    wait = mailbox.idle if idle is None else idle
    try:
        client = _connect(mailbox)
    except _SERVER_ERRORS as exc:
        intake.records.note_poll(key, None, error=f"connect: {exc!r}"[:500], now=time.time())
        return 0, False
    imported, more = 0, False
    try:
        selected = client.select_folder(mailbox.folder, readonly=True)
        uidvalidity = int(selected[b"UIDVALIDITY"])
        intake.records.note_poll(key, uidvalidity, error=None, now=time.time())
        imported = _import_new(intake, client, mailbox, uidvalidity)
        if wait > 0 and client.has_capability("IDLE"):
            client.idle()
            try:
                more = bool(client.idle_check(timeout=wait))
            finally:
                client.idle_done()
            if more:
                imported += _import_new(intake, client, mailbox, uidvalidity)
    except _SERVER_ERRORS as exc:
        intake.records.note_poll(key, None, error=f"{exc!r}"[:500], now=time.time())
    except Exception as exc:
        # The desk's failure (its database away): shown by `mail status`, and the job is retried.
        with contextlib.suppress(Exception):
            intake.records.note_poll(key, None, error=f"import: {exc!r}"[:500], now=time.time())
        raise
    finally:
        with contextlib.suppress(*_SERVER_ERRORS):
            client.logout()
    return imported, more


def _poll_job(mailbox: ImapMailbox, chain: str, generation: int, due_at: float | None = None) -> NewJob:
    payload = {"mailbox": mailbox.key, "chain": chain, "generation": generation}
    return NewJob(IMAP_KIND, payload, due_at=due_at, dedupe_key=f"{IMAP_KIND}:{mailbox.key}:{chain}:{generation}")


def ensure_polling(jobs: JobStore, mailboxes: Sequence[ImapMailbox]) -> None:
    """Give each mailbox its chain of poll jobs unless it has an unfinished one."""
    unfinished = {
        job.payload.get("mailbox")
        for status in (JobStatus.PENDING, JobStatus.RUNNING)
        for job in jobs.list_jobs(kind=IMAP_KIND, status=status, limit=10_000)
    }
    for mailbox in mailboxes:
        if mailbox.key not in unfinished and not jobs.enqueue([_poll_job(mailbox, "first", 0)]):
            # The chain ran before and stopped (its last job failed): start a new one.
            jobs.enqueue([_poll_job(mailbox, f"restart-{time.time_ns()}", 0)])


def imap_poll_kind(
    intake: MailIntake, mailboxes: Sequence[ImapMailbox], jobs: JobStore, *, idle: float | None = None
) -> JobKind:
    """The job kind that polls ``mailboxes`` (and starts their chains of poll jobs in ``jobs``)."""
    by_key = {mailbox.key: mailbox for mailbox in mailboxes}
    ensure_polling(jobs, mailboxes)

    def handle(job: Job) -> None:
        mailbox = by_key.get(str(job.payload.get("mailbox")))
        if mailbox is None:
            return  # a mailbox no longer configured: its chain ends here
        imported, more = poll_mailbox(intake, mailbox, idle=idle)
        if imported:
            logger.info("mail: %d imported from %s", imported, mailbox.key)
        now = time.time()
        due = now + (0.0 if more else mailbox.interval)
        jobs.enqueue([_poll_job(mailbox, str(job.payload.get("chain")), int(job.payload["generation"]) + 1, due)])
        jobs.remove_done(IMAP_KIND, before=now - KEEP_DONE_POLLS)

    # Server failures never fail the job (they are recorded); the attempts are for the database's.
    return JobKind(IMAP_KIND, handle, max_attempts=1_000_000)
