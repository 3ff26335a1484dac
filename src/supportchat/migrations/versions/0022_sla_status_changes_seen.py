"""SLA clocks count the status changes they followed: ``last_change_id`` becomes ``status_changes_seen``.

A clock kept the id of the newest status change it had applied. Change ids are
each store's own: the fallback store's primary (Supabase) and its local copy
number the same records apart, and the clock, which lives in the local
database, reads the ticket's record from whichever serves. A count of status
changes is the same in both. Each clock's id becomes the number of its
ticket's status changes up to that id (and back, on downgrade).

Revision ID: 0022_sla_status_changes_seen
Revises: 0010_attachments
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0022_sla_status_changes_seen"
down_revision = "0010_attachments"
branch_labels = None
depends_on = None

_STATUS = "c.ticket_id = support_sla_clocks.ticket_id AND c.field = 'status'"


def upgrade() -> None:
    op.execute(
        "UPDATE support_sla_clocks SET last_change_id = "
        f"(SELECT count(*) FROM support_ticket_changes c WHERE {_STATUS} AND c.id <= support_sla_clocks.last_change_id)"
    )
    op.execute("ALTER TABLE support_sla_clocks RENAME COLUMN last_change_id TO status_changes_seen")


def downgrade() -> None:
    op.execute("ALTER TABLE support_sla_clocks RENAME COLUMN status_changes_seen TO last_change_id")
    # The id of the n-th status change: the largest id with at most n status changes up to it.
    rank = (
        "(SELECT count(*) FROM support_ticket_changes r "
        "WHERE r.ticket_id = c.ticket_id AND r.field = 'status' AND r.id <= c.id)"
    )
    op.execute(
        "UPDATE support_sla_clocks SET last_change_id = coalesce((SELECT max(c.id) FROM support_ticket_changes c "
        f"WHERE {_STATUS} AND {rank} <= support_sla_clocks.last_change_id), 0)"
    )
