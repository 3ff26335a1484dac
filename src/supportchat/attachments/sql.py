"""Attachments in the SQL store's database (SQLite and PostgreSQL), through its public transactions."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from typing import Any

import sqlalchemy as sa

from ..stores.sql import SQLStore
from . import schema
from .base import Attachment, AttachmentKind, NewAttachment

__all__ = ["SQLAttachmentStore"]

_a = schema.attachments.c
_NEW_FIELDS = tuple(f.name for f in dataclasses.fields(NewAttachment))


def _row(row: Any) -> Attachment:
    fields = {name: getattr(row, name) for name in _NEW_FIELDS}
    fields["kind"] = AttachmentKind(fields["kind"])
    return Attachment(**fields, id=int(row.id), message_id=row.message_id)


class SQLAttachmentStore:
    """The :class:`~.base.AttachmentStore` of a :class:`~supportchat.stores.sql.SQLStore`."""

    def __init__(self, store: SQLStore) -> None:
        self._store = store

    def add(self, attachment: NewAttachment) -> Attachment:
        values = {name: getattr(attachment, name) for name in _NEW_FIELDS}
        values["kind"] = attachment.kind.value
        with self._store.transaction(write=True) as connection:
            new_id = connection.execute(sa.insert(schema.attachments).values(values).returning(_a.id)).scalar_one()
        return Attachment(**{name: getattr(attachment, name) for name in _NEW_FIELDS}, id=int(new_id))

    def get(self, attachment_id: int) -> Attachment | None:
        with self._store.transaction() as connection:
            row = connection.execute(sa.select(schema.attachments).where(_a.id == attachment_id)).first()
        return None if row is None else _row(row)

    def cite(self, attachment_id: int, message_id: int) -> bool:
        statement = (
            sa.update(schema.attachments)
            .where(_a.id == attachment_id, sa.or_(_a.message_id.is_(None), _a.message_id == message_id))
            .values(message_id=message_id)
        )
        with self._store.transaction(write=True) as connection:
            return connection.execute(statement).rowcount == 1

    def for_messages(self, message_ids: Collection[int]) -> dict[int, Attachment]:
        if not message_ids:
            return {}
        statement = sa.select(schema.attachments).where(_a.message_id.in_(list(message_ids)))
        with self._store.transaction() as connection:
            return {row.message_id: _row(row) for row in connection.execute(statement)}

    def for_ticket(self, ticket_id: int) -> list[Attachment]:
        statement = sa.select(schema.attachments).where(_a.ticket_id == ticket_id).order_by(_a.id)
        with self._store.transaction() as connection:
            return [_row(row) for row in connection.execute(statement)]

    def uncited_before(self, cutoff: float, *, limit: int = 500) -> list[Attachment]:
        statement = (
            sa.select(schema.attachments)
            .where(_a.message_id.is_(None), _a.created_at < cutoff)
            .order_by(_a.created_at, _a.id)
            .limit(limit)
        )
        with self._store.transaction() as connection:
            return [_row(row) for row in connection.execute(statement)]

    def remove(self, attachment_ids: Sequence[int]) -> list[Attachment]:
        if not attachment_ids:
            return []
        statement = (
            sa.delete(schema.attachments).where(_a.id.in_(list(attachment_ids))).returning(*schema.attachments.c)
        )
        with self._store.transaction(write=True) as connection:
            return [_row(row) for row in connection.execute(statement)]

    def uses(self, blob_key: str) -> int:
        statement = sa.select(sa.func.count()).where(sa.or_(_a.sha256 == blob_key, _a.thumbnail_sha256 == blob_key))
        with self._store.transaction() as connection:
            return int(connection.execute(statement).scalar_one())
