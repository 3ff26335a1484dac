"""Attachments: ``support_attachments`` (see :mod:`supportchat.attachments`).

One row per upload; the bytes live in the blob store, keyed by their
SHA-256. Written out here as the table is at this revision (the live
definition is ``supportchat/attachments/schema.py``;
``tests/test_sql_migrations.py`` checks that the two agree).

Revision ID: 0010_attachments
Revises: 0008_notes_tags
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_attachments"
down_revision = "0008_notes_tags"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_UNCITED = "message_id IS NULL"


def upgrade() -> None:
    op.create_table(
        "support_attachments",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("ticket_id", _ID, nullable=False),
        sa.Column("uploaded_by_kind", sa.Text, nullable=False),
        sa.Column("uploaded_by", _ID, nullable=False),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("content_type", sa.Text, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("thumbnail_sha256", sa.Text),
        sa.Column("width", sa.Integer),
        sa.Column("height", sa.Integer),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("message_id", _ID),
        sa.CheckConstraint("kind IN ('image', 'file')", name="ck_support_attachments_kind"),
        sa.CheckConstraint("uploaded_by_kind IN ('user', 'admin')", name="ck_support_attachments_uploader"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_support_attachments_ticket", "support_attachments", ["ticket_id"])
    op.create_index("ix_support_attachments_message", "support_attachments", ["message_id"])
    op.create_index("ix_support_attachments_sha256", "support_attachments", ["sha256"])
    op.create_index("ix_support_attachments_thumbnail", "support_attachments", ["thumbnail_sha256"])
    op.create_index(
        "ix_support_attachments_uncited",
        "support_attachments",
        ["created_at"],
        sqlite_where=sa.text(_UNCITED),
        postgresql_where=sa.text(_UNCITED),
    )


def downgrade() -> None:
    for index in ("uncited", "thumbnail", "sha256", "message", "ticket"):
        op.drop_index(f"ix_support_attachments_{index}", table_name="support_attachments")
    op.drop_table("support_attachments")
