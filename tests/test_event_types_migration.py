"""Migration ``0016_event_types`` on a database with events in it: SQLite (rebuilt) and PostgreSQL (altered).

Before it, ``support_events`` took the core's five types only; after it, any
well-formed name and a ``data`` column, with every entry, id and trigger
kept. Downgrading and upgrading again gives the same table (the rebuild runs
only when the definition lacks the new check).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from supportchat import Actor, SupportDesk
from supportchat.migrations import head_revision, upgrade
from supportchat.models import EventType
from supportchat.stores.sql import SQLStore, create_engine

from .stores import POSTGRES_URL

BEFORE = "0010_attachments"
ROWS = "SELECT id, type, ticket_id, user_id, message_id, note_id FROM support_events ORDER BY id"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[sa.Engine]:
    if request.param == "sqlite":
        made = create_engine(f"sqlite:///{tmp_path}/old.db")  # type: ignore[str-bytes-safe]
        yield made
        made.dispose()
        return
    schema = f"supportchat_0016_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except sa.exc.OperationalError as error:
        admin.dispose()
        pytest.skip(f"PostgreSQL is unreachable: {error}")
    made = create_engine(POSTGRES_URL, connect_args={"options": f"-c search_path={schema}"})
    yield made
    made.dispose()
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()


def _insert(engine: sa.Engine, type_: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO support_events (type, ticket_id, user_id, created_at) "
                "SELECT :t, id, user_id, created_at FROM support_tickets ORDER BY id LIMIT 1"
            ),
            {"t": type_},
        )


def test_an_old_database_with_events_upgrades_keeping_them_and_takes_feature_types(engine: sa.Engine) -> None:
    upgrade(engine, BEFORE)
    old = SQLStore(engine)
    desk = SupportDesk(old)
    ticket = desk.create_ticket(Actor.user(7), subject="Pago", description="No puedo pagar")
    desk.post_message(Actor.user(7), ticket.id, "¿Hola?")
    desk.add_note(Actor.admin(1), ticket.id, "interno")
    desk.change_status(Actor.admin(1), ticket.id, "in_progress")
    with pytest.raises(sa.exc.IntegrityError):  # the fixed list of the old check
        _insert(engine, "ticket_transferred")
    with engine.connect() as connection:
        before = connection.execute(sa.text(ROWS)).fetchall()
    assert [row[1] for row in before] == ["ticket_created", "message_created", "note_created", "ticket_updated"]

    assert upgrade(engine).current == head_revision()
    with engine.connect() as connection:
        assert connection.execute(sa.text(ROWS)).fetchall() == before
        assert {c["name"] for c in sa.inspect(connection).get_columns("support_events")} >= {"data"}
    store = SQLStore(engine)
    assert [e.type for e in store.events_after(0)][:1] == [EventType.TICKET_CREATED]
    _insert(engine, "ticket_transferred")  # a feature's type: no rebuild needed any more
    for malformed in ("Ticket_Transferred", "1x", "with space", "x" * 49, "dash-ed"):
        with pytest.raises(sa.exc.IntegrityError):
            _insert(engine, malformed)
    # The triggers that append the core's entries still write to the (rebuilt) table.
    SupportDesk(store).post_message(Actor.user(7), ticket.id, "Sigo aquí")
    types = [str(e.type) for e in store.events_after(0)]
    assert types[-2:] == ["ticket_transferred", "message_created"]
    assert [str(e.type) for e in store.events_after(0, user_id=7)][-1] == "message_created"
    assert "ticket_transferred" not in [str(e.type) for e in store.events_after(0, user_id=7)]

    # Down and up again: feature entries go (the old check could not hold them), the rest stays.
    upgrade_down(engine)
    with engine.connect() as connection:
        kept = connection.execute(sa.text(ROWS)).fetchall()
    assert "ticket_transferred" not in [row[1] for row in kept] and kept[: len(before)] == before
    assert upgrade(engine).current == head_revision()
    _insert(engine, "sla_breached")


def upgrade_down(engine: sa.Engine) -> None:
    from alembic import command

    from supportchat.migrations import _config  # the package's Alembic configuration (tests only)

    with engine.begin() as connection:
        command.downgrade(_config(connection), BEFORE)
