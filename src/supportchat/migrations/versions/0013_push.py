"""Push notifications: ``support_push_devices``, ``support_push_deliveries``, ``support_push_attempts``.

Devices are FCM registration tokens of users and agents; a delivery is one
push of one desk event to one device, and its attempts every request made
to FCM for it (see :mod:`supportchat.push`). The tables are written out here
as they were at this revision (a migration must not change when
``supportchat/push/schema.py`` does later); ``tests/test_sql_migrations.py``
checks that the two agree.

Revision ID: 0013_push
Revises: 0014_email
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_push"
down_revision = "0014_email"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "support_push_devices",
        sa.Column("token", sa.Text, primary_key=True),
        sa.Column("owner_kind", sa.Text, nullable=False),
        sa.Column("owner_id", Id, nullable=False),
        sa.Column("platform", sa.Text, nullable=False),
        sa.Column("locale", sa.Text),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("last_seen_at", sa.Float, nullable=False),
        sa.CheckConstraint("owner_kind IN ('user', 'agent')", name="ck_support_push_devices_owner_kind"),
        sa.CheckConstraint("platform IN ('android', 'ios', 'web')", name="ck_support_push_devices_platform"),
    )
    op.create_index("ix_support_push_devices_owner", "support_push_devices", ["owner_kind", "owner_id"])
    op.create_index("ix_support_push_devices_last_seen", "support_push_devices", ["last_seen_at"])
    op.create_table(
        "support_push_deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("event_id", Id, nullable=False),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("ticket_id", Id, nullable=False),
        sa.Column("message_id", Id),
        sa.Column("token", sa.Text, nullable=False),
        sa.Column("recipient_kind", sa.Text, nullable=False),
        sa.Column("recipient_id", Id, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("error_class", sa.Text),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("fcm_name", sa.Text),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.UniqueConstraint("event_id", "token", name="uq_support_push_deliveries_event_token"),
        sa.CheckConstraint(
            "event IN ('admin_reply', 'resolved', 'new_ticket', 'user_reply')", name="ck_support_push_deliveries_event"
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'coalesced', 'unregistered', 'failed', 'skipped')",
            name="ck_support_push_deliveries_status",
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_support_push_deliveries_ticket", "support_push_deliveries", ["ticket_id", "id"])
    op.create_index(
        "ix_support_push_deliveries_token_ticket", "support_push_deliveries", ["token", "ticket_id", "event_id"]
    )
    op.create_table(
        "support_push_attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("delivery_id", sa.Integer, sa.ForeignKey("support_push_deliveries.id"), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("error_class", sa.Text),
        sa.Column("http_status", sa.Integer),
        sa.Column("detail", sa.Text),
        sa.Column("retry_after", sa.Float),
        sa.UniqueConstraint("delivery_id", "number", name="uq_support_push_attempts_number"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_support_push_attempts_class", "support_push_attempts", ["error_class", "id"])


def downgrade() -> None:
    op.drop_index("ix_support_push_attempts_class", table_name="support_push_attempts")
    op.drop_table("support_push_attempts")
    op.drop_index("ix_support_push_deliveries_token_ticket", table_name="support_push_deliveries")
    op.drop_index("ix_support_push_deliveries_ticket", table_name="support_push_deliveries")
    op.drop_table("support_push_deliveries")
    op.drop_index("ix_support_push_devices_last_seen", table_name="support_push_devices")
    op.drop_index("ix_support_push_devices_owner", table_name="support_push_devices")
    op.drop_table("support_push_devices")
