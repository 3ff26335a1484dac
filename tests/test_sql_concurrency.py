"""Several processes writing to one database at once: no error, nothing lost, nothing doubled.

Four processes each create 500 tickets and post 500 messages; every fifth
message goes to one ticket they all share, so the version check and the
counters are contended too.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from supportchat import Actor, SupportDesk
from supportchat.numbers import TICKET_NUMBER_PATTERN
from supportchat.stores.sql import SQLStore

from .stores import migrated_sqlite_url, shared_postgres

WORKERS = 4
PER_WORKER = 500
SHARED_EVERY = 5
ADMIN = Actor.admin(1)


def write_load(url: str, connect_args: dict[str, Any], worker: int, shared_ticket: int) -> tuple[list[str], list[str]]:
    """One process's load; returns the ticket numbers it got and every error it saw."""
    store = SQLStore.from_url(url, migrate=False, connect_args=connect_args)
    desk = SupportDesk(store)
    user = Actor.user(1000 + worker)
    numbers: list[str] = []
    errors: list[str] = []
    try:
        for index in range(PER_WORKER):
            try:
                ticket = desk.create_ticket(user, subject=f"worker {worker} #{index}", description="load")
                numbers.append(ticket.ticket_number)
                if index % SHARED_EVERY == 0:
                    desk.post_message(ADMIN, shared_ticket, f"worker {worker} says {index}")
                else:
                    desk.post_message(user, ticket.id, f"message {index}")
            except Exception as error:  # every error is a finding
                errors.append(repr(error))
    finally:
        store.close()
    return numbers, errors


def run_load(url: str, connect_args: dict[str, Any]) -> None:
    store = SQLStore.from_url(url, migrate=False, connect_args=connect_args)
    desk = SupportDesk(store)
    shared = desk.create_ticket(ADMIN, subject="Shared", description="everyone writes here", user_id=1)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(WORKERS, mp_context=context) as pool:
        futures = [pool.submit(write_load, url, connect_args, worker, shared.id) for worker in range(WORKERS)]
        results = [future.result(timeout=240) for future in futures]
    try:
        errors = [error for _, worker_errors in results for error in worker_errors]
        assert errors == []
        numbers = [number for worker_numbers, _ in results for number in worker_numbers]
        assert len(numbers) == len(set(numbers)) == WORKERS * PER_WORKER
        assert all(TICKET_NUMBER_PATTERN.match(number) for number in numbers)

        shared_messages = WORKERS * PER_WORKER // SHARED_EVERY
        own_messages = WORKERS * PER_WORKER - shared_messages
        after = store.get_ticket(shared.id)
        assert after is not None
        # Every message bumped the shared ticket's version once: none lost.
        assert after.message_count == after.version == shared_messages
        assert after.unread_from_admin == shared_messages
        stats = store.statistics()
        assert stats.total_tickets == WORKERS * PER_WORKER + 1
        assert stats.by_status["open"] == WORKERS * PER_WORKER + 1
        assert stats.unread_messages == own_messages
        with store.engine.connect() as connection:
            count = connection.exec_driver_sql
            assert count("SELECT count(*) FROM support_messages").scalar_one() == WORKERS * PER_WORKER
            assert count("SELECT count(*) FROM support_events").scalar_one() == 2 * WORKERS * PER_WORKER + 1
            assert count("SELECT sum(message_count) FROM support_tickets").scalar_one() == WORKERS * PER_WORKER
    finally:
        store.close()


@pytest.mark.slow
def test_four_processes_on_one_sqlite_file(tmp_path: Path) -> None:
    run_load(migrated_sqlite_url(tmp_path / "shared.db"), {})


@pytest.mark.slow
@pytest.mark.postgres
def test_four_processes_on_postgres(request: pytest.FixtureRequest) -> None:
    run_load(*shared_postgres(request))
