"""Ids and user ids as signed 64-bit integers on PostgreSQL, as ``rules.MAX_ID`` promises.

The first schema used PostgreSQL's 32-bit ``integer`` for ids and for the
host's user and admin ids, so a valid id above 2,147,483,647 (a host's
snowflake user id, say) overflowed with a 500. SQLite's INTEGER is already
64-bit; Supabase's schema already says ``bigint``. Widening is
compatible with every stored value.

Revision ID: 0007_bigint_ids
Revises: 0006_search
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0007_bigint_ids"
down_revision = "0006_search"
branch_labels = None
depends_on = None

#: Table → the columns holding ids.
ID_COLUMNS = {
    "support_tickets": ("id", "user_id", "assigned_to"),
    "support_messages": ("id", "ticket_id", "sender_id"),
    "support_ticket_changes": ("id", "ticket_id", "changed_by"),
    "support_events": ("id", "ticket_id", "user_id", "message_id"),
    "support_admins": ("id",),
}


def _alter(kind: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table, columns in ID_COLUMNS.items():
        # PostgreSQL cannot retype a column a column-specific trigger names (UPDATE OF …):
        # such triggers are dropped and made again from their own definitions.
        triggers = bind.exec_driver_sql(
            "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger "
            f"WHERE tgrelid = '{table}'::regclass AND NOT tgisinternal AND array_length(tgattr, 1) > 0"
        ).fetchall()
        for name, _ in triggers:
            op.execute(f'DROP TRIGGER "{name}" ON {table}')
        changes = ", ".join(f"ALTER COLUMN {column} TYPE {kind}" for column in columns)
        op.execute(f"ALTER TABLE {table} {changes}")
        for _, definition in triggers:
            op.execute(definition)
        # The identity or serial sequence behind ``id`` follows the column.
        op.execute(
            f"DO $$ DECLARE s text := pg_get_serial_sequence('{table}', 'id'); "
            f"BEGIN IF s IS NOT NULL THEN EXECUTE format('ALTER SEQUENCE %s AS {kind}', s); END IF; END $$"
        )


def upgrade() -> None:
    _alter("bigint")


def downgrade() -> None:
    _alter("integer")
