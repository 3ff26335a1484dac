"""The SQLite search index fed in batches (``0018_search_by_ticket``): never a row unsearchable, never a stale one.

Rows are written, changed and deleted (through the store and around it, with
plain ``sqlite3``), with the index taking the pending rows at arbitrary
moments; after every step each query gives what the reference matcher gives
over the rows as they are.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportchat.models import TicketQuery
from supportchat.search import matches, parse_search
from supportchat.sqlschema.search import PENDING, PUBLIC_INDEX, STAFF_INDEX, WORDS
from supportchat.stores import sql as sql_store
from supportchat.stores.sql import SQLiteStore

from .test_store_contract import new_message, new_ticket

WORDS_USED = ["reembolso", "reembolsó", "refund", "vuelo", "flight", "tarjeta", "compensación", "compensation"]
QUERIES = ["reembolso", "reem", "refund vuelo", "compens", "tarjeta flight", "vuelo", "zzz"]

text = st.lists(st.sampled_from(WORDS_USED), min_size=1, max_size=4).map(" ".join)
step = st.one_of(
    st.tuples(st.just("ticket"), text),
    st.tuples(st.just("message"), st.integers(0, 30), text),
    st.tuples(st.just("edit-subject"), st.integers(0, 30), text),
    st.tuples(st.just("delete-message"), st.integers(0, 60)),
    st.tuples(st.just("drain")),
)


def _texts(path: Path) -> dict[int, list[str]]:
    with sqlite3.connect(path) as db:
        found = {tid: [f"{s} {d}"] for tid, s, d in db.execute("SELECT id, subject, description FROM support_tickets")}
        for tid, message in db.execute("SELECT ticket_id, message FROM support_messages ORDER BY id"):
            found[tid].append(message)
    db.close()
    return found


def _check(store: SQLiteStore, path: Path) -> None:
    texts = _texts(path)
    for q in QUERIES:
        terms = parse_search(q).terms
        expected = {t for t, sources in texts.items() if matches(sources, terms)}
        items, total = store.list_tickets(TicketQuery(q=q, per_page=1000))
        assert {t.id for t in items} == expected and total == len(expected), q


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=25))
def test_every_row_is_found_by_its_words_pending_or_indexed(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, steps: list[tuple[object, ...]]
) -> None:
    monkeypatch.setattr(sql_store, "DRAIN_EVERY", 10**9)  # drained only where the steps say
    path = tmp_path_factory.mktemp("index") / "desk.db"
    store = SQLiteStore(path)
    try:
        tickets: list[int] = []
        for number, (kind, *args) in enumerate(steps):
            if kind == "ticket":
                (subject,) = args
                ticket = store.insert_ticket(new_ticket(f"TKT-{number:08d}", subject=subject, description="x"))
                tickets.append(ticket.id)
            elif kind == "message" and tickets:
                at, body = args
                ticket = store.get_ticket(tickets[int(at) % len(tickets)])
                assert ticket is not None
                store.insert_message(
                    new_message(ticket.id, f"m{number}", message=body), expected_version=ticket.version, changes={}
                )
            elif kind == "edit-subject" and tickets:
                at, subject = args
                with sqlite3.connect(path) as db:  # around supportchat: the triggers keep the index right
                    db.execute(
                        "UPDATE support_tickets SET subject = ? WHERE id = ?",
                        (subject, tickets[int(at) % len(tickets)]),
                    )
                db.close()
            elif kind == "delete-message":
                (at,) = args
                with sqlite3.connect(path) as db:
                    ids = [row[0] for row in db.execute("SELECT id FROM support_messages ORDER BY id")]
                    if ids:
                        db.execute("DELETE FROM support_messages WHERE id = ?", (ids[int(at) % len(ids)],))
                db.close()
            elif kind == "drain":
                store.index_pending_rows()  # the moment the index takes the batch
            _check(store, path)
    finally:
        store.close()


def test_the_index_takes_pending_rows_in_batches_and_learns_their_words(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "desk.db")
    try:
        for index in range(sql_store.DRAIN_EVERY - 1):
            store.insert_ticket(new_ticket(f"TKT-{index:08d}", subject="compensación", description=f"n{index}"))
        with sqlite3.connect(tmp_path / "desk.db") as db:
            assert db.execute(f"SELECT count(*) FROM {PENDING}").fetchone() == (sql_store.DRAIN_EVERY - 1,)
            assert db.execute(f"SELECT count(*) FROM {WORDS} WHERE word = 'compensacion'").fetchone() == (0,)
        db.close()
        assert store.list_tickets(TicketQuery(q="compens"))[1] == sql_store.DRAIN_EVERY - 1  # pending, found
        store.insert_ticket(new_ticket("TKT-99999999", subject="compensation", description="last"))
        with sqlite3.connect(tmp_path / "desk.db") as db:
            assert db.execute(f"SELECT count(*) FROM {PENDING}").fetchone() == (0,)
            learned = {w for (w,) in db.execute(f"SELECT word FROM {WORDS} WHERE word LIKE 'compens%'")}
            assert learned == {"compensacion", "compensation"}
            indexed = db.execute(
                f"SELECT count(*) FROM {PUBLIC_INDEX} WHERE {PUBLIC_INDEX} MATCH 'compens*'"
            ).fetchone()
            assert indexed == (sql_store.DRAIN_EVERY,)
            assert db.execute(
                f"SELECT count(*) FROM {STAFF_INDEX} WHERE {STAFF_INDEX} MATCH 'compens*'"
            ).fetchone() == (0,)
        db.close()
        assert store.list_tickets(TicketQuery(q="compens"))[1] == sql_store.DRAIN_EVERY
    finally:
        store.close()
