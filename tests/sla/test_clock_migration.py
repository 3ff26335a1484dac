"""Migration ``0022``: each SLA clock's change id becomes the count of its ticket's status changes, and back.

On a SQLite file and on a PostgreSQL schema of the test's own (downgrading the
session's shared schema would pull it from under other tests).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

import supportchat.migrations
from supportchat import Actor, SupportDesk
from supportchat.migrations import upgrade
from supportchat.stores.sql import SQLStore, create_engine

from ..stores import POSTGRES_URL, postgres_schema

BEFORE = "0010_attachments"
ADMIN = Actor.admin(1)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    if request.param == "sqlite":
        made = create_engine(f"sqlite:///{tmp_path / 'clocks.db'}")
        yield made
        made.dispose()
        return
    made, drop = postgres_schema("supportchat_clocks")
    if isinstance(made, Exception):
        reason = f"PostgreSQL is unreachable at {POSTGRES_URL}: {made}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    yield made
    drop()


def downgrade(engine: sa.Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(Path(supportchat.migrations.__file__).parent))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def clocks(engine: sa.Engine, column: str) -> dict[int, int]:
    with engine.connect() as connection:
        rows = connection.execute(sa.text(f"SELECT ticket_id, {column} FROM support_sla_clocks")).all()
    return {int(ticket): int(value) for ticket, value in rows}


def test_change_ids_become_counts_of_status_changes_and_back(engine: sa.Engine) -> None:
    upgrade(engine, BEFORE)
    desk = SupportDesk(SQLStore(engine))
    busy = desk.create_ticket(ADMIN, subject="Busy", description="many changes", user_id=7)
    quiet = desk.create_ticket(ADMIN, subject="Quiet", description="none", user_id=7)
    for status in ("in_progress", "open", "in_progress"):
        desk.change_status(ADMIN, busy.id, status)
        desk.set_priority(ADMIN, busy.id, "high" if status == "open" else "low")  # not status: not counted
    status_ids = [c.id for c in desk.store.list_changes(busy.id) if c.field == "status"]
    assert len(status_ids) == 3
    with engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO support_sla_clocks (ticket_id, policy_id, last_change_id) VALUES (:t, 1, :c)"),
            [{"t": busy.id, "c": status_ids[1]}, {"t": quiet.id, "c": 0}],
        )
    upgrade(engine)
    assert clocks(engine, "status_changes_seen") == {busy.id: 2, quiet.id: 0}
    downgrade(engine, BEFORE)
    assert clocks(engine, "last_change_id") == {busy.id: status_ids[1], quiet.id: 0}
