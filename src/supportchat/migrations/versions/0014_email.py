"""The email channel: ``support_mail_messages``, ``support_mail_checkpoints``,
``support_mail_participants`` and ``support_mail_preferences`` (see :mod:`supportchat.mail`).

The tables are written out here as they were at this revision (the live
definitions are ``supportchat/mail/schema.py``; ``tests/test_sql_migrations.py``
checks that the two agree).

Revision ID: 0014_email
Revises: 0015_automation
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_email"
down_revision = "0015_automation"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "support_mail_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("message_key", sa.Text, nullable=False),
        sa.Column("direction", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("mailbox", sa.Text),
        sa.Column("ticket_id", Id),
        sa.Column("support_message_id", Id),
        sa.Column("user_id", Id),
        sa.Column("ticket_number", sa.Text),
        sa.Column("follow_up_of", Id),
        sa.Column("address", sa.Text),
        sa.Column("subject", sa.Text),
        sa.Column("automatic", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("raw", sa.LargeBinary),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("finished_at", sa.Float),
        sa.UniqueConstraint("message_key", name="uq_support_mail_messages_key"),
        sa.CheckConstraint("direction IN ('in', 'out')", name="ck_support_mail_messages_direction"),
        sa.CheckConstraint("state IN ('claimed', 'done')", name="ck_support_mail_messages_state"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_support_mail_messages_ticket", "support_mail_messages", ["ticket_id"])
    op.create_index("ix_support_mail_messages_number", "support_mail_messages", ["ticket_number"])
    op.create_index("ix_support_mail_messages_address", "support_mail_messages", ["address", "created_at"])
    op.create_table(
        "support_mail_checkpoints",
        sa.Column("mailbox", sa.Text, primary_key=True),
        sa.Column("uidvalidity", sa.BigInteger, nullable=False),
        sa.Column("last_uid", sa.BigInteger, nullable=False),
        sa.Column("imported", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("polled_at", sa.Float),
        sa.Column("last_error", sa.Text),
        sa.Column("last_error_at", sa.Float),
    )
    op.create_table(
        "support_mail_participants",
        sa.Column("ticket_id", Id, primary_key=True),
        sa.Column("address", sa.Text, primary_key=True),
    )
    op.create_table(
        "support_mail_preferences",
        sa.Column("user_id", Id, primary_key=True),
        sa.Column("notify_replies", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("support_mail_preferences")
    op.drop_table("support_mail_participants")
    op.drop_table("support_mail_checkpoints")
    for index in (
        "ix_support_mail_messages_address",
        "ix_support_mail_messages_number",
        "ix_support_mail_messages_ticket",
    ):
        op.drop_index(index, table_name="support_mail_messages")
    op.drop_table("support_mail_messages")
