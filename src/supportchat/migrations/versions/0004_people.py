"""The agents and contacts directories (spec §11): ``support_agents`` and ``support_contacts``.

An agent row is keyed by the agent's id (standalone, the admin account's id
in ``support_admins``; with a host directory, the host's user id); a contact
row by the user id, with at most one contact per (lower-case) email. No
foreign keys: the ids may be the host app's, in tables the desk does not own.

Revision ID: 0004_people
Revises: 0003_admin_sessions
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

from supportchat.sqlschema.directories import agents, contacts, metadata

revision = "0004_people"
down_revision = "0003_admin_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata.create_all(op.get_bind(), tables=[agents, contacts])


def downgrade() -> None:
    metadata.drop_all(op.get_bind(), tables=[contacts, agents])
