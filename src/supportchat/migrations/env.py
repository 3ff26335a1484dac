"""Alembic environment: runs on the connection :func:`supportchat.migrations.upgrade` passes in."""

from __future__ import annotations

from alembic import context

from supportchat.sqlschema.directories import metadata as directory_metadata
from supportchat.sqlschema.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through supportchat.migrations.upgrade(engine)")
context.configure(connection=connection, target_metadata=[metadata, directory_metadata], render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
