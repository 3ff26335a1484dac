"""A real Dovecot IMAP server on 127.0.0.1 for the tests: a throwaway configuration and users in a temp dir.

Passwd-file authentication, maildir storage owned by the ``dovecot`` system
user (Debian's ``dovecot-imapd`` package makes it), plain IMAP on a free
port. Mail is delivered by IMAP APPEND, as another mail client would file it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from imapclient import IMAPClient

DOVECOT = "/usr/sbin/dovecot"
PASSWORD = "secret-imap-password"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


_CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = dovecot
default_login_user = dovenull
mail_uid = dovecot
mail_gid = dovecot
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


class Dovecot:
    """A running server: ``port``, users with :data:`PASSWORD`, and helpers to deliver and renumber."""

    def __init__(self, root: Path, users: list[str]) -> None:
        self.root = root
        self.users = users
        self.port = _free_port()

    def start(self) -> None:
        for folder in ("run", "state", "mail"):
            (self.root / folder).mkdir(exist_ok=True)
        dovecot = pwd.getpwnam("dovecot")
        os.chown(self.root / "mail", dovecot.pw_uid, dovecot.pw_gid)
        (self.root / "passwd").write_text("".join(f"{u}:{{PLAIN}}{PASSWORD}::::::\n" for u in self.users))
        (self.root / "dovecot.conf").write_text(_CONFIG.format(root=self.root, port=self.port))
        subprocess.run([DOVECOT, "-c", str(self.root / "dovecot.conf")], check=True, timeout=30)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("dovecot did not start: " + self.log())

    def stop(self) -> None:
        pid_file = self.root / "run" / "master.pid"
        if not pid_file.exists():
            return
        pid = int(pid_file.read_text())
        os.kill(pid, 15)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text() if path.exists() else ""

    def client(self, user: str) -> IMAPClient:
        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        client.login(user, PASSWORD)
        return client

    def deliver(self, user: str, *mails: bytes) -> None:
        """APPEND ``mails`` to the user's INBOX, in order."""
        client = self.client(user)
        try:
            for raw in mails:
                client.append("INBOX", raw)
        finally:
            client.logout()

    def uidvalidity(self, user: str) -> int:
        client = self.client(user)
        try:
            return int(client.select_folder("INBOX", readonly=True)[b"UIDVALIDITY"])
        finally:
            client.logout()

    def reset_uidvalidity(self, user: str) -> None:
        """Renumber the user's INBOX (a new UIDVALIDITY), as a restored or migrated server does."""
        self.stop()
        time.sleep(1.1)  # UIDVALIDITY is a timestamp in seconds: the new one must differ
        maildir = self.root / "mail" / user
        for path in maildir.rglob("dovecot*"):
            if path.is_file():
                path.unlink()
        self.start()


@contextmanager
def dovecot(users: list[str]) -> Iterator[Dovecot]:
    if not os.path.exists(DOVECOT):
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd)")
    root = Path(tempfile.mkdtemp(prefix="supportchat-dovecot-"))
    root.chmod(0o755)  # the dovecot user reads its config and mail below it
    server = Dovecot(root, users)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
