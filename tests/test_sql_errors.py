"""Driver errors come out of the SQL store as supportchat's errors, retryable or not."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from supportchat import SupportDesk
from supportchat.errors import (
    StorageError,
    StorageUnavailable,
    TicketIdTaken,
    TicketNotFound,
)
from supportchat.models import Category, MessageType, NewMessage, NewTicket, Priority, SenderType
from supportchat.stores._sql_errors import translate
from supportchat.stores.sql import SQLStore

from .helpers import ALICE, open_ticket
from .stores import BACKEND_MARKS, BACKENDS, postgres_engine

NOW = datetime(2026, 1, 1, tzinfo=UTC)
SQL_BACKENDS = ["sqlite-file", "sqlite-memory", "postgres"]


@pytest.fixture(params=[pytest.param(name, marks=BACKEND_MARKS.get(name, [])) for name in SQL_BACKENDS])
def sql_store(request: pytest.FixtureRequest) -> Iterator[SQLStore]:
    with BACKENDS[request.param](request) as make:  # type: ignore[attr-defined]
        store = make()
        assert isinstance(store, SQLStore)
        yield store
        store.close()


def new_ticket(number: str = "TKT-00000001", **fields: object) -> NewTicket:
    values: dict[str, object] = {
        "ticket_number": number,
        "user_id": 1,
        "subject": "s",
        "description": "d",
        "priority": Priority.LOW,
        "category": Category.GENERAL,
        "created_at": NOW,
        "updated_at": NOW,
    }
    return NewTicket(**(values | fields))  # type: ignore[arg-type]


def test_locked_sqlite_is_unavailable_and_writes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    store = SQLStore.from_url(url, busy_timeout=0.2)
    holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(StorageUnavailable) as caught:
            SupportDesk(store).create_ticket(ALICE, subject="s", description="d")
        assert caught.value.retryable and "locked" in caught.value.message
        holder.execute("ROLLBACK")
        assert store.statistics().total_tickets == 0
        assert store.events_after(0) == []
        assert open_ticket(SupportDesk(store)).id == 1  # and the store works once the lock is gone
    finally:
        holder.close()
        store.close()


def test_unreachable_postgres_is_unavailable() -> None:
    # Nothing listens on the discard port; the connection is refused at once.
    store = SQLStore.from_url("postgresql+psycopg://postgres@127.0.0.1:9/test", migrate=False)
    try:
        with pytest.raises(StorageUnavailable) as caught:
            store.get_ticket(1)
        assert caught.value.status == 503
    finally:
        store.close()


def test_unopenable_sqlite_file_is_unavailable(tmp_path: Path) -> None:
    store = SQLStore.from_url(f"sqlite:///{tmp_path / 'missing' / 'folder' / 'x.db'}", migrate=False)
    try:
        with pytest.raises(StorageUnavailable):
            store.statistics()
    finally:
        store.close()


def test_taken_ticket_id_is_a_taken_id_not_a_taken_number(sql_store: SQLStore) -> None:
    sql_store.insert_ticket(new_ticket("TKT-00000001", id=7))
    with pytest.raises(TicketIdTaken):
        sql_store.insert_ticket(new_ticket("TKT-00000002", id=7))
    # The id sequence moved past the explicit id on every database.
    assert sql_store.insert_ticket(new_ticket("TKT-00000003")).id == 8


def test_message_for_a_missing_ticket_is_not_found(sql_store: SQLStore) -> None:
    message = NewMessage(
        ticket_id=404,
        sender_id=1,
        sender_type=SenderType.USER,
        message="hi",
        message_type=MessageType.TEXT,
        file_url=None,
        created_at=NOW,
        uid="u-1",
    )
    with pytest.raises(TicketNotFound):
        sql_store.insert_message(message, expected_version=0, changes={})
    assert sql_store.get_message_by_uid("u-1") is None


def test_other_integrity_errors_are_plain_storage_errors(sql_store: SQLStore) -> None:
    bad = sa.text(
        "INSERT INTO support_tickets (ticket_number, user_id, subject, description, status) "
        "VALUES ('TKT-00000009', 1, 's', 'd', 'pending')"
    )
    with pytest.raises(sa.exc.IntegrityError) as caught, sql_store.engine.begin() as connection:
        connection.execute(bad)
    error = translate(caught.value)
    assert type(error) is StorageError
    assert not error.retryable


def test_unknown_exceptions_are_not_swallowed() -> None:
    with pytest.raises(KeyError):
        translate(KeyError("not a database error"))


@pytest.mark.postgres
def test_lost_postgres_connection_is_unavailable_then_replaced(request: pytest.FixtureRequest) -> None:
    shared = postgres_engine(request)
    with shared.connect() as connection:
        schema = connection.exec_driver_sql("SELECT current_schema()").scalar_one()
    name = f"supportchat-{uuid.uuid4().hex[:8]}"
    store = SQLStore.from_url(
        shared.url.render_as_string(hide_password=False),
        connect_args={"options": f"-c search_path={schema}", "application_name": name},
        pool_size=1,
        max_overflow=0,
    )
    try:
        store.statistics()  # the pool now holds one open connection
        with shared.connect() as connection:
            killed = connection.exec_driver_sql(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %(name)s",
                {"name": name},
            ).scalar_one()
        assert killed == 1
        with pytest.raises(StorageUnavailable):
            store.statistics()
        assert store.statistics().total_tickets >= 0  # the broken connection was replaced
    finally:
        store.close()
