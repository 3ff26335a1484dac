"""The automation capability's tables, shared by :mod:`.sql` and the ``0015_automation`` migration.

``owner_id`` 0 marks a shared canned response (so the unique short code per
owner holds for shared ones too: SQL's unique constraints let NULLs repeat).
``tags`` is a JSON list. ``support_kb_state`` holds one row whose counter
moves with every change of an article, so a bot can tell when to rebuild its index.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..sqlschema.tables import Id, UTCTimestamp
from .records import BotStatus

__all__ = ["SHARED_OWNER", "bot_sessions", "canned", "firings", "kb_articles", "kb_state", "metadata", "rules"]

metadata = sa.MetaData()
#: ``owner_id`` of a shared canned response.
SHARED_OWNER = 0

canned = sa.Table(
    "support_canned_responses",
    metadata,
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

kb_articles = sa.Table(
    "support_kb_articles",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("language", sa.Text, nullable=False),
    sa.Column("tags", sa.Text, nullable=False, server_default="[]"),
    sa.Column("created_at", UTCTimestamp(), nullable=False),
    sa.Column("updated_at", UTCTimestamp(), nullable=False),
    sqlite_autoincrement=True,
)
sa.Index("ix_support_kb_articles_language_id", kb_articles.c.language, kb_articles.c.id)

kb_state = sa.Table(
    "support_kb_state",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("version", sa.BigInteger, nullable=False, server_default="0"),
)

rules = sa.Table(
    "support_automation_rules",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    #: The rule as JSON (``supportchat.automation.engine.Rule``), at ``version``.
    sa.Column("definition", sa.Text, nullable=False),
    sa.Column("updated_at", UTCTimestamp(), nullable=False),
    sqlite_autoincrement=True,
)

firings = sa.Table(
    "support_automation_log",
    metadata,
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
sa.Index("ix_support_automation_log_ticket_id_id", firings.c.ticket_id, firings.c.id)
sa.Index("ix_support_automation_log_at", firings.c.at)

_STATUSES = ", ".join(f"'{status.value}'" for status in BotStatus)
bot_sessions = sa.Table(
    "support_bot_sessions",
    metadata,
    sa.Column("ticket_id", Id, primary_key=True, autoincrement=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("language", sa.Text, nullable=False),
    sa.Column("turns", sa.Integer, nullable=False, server_default="0"),
    sa.Column("awaiting_article_id", Id),
    sa.Column("handoff_reason", sa.Text),
    sa.Column("updated_at", UTCTimestamp(), nullable=False),
    sa.CheckConstraint(f"status IN ({_STATUSES})", name="ck_support_bot_sessions_status"),
)
