"""The hostile corpus (``corpus.py``): each file refused with the right status, code and reason and nothing
stored, or stored under a safe name (``tests/panel/test_attachments_in_chromium.py`` opens those in Chromium)."""

from __future__ import annotations

from typing import Any

import pytest

from supportchat.attachments import attachment_records

from ..api.conftest import PREFIX
from .conftest import AttachmentApi, upload
from .corpus import CORPUS, Hostile


def _upload(att: AttachmentApi, item: Hostile, ticket_id: int) -> Any:
    path = f"{PREFIX}/user/5/tickets/{ticket_id}/attachments"
    return upload(att.client, path, att.user(5), item.filename, item.make(), item.declared)


@pytest.mark.parametrize("item", CORPUS, ids=[item.name for item in CORPUS])
def test_each_hostile_file_is_refused_with_its_reason_or_kept_under_a_safe_name(
    att: AttachmentApi, item: Hostile
) -> None:
    ticket = att.ticket_for(5)
    reply = _upload(att, item, ticket.id)
    records = attachment_records(att.store).for_ticket(ticket.id)
    if item.refused is None:
        assert reply.status == 200, reply.body
        assert reply.json()["data"]["filename"] == item.kept_as
        assert len(records) == 1
        return
    status, code, reason = item.refused
    error = reply.json()["error"]
    assert (reply.status, error["code"]) == (status, code), reply.body
    if reason is not None:
        assert error["details"] == {**error["details"], "field": "file", "reason": reason}
    # Nothing stored on refusal: no row, no blob, no temporary file left.
    assert records == []
    assert list(att.attachments.blobs.keys()) == []
    assert [p for p in att.spool.rglob("*") if p.is_file()] == []
