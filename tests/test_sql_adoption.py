"""Adopting a database the original system created, with its exact CREATE TABLE statements."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from supportchat import Actor, SupportDesk, TicketStatus
from supportchat.migrations import head_revision, status
from supportchat.numbers import TICKET_NUMBER_PATTERN
from supportchat.stores.sql import SQLiteStore

from .helpers import ADMIN

# Verbatim from the seed (seed/000_24361e9898bf2951.md, "Base de Datos").
SEED_TICKETS = """
CREATE TABLE support_tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_number TEXT UNIQUE NOT NULL,  -- TKT-XXXXXXXX
    user_id INTEGER NOT NULL,
    subject TEXT NOT NULL,
    description TEXT NOT NULL,
    priority TEXT DEFAULT 'medium',  -- low, medium, high, urgent
    status TEXT DEFAULT 'open',  -- open, in_progress, resolved, closed
    category TEXT DEFAULT 'general',  -- general, technical, billing, flight, order
    assigned_to INTEGER,  -- admin user id
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    resolved_at TIMESTAMP,
    FOREIGN KEY (user_id) REFERENCES users (id)
)
"""
SEED_MESSAGES = """
CREATE TABLE support_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id INTEGER NOT NULL,
    sender_id INTEGER NOT NULL,
    sender_type TEXT NOT NULL,  -- user, admin
    message TEXT NOT NULL,
    message_type TEXT DEFAULT 'text',  -- text, image, file
    file_url TEXT,
    is_read BOOLEAN DEFAULT 0,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    FOREIGN KEY (ticket_id) REFERENCES support_tickets (id)
)
"""

LEGACY_TICKETS = [
    # id, number, user, subject, description, priority, status, category, assigned, created, updated, resolved
    (
        1,
        "TKT-20240105-0001",
        7,
        "Login fails",
        "Cannot log in",
        "high",
        "open",
        "technical",
        None,
        "2024-01-05 10:00:00",
        "2024-01-05 10:05:00",
        None,
    ),
    (
        2,
        "TKT-A1B2C3",
        7,
        "Refund",
        "Charged twice",
        "urgent",
        "resolved",
        "billing",
        3,
        "2024-01-06 08:30:00",
        "2024-01-07 09:00:00",
        "2024-01-07 09:00:00",
    ),
    (
        5,
        "TKT-0A1B2C3D",
        8,
        "Flight moved",
        "New time?",
        "medium",
        "in_progress",
        "flight",
        3,
        "2024-02-01 12:00:00",
        "2024-02-01 12:00:00",
        None,
    ),
]
LEGACY_MESSAGES = [
    # id, ticket, sender, sender_type, message, message_type, file_url, is_read, created
    (1, 1, 7, "user", "Still broken", "text", None, 0, "2024-01-05 10:01:00"),
    (2, 1, 3, "admin", "Looking into it", "text", None, 0, "2024-01-05 10:02:00"),
    (3, 1, 7, "user", "Thanks", "text", None, 1, "2024-01-05 10:03:00"),
    (4, 2, 7, "user", "Receipt", "image", "https://example.com/r.png", 0, "2024-01-06 08:31:00"),
    (9, 5, 8, "user", "Hello?", "text", None, 1, "2024-02-01 12:01:00"),
]


def seed_database(path: Path, tickets: list[tuple[object, ...]] = LEGACY_TICKETS) -> None:
    """A database as the original system left it (its connections never enabled foreign keys)."""
    with sqlite3.connect(path) as connection:
        connection.execute(SEED_TICKETS)
        connection.execute(SEED_MESSAGES)
        connection.executemany("INSERT INTO support_tickets VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", tickets)
        connection.executemany("INSERT INTO support_messages VALUES (?,?,?,?,?,?,?,?,?)", LEGACY_MESSAGES)
        # Defaults as the seed's code relied on them: no timestamps, no is_read.
        connection.execute(
            "INSERT INTO support_messages (id, ticket_id, sender_id, sender_type, message) "
            "VALUES (10, 5, 3, 'admin', 'On it')"
        )
        # A message whose ticket was deleted long ago.
        connection.execute(
            "INSERT INTO support_messages (id, ticket_id, sender_id, sender_type, message) "
            "VALUES (11, 99, 7, 'user', 'Orphan')"
        )
    connection.close()


@pytest.fixture
def legacy(tmp_path: Path) -> Path:
    path = tmp_path / "legacy.db"
    seed_database(path)
    return path


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_old_rows_read_through_the_desk(legacy: Path) -> None:
    store = SQLiteStore(legacy)
    desk = SupportDesk(store)
    try:
        for row in LEGACY_TICKETS:
            ticket = desk.get_ticket(ADMIN, row[1], mark_read=False)
            assert (ticket.id, ticket.ticket_number, ticket.user_id, ticket.subject) == row[:4]
            assert (ticket.priority, ticket.status, ticket.category, ticket.assigned_to) == row[5:9]
            assert ticket.created_at == utc(row[9]) and ticket.updated_at == utc(row[10])
            assert ticket.resolved_at == (None if row[11] is None else utc(row[11]))
        first = desk.get_ticket(ADMIN, 1, mark_read=False)
        assert [(m.id, m.is_read) for m in first.messages] == [(1, False), (2, False), (3, True)]
        assert first.messages[0].created_at == utc("2024-01-05 10:01:00")
        assert first.unread_count == 1
        receipt = desk.get_ticket(ADMIN, 2, mark_read=False).messages[0]
        assert (receipt.message_type, receipt.file_url) == ("image", "https://example.com/r.png")
        defaulted = desk.get_ticket(ADMIN, 5, mark_read=False).messages[-1]
        assert defaulted.is_read is False and defaulted.message_type == "text"
        assert defaulted.created_at.tzinfo is UTC
        # The counters were computed from the rows.
        stored = store.get_ticket(1)
        assert stored is not None
        assert (stored.message_count, stored.unread_from_user, stored.unread_from_admin) == (3, 1, 1)
    finally:
        store.close()


def test_old_rows_are_in_the_search_index(legacy: Path) -> None:
    store = SQLiteStore(legacy)
    desk = SupportDesk(store)
    assert [t.id for t in desk.list_tickets(ADMIN, q="broken").items] == [1]  # a message's word
    assert [t.id for t in desk.list_tickets(ADMIN, q="refund").items] == [2]  # a subject's
    assert desk.list_tickets(ADMIN, q="tkt-a1b2c3").items[0].id == 2  # an old-form number, in lower case
    store.close()


def test_statistics_count_the_old_rows(legacy: Path) -> None:
    store = SQLiteStore(legacy)
    try:
        stats = store.statistics()
        assert stats.total_tickets == 3
        assert stats.by_status == {"open": 1, "in_progress": 1, "resolved": 1, "closed": 0}
        assert stats.by_priority == {"low": 0, "medium": 1, "high": 1, "urgent": 1}
        assert stats.by_category == {"general": 0, "technical": 1, "billing": 1, "flight": 1, "order": 0}
        assert stats.unread_messages == 2  # messages 1 and 4
    finally:
        store.close()


def test_new_tickets_get_new_numbers_and_ids(legacy: Path) -> None:
    store = SQLiteStore(legacy)
    desk = SupportDesk(store)
    try:
        # The seed's foreign key to a `users` table that does not exist is gone.
        ticket = desk.create_ticket(Actor.user(7), subject="Another", description="Problem")
        assert TICKET_NUMBER_PATTERN.match(ticket.ticket_number)
        assert ticket.id == 6
        desk.post_message(Actor.user(7), "TKT-20240105-0001", "Any news?")
        assert desk.get_ticket(ADMIN, 1).message_count == 4
        assert store.statistics().total_tickets == 4
        assert store.statistics().unread_messages == 1  # the admin opened ticket 1: only 4 is unread
    finally:
        store.close()


def test_old_resolved_tickets_are_auto_closed(legacy: Path) -> None:
    store = SQLiteStore(legacy)
    desk = SupportDesk(store, clock=lambda: datetime(2024, 1, 20, tzinfo=UTC))
    try:
        closed = desk.close_resolved(older_than=timedelta(days=7))
        assert [t.ticket_number for t in closed] == ["TKT-A1B2C3"]
        assert desk.get_ticket(ADMIN, 2).status is TicketStatus.CLOSED
    finally:
        store.close()


def test_orphaned_messages_are_kept_aside(legacy: Path) -> None:
    SQLiteStore(legacy).close()
    with sqlite3.connect(legacy) as connection:
        rows = connection.execute("SELECT id, message FROM support_messages_orphaned").fetchall()
        assert rows == [(11, "Orphan")]
        assert connection.execute("SELECT count(*) FROM support_messages WHERE id = 11").fetchone() == (0,)
    connection.close()


def test_adoption_runs_once(legacy: Path) -> None:
    SQLiteStore(legacy).close()
    store = SQLiteStore(legacy)
    try:
        assert status(store.engine).current == head_revision()
        assert store.statistics().total_tickets == 3
    finally:
        store.close()


def test_unknown_enumerations_stop_the_adoption_and_change_nothing(tmp_path: Path) -> None:
    path = tmp_path / "odd.db"
    odd = [*LEGACY_TICKETS[:2], (5, "TKT-X", 8, "S", "D", "medium", "pending", "flight", None, None, None, None)]
    seed_database(path, odd)
    with pytest.raises(RuntimeError, match=r"support_tickets\.status holds 'pending'"):
        SQLiteStore(path)
    with sqlite3.connect(path) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert tables == {"support_tickets", "support_messages", "sqlite_sequence"}
        assert connection.execute("SELECT count(*) FROM support_tickets").fetchone() == (3,)
    connection.close()
