"""The agents and contacts directories' tables (spec §11), on a metadata of their own.

They belong to the directories capability, not to the store's schema in
:mod:`.tables`: the migration ``0004_people`` creates them, the SQL
implementation of the directories' store extensions
(:mod:`supportchat.stores.directories_sql`) reads and writes them. No foreign
keys: the ids may be the host app's, in tables the desk does not own.
"""

from __future__ import annotations

import sqlalchemy as sa

from .tables import UTCTimestamp

__all__ = ["agents", "contacts", "metadata"]

#: The capability's own tables, apart from the store's metadata.
metadata = sa.MetaData()

agents = sa.Table(
    "support_agents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("email", sa.Text),
    #: A JSON array of team names, sorted.
    sa.Column("teams", sa.JSON, nullable=False),
    sa.Column("available", sa.Boolean(create_constraint=True, name="ck_support_agents_available"), nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated_at", UTCTimestamp, nullable=False),
    sa.CheckConstraint("id > 0 AND capacity >= 0", name="ck_support_agents_values"),
)

contacts = sa.Table(
    "support_contacts",
    metadata,
    sa.Column("user_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("display_name", sa.Text),
    #: Lower case; one contact per address.
    sa.Column("email", sa.Text),
    sa.Column("locale", sa.Text),
    sa.Column("time_zone", sa.Text),
    sa.Column("updated_at", UTCTimestamp, nullable=False),
    sa.UniqueConstraint("email", name="uq_support_contacts_email"),
    sa.CheckConstraint("user_id > 0", name="ck_support_contacts_user_id"),
)
