"""Writes to one SQLite file: one writer lane per process, one connection set-up everywhere.

The lane's promise is that the threads of one process never meet at SQLite's
write lock (where the losers would sleep in the busy handler). With the busy
timeout at zero, any such meeting is an immediate "database is locked", so a
load of concurrent writers without a single error shows they took turns in
the lane instead.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest

from supportchat import Actor, SupportDesk
from supportchat.errors import TicketNumberTaken
from supportchat.migrations import upgrade
from supportchat.models import NewTicket
from supportchat.sqlschema.engine import connect_sqlite, writer_lane
from supportchat.stores._journal import Journal
from supportchat.stores.admin_tokens import SQLAdminTokens
from supportchat.stores.sql import SQLStore, create_engine

THREADS = 16
PER_THREAD = 25


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "lane.db"
    engine = create_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


def _hammer(work: Callable[[int, int], object]) -> list[str]:
    """Run ``work(thread, index)`` from THREADS threads at once; every error it raised."""
    start = threading.Barrier(THREADS)
    errors: list[str] = []

    def run(thread: int) -> None:
        start.wait()
        for index in range(PER_THREAD):
            try:
                work(thread, index)
            except Exception as error:  # every error is a finding
                errors.append(repr(error))

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(run, range(THREADS)))
    return errors


def test_threads_of_one_process_take_turns_instead_of_meeting_at_sqlites_lock(database: Path) -> None:
    store = SQLStore.from_url(f"sqlite:///{database}", migrate=False, busy_timeout=0)
    desk = SupportDesk(store)
    try:

        def work(thread: int, index: int) -> None:
            user = Actor.user(100 + thread)
            ticket = desk.create_ticket(user, subject=f"thread {thread} #{index}", description="load")
            desk.post_message(user, ticket.id, "and a message")

        assert _hammer(work) == []
        statistics = store.statistics()
        assert statistics.total_tickets == THREADS * PER_THREAD
    finally:
        store.close()


def test_every_engine_and_the_admin_registry_on_one_file_share_its_lane(database: Path) -> None:
    # The same file under two spellings, through two engines, and the admin
    # registry's own (SQLAlchemy Connection) write path.
    first = SQLStore.from_url(f"sqlite:///{database}", migrate=False, busy_timeout=0)
    second = SQLStore.from_url(f"sqlite:///{database.parent / '.' / database.name}", migrate=False, busy_timeout=0)
    admins = SQLAdminTokens(first.engine)
    try:

        def work(thread: int, index: int) -> None:
            if thread % 4 == 0:
                admins.create(f"admin-{thread}-{index}")
            else:
                desk = SupportDesk(first if thread % 2 else second)
                desk.create_ticket(Actor.user(thread), subject=f"#{index}", description="load")

        assert _hammer(work) == []
        assert first.statistics().total_tickets == THREADS * PER_THREAD * 3 // 4
        assert len(admins.list()) == THREADS * PER_THREAD // 4
    finally:
        first.close()
        second.close()


def test_a_refused_write_gives_the_lane_back(database: Path) -> None:
    store = SQLStore.from_url(f"sqlite:///{database}", migrate=False, busy_timeout=0)
    desk = SupportDesk(store)
    try:
        ticket = desk.create_ticket(Actor.user(1), subject="first", description="x")
        clash = NewTicket(**ticket.model_dump(include=set(NewTicket.model_fields) - {"id"}))
        with pytest.raises(TicketNumberTaken):
            store.insert_ticket(clash)
        lane = writer_lane(database)
        assert lane._lock.acquire(timeout=1), "the lane was left held by the refused write"
        lane.release()
        desk.create_ticket(Actor.user(1), subject="second", description="x")
    finally:
        store.close()


def _process_load(url: str, worker: int) -> list[str]:
    store = SQLStore.from_url(url, migrate=False)
    desk = SupportDesk(store)
    try:
        return _hammer(
            lambda thread, index: desk.create_ticket(
                Actor.user(1000 * worker + thread), subject=f"{worker}/{thread}/{index}", description="load"
            )
        )
    finally:
        store.close()


def test_two_processes_of_writing_threads_on_one_file_lose_nothing(database: Path) -> None:
    url = f"sqlite:///{database}"
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(_process_load, [url, url], [1, 2], timeout=120))
    assert results == [[], []]
    store = SQLStore.from_url(url, migrate=False)
    try:
        assert store.statistics().total_tickets == 2 * THREADS * PER_THREAD
    finally:
        store.close()


def _settings(connection: sqlite3.Connection) -> dict[str, object]:
    return {
        name: connection.execute(f"PRAGMA {name}").fetchone()[0]
        for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
    }


def test_every_sqlite_file_is_set_up_by_the_one_function(database: Path, tmp_path: Path) -> None:
    expected = {"journal_mode": "wal", "synchronous": 1, "foreign_keys": 1, "busy_timeout": 30_000}
    store = SQLStore.from_url(f"sqlite:///{database}", migrate=False)
    journal = Journal(tmp_path / "journal.db")
    durable = Journal(tmp_path / "durable.db", synchronous="FULL")
    direct = connect_sqlite(tmp_path / "direct.db")
    try:
        raw = store.engine.raw_connection()
        try:
            assert _settings(raw.driver_connection) == expected  # type: ignore[arg-type]
            assert raw.driver_connection.isolation_level is None  # type: ignore[union-attr]
        finally:
            raw.close()
        assert _settings(journal._db) == expected
        assert _settings(durable._db) == {**expected, "synchronous": 2}
        assert _settings(direct) == expected
    finally:
        store.close()
        journal.close()
        durable.close()
        direct.close()
