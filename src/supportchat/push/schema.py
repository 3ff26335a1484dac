"""The push tables, shared by :mod:`.sql` and the ``0013_push`` migration.

Times are Unix seconds as double precision, as the jobs' are. Ids of the
desk (tickets, messages, events, users, agents) are 64-bit on PostgreSQL.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

import sqlalchemy as sa

from .base import DeliveryStatus, OwnerKind, Platform, PushEvent

__all__ = ["attempts", "deliveries", "devices", "metadata"]

metadata = sa.MetaData()

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _one_of(table: str, column: str, values: Iterable[enum.Enum]) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{value.value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=f"ck_{table}_{column}")


devices = sa.Table(
    "support_push_devices",
    metadata,
    sa.Column("token", sa.Text, primary_key=True),
    sa.Column("owner_kind", sa.Text, nullable=False),
    sa.Column("owner_id", Id, nullable=False),
    sa.Column("platform", sa.Text, nullable=False),
    sa.Column("locale", sa.Text),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("last_seen_at", sa.Float, nullable=False),
    _one_of("support_push_devices", "owner_kind", OwnerKind),
    _one_of("support_push_devices", "platform", Platform),
)
sa.Index("ix_support_push_devices_owner", devices.c.owner_kind, devices.c.owner_id)
sa.Index("ix_support_push_devices_last_seen", devices.c.last_seen_at)

deliveries = sa.Table(
    "support_push_deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("event_id", Id, nullable=False),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("ticket_id", Id, nullable=False),
    sa.Column("message_id", Id),
    #: No foreign key: the record outlives a removed device.
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
    _one_of("support_push_deliveries", "event", PushEvent),
    _one_of("support_push_deliveries", "status", DeliveryStatus),
    sqlite_autoincrement=True,
)
sa.Index("ix_support_push_deliveries_ticket", deliveries.c.ticket_id, deliveries.c.id)
#: What coalescing asks: this device's deliveries about this ticket.
sa.Index("ix_support_push_deliveries_token_ticket", deliveries.c.token, deliveries.c.ticket_id, deliveries.c.event_id)

attempts = sa.Table(
    "support_push_attempts",
    metadata,
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
sa.Index("ix_support_push_attempts_class", attempts.c.error_class, attempts.c.id)
