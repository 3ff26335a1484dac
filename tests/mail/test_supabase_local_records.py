"""Over Supabase the channel's records and the mail's attachments live in the fallback store's local database.

By design (docs/email.md, "Storage"): a Supabase project gets no mail tables
(``supabase.sql`` has none), as it gets no job tables; the fallback store
that the CLI builds for Supabase keeps them in its local SQLite file, beside
the jobs that poll the mailboxes. Tickets, messages and contacts are Supabase's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from supportchat import SupportDesk
from supportchat.attachments import Attachments, AttachmentStore, LocalBlobStore, UrlSigner, attachment_records
from supportchat.errors import ExtensionUnavailable
from supportchat.extensions import extension
from supportchat.jobs import JobStore
from supportchat.mail import MailIntake, MailSettings, MailStore, Outcome
from supportchat.sql import supabase_sql
from supportchat.stores import FallbackStore
from supportchat.stores.sql import SQLiteStore

from ..postgrest_emulator.session import fresh_store

RAW = (Path(__file__).resolve().parents[1] / "corpora" / "mail" / "36_apple_photo_and_pdf.eml").read_bytes()


@pytest.mark.postgres
def test_over_supabase_mail_records_and_attachments_are_the_local_databases(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    primary = fresh_store(request)
    for capability in (MailStore, AttachmentStore, JobStore):
        with pytest.raises(ExtensionUnavailable):
            extension(primary, capability)
    assert "support_mail" not in supabase_sql() and "support_jobs" not in supabase_sql()

    local = SQLiteStore(tmp_path / "local.db")
    store = FallbackStore(primary, local, journal=tmp_path / "journal.sqlite")
    try:
        attachments = Attachments(LocalBlobStore(tmp_path / "blobs"), UrlSigner("k" * 32), spool=tmp_path / "spool")
        settings = MailSettings(address="soporte@example.com", secret="supabase-secret")
        intake = MailIntake(SupportDesk(store), settings, attachments=attachments)
        result = intake.import_mail(RAW)
        assert result.outcome is Outcome.NEW_TICKET and result.record.ticket_id is not None
        ticket = primary.get_ticket(result.record.ticket_id)  # the ticket and its messages are Supabase's
        assert ticket is not None
        assert [m.message for m in primary.list_messages(ticket.id)] == ["IMG_1234.jpeg", "albaran.pdf"]
        record = extension(local, MailStore).get(result.record.message_key)  # the record is the local file's
        assert record is not None and record.done and record.ticket_id == ticket.id
        assert [a.filename for a in attachment_records(local).for_ticket(ticket.id)] == ["IMG_1234.jpeg", "albaran.pdf"]
        assert intake.import_mail(RAW).duplicate
    finally:
        store.close()
