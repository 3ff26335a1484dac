"""The SQL shipped for Supabase: packaged, idempotent, and adopting the seed's tables with nothing lost."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest

from supportchat import Actor, SupportDesk
from supportchat.models import TicketStatus
from supportchat.sql import supabase_sql
from supportchat.sqlschema.search import POSTGRES_CONFIG, SOURCES

from .postgrest_emulator import EmulatedProject
from .postgrest_emulator.session import require_postgres, shared_project

# The seed's two tables as PostgreSQL spells them, and a users table for its foreign key.
SEED_TABLES = """
create table users (id integer primary key);
insert into users values (1), (2);
create table support_tickets (
    id serial primary key,
    ticket_number text unique not null,
    user_id integer not null,
    subject text not null,
    description text not null,
    priority text default 'medium',
    status text default 'open',
    category text default 'general',
    assigned_to integer,
    created_at timestamp default current_timestamp,
    updated_at timestamp default current_timestamp,
    resolved_at timestamp,
    foreign key (user_id) references users (id)
);
create table support_messages (
    id serial primary key,
    ticket_id integer not null,
    sender_id integer not null,
    sender_type text not null,
    message text not null,
    message_type text default 'text',
    file_url text,
    is_read boolean default false,
    created_at timestamp default current_timestamp,
    foreign key (ticket_id) references support_tickets (id)
);
insert into support_tickets (ticket_number, user_id, subject, description, priority, status, category,
                             created_at, updated_at)
values ('TKT-20240101-ol', 1, 'Old one', 'from the seed app', 'high', 'in_progress', 'flight',
        '2024-01-01 10:00:00', '2024-01-02 11:00:00');
insert into support_messages (ticket_id, sender_id, sender_type, message, is_read, created_at)
values (1, 1, 'user', 'first', false, '2024-01-01 10:05:00'),
       (1, 9, 'admin', 'answer', true, '2024-01-01 10:06:00'),
       (1, 1, 'user', 'second', false, '2024-01-01 10:07:00');
-- A row written by hand with NULLs where the seed only had defaults.
insert into support_tickets (ticket_number, user_id, subject, description, priority, status, category,
                             created_at, updated_at)
values ('TKT-LEGACY02', 2, 'Nulls', 'left empty', null, null, null, '2024-02-01 09:00:00', null);
insert into support_messages (ticket_id, sender_id, sender_type, message, message_type, is_read, created_at)
values (2, 2, 'user', 'hello?', null, null, '2024-02-01 09:01:00');
"""


def test_the_sql_ships_inside_the_package() -> None:
    text = supabase_sql()
    for needle in (
        "create table if not exists public.support_tickets",
        "enable row level security",
        "alter publication supabase_realtime add table",
        "function public.support_insert_message",
    ):
        assert needle in text


@pytest.mark.postgres
def test_the_search_index_is_the_migrations_own() -> None:
    """The shipped SQL indexes and queries the very expressions the PostgreSQL migration does."""
    sql = supabase_sql()
    aliases = {"support_tickets": "t", "support_messages": "m", "support_ticket_notes": "n"}
    for source in SOURCES:
        for alias in (aliases[source.table], aliases[source.table] + "2", "x"):
            vector = source.postgres_vector(alias).replace(f"'{POSTGRES_CONFIG}'", f"'public.{POSTGRES_CONFIG}'")
            if alias == "x":
                assert vector.replace("x.", "") in sql, source.table
            else:
                assert vector in sql, (source.table, alias)


def test_running_the_sql_again_keeps_every_row(request: pytest.FixtureRequest) -> None:
    project = shared_project(request)
    project.reset()
    desk = SupportDesk(project.store())
    ticket = desk.create_ticket(Actor.user(1), subject="Kept", description="across a re-run")
    desk.post_message(Actor.user(1), ticket.id, "still here")
    with psycopg.connect(project.database.dsn, autocommit=True) as conn:
        conn.execute(supabase_sql().encode())
    again = desk.get_ticket(Actor.admin(5), ticket.id)
    with psycopg.connect(project.database.dsn) as conn:
        published = conn.execute(
            "select tablename from pg_publication_tables where pubname = 'supabase_realtime' order by 1"
        ).fetchall()
    assert published == [("support_messages",), ("support_tickets",)]
    assert again.subject == "Kept" and again.message_count == 1
    assert [m.message for m in again.messages] == ["still here"]


@pytest.mark.postgres
def test_the_seeds_tables_are_adopted_with_nothing_lost() -> None:
    require_postgres()
    with EmulatedProject.create(existing_sql=SEED_TABLES) as project:
        store = project.store()
        legacy = store.get_ticket_by_number("TKT-20240101-ol")
        assert legacy is not None
        assert (legacy.subject, legacy.priority, legacy.status, legacy.category) == (
            "Old one",
            "high",
            TicketStatus.IN_PROGRESS,
            "flight",
        )
        # TIMESTAMP values were UTC; they stay the same instants.
        assert legacy.created_at == datetime(2024, 1, 1, 10, 0, tzinfo=UTC)
        assert (legacy.message_count, legacy.unread_from_user, legacy.unread_from_admin) == (3, 2, 0)
        assert [m.message for m in store.list_messages(legacy.id)] == ["first", "answer", "second"]
        assert store.statistics().unread_messages == 3
        nulls = store.get_ticket_by_number("TKT-LEGACY02")
        assert nulls is not None
        assert (nulls.priority, nulls.status, nulls.category) == ("medium", "open", "general")
        assert nulls.updated_at == nulls.created_at == datetime(2024, 2, 1, 9, 0, tzinfo=UTC)
        [hello] = store.list_messages(nulls.id)
        assert (hello.message_type, hello.is_read) == ("text", False)
        # And the adopted tables take new writes through the functions.
        desk = SupportDesk(store)
        reply = desk.post_message(Actor.admin(9), legacy.id, "we are on it")
        assert reply.id == 5
        fresh = desk.create_ticket(Actor.user(2), subject="New", description="after adoption")
        assert fresh.id == 3
        with psycopg.connect(project.database.dsn) as conn:
            kinds = conn.execute(
                "select data_type from information_schema.columns"
                " where table_name = 'support_tickets' and column_name = 'created_at'"
            ).fetchone()
        assert kinds == ("timestamp with time zone",)


@pytest.mark.postgres
def test_explicit_ids_move_the_sequences_forward_never_back(request: pytest.FixtureRequest) -> None:
    """A replayed write keeps the id a client was given; later ids never collide with it."""
    from supportchat.models import Category, MessageType, NewMessage, NewTicket, Priority, SenderType

    project = shared_project(request)
    project.reset()
    store = project.store()
    now = datetime(2026, 1, 1, tzinfo=UTC)

    def ticket(number: str, ticket_id: int | None = None) -> NewTicket:
        return NewTicket(ticket_number=number, user_id=1, subject="s", description="d", priority=Priority.LOW,
                         category=Category.GENERAL, created_at=now, updated_at=now, id=ticket_id)  # fmt: skip

    assert store.insert_ticket(ticket("TKT-00000001", 40)).id == 40
    assert store.insert_ticket(ticket("TKT-00000002")).id == 41
    assert store.insert_ticket(ticket("TKT-00000003", 7)).id == 7
    # A lower explicit id leaves the sequence where it was (reserving may skip one value).
    assert store.insert_ticket(ticket("TKT-00000004")).id in (42, 43)
    message = NewMessage(ticket_id=40, sender_id=1, sender_type=SenderType.USER, message="m",
                         message_type=MessageType.TEXT, file_url=None, created_at=now, uid="a", id=90)  # fmt: skip
    version = store.get_ticket(40).version  # type: ignore[union-attr]
    assert store.insert_message(message, expected_version=version, changes={}).id == 90
    follow_up = message.model_copy(update={"uid": "b", "id": None})
    assert store.insert_message(follow_up, expected_version=version + 1, changes={}).id == 91


@pytest.mark.parametrize(("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_an_unreachable_server_skips_outside_ci_and_fails_in_it(
    monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="unreachable"):
        require_postgres("postgresql://postgres@127.0.0.1:1/test")
