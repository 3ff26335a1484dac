"""Automation (spec §18): canned responses, knowledge-base articles, the bot's sessions, ``automated`` messages.

``support_messages.automated`` marks what the bot and auto-replies wrote. A
database that ``0001`` created from today's table definitions has it already,
so it is added only where it is missing.

Written out as the tables are at this revision (``supportchat/automation/schema.py``
holds the live definitions; ``tests/test_sql_migrations.py`` checks they agree).

Revision ID: 0015_automation
Revises: 0009_ratings_merge
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from supportchat.sqlschema.tables import Id, UTCTimestamp

revision = "0015_automation"
down_revision = "0009_ratings_merge"
branch_labels = None
depends_on = None


_MESSAGES = "support_messages"
_AUTOMATED = "automated"


def _has_automated() -> bool:
    return any(column["name"] == _AUTOMATED for column in sa.inspect(op.get_bind()).get_columns(_MESSAGES))


def upgrade() -> None:
    if not _has_automated():
        op.add_column(
            _MESSAGES,
            sa.Column(
                _AUTOMATED,
                sa.Boolean(create_constraint=True, name="ck_support_messages_automated"),
                nullable=False,
                server_default=sa.false(),
            ),
        )
    op.create_table(
        "support_canned_responses",
        sa.Column("id", Id, primary_key=True),
        sa.Column("owner_id", Id, nullable=False, server_default="0"),
        sa.Column("short_code", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("created_at", UTCTimestamp(), nullable=False),
        sa.Column("updated_at", UTCTimestamp(), nullable=False),
        sa.UniqueConstraint("owner_id", "short_code", name="uq_support_canned_responses_owner_code"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "support_kb_articles",
        sa.Column("id", Id, primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("language", sa.Text, nullable=False),
        sa.Column("tags", sa.Text, nullable=False, server_default="[]"),
        sa.Column("created_at", UTCTimestamp(), nullable=False),
        sa.Column("updated_at", UTCTimestamp(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_support_kb_articles_language_id", "support_kb_articles", ["language", "id"])
    op.create_table(
        "support_kb_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_table(
        "support_automation_rules",
        sa.Column("id", Id, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("updated_at", UTCTimestamp(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "support_automation_log",
        sa.Column("id", Id, primary_key=True),
        sa.Column("rule_id", Id, nullable=False),
        sa.Column("rule_version", sa.Integer, nullable=False),
        sa.Column("ticket_id", Id, nullable=False),
        sa.Column("at", UTCTimestamp(), nullable=False),
        sa.Column("actions", sa.Text, nullable=False),
        sa.Column("dropped", sa.Text, nullable=False, server_default="[]"),
        sa.Column("chain", sa.Text, nullable=False, server_default="[]"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_support_automation_log_ticket_id_id", "support_automation_log", ["ticket_id", "id"])
    op.create_index("ix_support_automation_log_at", "support_automation_log", ["at"])
    op.create_table(
        "support_bot_sessions",
        sa.Column("ticket_id", Id, primary_key=True, autoincrement=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("language", sa.Text, nullable=False),
        sa.Column("turns", sa.Integer, nullable=False, server_default="0"),
        sa.Column("awaiting_article_id", Id),
        sa.Column("handoff_reason", sa.Text),
        sa.Column("updated_at", UTCTimestamp(), nullable=False),
        sa.CheckConstraint("status IN ('in_charge', 'handed_off', 'solved')", name="ck_support_bot_sessions_status"),
    )


def downgrade() -> None:
    if _has_automated():
        with op.batch_alter_table(_MESSAGES) as batch:
            batch.drop_column(_AUTOMATED)
    for table in (
        "support_bot_sessions",
        "support_automation_log",
        "support_automation_rules",
        "support_kb_state",
        "support_kb_articles",
        "support_canned_responses",
    ):
        op.drop_table(table)
