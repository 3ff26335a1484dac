"""The statistics counters always equal a recount of the rows, whatever happened before."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportchat import Actor, SupportDesk
from supportchat.errors import InvalidTransition, TicketClosed
from supportchat.models import Category, Priority, Statistics, TicketStatus
from supportchat.stores.sql import SQLStore

from .stores import BACKEND_MARKS, BACKENDS, StoreMaker

SQL_BACKENDS = ["sqlite-memory", "postgres"]
ADMIN = Actor.admin(9)

RECOUNT = {
    "by_status": "SELECT status, count(*) FROM support_tickets GROUP BY status",
    "by_priority": "SELECT priority, count(*) FROM support_tickets GROUP BY priority",
    "by_category": "SELECT category, count(*) FROM support_tickets GROUP BY category",
}
UNREAD = (
    "SELECT count(*) FROM support_messages AS m JOIN support_tickets AS t ON t.id = m.ticket_id "
    "WHERE m.sender_type = 'user' AND m.is_read = false"
)


@pytest.fixture(params=[pytest.param(name, marks=BACKEND_MARKS.get(name, [])) for name in SQL_BACKENDS])
def make_sql_store(request: pytest.FixtureRequest) -> Iterator[StoreMaker]:
    with BACKENDS[request.param](request) as make:  # type: ignore[attr-defined]
        yield make


def recount(store: SQLStore) -> Statistics:
    """The statistics computed from the rows themselves, ignoring every counter."""
    with store.engine.connect() as connection:
        groups = {key: dict(connection.exec_driver_sql(sql).all()) for key, sql in RECOUNT.items()}
        unread = connection.exec_driver_sql(UNREAD).scalar_one()
    return Statistics.from_counts(**groups, unread_messages=unread)


users = st.integers(min_value=1, max_value=3)
tickets = st.integers(min_value=0, max_value=7)  # index into the tickets created so far
create = st.tuples(st.just("create"), users, st.sampled_from(Priority), st.sampled_from(Category))
operation = st.one_of(
    create,
    st.tuples(st.just("user_message"), tickets),
    st.tuples(st.just("admin_message"), tickets),
    st.tuples(st.just("status"), tickets, st.sampled_from(TicketStatus)),
    st.tuples(st.just("priority"), tickets, st.sampled_from(Priority)),
    st.tuples(st.just("admin_opens"), tickets),
    st.tuples(st.just("owner_opens"), tickets),
)


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.lists(create, min_size=1, max_size=3), then=st.lists(operation, min_size=1, max_size=30))
def test_statistics_equal_a_recount(
    make_sql_store: StoreMaker, first: list[tuple[object, ...]], then: list[tuple[object, ...]]
) -> None:
    store = make_sql_store()
    assert isinstance(store, SQLStore)
    desk = SupportDesk(store)
    created: list[tuple[int, int]] = []  # (ticket id, owner)
    try:
        for name, *args in first + then:
            if name == "create":
                user, priority, category = args
                ticket = desk.create_ticket(
                    Actor.user(user), subject="s", description="d", priority=priority, category=category
                )
                created.append((ticket.id, ticket.user_id))
                continue
            if not created:
                continue
            ticket_id, owner = created[int(args[0]) % len(created)]  # type: ignore[call-overload]
            try:
                if name == "user_message":
                    desk.post_message(Actor.user(owner), ticket_id, "help")
                elif name == "admin_message":
                    desk.post_message(ADMIN, ticket_id, "on it")
                elif name == "status":
                    desk.change_status(ADMIN, ticket_id, args[1])
                elif name == "priority":
                    desk.set_priority(ADMIN, ticket_id, args[1])
                elif name == "admin_opens":
                    desk.get_ticket(ADMIN, ticket_id)
                else:
                    desk.get_ticket(Actor.user(owner), ticket_id)
            except (TicketClosed, InvalidTransition):
                pass  # closed tickets refuse messages and changes; the counts must still agree
            assert store.statistics() == recount(store)
    finally:
        store.close()
