"""Alembic environment: runs on the connection :func:`supportchat.migrations.upgrade` passes in."""

from __future__ import annotations

from alembic import context

from supportchat.stores._schema import metadata
from supportchat.stores.directories_sql import metadata as directory_metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through supportchat.migrations.upgrade(engine)")
context.configure(connection=connection, target_metadata=[metadata, directory_metadata], render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
