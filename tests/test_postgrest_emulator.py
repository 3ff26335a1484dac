"""The emulator itself: PostgREST's query language, answers and errors, and that values never become SQL.

The store's tests lean on the emulator; these pin down the part of
PostgREST it claims to reproduce, through the real ``supabase`` client.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from postgrest.exceptions import APIError
from postgrest.types import CountMethod
from supabase import Client

from supportchat import Actor, SupportDesk

from .postgrest_emulator import EmulatedProject
from .postgrest_emulator.project import PROJECT_URL
from .postgrest_emulator.session import shared_project

pytestmark = pytest.mark.postgres

HOSTILE = [
    "x'; drop table support_tickets; --",
    'a"b,c)d(e',
    "\\'); delete from support_messages; --",
    "%_*",
]


@pytest.fixture
def project(request: pytest.FixtureRequest) -> EmulatedProject:
    project = shared_project(request)
    project.reset()
    desk = SupportDesk(project.store())
    for n, (priority, category) in enumerate([("low", "general"), ("high", "billing"), ("urgent", "billing")]):
        ticket = desk.create_ticket(
            Actor.user(n + 1), subject=f"Subject {n}", description=f"about {category}", priority=priority,
            category=category,
        )  # fmt: skip
        desk.post_message(Actor.user(n + 1), ticket.id, f"message {n}")
    return project


@pytest.fixture
def service(project: EmulatedProject) -> Client:
    return project.client(key=project.service_key)


def ids(response: Any) -> list[int]:
    return [row["id"] for row in response.data]


def test_comparison_filters(service: Client) -> None:
    tickets = service.table("support_tickets")
    assert ids(tickets.select("id").eq("priority", "high").execute()) == [2]
    assert ids(tickets.select("id").neq("priority", "high").order("id").execute()) == [1, 3]
    assert ids(tickets.select("id").gt("id", 1).lte("id", 3).order("id").execute()) == [2, 3]
    assert ids(tickets.select("id").gte("id", 2).lt("id", 3).execute()) == [2]
    assert ids(tickets.select("id").in_("category", ["general", "order"]).execute()) == [1]
    assert ids(tickets.select("id").is_("assigned_to", "null").order("id").execute()) == [1, 2, 3]
    assert ids(tickets.select("id").not_.is_("assigned_to", "null").execute()) == []
    assert ids(tickets.select("id").ilike("subject", "*JECT 1").execute()) == [2]


def test_logic_trees(service: Client) -> None:
    tickets = service.table("support_tickets").select("id")
    assert ids(tickets.or_("priority.eq.low,category.eq.billing").order("id").execute()) == [1, 2, 3]
    nested = "priority.eq.low,and(category.eq.billing,priority.eq.urgent)"
    assert ids(service.table("support_tickets").select("id").or_(nested).order("id").execute()) == [1, 3]
    quoted = 'subject.eq."Subject 2",description.ilike."*(none)*"'
    assert ids(service.table("support_tickets").select("id").or_(quoted).execute()) == [3]


def test_select_order_window_and_exact_count(service: Client) -> None:
    page = (
        service.table("support_tickets")
        .select("id,subject", count=CountMethod.exact)
        .order("id", desc=True)
        .range(1, 1)
        .execute()
    )
    assert page.data == [{"id": 2, "subject": "Subject 1"}]
    assert page.count == 3
    empty = service.table("support_tickets").select("id", count=CountMethod.exact).eq("id", 99).execute()
    assert (empty.data, empty.count) == ([], 0)


def test_rows_are_capped_at_max_rows(project: EmulatedProject, service: Client) -> None:
    project.transport.max_rows = 2
    try:
        assert len(service.table("support_tickets").select("id").execute().data) == 2
    finally:
        project.transport.max_rows = 1000


def test_the_store_reads_past_max_rows_a_page_at_a_time(project: EmulatedProject) -> None:
    store = project.store(page_size=2)
    desk = SupportDesk(store)
    for n in range(5):
        desk.post_message(Actor.admin(9), 1, f"reply {n}")
    project.transport.max_rows = 2
    try:
        assert [m.message for m in store.list_messages(1)] == ["message 0"] + [f"reply {n}" for n in range(5)]
        assert len(store.events_after(0, limit=7)) == 7
        newest = store.list_messages(1, limit=5, newest=True)
        assert [m.message for m in newest] == [f"reply {n}" for n in range(5)]
        older = store.list_messages(1, before_id=newest[0].id, limit=5, newest=True)
        assert [m.message for m in older] == ["message 0"]
    finally:
        project.transport.max_rows = 1000


def test_single_object_answers(service: Client) -> None:
    one = service.table("support_tickets").select("id").eq("id", 2).single().execute()
    assert one.data == {"id": 2}
    with pytest.raises(APIError) as raised:
        service.table("support_tickets").select("id").single().execute()
    assert raised.value.code == "PGRST116"


def test_insert_update_delete_on_tables(service: Client) -> None:
    created = (
        service.table("support_ticket_changes")
        .insert({"ticket_id": 1, "field": "priority", "old_value": "low", "new_value": "high",
                 "changed_by_kind": "admin", "changed_by": 7})
        .execute()
    )  # fmt: skip
    change_id = created.data[0]["id"]
    updated = service.table("support_ticket_changes").update({"changed_by": 8}).eq("id", change_id).execute()
    assert updated.data[0]["changed_by"] == 8 and updated.data[0]["new_value"] == "high"
    deleted = service.table("support_ticket_changes").delete().eq("id", change_id).execute()
    assert ids(deleted) == [change_id]
    assert service.table("support_ticket_changes").select("id").execute().data == []


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_are_data(project: EmulatedProject, service: Client, value: str) -> None:
    tickets = service.table("support_tickets")
    assert tickets.select("id").eq("subject", value).execute().data == []
    assert tickets.select("id").in_("subject", [value, "Subject 0"]).execute().data == [{"id": 1}]
    if not set(value) & set("%_*"):  # those are ilike's wildcards in PostgREST too
        assert service.table("support_tickets").select("id").ilike("description", value).execute().data == []
    logic = f'subject.eq."{value.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
    assert service.table("support_tickets").select("id").or_(logic).execute().data == []
    # The store searches for text containing anything; the search is literal.
    items, total = project.store().list_tickets(_query(value))
    assert (items, total) == ([], 0)
    assert len(service.table("support_tickets").select("id").execute().data) == 3
    assert len(service.table("support_messages").select("id").execute().data) == 3


def _query(q: str) -> Any:
    from supportchat.models import TicketQuery

    return TicketQuery(q=q)


@pytest.mark.parametrize(
    "params",
    [
        {"select": "id;drop table support_tickets"},
        {"order": "id;drop table support_tickets"},
        {'id"; drop table support_tickets; --': "eq.1"},
        {"id": "eq.1) or (true"},
        {"id": "unknownop.1"},
    ],
)
def test_hostile_names_and_operators_are_refused(project: EmulatedProject, params: dict[str, str]) -> None:
    http = project.http_client()
    headers = {"apikey": project.service_key, "Authorization": f"Bearer {project.service_key}"}
    answer = http.get(f"{PROJECT_URL}/rest/v1/support_tickets", params=params, headers=headers)
    assert 400 <= answer.status_code < 500
    assert set(answer.json()) == {"code", "message", "details", "hint"}
    assert len(http.get(f"{PROJECT_URL}/rest/v1/support_tickets", headers=headers).json()) == 3


def test_errors_are_shaped_like_postgrest(project: EmulatedProject) -> None:
    http = project.http_client()
    headers = {"apikey": project.service_key, "Authorization": f"Bearer {project.service_key}"}
    cases = [
        (http.get(f"{PROJECT_URL}/rest/v1/nope", headers=headers), 404, "PGRST205"),
        (http.post(f"{PROJECT_URL}/rest/v1/rpc/nope", json={}, headers=headers), 404, "PGRST202"),
        (http.get(f"{PROJECT_URL}/rest/v1/support_tickets"), 401, "PGRST301"),
        (
            http.get(f"{PROJECT_URL}/rest/v1/support_tickets", headers={**headers, "Authorization": "Bearer x.y.z"}),
            401,
            "PGRST301",
        ),
        (http.get(f"{PROJECT_URL}/rest/v1/support_tickets?id=eq.abc", headers=headers), 400, "22P02"),
        (
            http.post(f"{PROJECT_URL}/rest/v1/support_tickets", json={"priority": "soon"}, headers=headers),
            400,
            "23502",
        ),
    ]
    for answer, status, code in cases:
        assert isinstance(answer, httpx.Response)
        assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
        assert set(answer.json()) == {"code", "message", "details", "hint"}


def test_the_emulator_serves_a_real_port_and_a_stopped_one_refuses(project: EmulatedProject) -> None:
    from supportchat.errors import StorageUnavailable
    from supportchat.stores.supabase import SupabaseStore

    from .postgrest_emulator.server import EmulatorServer

    server = EmulatorServer(project.transport)
    store = SupabaseStore.from_url(server.url, project.service_key, timeout=2.0)
    try:
        assert store.statistics().total_tickets == 3
        ticket = SupportDesk(store).create_ticket(Actor.user(4), subject="Over a socket", description="real HTTP")
        assert store.get_ticket(ticket.id) == ticket
        server.stop()
        with pytest.raises(StorageUnavailable):
            store.statistics()
    finally:
        store.close()


def test_the_live_test_passes_against_the_emulator_over_http(project: EmulatedProject) -> None:
    """The live test is skipped here; run it once against the emulator so that it is known to work."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from .postgrest_emulator.server import EmulatorServer

    root = Path(__file__).resolve().parents[1]
    with EmulatorServer(project.transport) as server:
        env = {**os.environ, "SUPABASE_URL": server.url, "SUPABASE_KEY": project.service_key}
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_supabase_live.py"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 0 and "1 passed" in result.stdout, result.stdout + result.stderr


def test_a_range_header_windows_the_rows(project: EmulatedProject) -> None:
    http = project.http_client()
    headers = {
        "apikey": project.service_key,
        "Authorization": f"Bearer {project.service_key}",
        "Range": "1-2",
        "Prefer": "count=exact",
    }
    answer = http.get(f"{PROJECT_URL}/rest/v1/support_tickets", params={"select": "id", "order": "id"}, headers=headers)
    assert answer.json() == [{"id": 2}, {"id": 3}]
    assert answer.headers["Content-Range"] == "1-2/3"


def test_a_database_down_behind_postgrest_is_503_pgrst000_and_unavailable(project: EmulatedProject) -> None:
    from contextlib import contextmanager

    import psycopg

    from supportchat.errors import StorageUnavailable
    from supportchat.stores.supabase import SupabaseStore

    from .postgrest_emulator import PostgrestEmulator
    from .test_supabase_errors import a_ticket

    class DatabaseDown:
        catalog = project.database.catalog

        @contextmanager
        def connection(self) -> Any:
            yield psycopg.connect("postgresql://postgres@127.0.0.1:1/down", connect_timeout=2)

    emulator = PostgrestEmulator(DatabaseDown())  # type: ignore[arg-type]
    http = httpx.Client(transport=emulator)
    headers = {"apikey": project.service_key, "Authorization": f"Bearer {project.service_key}"}
    answer = http.get(f"{PROJECT_URL}/rest/v1/support_tickets", headers=headers)
    assert (answer.status_code, answer.json()["code"]) == (503, "PGRST000")
    store = SupabaseStore.from_url(PROJECT_URL, project.service_key, http_client=http)
    with pytest.raises(StorageUnavailable):
        store.insert_ticket(a_ticket())
    http.close()
