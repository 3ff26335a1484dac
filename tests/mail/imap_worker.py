"""An IMAP import worker for the kill tests: ``python -m tests.mail.imap_worker DB_URL IMAP_PORT LEASE``.

It runs the mail channel's ``mail.imap`` job kind (no SMTP) over the SQLite
file, polling the test's Dovecot every 0.1 s; prints ``ready`` once its
runner runs. SIGKILL is the point of the test.
"""

from __future__ import annotations

import sys
import time

from supportchat import SupportDesk
from supportchat.jobs import JobRunner
from supportchat.mail import ImapMailbox, MailSettings
from supportchat.mail.feature import mail_kinds
from supportchat.stores.sql import SQLStore

from .dovecot import PASSWORD


def settings(port: int, *, batch: int = 50) -> MailSettings:
    mailbox = ImapMailbox(
        "127.0.0.1", "support", PASSWORD, port=port, ssl=False, idle=0, interval=0.1, batch=batch, name="support"
    )
    return MailSettings(address="support@example.com", secret="thread-signing-secret", mailboxes=(mailbox,))


def main() -> None:
    url, port, lease = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    store = SQLStore.from_url(url, migrate=False)
    desk = SupportDesk(store)
    runner = JobRunner(store, mail_kinds(desk, settings(port, batch=10)), lease=lease, poll_interval=0.05)
    runner.start(desk)
    print("ready", flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
