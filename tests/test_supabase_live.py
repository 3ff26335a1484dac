"""Against a real Supabase project, when one is configured; skipped otherwise.

Set ``SUPABASE_URL`` and ``SUPABASE_KEY`` (the service-role key) for a project
on which ``supportchat supabase-sql`` has been run. The test writes one
ticket with a message and deletes it again; it never empties anything.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from supportchat import Actor, SupportDesk
from supportchat.stores.supabase import SupabaseStore

URL = os.environ.get("SUPABASE_URL")
KEY = os.environ.get("SUPABASE_KEY")

pytestmark = pytest.mark.skipif(not (URL and KEY), reason="set SUPABASE_URL and SUPABASE_KEY to run against Supabase")


@pytest.fixture
def live_store() -> Iterator[SupabaseStore]:
    assert URL and KEY
    store = SupabaseStore.from_url(URL, KEY, timeout=10.0)
    yield store
    store.close()


def test_a_ticket_round_trip_on_the_live_project(live_store: SupabaseStore) -> None:
    desk = SupportDesk(live_store)
    user = Actor.user(987_654_321)
    ticket = desk.create_ticket(user, subject="supportchat live test", description="safe to delete")
    try:
        desk.post_message(user, ticket.ticket_number, "hello from the live test")
        desk.change_status(Actor.admin(1), ticket.id, "resolved")
        thread = desk.get_ticket(Actor.admin(1), ticket.id)
        assert thread.status == "resolved" and thread.resolved_at is not None
        assert [m.message for m in thread.messages] == ["hello from the live test"]
        assert [c.new_value for c in desk.history(Actor.admin(1), ticket.id)] == ["resolved"]
        assert desk.statistics(Actor.admin(1)).total_tickets >= 1
    finally:
        live_store._client.table("support_tickets").delete().eq("id", ticket.id).execute()
    assert live_store.get_ticket(ticket.id) is None
