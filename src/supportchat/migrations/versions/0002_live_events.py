"""Live events on PostgreSQL: event ids committed in order, and NOTIFY on every event.

Two triggers on ``support_events`` (PostgreSQL only; SQLite needs neither):

- ``support_events_in_order`` (BEFORE INSERT) takes a transaction-level
  advisory lock and only then draws the event's id, so event-log entries
  become visible in id order. Without it two transactions could draw ids 10
  and 11 and commit 11 first, and a stream reading "after 10" would skip 10
  for ever. The store writes the event last in each transaction, so the lock
  is held only for the commit itself.
- ``support_events_notify`` (AFTER INSERT) sends ``pg_notify`` on channel
  ``supportchat_events`` with ``"<schema> <event id> <user id>"``; PostgreSQL
  delivers it at commit, so every server process's listener (see
  :mod:`supportchat.realtime.postgres`) rings its streams.

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

_ID_SEQUENCE = "pg_get_serial_sequence(quote_ident(TG_TABLE_SCHEMA) || '.' || quote_ident(TG_TABLE_NAME), 'id')"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE support_events ALTER COLUMN id DROP DEFAULT")
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION support_events_in_order() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock({LOCK_CLASS}, hashtext(TG_TABLE_SCHEMA));
            IF NEW.id IS NULL THEN
                NEW.id := nextval({_ID_SEQUENCE});
            END IF;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        """
        CREATE OR REPLACE FUNCTION support_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('supportchat_events', TG_TABLE_SCHEMA || ' ' || NEW.id || ' ' || NEW.user_id);
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER support_events_in_order BEFORE INSERT ON support_events "
        "FOR EACH ROW EXECUTE FUNCTION support_events_in_order()"
    )
    op.execute(
        "CREATE TRIGGER support_events_notify AFTER INSERT ON support_events "
        "FOR EACH ROW EXECUTE FUNCTION support_events_notify()"
    )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS support_events_notify ON support_events")
    op.execute("DROP TRIGGER IF EXISTS support_events_in_order ON support_events")
    op.execute("DROP FUNCTION IF EXISTS support_events_notify()")
    op.execute("DROP FUNCTION IF EXISTS support_events_in_order()")
    sequence = bind.execute(sa.text("SELECT pg_get_serial_sequence('support_events', 'id')")).scalar_one()
    op.execute(f"ALTER TABLE support_events ALTER COLUMN id SET DEFAULT nextval('{sequence}'::regclass)")
