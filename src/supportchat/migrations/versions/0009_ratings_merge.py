"""Satisfaction ratings and merged tickets (spec §12).

- ``support_tickets.merged_into``: the ticket a merged ticket now lives in
  (a database made by ``0001`` at a later version of the schema has it
  already, hence the check);
- ``support_ratings``: one rating per ticket and resolution cycle, with the
  agent assigned when it was given.

The table is written out as it is at this revision (not imported from
:mod:`supportchat.sqlschema.tables`), so this revision does not change when
the live definition does; ``tests/test_sql_migrations.py`` compares the two.

Revision ID: 0009_ratings_merge
Revises: 0007_bigint_ids
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from supportchat.sqlschema.tables import UTCTimestamp

revision = "0009_ratings_merge"
down_revision = "0007_bigint_ids"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    if "merged_into" not in {column["name"] for column in inspector.get_columns("support_tickets")}:
        op.add_column("support_tickets", sa.Column("merged_into", _ID))
    if not inspector.has_table("support_ratings"):
        op.create_table(
            "support_ratings",
            sa.Column("ticket_id", _ID, primary_key=True, autoincrement=False),
            sa.Column("cycle", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("score", sa.Integer, nullable=False),
            sa.Column("comment", sa.Text),
            sa.Column("user_id", _ID, nullable=False),
            sa.Column("agent_id", _ID),
            sa.Column("created_at", UTCTimestamp(), nullable=False),
            sa.CheckConstraint("score BETWEEN 1 AND 5", name="ck_support_ratings_score"),
            sa.CheckConstraint("cycle >= 1", name="ck_support_ratings_cycle"),
        )
        op.create_index("ix_support_ratings_agent_id_created_at", "support_ratings", ["agent_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_support_ratings_agent_id_created_at", table_name="support_ratings")
    op.drop_table("support_ratings")
    # SQLite drops a column in place (3.35+); a batch rebuild would lose the table's triggers.
    op.drop_column("support_tickets", "merged_into")
