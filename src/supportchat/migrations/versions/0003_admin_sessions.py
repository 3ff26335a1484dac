"""Panel sessions that can be ended: a session generation per admin.

A panel session cookie is bound to the admin's token hash and to
``support_admins.session_generation``. Signing out adds one to the
generation, which ends every session issued before, in every server process;
re-issuing a revoked admin's token changes the hash, which ends them too.

Revision 0001 builds its tables from the current schema, so a database made
by it already has the column; it is added only where it is missing.

Revision ID: 0003_admin_sessions
Revises: 0002_live_events
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_admin_sessions"
down_revision = "0002_live_events"
branch_labels = None
depends_on = None

_COLUMN = "session_generation"


def _has_column() -> bool:
    return any(column["name"] == _COLUMN for column in sa.inspect(op.get_bind()).get_columns("support_admins"))


def upgrade() -> None:
    if not _has_column():
        op.add_column("support_admins", sa.Column(_COLUMN, sa.Integer, nullable=False, server_default=sa.text("0")))


def downgrade() -> None:
    if _has_column():
        with op.batch_alter_table("support_admins") as batch:
            batch.drop_column(_COLUMN)
