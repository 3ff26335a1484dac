"""The SQL shipped for Supabase: packaged, idempotent, and adopting the seed's tables with nothing lost."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest

from supportchat import Actor, SupportDesk
from supportchat.models import TicketStatus
from supportchat.sql import supabase_sql

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
        assert store.statistics().unread_messages == 2
        # And the adopted tables take new writes through the functions.
        desk = SupportDesk(store)
        reply = desk.post_message(Actor.admin(9), legacy.id, "we are on it")
        assert reply.id == 4
        fresh = desk.create_ticket(Actor.user(2), subject="New", description="after adoption")
        assert fresh.id == 2
        with psycopg.connect(project.database.dsn) as conn:
            kinds = conn.execute(
                "select data_type from information_schema.columns"
                " where table_name = 'support_tickets' and column_name = 'created_at'"
            ).fetchone()
        assert kinds == ("timestamp with time zone",)
