"""The AttachmentStore extension's contract on every backend of ``tests/stores.py`` that has one.

A bare Supabase store has none (its attachments' rows live in the fallback store's
local database, as its jobs do): there the test checks that asking is the configuration error.
"""

from __future__ import annotations

import pytest

from supportchat import Actor, SupportDesk
from supportchat.attachments import Attachment, AttachmentKind, AttachmentStore, NewAttachment, attachment_records
from supportchat.errors import ExtensionUnavailable
from supportchat.extensions import extension
from supportchat.stores import Store

from .stores import StoreMaker

NOW = 1_800_000_000.0


def records_of(store: Store) -> AttachmentStore:
    try:
        return attachment_records(store)
    except ExtensionUnavailable:
        assert type(store).__name__ == "SupabaseStore", "every other backend has attachments"
        pytest.skip("SupabaseStore has no AttachmentStore (its rows live in the fallback store's database)")


def upload(ticket_id: int, sha: str = "a" * 64, *, at: float = NOW, thumbnail: str | None = None) -> NewAttachment:
    return NewAttachment(
        ticket_id=ticket_id,
        uploaded_by_kind="user",
        uploaded_by=7,
        filename="recibo.pdf",
        content_type="application/pdf",
        size=1234,
        sha256=sha,
        kind=AttachmentKind.IMAGE if thumbnail else AttachmentKind.FILE,
        created_at=at,
        thumbnail_sha256=thumbnail,
        width=10 if thumbnail else None,
        height=20 if thumbnail else None,
    )


def test_supabase_alone_has_no_attachment_store_and_says_so(make_store: StoreMaker) -> None:
    store = make_store()
    if type(store).__name__ != "SupabaseStore":
        assert isinstance(extension(store, AttachmentStore), AttachmentStore)  # type: ignore[type-abstract]
        return
    with pytest.raises(ExtensionUnavailable, match="SupabaseStore has no AttachmentStore extension"):
        attachment_records(store)


def test_an_upload_is_recorded_whole_and_cited_once(store: Store) -> None:
    records = records_of(store)
    ticket = SupportDesk(store).create_ticket(Actor.user(7), subject="Recibo", description="Adjunto")
    added = records.add(upload(ticket.id, thumbnail="b" * 64))
    assert isinstance(added, Attachment) and added.id > 0 and added.message_id is None
    assert records.get(added.id) == added
    assert records.get(added.id + 1000) is None
    assert records.cite(added.id, 41) and records.cite(added.id, 41)  # the same message again: fine
    assert not records.cite(added.id, 42)  # another message: no
    assert not records.cite(added.id + 1000, 41)
    assert records.get(added.id) == Attachment(**{**_fields(added), "message_id": 41})
    assert records.for_messages([41, 99]) == {41: records.get(added.id)}
    assert records.for_messages([]) == {}


def _fields(attachment: Attachment) -> dict[str, object]:
    return {name: getattr(attachment, name) for name in Attachment.__dataclass_fields__}


def test_uncited_uploads_are_listed_by_age_and_removed_with_their_blob_uses(store: Store) -> None:
    records = records_of(store)
    desk = SupportDesk(store)
    first = desk.create_ticket(Actor.user(7), subject="Uno", description="uno")
    second = desk.create_ticket(Actor.user(7), subject="Dos", description="dos")
    old = records.add(upload(first.id, "c" * 64, at=NOW - 100))
    shared = records.add(upload(second.id, "c" * 64, at=NOW - 50, thumbnail="d" * 64))
    cited = records.add(upload(first.id, "e" * 64, at=NOW - 200))
    records.cite(cited.id, 5)
    young = records.add(upload(first.id, "f" * 64, at=NOW))
    assert [a.id for a in records.uncited_before(NOW - 10)] == [old.id, shared.id]
    assert [a.id for a in records.uncited_before(NOW + 1, limit=1)] == [old.id]
    assert [a.id for a in records.for_ticket(first.id)] == [old.id, cited.id, young.id]
    assert records.uses("c" * 64) == 2 and records.uses("d" * 64) == 1 and records.uses("0" * 64) == 0
    assert [a.id for a in records.remove([old.id, 10_000_000])] == [old.id]
    assert records.uses("c" * 64) == 1
    assert records.remove([]) == []
    assert records.get(old.id) is None
