"""Live events on PostgreSQL: event ids given in commit order, and NOTIFY on every event.

Event-log entries are written by triggers in the middle of write
transactions, so ids drawn at insert time could commit out of order (two
transactions draw 10 and 11, 11 commits first, and a stream reading "after
11" never sees 10). Here, on PostgreSQL only (SQLite has one writer at a
time and needs none of it):

- ``support_events_pending`` (BEFORE INSERT) gives a new entry a temporary
  negative id from ``support_events_pending_id_seq``;
- ``support_events_commit`` (a constraint trigger, DEFERRABLE INITIALLY
  DEFERRED, so it runs when the transaction commits, after every statement)
  takes a transaction-level advisory lock, draws the entry's real id from the
  table's sequence, and sends ``pg_notify('supportchat_events',
  '<schema> <event id> <user id>')``, which PostgreSQL delivers at commit.

The lock is held only from that point to the end of the commit, and a
transaction holding it waits for nothing else, so it cannot deadlock with the
row locks of other writers. Entries become visible in id order; every server
process's listener (:mod:`supportchat.realtime.postgres`) hears of them.

Revision ID: 0002_live_events
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_live_events"
down_revision = "0001"
branch_labels = None
depends_on = None

#: First key of the advisory lock; the second is the schema's hash, so schemas do not wait on each other.
LOCK_CLASS = 0x5C0D

_TABLE = "quote_ident(TG_TABLE_SCHEMA) || '.support_events'"
_PENDING_SEQUENCE = "(quote_ident(TG_TABLE_SCHEMA) || '.support_events_pending_id_seq')::regclass"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE SEQUENCE IF NOT EXISTS support_events_pending_id_seq")
    op.execute("ALTER TABLE support_events ALTER COLUMN id DROP DEFAULT")
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION support_events_pending() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.id IS NULL THEN
                NEW.id := -nextval({_PENDING_SEQUENCE});
            END IF;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION support_events_commit() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            final_id integer := NEW.id;
        BEGIN
            IF NEW.id < 0 THEN
                PERFORM pg_advisory_xact_lock({LOCK_CLASS}, hashtext(TG_TABLE_SCHEMA));
                final_id := nextval(pg_get_serial_sequence({_TABLE}, 'id'));
                EXECUTE format('UPDATE %I.support_events SET id = $1 WHERE id = $2', TG_TABLE_SCHEMA)
                    USING final_id, NEW.id;
            END IF;
            PERFORM pg_notify('supportchat_events', TG_TABLE_SCHEMA || ' ' || final_id || ' ' || NEW.user_id);
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER support_events_pending BEFORE INSERT ON support_events "
        "FOR EACH ROW EXECUTE FUNCTION support_events_pending()"
    )
    op.execute(
        "CREATE CONSTRAINT TRIGGER support_events_commit AFTER INSERT ON support_events "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION support_events_commit()"
    )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS support_events_commit ON support_events")
    op.execute("DROP TRIGGER IF EXISTS support_events_pending ON support_events")
    op.execute("DROP FUNCTION IF EXISTS support_events_commit()")
    op.execute("DROP FUNCTION IF EXISTS support_events_pending()")
    op.execute("DROP SEQUENCE IF EXISTS support_events_pending_id_seq")
    sequence = bind.execute(sa.text("SELECT pg_get_serial_sequence('support_events', 'id')")).scalar_one()
    op.execute(f"ALTER TABLE support_events ALTER COLUMN id SET DEFAULT nextval('{sequence}'::regclass)")
