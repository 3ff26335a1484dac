"""``supportchat mail import`` and ``mail status`` on the embedded database."""

from __future__ import annotations

from pathlib import Path

import pytest

from supportchat.extensions import extension
from supportchat.mail import MailStore
from supportchat.stores.sql import SQLStore

from .conftest import Cli

CORPUS = Path(__file__).resolve().parents[1] / "corpora" / "mail"


def test_mail_import_opens_threads_and_drops_and_status_reports_it(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "SUPPORTCHAT_MAIL_ADDRESS" in cli.fails("mail", "import", str(CORPUS / "01_gmail_alternative_qp_es.eml"))
    monkeypatch.setenv("SUPPORTCHAT_MAIL_ADDRESS", "soporte@example.com")
    names = ["01_gmail_alternative_qp_es.eml", "02_gmail_reply_es.eml", "27_dsn_bounce.eml"]
    results = cli.json("mail", "import", *(str(CORPUS / n) for n in names))
    assert [r["outcome"] for r in results] == ["new_ticket", "reply", "automatic"]
    assert results[0]["ticket"] == results[1]["ticket"] and results[2]["ticket"] is None
    again = cli("mail", "import", str(CORPUS / names[0])).stdout
    assert "a duplicate: imported before" in again and results[0]["ticket"] in again
    status = cli.json("mail", "status")
    assert status["address"] == "soporte@example.com" and status["smtp"] is False
    assert status["mail"]["new_ticket"] == 1 and status["mail"]["reply"] == 1 and status["mail"]["automatic"] == 1
    assert "reply 1" in cli("mail", "status").stdout
    assert "no such file" in cli.fails("mail", "import", str(CORPUS / "missing.eml"))


def test_mail_status_shows_each_mailbox_checkpoint_and_its_last_error(
    cli: Cli, desk_store: SQLStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUPPORTCHAT_MAIL_ADDRESS", "support@example.com")
    monkeypatch.setenv("SUPPORTCHAT_IMAP_URL", "imaps://support%40example.com:pw@imap.example.com/INBOX")
    assert "support@example.com@imap.example.com/INBOX: not polled yet" in cli("mail", "status").stdout
    records = extension(desk_store, MailStore)
    records.note_poll("support@example.com@imap.example.com/INBOX", 42, error=None, now=1_800_000_000.0)
    records.advance("support@example.com@imap.example.com/INBOX", 42, 17, imported=1, now=1_800_000_000.0)
    records.note_poll("support@example.com@imap.example.com/INBOX", None, error="connect: refused", now=1_800_000_060.0)
    text = cli("mail", "status").stdout
    assert "UIDVALIDITY 42, last UID 17, 1 imported" in text and "connect: refused" in text
    (box,) = cli.json("mail", "status")["mailboxes"]
    assert box["configured"] and box["last_uid"] == 17 and box["last_error"] == "connect: refused"
