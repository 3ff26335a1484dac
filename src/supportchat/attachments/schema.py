"""The attachments table, shared by :mod:`.sql` and the ``0010_attachments`` migration.

One row per upload; the bytes are in the blob store under ``sha256`` (and
the thumbnail's under ``thumbnail_sha256``), so rows may share a blob. Times
are Unix seconds as double precision, as the jobs' are. ``message_id`` is
the message that cited the upload (``NULL``: not cited yet, removed after a
day).
"""

from __future__ import annotations

import sqlalchemy as sa

from ..sqlschema.tables import Id

__all__ = ["attachments", "metadata"]

metadata = sa.MetaData()

attachments = sa.Table(
    "support_attachments",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("ticket_id", Id, nullable=False),
    sa.Column("uploaded_by_kind", sa.Text, nullable=False),
    sa.Column("uploaded_by", Id, nullable=False),
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("content_type", sa.Text, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("thumbnail_sha256", sa.Text),
    sa.Column("width", sa.Integer),
    sa.Column("height", sa.Integer),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("message_id", Id),
    sa.CheckConstraint("kind IN ('image', 'file')", name="ck_support_attachments_kind"),
    sa.CheckConstraint("uploaded_by_kind IN ('user', 'admin')", name="ck_support_attachments_uploader"),
    sqlite_autoincrement=True,
)
sa.Index("ix_support_attachments_ticket", attachments.c.ticket_id)
sa.Index("ix_support_attachments_message", attachments.c.message_id)
sa.Index("ix_support_attachments_sha256", attachments.c.sha256)
sa.Index("ix_support_attachments_thumbnail", attachments.c.thumbnail_sha256)
#: What the expiry job scans: uploads nobody cited, by age.
_UNCITED = attachments.c.message_id.is_(None)
sa.Index(
    "ix_support_attachments_uncited",
    attachments.c.created_at,
    sqlite_where=_UNCITED,
    postgresql_where=_UNCITED,
)
