"""The corpus of raw mail (tests/corpora/mail: written as Gmail, Outlook, Apple Mail and Thunderbird send it).

Each file's expected parse is in ``expected.json``, typed by hand from the
file: sender, subject, body text (or what it contains), whether it came
from HTML, the attachments and inline images, whether a machine wrote it,
and for replies the text left once the quote and signature are stripped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from supportchat import InMemoryStore, SupportDesk
from supportchat.mail import MailIntake, MailSettings, Outcome, automatic_reason, parse_mail, strip_quoted

CORPUS = Path(__file__).resolve().parents[1] / "corpora" / "mail"
EXPECTED: dict[str, dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))


def test_the_corpus_has_at_least_thirty_mails_each_with_its_expectation() -> None:
    files = sorted(p.name for p in CORPUS.glob("*.eml"))
    assert len(files) >= 30 and files == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_mail_parses_as_expected(name: str) -> None:
    expected = EXPECTED[name]
    mail = parse_mail((CORPUS / name).read_bytes())
    assert mail.sender == expected["sender"]
    if "sender_name" in expected:
        assert mail.sender_name == expected["sender_name"]
    assert mail.subject == expected["subject"]
    assert mail.from_html is expected["from_html"]
    if "message_id" in expected:
        assert mail.message_id == expected["message_id"]
    if expected.get("message_id", "") is None:
        assert mail.key.startswith("sha256:")
    if "in_reply_to" in expected:
        assert mail.in_reply_to == expected["in_reply_to"]
    if "cc" in expected:
        assert mail.cc == expected["cc"]
    if "text" in expected:
        assert mail.text == expected["text"]
    for fragment in expected.get("contains", []):
        assert fragment in mail.text
    if "reply" in expected:
        assert strip_quoted(mail.text) == expected["reply"]
    parts = [[p.content_type, p.filename, p.inline, p.content_id] for p in mail.parts]
    assert parts == expected["parts"]
    assert all(p.data for p in mail.parts)
    assert (automatic_reason(mail) is not None) is expected["automatic"]


def test_every_mail_of_the_corpus_imports_and_machine_mail_opens_nothing() -> None:
    desk = SupportDesk(InMemoryStore())
    intake = MailIntake(desk, MailSettings(address="soporte@example.com", secret="corpus"))
    results = {name: intake.import_mail((CORPUS / name).read_bytes(), mailbox="corpus") for name in sorted(EXPECTED)}
    for name, result in results.items():
        if EXPECTED[name]["automatic"]:
            assert result.outcome is Outcome.AUTOMATIC and result.record.ticket_id is None, name
        else:
            assert result.outcome in (Outcome.NEW_TICKET, Outcome.FOLLOW_UP, Outcome.REPLY), name
            assert result.record.ticket_id is not None, name
    # María's reply references her first mail (imported just before): it joins that ticket. No other
    # mail joins one: the corpus's tokens sign nothing this desk made, so their tags name no ticket here.
    first, reply = results["01_gmail_alternative_qp_es.eml"], results["02_gmail_reply_es.eml"]
    assert reply.outcome is Outcome.REPLY and reply.record.ticket_id == first.record.ticket_id
    assert [n for n, r in results.items() if r.outcome is Outcome.REPLY] == ["02_gmail_reply_es.eml"]
    opened = sum(1 for r in results.values() if r.outcome in (Outcome.NEW_TICKET, Outcome.FOLLOW_UP))
    assert desk.store.statistics().total_tickets == opened
